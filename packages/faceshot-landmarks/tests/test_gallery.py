"""The on-disk appearance gallery: format, appending, integrity checks and FAISS retrieval."""

from __future__ import annotations

import builtins
import json

import numpy as np
import pytest
from faceshot_retarget import template_face

import faceshot_landmarks as fl
from faceshot_landmarks.testing import synthetic_features

SIZE, GRID, C = (64, 64), (16, 16), 16
PTS = template_face(36.0, (32.0, 30.0))


def _domain(seed: int, k: int = 3) -> tuple[list[fl.DenseFeatures], np.ndarray]:
    rng = np.random.default_rng(seed)
    feats, pts = [], []
    for n in range(k):
        shift = rng.uniform(-2, 2, 2)
        warp = np.array([[1.0, 0, shift[0]], [0, 1.0, shift[1]]])
        feats.append(synthetic_features(SIZE, GRID, C, seed=seed, warp=warp))
        pts.append(PTS - shift)
        del n
    return feats, np.stack(pts)


@pytest.fixture()
def two_domains(tmp_path):
    path = tmp_path / "g"
    fa, pa = _domain(10)
    fb, pb = _domain(20)
    fl.add_domain(path, "alpha", fa, pa)
    g = fl.add_domain(path, "beta", fb, pb)
    return path, g


def test_build_and_load_roundtrip(two_domains) -> None:
    path, _ = two_domains
    manifest = json.loads((path / "manifest.json").read_text())
    assert manifest["format"] == "faceshot-gallery" and manifest["format_version"] == 1
    assert manifest["backbone"] == "synthetic" and manifest["channels"] == C
    assert manifest["parts"]["mouth"] == [48, 68]
    assert manifest["domains"]["alpha"]["k"] == 3
    loaded = fl.load_gallery(path)
    assert loaded.names == ("alpha", "beta")
    d = loaded.domains["alpha"]
    assert d.references.shape == (68, C) and d.parts.shape == (5, C)
    np.testing.assert_allclose(np.linalg.norm(d.references, axis=1), 1.0, rtol=1e-5)
    fa, pa = _domain(10)
    np.testing.assert_allclose(d.references, fl.reference_vectors(fa, pa), atol=1e-6)  # Eq. 4
    np.testing.assert_allclose(d.pixel_annotations(), pa, atol=1e-9)


def test_append_does_not_rewrite_other_domains(tmp_path) -> None:
    path = tmp_path / "g"
    fa, pa = _domain(10)
    fl.add_domain(path, "alpha", fa, pa)
    before = {p.name: p.stat().st_mtime_ns for p in (path / "domains" / "alpha").iterdir()}
    fb, pb = _domain(20)
    fl.add_domain(path, "beta", fb, pb)
    after = {p.name: p.stat().st_mtime_ns for p in (path / "domains" / "alpha").iterdir()}
    assert before == after
    with pytest.raises(ValueError, match=r"already has domain 'alpha'"):
        fl.add_domain(path, "alpha", fa, pa)
    fl.add_domain(path, "alpha", fa[:1], pa[:1], replace=True)
    assert fl.load_gallery(path).domains["alpha"].k == 1


def test_corrupt_array_is_named(two_domains) -> None:
    path, _ = two_domains
    target = path / "domains" / "beta" / "references.npy"
    data = bytearray(target.read_bytes())
    data[-5] ^= 0xFF
    target.write_bytes(bytes(data))
    with pytest.raises(fl.GalleryError, match=r"beta.*references\.npy.*corrupt"):
        fl.load_gallery(path)


def test_missing_or_bad_manifest(tmp_path, two_domains) -> None:
    with pytest.raises(fl.GalleryError, match=r"manifest\.json is missing"):
        fl.load_gallery(tmp_path / "nowhere")
    path, _ = two_domains
    m = json.loads((path / "manifest.json").read_text())
    m["format_version"] = 99
    (path / "manifest.json").write_text(json.dumps(m))
    with pytest.raises(fl.GalleryError, match="format_version 99"):
        fl.load_gallery(path)
    (path / "manifest.json").write_text("{not json")
    with pytest.raises(fl.GalleryError, match="corrupt"):
        fl.load_gallery(path)


def test_backbone_mismatch_is_refused(two_domains) -> None:
    path, g = two_domains
    other = synthetic_features(SIZE, GRID, C, seed=1, backbone="embedded-mobilenetv2")
    with pytest.raises(fl.GalleryError, match=r"backbone 'synthetic'.*'embedded-mobilenetv2'"):
        g.check_compatible(other)
    with pytest.raises(fl.GalleryError, match="backbone"):
        fl.match(other, g)
    with pytest.raises(fl.GalleryError, match="cannot add"):
        fl.add_domain(path, "gamma", [other], PTS[None])
    wrong_c = synthetic_features(SIZE, GRID, 8, seed=10)
    with pytest.raises(fl.GalleryError, match=r"config|channels"):
        g.check_compatible(wrong_c)


def test_bad_domain_name_and_inputs(tmp_path) -> None:
    fa, pa = _domain(10)
    with pytest.raises(ValueError, match="domain"):
        fl.add_domain(tmp_path / "g", "../evil", fa, pa)
    with pytest.raises(ValueError, match="3 shapes"):
        fl.add_domain(tmp_path / "g", "ok", fa[:2], pa)
    assert not (tmp_path / "g" / "manifest.json").exists()


def test_retrieval_picks_the_domain_of_the_target(two_domains) -> None:
    _, g = two_domains
    for seed, name in ((10, "alpha"), (20, "beta")):
        warp = np.array([[1.02, 0.0, 1.0], [0.0, 1.02, -0.5]])
        target = synthetic_features(SIZE, GRID, C, seed=seed, warp=warp)
        assert g.retrieve(fl.normalize_features(target.array)) == (name,) * 5
        res = fl.match(target, g)
        assert res.domains == (name,) * 5
        truth = (PTS - warp[:, 2]) / 1.02
        assert np.linalg.norm(res.points - truth, axis=1).mean() < 1.5


def test_parts_may_come_from_different_domains(two_domains) -> None:
    _, g = two_domains
    mixed = g.references_for(("alpha", "beta", "alpha", "beta", "alpha"))
    np.testing.assert_array_equal(mixed[17:27], g.domains["beta"].references[17:27])
    np.testing.assert_array_equal(mixed[48:68], g.domains["alpha"].references[48:68])
    with pytest.raises(ValueError, match="unknown domain"):
        g.references_for(("alpha", "zeta", "alpha", "beta", "alpha"))


def test_missing_faiss_gives_install_hint(two_domains, monkeypatch) -> None:
    _, g = two_domains
    real_import = builtins.__import__

    def fake_import(name, *args, **kwargs):
        if name == "faiss":
            raise ImportError("no faiss")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", fake_import)
    with pytest.raises(
        fl.BackendUnavailableError, match=r'pip install "faceshot-landmarks\[cpu\]"'
    ):
        g.retrieve(np.ones((C, 4, 4), np.float32))


def test_gpu_index_used_when_faiss_reports_gpus(two_domains, monkeypatch) -> None:
    faiss = pytest.importorskip("faiss")
    _, g = two_domains
    moved = []

    def to_gpus(index):
        moved.append(index)
        return index  # stands in for the GPU index (same search API)

    monkeypatch.setattr(faiss, "get_num_gpus", lambda: 1)
    monkeypatch.setattr(faiss, "index_cpu_to_all_gpus", to_gpus, raising=False)
    target = synthetic_features(SIZE, GRID, C, seed=20)
    assert g.retrieve(fl.normalize_features(target.array)) == ("beta",) * 5
    assert len(moved) == 5  # one index per part went to the GPUs
    moved.clear()
    g.retrieve(fl.normalize_features(target.array), use_gpu=False)
    assert moved == []


def test_shape_prior_is_built_once_per_domain_set(two_domains) -> None:
    path, _ = two_domains
    g = fl.load_gallery(path)
    a = g.shape_prior(["alpha"])
    assert g.shape_prior(("alpha",)) is a  # kept with the gallery, not rebuilt per match
    assert g.shape_prior(["beta"]) is not a
    assert g.shape_prior(["alpha"], variance=0.5) is not a
    fresh = fl.ShapePrior.from_annotations(g.domains["alpha"].pixel_annotations())
    np.testing.assert_array_equal(a.mean, fresh.mean)
    np.testing.assert_array_equal(a.components, fresh.components)
    assert fl.load_gallery(path).shape_prior(["alpha"]) is not a  # per gallery object
