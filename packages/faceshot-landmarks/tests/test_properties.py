"""Property tests (hypothesis) of the geometric parts: equivariance and round trips."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import faceshot_landmarks as fl

testing = pytest.importorskip("faceshot_retarget.testing")

SETTINGS = settings(
    max_examples=15, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow]
)
_finite = {"allow_nan": False, "allow_infinity": False}


@pytest.fixture(scope="module")
def prior(make_shapes):
    return fl.ShapePrior.from_annotations(make_shapes(25, seed=11))


@SETTINGS
@given(
    face=testing.faces(),
    scale=st.floats(0.3, 3.0, **_finite),
    angle=st.floats(-3.0, 3.0, **_finite),
    shift=st.tuples(st.floats(-300, 300, **_finite), st.floats(-300, 300, **_finite)),
)
def test_prior_fit_is_similarity_equivariant(prior, face, scale, angle, shift) -> None:
    a = prior.fit(face)
    moved = testing.apply_similarity(face, scale, angle, shift)
    b = prior.fit(moved)
    expected = testing.apply_similarity(a.points, scale, angle, shift)
    size = np.linalg.norm(moved - moved.mean(0), axis=1).mean()
    assert np.abs(b.points - expected).max() < 1e-6 * size + 1e-6
    np.testing.assert_allclose(b.weights, a.weights, atol=1e-6)


@SETTINGS
@given(
    face=testing.faces(),
    scale=st.floats(0.3, 3.0, **_finite),
    angle=st.floats(-3.0, 3.0, **_finite),
)
def test_similarity_fit_inverts_apply_similarity(face, scale, angle) -> None:
    moved = testing.apply_similarity(face, scale, angle, (5.0, -7.0))
    s, r, t = fl.similarity_fit(face, moved)
    np.testing.assert_allclose(s * face @ r.T + t, moved, atol=1e-7 * max(1.0, np.abs(moved).max()))
    assert s == pytest.approx(scale, rel=1e-9)


@SETTINGS
@given(
    h=st.integers(1, 300),
    w=st.integers(1, 300),
    gh=st.integers(1, 80),
    gw=st.integers(1, 80),
    x=st.floats(-10, 400, **_finite),
    y=st.floats(-10, 400, **_finite),
)
def test_pixel_cell_mapping_round_trip(h, w, gh, gw, x, y) -> None:
    cells = fl.pixels_to_cells([[x, y]], (h, w), (gh, gw))
    np.testing.assert_allclose(fl.cells_to_pixels(cells, (h, w), (gh, gw)), [[x, y]], atol=1e-9)


@SETTINGS
@given(
    found=st.lists(st.booleans(), min_size=1, max_size=40).filter(any), max_gap=st.integers(0, 10)
)
def test_fill_gaps_keeps_found_frames_and_stays_in_range(found, max_gap) -> None:
    ok = np.array(found)
    t = len(ok)
    pts = np.tile(np.arange(t, dtype=np.float64)[:, None, None], (1, 68, 2))
    out = fl.fill_gaps(pts, ok, max_gap=max_gap)
    np.testing.assert_array_equal(out[ok], pts[ok])
    idx = np.flatnonzero(ok)
    assert out.min() >= idx.min() and out.max() <= idx.max()
    assert np.all(np.diff(out[:, 0, 0]) >= -1e-12)  # filled values never go backwards in time
