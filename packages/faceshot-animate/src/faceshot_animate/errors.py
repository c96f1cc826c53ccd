"""The error hierarchy of faceshot-animate.

Usage errors (bad shapes, dtypes, sizes, unreadable inputs) also subclass
:class:`ValueError`, so ``except ValueError`` keeps working for callers who do not know
this package. Messages name the offending argument (or file) and show expected vs actual.
"""

from __future__ import annotations

from faceshot_retarget.errors import VideoError as _VideoErrorBase

__all__ = [
    "AnimateInputError",
    "ExportError",
    "FaceshotAnimateError",
    "ImageError",
    "VideoError",
]


class FaceshotAnimateError(Exception):
    """Base class of every error raised by faceshot-animate."""


class AnimateInputError(FaceshotAnimateError, ValueError):
    """An argument of an animator has the wrong shape, dtype, range or size."""


class ImageError(FaceshotAnimateError, ValueError):
    """An image file is missing, unreadable, or has an unsupported layout."""


class VideoError(FaceshotAnimateError, _VideoErrorBase):
    """A video file is missing, corrupt, empty or unsupported, or cannot be written
    (a :class:`faceshot_retarget.VideoError`, hence a ``ValueError``)."""


class ExportError(FaceshotAnimateError, ValueError):
    """A landmark export was asked for an unknown format, a bad size or a bad destination."""
