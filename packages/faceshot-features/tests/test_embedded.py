"""The embedded MobileNetV2 backbone: weights, shapes, mapping, determinism, matching quality."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from faceshot_features import (
    EMBEDDED_BACKBONE,
    EmbeddedExtractor,
    FeatureConfigError,
    MobileNetV2,
    WeightsNotFoundError,
    load_extractor,
    load_mobilenet_v2,
    mobilenet_v2_weights_path,
    resized_shape,
)


def test_keys_match_torchvision_checkpoint_exactly():
    state = torch.load(mobilenet_v2_weights_path(), map_location="cpu", weights_only=True)
    ours = MobileNetV2().state_dict()
    assert list(ours) == list(state)
    assert all(ours[k].shape == state[k].shape for k in ours)
    assert "features.1.conv.0.0.weight" in ours and "classifier.1.weight" in ours
    assert len(ours) == 314


def test_strict_load_rejects_wrong_keys(tmp_path):
    state = torch.load(mobilenet_v2_weights_path(), map_location="cpu", weights_only=True)
    del state["classifier.1.bias"]
    torch.save(state, tmp_path / "partial.pth")
    with pytest.raises(RuntimeError, match=r"classifier\.1\.bias"):
        load_mobilenet_v2(tmp_path / "partial.pth")
    with pytest.raises(WeightsNotFoundError, match="does not exist"):
        load_mobilenet_v2(tmp_path / "none.pth")


def test_weights_are_package_data_checked_by_their_full_hash(tmp_path, monkeypatch):
    import hashlib

    import faceshot_features
    from faceshot_features import _mobilenet

    p = mobilenet_v2_weights_path()
    assert p.name == "mobilenet_v2-b0353104.pth" and p.is_file()
    assert (
        p.parent.parent == Path(faceshot_features.__file__).resolve().parent
    )  # inside the package
    assert hashlib.sha256(p.read_bytes()).hexdigest() == _mobilenet.MOBILENET_V2_SHA256
    # a damaged bundled copy is refused with its full hash (one flipped byte)
    bad = tmp_path / "weights" / p.name
    bad.parent.mkdir()
    data = bytearray(p.read_bytes())
    data[-1] ^= 1
    bad.write_bytes(bytes(data))
    monkeypatch.setattr(_mobilenet, "mobilenet_v2_weights_path", lambda: bad)
    with pytest.raises(RuntimeError, match="damaged install"):
        load_mobilenet_v2()


@pytest.mark.parametrize(
    ("h", "w", "long", "expected"),
    [
        (1024, 817, 512, (512, 416)),
        (225, 150, 512, (512, 352)),
        (100, 100, 256, (256, 256)),
        (5, 900, 512, (32, 512)),
    ],
)
def test_resized_shape(h, w, long, expected):
    assert resized_shape(h, w, long) == expected


def test_shape_norm_and_grid(embedded, faces):
    img = faces["takeo"][0]  # (170, 150)
    f = embedded.extract(img)
    h, w = resized_shape(*img.shape[:2], 512)
    assert f.array.shape == (640, h // 8, w // 8)
    assert f.array.dtype == np.float32
    assert f.image_size == img.shape[:2]
    assert f.backbone == EMBEDDED_BACKBONE == embedded.backbone
    assert f.config == embedded.config
    np.testing.assert_allclose(np.linalg.norm(f.array, axis=0), 1.0, rtol=1e-4)
    assert f.stride == pytest.approx(img.shape[1] / (w // 8))


def test_deterministic_and_input_untouched(embedded, rgb):
    before = rgb.copy()
    a = embedded.extract(rgb).array
    b = embedded.extract_batch([rgb, rgb])
    np.testing.assert_array_equal(rgb, before)
    np.testing.assert_array_equal(a, b[0].array)
    np.testing.assert_array_equal(a, b[1].array)


def test_features_follow_a_flipped_image(embedded, faces):
    """Cell mapping sanity: matching every cell of an image to its mirror lands on the mirror cell."""
    img = faces["einstein"][0]
    fa = embedded.extract(img).normalized()
    fb = embedded.extract(np.ascontiguousarray(img[:, ::-1])).normalized()
    c, h, w = fa.shape
    idx = (fa.reshape(c, -1).T @ fb[:, :, ::-1].reshape(c, -1)).argmax(1)
    cells = np.arange(h * w)
    dist = np.hypot(idx // w - cells // w, idx % w - cells % w)  # in cells
    assert np.median(dist) == 0  # measured: median 0, 99.6 % within 1.5 cells
    assert np.mean(dist <= 1.5) > 0.95


def _transfer(fa, pa, fb):
    """Nearest-neighbour transfer of points of image A onto image B (cell centres)."""
    a, b = fa.normalized(), fb.normalized()
    _, h, w = a.shape
    height, width = fa.image_size
    j = np.clip(np.round((pa[:, 0] + 0.5) * w / width - 0.5).astype(int), 0, w - 1)
    i = np.clip(np.round((pa[:, 1] + 0.5) * h / height - 0.5).astype(int), 0, h - 1)
    cb, _, wb = b.shape
    idx = (a[:, i, j].T @ b.reshape(cb, -1)).argmax(1)
    xs, ys = fb.cell_centers()
    return np.stack([xs[idx % wb], ys[idx // wb]], axis=1)


def _cross_nme(extractor, faces):
    feats = {n: extractor.extract(img) for n, (img, _) in faces.items()}
    errs = []
    for a, b in [("einstein", "takeo"), ("takeo", "einstein")]:
        gt = faces[b][1]
        pred = _transfer(feats[a], faces[a][1], feats[b])
        errs.append(np.linalg.norm(pred - gt, axis=1) / np.linalg.norm(gt[36] - gt[45]))
    return np.concatenate(errs)


def test_matching_quality_between_two_real_faces(embedded, faces):
    """68 landmarks transferred Einstein <-> Takeo by cosine NN (measured: median 0.17, mean 0.26 IOD)."""
    e = _cross_nme(embedded, faces)
    assert np.median(e) < 0.22
    assert e.mean() < 0.35


def test_random_weights_would_fail_the_quality_bar(embedded, faces):
    """The quality test above can fail: untrained weights give > 1 IOD."""
    torch.manual_seed(0)
    bad = EmbeddedExtractor()
    bad._model = MobileNetV2().eval()
    assert np.median(_cross_nme(bad, faces)) > 0.5


def test_cache_dir_round_trip(tmp_path, rgb):
    ex = EmbeddedExtractor(input_sizes=(64,), cache_dir=tmp_path)
    a = ex.extract(rgb)
    assert len(list(tmp_path.glob("*.npz"))) == 1
    ex._model = None  # a cache hit must not touch the model
    assert ex.extract(rgb) == a


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"input_sizes": (500,)}, "multiples of 32"),
        ({"layers": (19,)}, "layers"),
        ({"layer_weights": (1.0,)}, "layer_weights"),
        ({"num_threads": 0}, "num_threads"),
    ],
)
def test_bad_options(kwargs, match):
    with pytest.raises(FeatureConfigError, match=match):
        EmbeddedExtractor(**kwargs)


def test_load_extractor_reuses_models_and_checks_names():
    a = load_extractor("embedded", input_sizes=(128,))
    assert load_extractor("embedded", input_sizes=(128,)) is a
    assert load_extractor("embedded", input_sizes=(64,)) is not a
    with pytest.raises(FeatureConfigError, match="one of"):
        load_extractor("sd3")
    with pytest.raises(FeatureConfigError, match="unknown option"):
        load_extractor("embedded", prompt="x")


def test_extract_stack_equals_extract_one_by_one():
    ex = EmbeddedExtractor()
    rng = np.random.default_rng(3)
    images = [rng.integers(0, 256, (96, 128, 3), dtype=np.uint8) for _ in range(3)]
    stacked = ex.extract_stack(images)
    for image, feats in zip(images, stacked, strict=True):
        single = ex.extract(image)
        assert feats.config == single.config and feats.image_size == single.image_size
        np.testing.assert_allclose(
            feats.array, single.array, atol=1e-4
        )  # batch norm folded: float rounding only
    one_scale = ex.extract_stack(np.stack(images), input_sizes=(64,))
    reference = EmbeddedExtractor(input_sizes=(64,)).extract(images[1])
    assert one_scale[1].config == reference.config and one_scale[1].config["input_sizes"] == [64]
    np.testing.assert_allclose(one_scale[1].array, reference.array, atol=1e-4)
    with pytest.raises(FeatureConfigError, match="empty"):
        ex.extract_stack([])
    with pytest.raises(FeatureConfigError, match=r"images\[1\]"):
        ex.extract_stack([images[0], images[0][:64]])
    with pytest.raises(FeatureConfigError, match="multiples of 32"):
        ex.extract_stack(images, input_sizes=(100,))


def _unfolded_reference(
    ex: EmbeddedExtractor, image: np.ndarray, *, center: bool = False
) -> np.ndarray:
    """The module-doc recipe written out on the unfolded network (batch norms as layers)."""
    import math

    import torch.nn.functional as F

    x = torch.from_numpy(image).permute(2, 0, 1)[None].float() / 255.0
    mean = torch.tensor((0.485, 0.456, 0.406)).view(1, 3, 1, 1)
    std = torch.tensor((0.229, 0.224, 0.225)).view(1, 3, 1, 1)
    h0, w0 = resized_shape(*image.shape[:2], 512)
    maps = []
    with torch.inference_mode():
        for size in (512, 256):
            xi = F.interpolate(
                x,
                size=resized_shape(*image.shape[:2], size),
                mode="bilinear",
                antialias=True,
                align_corners=False,
            )
            xi = (xi - mean) / std
            taps = []
            for k, block in enumerate(ex._model.features[:16]):
                xi = block(xi)
                if k in (10, 13, 15):
                    taps.append(xi)
            for tap, weight in zip(taps, (0.2, 0.4, 0.4), strict=True):
                t = F.normalize(tap - tap.mean(dim=(2, 3), keepdim=True) if center else tap, dim=1)
                if t.shape[-2:] != (h0 // 8, w0 // 8):
                    t = F.normalize(
                        F.interpolate(t, size=(h0 // 8, w0 // 8), mode="bilinear"), dim=1
                    )
                maps.append(t * math.sqrt(weight / 2))
    return torch.cat(maps, dim=1)[0].numpy()


def test_extract_equals_the_unfolded_network(embedded, faces):
    img = np.ascontiguousarray(faces["takeo"][0])
    got = embedded.extract(img).array
    want = _unfolded_reference(embedded, img)
    assert got.shape == want.shape
    np.testing.assert_allclose(got, want, atol=1e-4)  # batch norm folded: float rounding only


def test_center_subtracts_each_layer_mean_and_is_recorded(faces):
    img = np.ascontiguousarray(faces["takeo"][0])
    ex = EmbeddedExtractor(center=True)
    assert ex.config["center"] is True and "center" not in EmbeddedExtractor().config
    got = ex.extract(img)
    np.testing.assert_allclose(got.array, _unfolded_reference(ex, img, center=True), atol=1e-4)
    assert not np.allclose(got.array, _unfolded_reference(ex, img), atol=1e-2)
    assert load_extractor("embedded", center=True).config == ex.config
