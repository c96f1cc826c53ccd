"""Hypothesis properties of retarget (CI profile: >= 2,000 derandomised examples each)."""

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from faceshot_retarget import retarget
from faceshot_retarget.testing import apply_similarity, degenerate_faces, faces, landmark_sequences


@given(landmark_sequences(), faces())
def test_shape_dtype_finite(driving, target):
    out = retarget(driving, target)
    assert out.shape == driving.shape and out.dtype == np.float64
    assert np.isfinite(out).all()
    np.testing.assert_allclose(out[0], target, atol=1e-7 * np.abs(target).max())


@given(landmark_sequences(), degenerate_faces(), degenerate_faces())
def test_finite_for_degenerate_parts(driving, target, reference):
    driving = driving.copy()
    driving[0] = reference
    out = retarget(driving, target)
    assert np.isfinite(out).all()
    out2 = retarget(driving[::-1], reference)
    assert np.isfinite(out2).all()


@given(landmark_sequences(), faces(), st.floats(-1e3, 1e3), st.floats(-1e3, 1e3))
def test_equivariant_under_translating_the_target(driving, target, dx, dy):
    shift = np.array([dx, dy])
    a = retarget(driving, target)
    b = retarget(driving, target + shift)
    np.testing.assert_allclose(b, a + shift, atol=1e-7 * (1.0 + np.abs(a).max()))


@given(faces(), faces(), st.integers(1, 5))
def test_constant_driving_is_identity(driver, target, t):
    out = retarget(np.repeat(driver[None], t, axis=0), target)
    np.testing.assert_allclose(
        out, np.repeat(target[None], t, axis=0), atol=1e-7 * np.abs(target).max()
    )


@given(landmark_sequences(), faces(), st.floats(-np.pi, np.pi))
def test_equivariant_under_rotating_driver_and_target_together(driving, target, angle):
    a = retarget(driving, target)
    b = retarget(
        apply_similarity(driving, 1.0, angle, 0.0), apply_similarity(target, 1.0, angle, 0.0)
    )
    np.testing.assert_allclose(
        b, apply_similarity(a, 1.0, angle, 0.0), atol=1e-6 * (1.0 + np.abs(a).max())
    )
