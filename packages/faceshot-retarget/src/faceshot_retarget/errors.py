"""The error hierarchy of faceshot-retarget.

Usage errors (bad shapes, non-finite values, malformed files) also subclass
:class:`ValueError`, so ``except ValueError`` keeps working for callers who do not
know this package. Messages name the offending argument and show expected vs actual.
"""

from __future__ import annotations

__all__ = [
    "DegenerateLandmarksError",
    "FaceshotRetargetError",
    "LandmarkFileError",
    "LandmarkShapeError",
    "MissingExtraError",
    "NonFiniteLandmarksError",
    "OutputPathError",
    "VideoError",
]


class FaceshotRetargetError(Exception):
    """Base class of every error raised by faceshot-retarget."""


class LandmarkShapeError(FaceshotRetargetError, ValueError):
    """A landmark array has the wrong shape, dtype kind, or number of frames."""


class NonFiniteLandmarksError(FaceshotRetargetError, ValueError):
    """A landmark array contains NaN or infinity (missing points use a ``visible`` mask)."""


class DegenerateLandmarksError(FaceshotRetargetError, ValueError):
    """Landmarks are too degenerate to define a face frame (e.g. all points coincide)."""


class LandmarkFileError(FaceshotRetargetError, ValueError):
    """A landmark file (.pts, .json, .npy) is missing, unreadable or malformed."""


class OutputPathError(FaceshotRetargetError, ValueError):
    """An output path breaks the output policy (:func:`faceshot_retarget.check_output`): wrong
    suffix, missing or unwritable directory, a directory or device, or one of the inputs."""


class MissingExtraError(FaceshotRetargetError, ImportError):
    """An optional dependency of a faceshot package is not installed; the message is one line
    naming the extra that installs it (``pip install 'faceshot-animate[mofa]'``). Raised by
    :func:`faceshot_retarget.require_extra` for every member package."""


class VideoError(FaceshotRetargetError, ValueError):
    """A video file is missing, corrupt, empty or unsupported, or cannot be written.

    The one base of every package's video error (``faceshot_landmarks.VideoError`` and
    ``faceshot_animate.VideoError`` subclass it), so ``except faceshot_retarget.VideoError``
    catches a bad video wherever it was read."""
