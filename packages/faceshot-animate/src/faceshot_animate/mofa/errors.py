"""Errors of the MOFA-Video animator, rooted in faceshot-animate's hierarchy.

:class:`MofaWeightsError` is a runtime failure (a weights directory is incomplete or a
checkpoint does not match our modules); it also subclasses :class:`FileNotFoundError` so
``except OSError`` keeps working. Bad arguments raise
:class:`faceshot_animate.errors.AnimateInputError` (a :class:`ValueError`) or
:class:`MofaConfigError` (also a :class:`ValueError`).
"""

from __future__ import annotations

from faceshot_animate.errors import FaceshotAnimateError

__all__ = ["MofaConfigError", "MofaError", "MofaWeightsError"]


class MofaError(FaceshotAnimateError):
    """Base class of every error raised by :mod:`faceshot_animate.mofa`."""


class MofaWeightsError(MofaError, FileNotFoundError):
    """A MOFA weights directory is missing files, or a checkpoint does not fit our modules.

    Attributes:
        missing: relative paths (POSIX style, from the weights root) that were expected
            but not found; empty when the error is a key/shape mismatch.
    """

    def __init__(self, message: str, missing: tuple[str, ...] = ()) -> None:
        super().__init__(message)
        self.missing = missing

    def __str__(self) -> str:
        return str(self.args[0]) if self.args else ""


class MofaConfigError(MofaError, ValueError):
    """A MOFA option (window, stride, size, steps, guidance) has an invalid value."""
