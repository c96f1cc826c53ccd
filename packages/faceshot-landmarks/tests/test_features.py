"""Feature-map protocol, pixel <-> cell mapping, sampling and the classical baseline descriptor."""

from __future__ import annotations

import numpy as np
import pytest

import faceshot_landmarks as fl
from faceshot_landmarks import FeatureMapError


def test_pixel_cell_roundtrip_and_contract_formula() -> None:
    size, grid = (480, 640), (30, 40)
    cells = np.array([[0.0, 0.0], [39.0, 29.0], [12.25, 7.5]])
    px = fl.cells_to_pixels(cells, size, grid)
    # contract: x = (j + 0.5) * W / w - 0.5, y = (i + 0.5) * H / h - 0.5
    np.testing.assert_allclose(px[0], [7.5, 7.5])
    np.testing.assert_allclose(px[1], [39.5 * 16 - 0.5, 29.5 * 16 - 0.5])
    np.testing.assert_allclose(fl.pixels_to_cells(px, size, grid), cells)


def test_sample_features_exact_at_centres_and_bilinear_between() -> None:
    rng = np.random.default_rng(0)
    arr = rng.standard_normal((5, 6, 7)).astype(np.float32)
    got = fl.sample_features(arr, [[3, 2], [0, 0], [6, 5]])
    np.testing.assert_allclose(got, arr[:, [2, 0, 5], [3, 0, 6]].T, rtol=1e-6)
    mid = fl.sample_features(arr, [[3.5, 2.0]])[0]
    np.testing.assert_allclose(mid, 0.5 * (arr[:, 2, 3] + arr[:, 2, 4]), rtol=1e-5)


def test_check_feature_map_errors_name_the_problem() -> None:
    with pytest.raises(FeatureMapError, match=r"\.array"):
        fl.check_feature_map(object())
    bad = fl.DenseFeatures(np.zeros((4, 3)).reshape(1, 4, 3), (8, 6))
    assert fl.check_feature_map(bad)[1] == (8, 6)
    with pytest.raises(FeatureMapError, match="NaN"):
        fl.check_feature_map(fl.DenseFeatures(np.full((2, 2, 2), np.nan), (4, 4)))

    class Flat:
        array = np.zeros((3, 3))
        image_size = (3, 3)

    with pytest.raises(FeatureMapError, match=r"\(C, h, w\)") as info:
        fl.check_feature_map(Flat(), "target")
    assert "`target.array`" in str(info.value)
    assert isinstance(info.value, ValueError)


def test_dense_features_is_read_only_copy() -> None:
    src = np.ones((2, 3, 4), np.float32)
    f = fl.DenseFeatures(src, (6, 8), "x", {})
    src[:] = 5
    assert f.array.max() == 1 and not f.array.flags.writeable
    assert f.stride == 2.0
    assert isinstance(f, fl.FeatureMap)


def test_classical_extractor_shape_determinism_and_protocol() -> None:
    rng = np.random.default_rng(1)
    img = rng.integers(0, 255, (90, 120, 3), dtype=np.uint8)
    ex = fl.ClassicalExtractor(size=64, stride=4)
    a = ex.extract(img)
    b = ex.extract(img.copy())
    assert a.array.shape == (ex.channels, 12, 16)
    assert a.image_size == (90, 120)
    assert a.array.dtype == np.float32 and np.isfinite(a.array).all()
    np.testing.assert_array_equal(a.array, b.array)
    assert a.backbone == fl.CLASSICAL_BACKBONE and a.config == ex.config
    assert isinstance(ex, fl.Extractor)
    assert len(ex.extract_batch([img, img])) == 2


def test_classical_descriptor_is_discriminative_on_self_match(human68) -> None:
    img, gt = human68["takeo"]
    ex = fl.ClassicalExtractor()
    f = ex.extract(img)
    refs = fl.reference_vectors([f], gt)
    res = fl.match_references(f, refs, config=fl.MatcherConfig(use_prior=False))
    assert fl.nme(res.points, gt) < 0.03


def test_classical_rejects_bad_images() -> None:
    ex = fl.ClassicalExtractor()
    with pytest.raises(FeatureMapError, match="uint8"):
        ex.extract(np.zeros((10, 10, 3), np.float32))
    with pytest.raises(FeatureMapError, match=r"\(H, W, 3\)"):
        ex.extract(np.zeros((10, 10), np.uint8))
    with pytest.raises(FeatureMapError, match="stride"):
        fl.ClassicalExtractor(stride=0)
