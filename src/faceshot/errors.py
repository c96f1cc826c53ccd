"""The error hierarchy of the ``faceshot`` meta-package.

Only wiring-level problems are raised here (unreadable character images, unusable driving
videos, bad output paths, missing GPU-path weights); errors of the member packages pass
through unchanged. Usage errors also subclass :class:`ValueError`; every message names the
offending input and the problem on one line.
"""

from __future__ import annotations

from faceshot_retarget.errors import OutputPathError as _OutputPolicyError

__all__ = [
    "BatchError",
    "CharacterImageError",
    "DrivingVideoError",
    "FaceshotError",
    "OutputPathError",
    "WeightsUnavailableError",
]


class FaceshotError(Exception):
    """Base class of every error raised by the ``faceshot`` meta-package."""


class CharacterImageError(FaceshotError, ValueError):
    """The character image is missing, unreadable, too small or too large."""


class DrivingVideoError(FaceshotError, ValueError):
    """The driving video cannot drive a face (no face, face lost for too long, no frames)."""


class OutputPathError(FaceshotError, _OutputPolicyError):
    """The output path cannot be written (wrong suffix, missing directory, not writable, is an
    input or a link to one); also a :class:`faceshot_retarget.OutputPathError` and a
    :class:`ValueError`."""


class WeightsUnavailableError(FaceshotError, FileNotFoundError):
    """The GPU path was asked for but its weights or its GPU are not available."""


class BatchError(FaceshotError, ValueError):
    """A batch cannot start: a malformed jobs file, an unknown option, two jobs with one output."""
