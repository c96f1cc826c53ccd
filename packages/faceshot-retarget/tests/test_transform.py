"""SimilarityTransform, rescale_points and the iBUG layout tables."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from faceshot_retarget import (
    TEMPLATE_68,
    DegenerateLandmarksError,
    LandmarkShapeError,
    SimilarityTransform,
    ibug68,
    mirror_landmarks,
    rescale_points,
)

SRC = TEMPLATE_68 * 100.0 + 50.0


@given(
    scale=st.floats(0.1, 10.0),
    rotation=st.floats(-3.0, 3.0),
    tx=st.floats(-500, 500),
    ty=st.floats(-500, 500),
)
def test_from_estimate_recovers_exact_similarity(scale, rotation, tx, ty):
    truth = SimilarityTransform.from_params(scale=scale, rotation=rotation, translation=(tx, ty))
    fit = SimilarityTransform.from_estimate(SRC, truth(SRC))
    np.testing.assert_allclose(fit.matrix, truth.matrix, atol=1e-7 * max(1.0, scale))
    np.testing.assert_allclose(fit.inverse(fit(SRC)), SRC, atol=1e-6)
    assert fit.residuals(SRC, truth(SRC)).max() < 1e-6


def test_weights_ignore_outliers_and_no_reflection():
    truth = SimilarityTransform.from_params(scale=1.5, rotation=0.3, translation=(4, -2))
    dst = truth(SRC)
    dst[:5] += 300.0
    w = np.ones(68)
    w[:5] = 0.0
    fit = SimilarityTransform.from_estimate(SRC, dst, w)
    np.testing.assert_allclose(fit.matrix, truth.matrix, atol=1e-9)
    mirrored = SRC * np.array([-1.0, 1.0])
    fit = SimilarityTransform.from_estimate(SRC, mirrored)
    assert np.linalg.det(fit.matrix[:2, :2]) > 0  # a rotation, never a reflection


def test_parameters_and_composition():
    a = SimilarityTransform.from_params(scale=2.0, rotation=0.5, translation=(1, 2))
    b = SimilarityTransform.from_params(scale=0.5, rotation=-0.2, translation=(-3, 0))
    assert a.scale == pytest.approx(2.0)
    assert a.rotation == pytest.approx(0.5)
    np.testing.assert_allclose(a.translation, [1, 2])
    assert a.params.shape == (2, 3)
    np.testing.assert_allclose((a @ b)(SRC), a(b(SRC)))
    np.testing.assert_allclose(SimilarityTransform.identity()(SRC), SRC)
    assert not a.matrix.flags.writeable


def test_degenerate_and_bad_shapes():
    with pytest.raises(DegenerateLandmarksError, match="coincide"):
        SimilarityTransform.from_estimate(np.ones((5, 2)), np.zeros((5, 2)))
    with pytest.raises(DegenerateLandmarksError, match="sum to zero"):
        SimilarityTransform.from_estimate(SRC, SRC, np.zeros(68))
    with pytest.raises(LandmarkShapeError, match=r"\(N, 2\)"):
        SimilarityTransform.from_estimate(SRC, SRC[:10])
    with pytest.raises(ValueError, match="scale"):
        SimilarityTransform.from_params(scale=0.0)


def test_rescale_points_pixel_centres():
    # The outer edges (-0.5 and W - 0.5) map onto each other; centres scale about them.
    p = np.array([[-0.5, -0.5], [9.5, 19.5], [4.5, 9.5]])
    out = rescale_points(p, (20, 10), (40, 30))
    np.testing.assert_allclose(out, [[-0.5, -0.5], [29.5, 39.5], [14.5, 19.5]])
    np.testing.assert_allclose(rescale_points(out, (40, 30), (20, 10)), p)
    with pytest.raises(ValueError, match="from_size"):
        rescale_points(p, (0, 10), (4, 4))
    with pytest.raises(LandmarkShapeError):
        rescale_points(np.zeros((3, 3)), (1, 1), (1, 1))


def test_mirror_is_an_involution_that_maps_the_template_onto_itself():
    assert np.array_equal(ibug68.MIRROR[ibug68.MIRROR], np.arange(68))
    flipped = (TEMPLATE_68 * np.array([-1.0, 1.0]))[ibug68.MIRROR]
    centre = TEMPLATE_68[[0, 16]].mean(axis=0)
    flipped = flipped + np.array([2 * centre[0], 0.0])
    np.testing.assert_allclose(flipped, TEMPLATE_68, atol=0.02)


def test_pair_tables_upper_above_lower_on_the_template():
    for table in (ibug68.EYE_LID_PAIRS, ibug68.OUTER_LIP_PAIRS):
        upper, lower = TEMPLATE_68[table[:, 0]], TEMPLATE_68[table[:, 1]]
        assert (upper[:, 1] < lower[:, 1]).all()
    inner = TEMPLATE_68[ibug68.INNER_LIP_PAIRS]
    assert (inner[:, 0, 1] <= inner[:, 1, 1]).all()
    assert len(ibug68.FACE_OUTLINE) == 17 + 10 and ibug68.FACE_OUTLINE[-1] == 17


def test_mirror_landmarks_flips_x_and_swaps_sides():
    w = 200
    face = TEMPLATE_68 * 100.0 + np.array([80.0, 90.0])
    out = mirror_landmarks(face, w)
    # the mirrored right-eye outer corner (36) is the image of the left-eye outer corner (45)
    np.testing.assert_allclose(out[36], [w - 1 - face[45, 0], face[45, 1]])
    np.testing.assert_allclose(mirror_landmarks(out, w), face)  # an involution
    seq = np.stack([face, face + 1.0])
    np.testing.assert_allclose(mirror_landmarks(seq, w)[1], mirror_landmarks(face + 1.0, w))
    # pixel (x, y) of an image lands on pixel (W - 1 - x, y) of image[:, ::-1]
    img = np.zeros((4, w), np.uint8)
    img[1, 30] = 1
    assert img[:, ::-1][1, w - 1 - 30] == 1
    assert face.tolist() == (TEMPLATE_68 * 100.0 + np.array([80.0, 90.0])).tolist()  # input kept


def test_mirror_landmarks_rejects_bad_input():
    with pytest.raises(LandmarkShapeError, match=r"\(\.\.\., 68, 2\)"):
        mirror_landmarks(np.zeros((5, 2)), 10)
    with pytest.raises(ValueError, match="width"):
        mirror_landmarks(TEMPLATE_68, 0)


def test_hypothesis_runs_the_dev_or_ci_profile(request):
    """`dev` (100 examples) unless CI asks for `ci` (2,000, derandomised)."""
    import os

    from hypothesis import settings

    from faceshot_retarget.testing import HYPOTHESIS_EXAMPLES

    expected = (
        request.config.getoption("hypothesis_profile")
        or os.environ.get("HYPOTHESIS_PROFILE")
        or "dev"
    )
    assert settings._current_profile == expected
    assert settings.default.max_examples == HYPOTHESIS_EXAMPLES[expected]
