import numpy as np
import pytest

from faceshot_retarget import (
    DegenerateLandmarksError,
    FaceshotRetargetError,
    LandmarkShapeError,
    NonFiniteLandmarksError,
    RetargetConfig,
    retarget,
    template_face,
)

FACE = template_face(100.0, (50.0, 50.0))


def test_wrong_driving_shape_names_argument():
    with pytest.raises(
        LandmarkShapeError,
        match=r"`driving` must have shape \(T, 68, 2\) or \(68, 2\); got \(12, 68, 3\)",
    ):
        retarget(np.zeros((12, 68, 3)), FACE)


def test_wrong_target_shape():
    with pytest.raises(LandmarkShapeError, match="`target`"):
        retarget(FACE, np.zeros((5, 2)))
    with pytest.raises(LandmarkShapeError, match="`target` must be a single frame"):
        retarget(FACE, np.stack([FACE, FACE]))


def test_zero_frames():
    with pytest.raises(LandmarkShapeError, match="T = 0"):
        retarget(np.zeros((0, 68, 2)), FACE)


def test_non_finite_names_frame_and_point():
    d = np.stack([FACE, FACE, FACE])
    d[2, 36, 0] = np.nan
    with pytest.raises(NonFiniteLandmarksError, match="`driving` frame 2, point 36 is not finite"):
        retarget(d, FACE)
    t = FACE.copy()
    t[5, 1] = np.inf
    with pytest.raises(NonFiniteLandmarksError, match="`target` frame 0, point 5"):
        retarget(FACE, t)


def test_non_numeric():
    with pytest.raises(LandmarkShapeError, match="real numbers"):
        retarget(np.full((68, 2), "a"), FACE)


def test_all_coincident_target_is_degenerate():
    with pytest.raises(DegenerateLandmarksError, match="`target` is degenerate"):
        retarget(FACE, np.zeros((68, 2)))


def test_errors_are_value_errors_and_package_errors():
    for cls in (LandmarkShapeError, NonFiniteLandmarksError, DegenerateLandmarksError):
        assert issubclass(cls, ValueError) and issubclass(cls, FaceshotRetargetError)


def test_bad_options():
    with pytest.raises(TypeError, match="unknown retarget option"):
        retarget(FACE, FACE, scale_please=True)
    with pytest.raises(ValueError, match="translation_scale"):
        RetargetConfig(translation_scale=-1)
    with pytest.raises(ValueError, match="ratio_high"):
        RetargetConfig(ratio_low=0.3, ratio_high=0.2)


def test_all_coincident_driving_frame_is_named():
    d = np.stack([FACE, FACE, FACE])
    d[2] = 7.0
    with pytest.raises(DegenerateLandmarksError, match="`driving` frame 2 is degenerate"):
        retarget(d, FACE)
