"""The matcher on synthetic feature fields with an exactly known correspondence."""

from __future__ import annotations

import numpy as np
import pytest
from faceshot_retarget import template_face

import faceshot_landmarks as fl
from faceshot_landmarks.testing import synthetic_features

SIZE = (96, 96)
GRID = (24, 24)  # stride 4 px
POINTS = template_face(48.0, (48.0, 44.0))  # canonical pixels


def _warp(
    scale: float = 1.05, angle: float = 0.08, shift: tuple[float, float] = (2.3, -1.7)
) -> np.ndarray:
    c, s = np.cos(angle), np.sin(angle)
    a = scale * np.array([[c, -s], [s, c]])
    # map pixel p -> canonical u = a (p - 48) + 48 + shift
    t = np.array([48.0, 48.0]) + np.array(shift) - a @ [48.0, 48.0]
    return np.concatenate([a, t[:, None]], axis=1)


def _target_points(warp: np.ndarray) -> np.ndarray:
    a, t = warp[:, :2], warp[:, 2]
    return (POINTS - t) @ np.linalg.inv(a).T


@pytest.fixture(scope="module")
def gallery_map():
    return synthetic_features(SIZE, GRID, 24, seed=3)


def test_reference_vectors_eq4_is_renormalised_mean(gallery_map) -> None:
    f2 = synthetic_features(SIZE, GRID, 24, seed=4)
    refs = fl.reference_vectors([gallery_map, f2], np.stack([POINTS, POINTS]))
    assert refs.shape == (68, 24) and refs.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(refs, axis=1), 1.0, rtol=1e-5)
    cells = fl.pixels_to_cells(POINTS, SIZE, GRID)
    v1 = fl.normalize_features(
        fl.sample_features(fl.normalize_features(gallery_map.array), cells), axis=-1
    )
    v2 = fl.normalize_features(fl.sample_features(fl.normalize_features(f2.array), cells), axis=-1)
    np.testing.assert_allclose(refs, fl.normalize_features(v1 + v2, axis=-1), atol=1e-6)


def test_reference_vectors_reject_mismatch(gallery_map) -> None:
    with pytest.raises(fl.FeatureMapError, match="2 shapes"):
        fl.reference_vectors([gallery_map], np.stack([POINTS, POINTS]))
    other = synthetic_features(SIZE, GRID, 8, seed=3)
    with pytest.raises(fl.FeatureMapError, match="channels"):
        fl.reference_vectors([gallery_map, other], np.stack([POINTS, POINTS]))


def test_cosine_argmax_peak_and_margin() -> None:
    sim = np.zeros((2, 5, 6), np.float32)
    sim[0, 1, 4] = 0.9
    sim[0, 4, 0] = 0.5
    sim[1, 2, 2] = 0.3
    peaks, scores, margins = fl.cosine_argmax(sim, exclusion=1)
    np.testing.assert_array_equal(peaks, [[4, 1], [2, 2]])
    np.testing.assert_allclose(scores, [0.9, 0.3], rtol=1e-6)
    np.testing.assert_allclose(margins, [0.4, 0.3], rtol=1e-6)


def test_refine_subpixel_recovers_an_off_grid_point(gallery_map) -> None:
    f = fl.normalize_features(gallery_map.array)
    true_cells = np.array([[7.3, 9.6], [15.75, 4.25], [11.5, 18.1]])
    refs = fl.normalize_features(fl.sample_features(f, true_cells), axis=-1)
    peaks, _, _ = fl.cosine_argmax(fl.similarity_map(refs, f))
    coarse = np.abs(peaks - true_cells).max()
    cells, scores = fl.refine_subpixel(f, refs, peaks, radius=1, upsample=8)
    assert np.abs(cells - true_cells).max() <= 1 / 8 + 1e-9 < coarse
    assert np.all(scores > 0.999)  # exact cosine of the interpolated field reaches ~1


def test_refine_subpixel_radius_zero_is_identity(gallery_map) -> None:
    f = fl.normalize_features(gallery_map.array)
    refs = f[:, [3, 4], [5, 6]].T
    cells, _ = fl.refine_subpixel(f, refs, [[5, 3], [6, 4]], radius=0)
    np.testing.assert_array_equal(cells, [[5, 3], [6, 4]])


def test_match_references_recovers_warped_landmarks(gallery_map) -> None:
    warp = _warp()
    target = synthetic_features(SIZE, GRID, 24, seed=3, warp=warp)
    truth = _target_points(warp)
    refs = fl.reference_vectors([gallery_map], POINTS)
    coarse = fl.match_references(
        target, refs, config=fl.MatcherConfig(use_prior=False, refine_radius=0)
    )
    fine = fl.match_references(target, refs, config=fl.MatcherConfig(use_prior=False))
    err_coarse = np.linalg.norm(coarse.points - truth, axis=1).mean()
    err_fine = np.linalg.norm(fine.points - truth, axis=1).mean()
    assert err_fine < 0.8 < err_coarse + 0.3  # better than half a 4-px cell
    assert err_fine < err_coarse
    assert fine.points.shape == (68, 2) and fine.confidence.shape == (68,)
    assert fine.prior is None


def test_match_with_prior_pulls_back_corrupted_references(gallery_map, make_shapes) -> None:
    warp = _warp()
    target = synthetic_features(SIZE, GRID, 24, seed=3, warp=warp)
    truth = _target_points(warp)
    refs = fl.reference_vectors([gallery_map], POINTS).copy()
    bad = [8, 30, 45, 57]
    refs[bad] = fl.normalize_features(np.random.default_rng(9).standard_normal((4, 24)), axis=-1)
    prior = fl.ShapePrior.from_annotations(
        np.concatenate([POINTS[None], make_shapes(20, seed=2, jitter=0.003)])
    )
    raw = fl.match_references(target, refs, config=fl.MatcherConfig(use_prior=False))
    reg = fl.match_references(target, refs, prior=prior)
    err_raw = np.linalg.norm(raw.points - truth, axis=1)
    err_reg = np.linalg.norm(reg.points - truth, axis=1)
    assert err_raw[bad].mean() > 8.0  # the corrupted references really mismatch
    assert err_reg[bad].mean() < 0.4 * err_raw[bad].mean()
    good = np.setdiff1d(np.arange(68), bad)
    assert err_reg[good].mean() < 2.0
    assert reg.prior is not None and reg.prior.weights[bad].mean() < reg.prior.weights[good].mean()


def test_match_does_not_modify_inputs(gallery_map) -> None:
    refs = fl.reference_vectors([gallery_map], POINTS)
    refs_before = refs.copy()
    arr_before = np.array(gallery_map.array)
    fl.match_references(gallery_map, refs)
    np.testing.assert_array_equal(refs, refs_before)
    np.testing.assert_array_equal(gallery_map.array, arr_before)


def test_matcher_config_validation() -> None:
    with pytest.raises(ValueError, match="upsample"):
        fl.MatcherConfig(upsample=0)
    with pytest.raises(ValueError, match="refine_radius"):
        fl.MatcherConfig(refine_radius=-1)
