"""faceshot-retarget: relative landmark motion transfer (FaceShot, ICLR 2025, Eq. 5-6).

Owns the shared landmark conventions of faceshot: (T, 68, 2) float64 pixel (x, y) in
iBUG 300-W order (:mod:`faceshot_retarget.ibug68`), the immutable :class:`Landmarks`
type, landmark file IO, and :func:`retarget`. Depends on NumPy, shapely and attrs only.
"""

from importlib import metadata as _metadata

from faceshot_retarget import ibug68
from faceshot_retarget._constraints import constrain_parts, keep_in_canvas, rate_limit, soft_upper
from faceshot_retarget._extras import missing_modules, require_extra
from faceshot_retarget._image import EXIF_ORIENTATION_TAG, MAX_IMAGE_PIXELS, apply_exif_orientation
from faceshot_retarget._io import (
    MAX_LANDMARK_FILE_BYTES,
    NAME_MAX,
    AtomicOutputs,
    atomic_path,
    atomic_write,
    check_output,
    input_file_problem,
    load_landmarks,
    read_json,
    read_npy,
    read_pts,
    replace_atomically,
    save_landmarks,
    temp_dir_beside,
    temp_path_beside,
    write_json,
    write_npy,
    write_pts,
)
from faceshot_retarget._landmarks import Landmarks, as_points, as_visible
from faceshot_retarget._metrics import motion_figures, violation_frames
from faceshot_retarget._motion import mouth_opening, neutral_reference, smoothstep
from faceshot_retarget._retarget import (
    MOTION_REGIONS,
    RetargetConfig,
    boundary_clamp,
    global_frame,
    global_motion,
    local_motion,
    ratio_weights,
    retarget,
)
from faceshot_retarget._smoothing import RETARGET_SMOOTHING, OneEuroConfig, one_euro_filter
from faceshot_retarget._template import TEMPLATE_68, template_face
from faceshot_retarget._transform import SimilarityTransform, mirror_landmarks, rescale_points
from faceshot_retarget._video_info import VideoInfo
from faceshot_retarget.errors import (
    DegenerateLandmarksError,
    FaceshotRetargetError,
    LandmarkFileError,
    LandmarkShapeError,
    MissingExtraError,
    NonFiniteLandmarksError,
    OutputPathError,
    VideoError,
)

#: The installed distribution's version (its pyproject.toml, read by importlib.metadata).
__version__ = _metadata.version("faceshot-retarget")

__all__ = [
    "EXIF_ORIENTATION_TAG",
    "MAX_IMAGE_PIXELS",
    "MAX_LANDMARK_FILE_BYTES",
    "MOTION_REGIONS",
    "NAME_MAX",
    "RETARGET_SMOOTHING",
    "TEMPLATE_68",
    "AtomicOutputs",
    "DegenerateLandmarksError",
    "FaceshotRetargetError",
    "LandmarkFileError",
    "LandmarkShapeError",
    "Landmarks",
    "MissingExtraError",
    "NonFiniteLandmarksError",
    "OneEuroConfig",
    "OutputPathError",
    "RetargetConfig",
    "SimilarityTransform",
    "VideoError",
    "VideoInfo",
    "__version__",
    "apply_exif_orientation",
    "as_points",
    "as_visible",
    "atomic_path",
    "atomic_write",
    "boundary_clamp",
    "check_output",
    "constrain_parts",
    "global_frame",
    "global_motion",
    "ibug68",
    "input_file_problem",
    "keep_in_canvas",
    "load_landmarks",
    "local_motion",
    "mirror_landmarks",
    "missing_modules",
    "motion_figures",
    "mouth_opening",
    "neutral_reference",
    "one_euro_filter",
    "rate_limit",
    "ratio_weights",
    "read_json",
    "read_npy",
    "read_pts",
    "replace_atomically",
    "require_extra",
    "rescale_points",
    "retarget",
    "save_landmarks",
    "smoothstep",
    "soft_upper",
    "temp_dir_beside",
    "temp_path_beside",
    "template_face",
    "violation_frames",
    "write_json",
    "write_npy",
    "write_pts",
]
