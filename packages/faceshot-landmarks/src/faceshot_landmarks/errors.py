"""The error hierarchy of faceshot-landmarks.

Usage errors (bad shapes, bad arguments, malformed inputs) also subclass :class:`ValueError`
(or :class:`TypeError`), so ``except ValueError`` keeps working for callers who do not know
this package. Runtime failures (no face, corrupt gallery, missing optional backend) do not.
Messages name the offending argument or file and show expected vs actual.
"""

from __future__ import annotations

from faceshot_retarget.errors import VideoError as _VideoErrorBase

__all__ = [
    "BackendUnavailableError",
    "FaceSelectionError",
    "FaceshotLandmarksError",
    "FeatureMapError",
    "GalleryError",
    "MatchingError",
    "NoFaceError",
    "VideoError",
]


class FaceshotLandmarksError(Exception):
    """Base class of every error raised by faceshot-landmarks."""


class FeatureMapError(FaceshotLandmarksError, ValueError):
    """A feature map (or image) has the wrong type, shape, dtype or values."""


class GalleryError(FaceshotLandmarksError):
    """An appearance gallery is missing, corrupt, or incompatible with the features in use."""


class MatchingError(FaceshotLandmarksError):
    """Matching or tracking failed at run time (e.g. a degenerate similarity map)."""


class NoFaceError(FaceshotLandmarksError):
    """No face was found where one was required (names the video or image and the frame)."""


class FaceSelectionError(FaceshotLandmarksError, ValueError):
    """The face asked to drive does not exist in the video (the message lists the faces found)."""


class VideoError(FaceshotLandmarksError, _VideoErrorBase):
    """A video cannot be opened, decoded or written (a :class:`faceshot_retarget.VideoError`,
    hence a ``ValueError``)."""


class BackendUnavailableError(FaceshotLandmarksError, ImportError):
    """An optional backend (FAISS, mediapipe, the dlib model file) is not installed."""
