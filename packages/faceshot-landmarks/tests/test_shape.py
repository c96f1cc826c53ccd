"""The robust Procrustes/PCA shape prior."""

from __future__ import annotations

import numpy as np
import pytest

import faceshot_landmarks as fl


def _similarity(points: np.ndarray, s: float, a: float, t: tuple[float, float]) -> np.ndarray:
    r = np.array([[np.cos(a), -np.sin(a)], [np.sin(a), np.cos(a)]])
    return s * points @ r.T + np.asarray(t)


def test_similarity_fit_recovers_transform(make_shapes) -> None:
    src = make_shapes(1, seed=1)[0]
    dst = _similarity(src, 1.7, 0.4, (30.0, -12.0))
    s, r, t = fl.similarity_fit(src, dst)
    assert s == pytest.approx(1.7)
    np.testing.assert_allclose(s * src @ r.T + t, dst, atol=1e-9)


def test_procrustes_mean_is_normalised_and_pose_free(make_shapes) -> None:
    shapes = make_shapes(6, seed=2)
    _, mean = fl.procrustes_align(shapes)
    np.testing.assert_allclose(mean.mean(axis=0), 0.0, atol=1e-12)
    assert np.linalg.norm(mean) == pytest.approx(1.0)
    moved = np.stack([_similarity(x, 2.0, -0.3, (5.0, 7.0)) for x in shapes])
    _, mean2 = fl.procrustes_align(moved)
    s, r, t = fl.similarity_fit(mean2, mean)
    np.testing.assert_allclose(s * mean2 @ r.T + t, mean, atol=1e-8)


def test_prior_modes_and_single_shape(make_shapes) -> None:
    prior = fl.ShapePrior.from_annotations(make_shapes(30, seed=3), variance=0.95)
    assert 1 <= prior.num_modes <= 29
    assert np.all(np.diff(prior.variances) <= 0)
    one = fl.ShapePrior.from_annotations(make_shapes(1, seed=3)[0])
    assert one.num_modes == 0
    with pytest.raises(ValueError, match="variance"):
        fl.ShapePrior.from_annotations(make_shapes(3), variance=0.0)


def test_fit_reproduces_an_inlier_shape(make_shapes) -> None:
    shapes = make_shapes(40, seed=4, jitter=0.002)
    prior = fl.ShapePrior.from_annotations(shapes[:-1])
    target = _similarity(shapes[-1], 1.3, 0.2, (400.0, 300.0))
    fit = prior.fit(target, clamp=0.08)
    err = np.linalg.norm(fit.model - target, axis=1)
    assert err.mean() < 0.03 * fit.scale
    tau = 0.08 * fit.scale
    near = err <= tau
    assert near.mean() > 0.9
    np.testing.assert_allclose(fit.points[near], target[near], atol=1e-9)  # kept as observed
    far = np.linalg.norm(fit.points[~near] - fit.model[~near], axis=1)
    np.testing.assert_allclose(far, tau, rtol=1e-9)  # others shrunk onto the clamp radius


def test_fit_pulls_back_wrong_matches(make_shapes) -> None:
    shapes = make_shapes(40, seed=5)
    prior = fl.ShapePrior.from_annotations(shapes[:-1])
    truth = shapes[-1]
    obs = truth.copy()
    bad = np.array([3, 20, 38, 50, 66])
    obs[bad] += np.array([[60.0, -40.0], [-50.0, 70.0], [80.0, 10.0], [-30.0, -90.0], [45.0, 45.0]])
    fit = prior.fit(obs)
    err = np.linalg.norm(fit.points - truth, axis=1)
    good = np.setdiff1d(np.arange(68), bad)
    assert (
        err[bad].max() < 0.1 * np.linalg.norm(obs[bad] - truth[bad], axis=1).min() + 0.1 * fit.scale
    )
    assert err[good].mean() < 1.0
    assert fit.weights[bad].max() < 0.2 and fit.weights[good].mean() > 0.8


def test_low_confidence_points_weigh_less(make_shapes) -> None:
    shapes = make_shapes(30, seed=6)
    prior = fl.ShapePrior.from_annotations(shapes[:-1])
    truth = shapes[-1]
    obs = truth.copy()
    obs[:17] += 15.0  # a shifted jaw
    w = np.ones(68)
    w[:17] = 0.01
    err_w = np.linalg.norm(prior.fit(obs, w, clamp=0.0).model[17:] - truth[17:], axis=1).mean()
    err_u = np.linalg.norm(
        prior.fit(obs, None, iterations=1, clamp=0.0).model[17:] - truth[17:], axis=1
    ).mean()
    assert err_w < err_u


def test_fit_rejects_bad_weights(make_shapes) -> None:
    prior = fl.ShapePrior.from_annotations(make_shapes(5))
    with pytest.raises(ValueError, match="weights"):
        prior.fit(make_shapes(1)[0], np.ones(5))


def test_prior_pca_equals_scikit_learn_pca(make_shapes) -> None:
    PCA = pytest.importorskip("sklearn.decomposition").PCA
    shapes = make_shapes(25, seed=4)
    prior = fl.ShapePrior.from_annotations(shapes, variance=0.99)
    aligned, _ = fl.procrustes_align(shapes)
    pca = PCA(n_components=24, svd_solver="full").fit(aligned.reshape(25, -1))
    m = prior.num_modes
    np.testing.assert_allclose(prior.variances, pca.explained_variance_[:m], rtol=1e-8)
    # Same subspace, same modes up to sign.
    dots = np.abs(np.sum(prior.components * pca.components_[:m], axis=1))
    np.testing.assert_allclose(dots, 1.0, atol=1e-6)
    assert m == int(np.searchsorted(np.cumsum(pca.explained_variance_ratio_), 0.99 - 1e-12)) + 1
