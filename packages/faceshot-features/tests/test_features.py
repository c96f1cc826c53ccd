"""Features value object, its .npz format and the on-disk feature cache."""

from __future__ import annotations

import json

import numpy as np
import pytest

from faceshot_features import (
    FaceshotFeaturesError,
    FeatureCache,
    FeatureConfigError,
    FeatureFileError,
    Features,
    load_features,
    save_features,
)


def make(c: int = 3, h: int = 4, w: int = 5, size=(32, 40)) -> Features:
    arr = np.arange(c * h * w, dtype=np.float32).reshape(c, h, w)
    return Features(array=arr, image_size=size, backbone="test", config={"a": 1, "b": [1, 2]})


def test_fields_are_read_only_copies():
    src = np.ones((2, 3, 3), dtype=np.float64)
    f = Features(array=src, image_size=(6, 6), backbone="x")
    assert f.array.dtype == np.float32
    assert not f.array.flags.writeable
    src[:] = 5
    assert f.array.max() == 1.0
    with pytest.raises(AttributeError):
        f.backbone = "y"  # type: ignore[misc]


def test_stride_and_cell_centres_follow_contract():
    f = make(h=4, w=5, size=(32, 40))
    assert f.stride == 8.0
    xs, ys = f.cell_centers()
    np.testing.assert_allclose(xs, (np.arange(5) + 0.5) * 40 / 5 - 0.5)
    np.testing.assert_allclose(ys, (np.arange(4) + 0.5) * 32 / 4 - 0.5)
    assert xs[0] == 3.5 and ys[-1] == 27.5


def test_normalized_has_unit_norm():
    f = make()
    n = np.linalg.norm(f.normalized(), axis=0)
    np.testing.assert_allclose(n, 1.0, rtol=1e-6)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"array": np.zeros((3, 4))}, r"\(C, h, w\)"),
        ({"array": np.full((1, 2, 2), np.nan)}, "NaN"),
        ({"image_size": (0, 4)}, "image_size"),
        ({"backbone": ""}, "backbone"),
        ({"config": {"x": object()}}, "JSON"),
    ],
)
def test_invalid_fields_raise_usage_errors(kwargs, match):
    base = {"array": np.zeros((1, 2, 2)), "image_size": (4, 4), "backbone": "x", "config": {}}
    base.update(kwargs)
    with pytest.raises(FeatureConfigError, match=match) as info:
        Features(**base)
    assert isinstance(info.value, ValueError)


def test_npz_round_trip(tmp_path):
    f = make()
    p = save_features(tmp_path / "f.npz", f)
    g = load_features(p)
    assert g == f
    with np.load(p) as z:
        assert json.loads(str(z["config"])) == {"a": 1, "b": [1, 2]}
        assert str(z["backbone"]) == "test"
    assert [q.name for q in tmp_path.iterdir()] == ["f.npz"]  # no temp files left


def test_load_errors_name_the_file(tmp_path):
    with pytest.raises(FeatureFileError, match="does not exist"):
        load_features(tmp_path / "missing.npz")
    bad = tmp_path / "bad.npz"
    bad.write_bytes(b"not a zip")
    with pytest.raises(FeatureFileError, match=r"bad\.npz"):
        load_features(bad)
    np.savez(tmp_path / "other.npz", x=np.zeros(3))
    with pytest.raises(FeatureFileError, match="missing"):
        load_features(tmp_path / "other.npz")


def test_save_into_missing_directory_fails_cleanly(tmp_path):
    with pytest.raises(FaceshotFeaturesError, match=r"does not exist"):
        save_features(tmp_path / "nope" / "f.npz", make())


def test_cache_key_depends_on_image_prompt_and_config(tmp_path, rgb):
    cache = FeatureCache(tmp_path / "c")
    k = FeatureCache.key(rgb, None, "b", {"t": 1})
    assert k == FeatureCache.key(rgb.copy(), None, "b", {"t": 1})
    other = rgb.copy()
    other[0, 0, 0] ^= 1
    keys = {
        k,
        FeatureCache.key(other, None, "b", {"t": 1}),
        FeatureCache.key(rgb, rgb, "b", {"t": 1}),
        FeatureCache.key(rgb, [rgb, rgb], "b", {"t": 1}),
        FeatureCache.key(rgb, None, "b", {"t": 2}),
        FeatureCache.key(rgb, None, "c", {"t": 1}),
    }
    assert len(keys) == 6
    assert cache.get(k) is None
    cache.put(k, make())
    assert cache.get(k) == make()
    cache.path(k).write_bytes(b"corrupt")
    assert cache.get(k) is None


def test_backbone_registry_is_one_table() -> None:
    import faceshot_features as ff

    assert ff.BACKBONES == tuple(ff.BACKBONE_IDS) == ("embedded", "sd15-ip", "sd21")
    assert ff.BACKBONE_IDS["embedded"] == "embedded-mobilenetv2"
    for name, recorded in ff.BACKBONE_IDS.items():
        assert ff.backbone_for_id(recorded) == name
    assert ff.backbone_for_id("sd15-ip-variant") == "sd15-ip"
    assert ff.backbone_for_id("classical-v1") is None
    with pytest.raises(TypeError):
        ff.BACKBONE_IDS["new"] = "x"  # type: ignore[index]
