"""Part structure as one search (shape hypotheses, standardised evidence) and per-landmark
prototypes (k-means references stored in the gallery)."""

from __future__ import annotations

import json

import numpy as np
import pytest
from faceshot_retarget import template_face

import faceshot_landmarks as fl
from faceshot_landmarks.testing import synthetic_features

PTS = template_face(36.0, (32.0, 30.0))


def _prior() -> fl.ShapePrior:
    rng = np.random.default_rng(0)
    shapes = [PTS + rng.normal(0, 0.8, PTS.shape) for _ in range(12)]
    return fl.ShapePrior.from_annotations(np.stack(shapes))


def test_shape_hypotheses_sizes_angles_and_variants() -> None:
    prior = _prior()
    hyps = fl.shape_hypotheses(
        prior, face_sizes=[4.0, 8.0], angles_deg=[0.0, 90.0], mode_sd=[-1.0, 0.0, 1.0], modes=2
    )
    assert hyps.shape == (2 * 2 * 5, 68, 2)
    rms = np.sqrt(np.mean(np.sum(hyps**2, axis=2), axis=1))
    np.testing.assert_allclose(rms[:10], 4.0)
    np.testing.assert_allclose(rms[10:], 8.0)
    np.testing.assert_allclose(hyps.mean(axis=1), 0.0, atol=1e-9)
    # the 90-degree block is the 0-degree block rotated: (x, y) -> (-y, x)
    np.testing.assert_allclose(hyps[5:10, :, 0], -hyps[0:5, :, 1], atol=1e-9)
    np.testing.assert_allclose(hyps[5:10, :, 1], hyps[0:5, :, 0], atol=1e-9)


def test_shape_search_finds_a_planted_face_despite_strong_false_peaks() -> None:
    prior = _prior()
    h = w = 40
    hyps = fl.shape_hypotheses(
        prior, face_sizes=np.geomspace(3.0, 12.0, 10), angles_deg=[-10.0, 0.0, 10.0]
    )
    truth = hyps[7] + np.array([22.0, 17.0])  # a hypothesis placed at cell (22, 17)
    ev = np.zeros((68, h, w), np.float32)
    cells = np.rint(truth).astype(int)
    ev[np.arange(68), cells[:, 1], cells[:, 0]] = 1.0
    # every mouth landmark also has a stronger peak somewhere else (a tongue, a nose)
    ev[48:68, 5, 5] = 3.0
    argmax = np.stack(np.unravel_index(ev.reshape(68, -1).argmax(1), (h, w)), axis=1)[:, ::-1]
    assert np.abs(argmax[48:68] - cells[48:68]).max() > 10  # independent argmax fails
    found, score = fl.shape_search(ev, hyps)
    assert score == pytest.approx(68.0)
    np.testing.assert_allclose(found, truth, atol=0.51)


@pytest.mark.parametrize("stride", [1, 2, 3])
def test_strided_shape_search_finds_the_same_face_on_smooth_evidence(stride) -> None:
    from scipy import ndimage

    prior = _prior()
    h = w = 40
    hyps = fl.shape_hypotheses(
        prior, face_sizes=np.geomspace(3.0, 12.0, 10), angles_deg=[-10.0, 0.0, 10.0]
    )
    truth = hyps[7] + np.array([21.0, 17.0])  # odd cells: off the coarse grid of strides 2 and 3
    ev = np.zeros((68, h, w), np.float32)
    cells = np.rint(truth).astype(int)
    ev[np.arange(68), cells[:, 1], cells[:, 0]] = 1.0
    ev[48:68, 5, 5] = 3.0
    ev = ndimage.gaussian_filter(ev, sigma=(0, 1.5, 1.5))  # real similarity maps are smooth
    found, _ = fl.shape_search(ev, hyps, stride=stride)
    np.testing.assert_allclose(found, truth, atol=0.51)


def test_shape_search_weights_and_out_of_map_points() -> None:
    ev = np.zeros((68, 10, 10), np.float32)
    ev[:, 0, 0] = 1.0
    hyps = np.zeros((1, 68, 2))
    hyps[0, :34, 0] = 30.0  # half the points always fall outside the map
    _, score = fl.shape_search(ev, hyps)
    assert score == pytest.approx(34.0)
    wts = np.zeros(68)
    wts[40] = 2.0
    _, score = fl.shape_search(ev, hyps, weights=wts)
    assert score == pytest.approx(2.0)


def test_standardise_is_per_landmark_and_floored() -> None:
    rng = np.random.default_rng(1)
    sim = rng.normal(0.3, 0.05, (68, 8, 8)).astype(np.float32)
    sim[5] = sim[5] * 10 + 4  # another scale and offset: same z-scores
    z = fl.standardise(sim, floor=-1.0)
    assert z.min() >= -1.0
    z_free = fl.standardise(sim, floor=-np.inf)
    np.testing.assert_allclose(z_free.mean(axis=(1, 2)), 0.0, atol=1e-5)
    np.testing.assert_allclose(z_free.std(axis=(1, 2)), 1.0, atol=1e-4)


def test_global_search_matches_a_warped_target() -> None:
    size, grid = (96, 96), (24, 24)
    pts = template_face(48.0, (48.0, 44.0))
    gallery = synthetic_features(size, grid, 24, seed=3)
    a = 1.05 * np.array([[np.cos(0.08), -np.sin(0.08)], [np.sin(0.08), np.cos(0.08)]])
    t = np.array([50.3, 46.3]) - a @ [48.0, 48.0]
    target = synthetic_features(
        size, grid, 24, seed=3, warp=np.concatenate([a, t[:, None]], axis=1)
    )
    truth = (pts - t) @ np.linalg.inv(a).T
    refs = fl.reference_vectors([gallery], pts)
    rng = np.random.default_rng(2)
    prior = fl.ShapePrior.from_annotations(
        np.stack([pts + rng.normal(0, 0.5, pts.shape) for _ in range(8)])
    )
    cfg = fl.MatcherConfig(global_search=True, face_sizes=(0.2, 0.5, 8))
    res = fl.match_references(target, refs, config=cfg, prior=prior)
    assert np.linalg.norm(res.points - truth, axis=1).mean() < 1.5


def _clusters(k: int = 10, c: int = 8) -> np.ndarray:
    """(2k, 68, c) samples: half near direction e0, half near e1, for every landmark."""
    rng = np.random.default_rng(5)
    out = np.zeros((2 * k, 68, c), np.float32)
    out[:k, :, 0] = 1.0
    out[k:, :, 1] = 1.0
    out += rng.normal(0, 0.05, out.shape).astype(np.float32)
    return out / np.linalg.norm(out, axis=-1, keepdims=True)


def test_landmark_prototypes_find_the_clusters_deterministically() -> None:
    x = _clusters()
    p = fl.landmark_prototypes(x, 2)
    assert p.shape == (2, 68, 8) and p.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(p, axis=-1), 1.0, rtol=1e-5)
    best = np.sort(np.argmax(np.abs(p), axis=-1), axis=0)  # each landmark: one centre per cluster
    assert (best[0] == 0).all() and (best[1] == 1).all()
    np.testing.assert_array_equal(p, fl.landmark_prototypes(x, 2))
    assert fl.landmark_prototypes(x[:1], 4).shape == (1, 68, 8)  # never more than k
    with pytest.raises(ValueError, match="count"):
        fl.landmark_prototypes(x, 0)


def test_match_with_prototypes_takes_the_best_prototype() -> None:
    size, grid = (64, 64), (16, 16)
    feats = synthetic_features(size, grid, 16, seed=7)
    refs = fl.reference_vectors([feats], PTS)
    other = fl.reference_vectors([synthetic_features(size, grid, 16, seed=8)], PTS)
    cfg = fl.MatcherConfig(use_prior=False)
    alone = fl.match_references(feats, refs, config=cfg)
    both = fl.match_references(feats, np.stack([other, refs]), config=cfg)
    np.testing.assert_allclose(both.points, alone.points, atol=1e-9)
    with pytest.raises(fl.FeatureMapError, match=r"\(M, 68, 16\)"):
        fl.match_references(feats, np.zeros((2, 3, 68, 16), np.float32), config=cfg)


def test_gallery_stores_and_verifies_prototypes(tmp_path) -> None:
    size, grid = (64, 64), (16, 16)
    rng = np.random.default_rng(3)
    feats = [synthetic_features(size, grid, 16, seed=s) for s in range(5)]
    pts = np.stack([PTS + rng.uniform(-1, 1, 2) for _ in range(5)])
    path = tmp_path / "g"
    fl.add_domain(path, "plain", feats[:2], pts[:2])
    g = fl.add_domain(path, "protos", feats, pts, prototypes=3)
    manifest = json.loads((path / "manifest.json").read_text())
    assert (
        manifest["domains"]["protos"]["prototypes"] == 3
        and "prototypes" not in manifest["domains"]["plain"]
    )
    assert g.has_prototypes and g.domains["plain"].prototypes is None
    p = g.domains["protos"].prototypes
    assert p is not None and p.shape == (3, 68, 16)
    expect = fl.landmark_prototypes(fl.landmark_features(feats, pts), 3)
    np.testing.assert_allclose(p, expect, atol=2e-3)  # float16 on disk
    mixed = g.prototypes_for(("plain", "protos", "protos", "plain", "protos"))
    assert mixed.shape == (3, 68, 16)
    np.testing.assert_allclose(
        mixed[2, 0:17], g.domains["plain"].references[0:17]
    )  # repeated mean refs
    np.testing.assert_allclose(mixed[1, 17:27], p[1, 17:27])
    # replacing the domain without prototypes removes the file and its checksum
    g = fl.add_domain(path, "protos", feats, pts, replace=True)
    assert not g.has_prototypes and not (path / "domains" / "protos" / "prototypes.npy").exists()
    fl.add_domain(path, "protos", feats, pts, replace=True, prototypes=2)
    data = (path / "domains" / "protos" / "prototypes.npy").read_bytes()
    (path / "domains" / "protos" / "prototypes.npy").write_bytes(data[:-8] + b"\0" * 8)
    with pytest.raises(fl.GalleryError, match=r"prototypes\.npy"):
        fl.load_gallery(path)
    with pytest.raises(ValueError, match="prototypes"):
        fl.add_domain(path, "x", feats, pts, prototypes=-1)
