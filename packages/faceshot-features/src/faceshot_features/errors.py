"""The error hierarchy of faceshot-features.

Usage errors (bad arguments, images, configurations) also subclass :class:`ValueError` or
:class:`TypeError`, so ``except ValueError`` keeps working for callers that do not know this
package. Runtime failures (missing weights) are kept apart: :class:`WeightsNotFoundError` is a
:class:`FileNotFoundError`. Messages name the offending argument and show expected vs actual.
"""

from __future__ import annotations

__all__ = [
    "FaceshotFeaturesError",
    "FeatureConfigError",
    "FeatureFileError",
    "ImageError",
    "WeightsNotFoundError",
]


class FaceshotFeaturesError(Exception):
    """Base class of every error raised by faceshot-features."""


class FeatureConfigError(FaceshotFeaturesError, ValueError):
    """An extractor argument or configuration value is invalid (names the argument)."""


class ImageError(FaceshotFeaturesError, ValueError):
    """An image array has the wrong shape/dtype, or an image file is missing or unreadable."""


class FeatureFileError(FaceshotFeaturesError, ValueError):
    """A saved feature file (``.npz``) is missing, unreadable or malformed."""


class WeightsNotFoundError(FaceshotFeaturesError, FileNotFoundError):
    """Pretrained weights are not on this machine (and downloading was not allowed).

    The message names the model id or path, the Hugging Face cache directory searched and the
    exact command that downloads the weights.
    """
