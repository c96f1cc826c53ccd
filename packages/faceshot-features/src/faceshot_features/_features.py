"""The :class:`Features` value object and its ``.npz`` file format."""

from __future__ import annotations

import io
import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

import numpy as np
from numpy.typing import NDArray

from faceshot_features._io import atomic_write
from faceshot_features.errors import FeatureConfigError, FeatureFileError

__all__ = ["FEATURES_FORMAT", "Features", "load_features", "save_features"]

#: ``format`` tag stored in feature ``.npz`` files.
FEATURES_FORMAT = "faceshot-features/1"


def _read_only_float32(array: Any) -> NDArray[np.float32]:
    a = np.array(array, dtype=np.float32, copy=True)
    if a.ndim != 3 or min(a.shape) < 1:
        raise FeatureConfigError(
            f"`array` must have shape (C, h, w) with C, h, w >= 1; got {a.shape}"
        )
    if not np.isfinite(a).all():
        raise FeatureConfigError("`array` contains NaN or infinity")
    a.setflags(write=False)
    return a


@dataclass(frozen=True, eq=False)
class Features:
    """A dense feature map of one image.

    Attributes:
        array: (C, h, w) float32, read-only copy. Not necessarily L2-normalised per pixel
            (use :meth:`normalized`).
        image_size: (H, W) int, pixels of the image given to ``extract()``.
        backbone: extractor id, e.g. ``"embedded-mobilenetv2"``, ``"sd15-ip"``, ``"sd21"``.
        config: JSON-serialisable extractor configuration (galleries compare it for
            compatibility).

    Convention:
        Cell (j, i) (column, row) of ``array`` is centred on image pixel
        ``x = (j + 0.5) * W / w - 0.5``, ``y = (i + 0.5) * H / h - 0.5`` (pixel origin at the
        top-left pixel centre, align-corners=False). The mapping is exact per axis.
    """

    array: NDArray[np.float32]
    image_size: tuple[int, int]
    backbone: str
    config: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        object.__setattr__(self, "array", _read_only_float32(self.array))
        size = tuple(int(v) for v in np.asarray(self.image_size).reshape(-1))
        if len(size) != 2 or min(size) < 1:
            raise FeatureConfigError(
                f"`image_size` must be (H, W) positive ints; got {self.image_size!r}"
            )
        object.__setattr__(self, "image_size", size)
        if not isinstance(self.backbone, str) or not self.backbone:
            raise FeatureConfigError(f"`backbone` must be a non-empty str; got {self.backbone!r}")
        try:
            config = json.loads(json.dumps(self.config))
        except (TypeError, ValueError) as exc:
            raise FeatureConfigError(f"`config` must be JSON-serialisable: {exc}") from None
        if not isinstance(config, dict):
            raise FeatureConfigError(f"`config` must be a dict; got {type(self.config).__name__}")
        object.__setattr__(self, "config", config)

    @property
    def stride(self) -> float:
        """Nominal pixels per cell along x, ``W / w`` (float)."""
        return float(self.image_size[1] / self.array.shape[2])

    @property
    def shape(self) -> tuple[int, int, int]:
        """(C, h, w) of :attr:`array`."""
        c, h, w = self.array.shape
        return (c, h, w)

    def normalized(self) -> NDArray[np.float32]:
        """(C, h, w) float32 copy of :attr:`array` with unit L2 norm per cell (zero cells stay 0)."""
        norm = np.linalg.norm(self.array, axis=0, keepdims=True)
        return np.asarray(self.array / np.maximum(norm, 1e-12), dtype=np.float32)

    def cell_centers(self) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
        """Pixel coordinates of the cell centres.

        Returns:
            ``(xs, ys)``: (w,) and (h,) float64 image pixel x of each column and y of each row.
        """
        _, h, w = self.array.shape
        height, width = self.image_size
        xs = (np.arange(w) + 0.5) * width / w - 0.5
        ys = (np.arange(h) + 0.5) * height / h - 0.5
        return xs, ys

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Features):
            return NotImplemented
        return (
            self.image_size == other.image_size
            and self.backbone == other.backbone
            and self.config == other.config
            and np.array_equal(self.array, other.array)
        )

    __hash__ = None  # type: ignore[assignment]


def save_features(path: str | os.PathLike[str], features: Features) -> Path:
    """Write features to an uncompressed ``.npz`` file atomically.

    Args:
        path: destination (``.npz`` is *not* appended). Its directory must exist.
        features: the features to store.

    Returns:
        The destination path.

    The file holds ``array`` (C, h, w) float32, ``image_size`` (2,) int64, ``backbone``
    (str), ``config`` (JSON str) and ``format`` (:data:`FEATURES_FORMAT`).
    """
    if not isinstance(features, Features):
        raise FeatureConfigError(f"`features` must be Features; got {type(features).__name__}")
    buf = io.BytesIO()
    np.savez(
        buf,
        array=features.array,
        image_size=np.asarray(features.image_size, dtype=np.int64),
        backbone=np.asarray(features.backbone),
        config=np.asarray(json.dumps(features.config, sort_keys=True)),
        format=np.asarray(FEATURES_FORMAT),
    )

    def write(f: IO[bytes]) -> None:
        f.write(buf.getvalue())

    return atomic_write(path, write)


def load_features(path: str | os.PathLike[str]) -> Features:
    """Read features written by :func:`save_features` (or by ``faceshot features``).

    Raises:
        FeatureFileError: missing file, not an npz, or missing/malformed fields.
    """
    p = Path(path)
    try:
        with np.load(p, allow_pickle=False) as z:
            missing = {"array", "image_size", "backbone", "config"} - set(z.files)
            if missing:
                raise FeatureFileError(
                    f"{str(p)!r} is not a feature file: missing {sorted(missing)}"
                )
            size = [int(v) for v in np.asarray(z["image_size"]).reshape(-1)]
            if len(size) != 2:
                raise FeatureFileError(
                    f"{str(p)!r}: `image_size` must have 2 values; got {len(size)}"
                )
            return Features(
                array=z["array"],
                image_size=(size[0], size[1]),
                backbone=str(z["backbone"]),
                config=json.loads(str(z["config"])),
            )
    except FileNotFoundError:
        raise FeatureFileError(f"feature file {str(p)!r} does not exist") from None
    except (OSError, ValueError) as exc:
        if isinstance(exc, FeatureFileError):
            raise
        raise FeatureFileError(f"cannot read feature file {str(p)!r}: {exc}") from None
