"""The feature-map protocol (duck-typed; no dependency on faceshot-features or torch).

A *feature-like* object is anything with ``.array`` (C, h, w) and ``.image_size`` (H, W);
galleries additionally read ``.backbone`` (str) and ``.config`` (JSON-serialisable dict).

Pixel <-> cell mapping (align-corners=False, the contract shared with faceshot-features):
cell centre (j, i) <-> pixel x = (j + 0.5) * W / w - 0.5, y = (i + 0.5) * H / h - 0.5,
pixel (x, y) origin at the top-left pixel centre.
"""

from __future__ import annotations

from typing import Any, Protocol, runtime_checkable

import attrs
import numpy as np
from numpy.typing import ArrayLike, NDArray

from faceshot_landmarks.errors import FeatureMapError

__all__ = [
    "DenseFeatures",
    "Extractor",
    "FeatureMap",
    "cells_to_pixels",
    "check_feature_map",
    "normalize_features",
    "pixels_to_cells",
    "sample_features",
]


@runtime_checkable
class FeatureMap(Protocol):
    """What the matcher needs from a feature map.

    Attributes:
        array: (C, h, w) float32 dense features (not necessarily L2-normalised).
        image_size: (H, W) int pixels of the image the features were extracted from.
    """

    @property
    def array(self) -> Any: ...

    @property
    def image_size(self) -> tuple[int, int]: ...


@runtime_checkable
class Extractor(Protocol):
    """An image -> :class:`FeatureMap` extractor (e.g. ``faceshot_features.load_extractor()``)."""

    @property
    def backbone(self) -> str: ...

    @property
    def config(self) -> dict[str, Any]: ...

    def extract(self, image: Any, *, image_prompt: Any = None) -> Any: ...


def _readonly_f32(value: Any) -> NDArray[np.float32]:
    arr = np.array(value, dtype=np.float32, copy=True)
    arr.setflags(write=False)
    return arr


def _size(value: Any) -> tuple[int, int]:
    h, w = (int(v) for v in value)
    return (h, w)


@attrs.frozen
class DenseFeatures:
    """A concrete, immutable :class:`FeatureMap` (what the classical descriptor returns).

    Attributes:
        array: (C, h, w) float32 read-only copy.
        image_size: (H, W) int pixels of the source image.
        backbone: descriptor id, e.g. ``"classical-dog-hog"``.
        config: JSON-serialisable descriptor configuration.
    """

    array: NDArray[np.float32] = attrs.field(
        converter=_readonly_f32, eq=attrs.cmp_using(eq=np.array_equal)
    )
    image_size: tuple[int, int] = attrs.field(converter=_size)
    backbone: str = "unknown"
    config: dict[str, Any] = attrs.field(factory=dict)

    @property
    def stride(self) -> float:
        """W / w, nominal pixels per cell."""
        return float(self.image_size[1]) / float(self.array.shape[2])


def check_feature_map(
    features: Any, name: str = "features"
) -> tuple[NDArray[np.float32], tuple[int, int]]:
    """Validate a feature-like object.

    Args:
        features: object with ``.array`` (C, h, w) real and ``.image_size`` (H, W) positive ints.
        name: argument name for error messages.

    Returns:
        ``(array, (H, W))`` with ``array`` a float32 (C, h, w) view or copy (never written to).

    Raises:
        FeatureMapError: missing attributes, wrong rank, empty or non-finite values.
    """
    if not (hasattr(features, "array") and hasattr(features, "image_size")):
        raise FeatureMapError(
            f"`{name}` must have .array (C, h, w) and .image_size (H, W); got {type(features).__name__}"
        )
    arr = np.asarray(features.array)
    if arr.dtype.kind not in "iuf":
        raise FeatureMapError(f"`{name}.array` must hold real numbers; got dtype {arr.dtype}")
    if arr.ndim != 3 or min(arr.shape) < 1:
        raise FeatureMapError(
            f"`{name}.array` must have shape (C, h, w) with all sizes >= 1; got {arr.shape}"
        )
    try:
        size = _size(features.image_size)
    except (TypeError, ValueError):
        raise FeatureMapError(
            f"`{name}.image_size` must be (H, W) ints; got {features.image_size!r}"
        ) from None
    if len(tuple(features.image_size)) != 2 or min(size) < 1:
        raise FeatureMapError(
            f"`{name}.image_size` must be (H, W) positive ints; got {features.image_size!r}"
        )
    if not np.isfinite(arr).all():
        raise FeatureMapError(f"`{name}.array` contains NaN or infinite values")
    return arr.astype(np.float32, copy=False), size


def normalize_features(array: ArrayLike, axis: int = 0, eps: float = 1e-8) -> NDArray[np.float32]:
    """L2-normalise feature vectors along ``axis`` (zero vectors stay zero).

    Args:
        array: float array, e.g. (C, h, w) with ``axis=0`` or (N, C) with ``axis=-1``.

    Returns:
        float32 array of the same shape, a new array.
    """
    a = np.asarray(array, dtype=np.float32)
    norm = np.sqrt(np.sum(a * a, axis=axis, keepdims=True))
    return np.asarray(a / np.maximum(norm, eps), dtype=np.float32)


def pixels_to_cells(
    points: ArrayLike, image_size: tuple[int, int], grid: tuple[int, int]
) -> NDArray[np.float64]:
    """Map pixel (x, y) to fractional cell coordinates (j, i) of an (h, w) grid.

    Args:
        points: (..., 2) float pixel (x, y), origin at the top-left pixel centre.
        image_size: (H, W) pixels.
        grid: (h, w) cells.

    Returns:
        (..., 2) float64 cell (j, i); cell centres are integers.
    """
    p = np.asarray(points, dtype=np.float64)
    (H, W), (h, w) = image_size, grid
    scale = np.array([w / W, h / H])
    return np.asarray((p + 0.5) * scale - 0.5, dtype=np.float64)


def cells_to_pixels(
    cells: ArrayLike, image_size: tuple[int, int], grid: tuple[int, int]
) -> NDArray[np.float64]:
    """Inverse of :func:`pixels_to_cells`: cell (j, i) -> pixel (x, y), both float64 (..., 2)."""
    c = np.asarray(cells, dtype=np.float64)
    (H, W), (h, w) = image_size, grid
    scale = np.array([W / w, H / h])
    return np.asarray((c + 0.5) * scale - 0.5, dtype=np.float64)


def sample_features(array: ArrayLike, cells: ArrayLike) -> NDArray[np.float32]:
    """Bilinearly sample a (C, h, w) map at fractional cells (border-clamped).

    Args:
        array: (C, h, w) float features.
        cells: (N, 2) float cell (j, i).

    Returns:
        (N, C) float32 sampled feature vectors.
    """
    f = np.asarray(array, dtype=np.float32)
    _, h, w = f.shape
    c = np.asarray(cells, dtype=np.float64).reshape(-1, 2)
    x = np.clip(c[:, 0], 0.0, w - 1.0)
    y = np.clip(c[:, 1], 0.0, h - 1.0)
    x0 = np.minimum(np.floor(x).astype(np.intp), max(w - 2, 0))
    y0 = np.minimum(np.floor(y).astype(np.intp), max(h - 2, 0))
    x1 = np.minimum(x0 + 1, w - 1)
    y1 = np.minimum(y0 + 1, h - 1)
    ax = (x - x0).astype(np.float32)[:, None]
    ay = (y - y0).astype(np.float32)[:, None]
    ft = f.transpose(1, 2, 0)  # (h, w, C) view
    top = ft[y0, x0] * (1 - ax) + ft[y0, x1] * ax
    bot = ft[y1, x0] * (1 - ax) + ft[y1, x1] * ax
    return np.asarray(top * (1 - ay) + bot * ay, dtype=np.float32)
