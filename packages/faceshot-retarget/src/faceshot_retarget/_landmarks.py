"""The landmark value type and input validation shared by every faceshot package."""

from __future__ import annotations

from typing import Any

import attrs
import numpy as np
from numpy.typing import ArrayLike, NDArray

from faceshot_retarget.errors import LandmarkShapeError, NonFiniteLandmarksError
from faceshot_retarget.ibug68 import NUM_POINTS

__all__ = ["Landmarks", "as_points", "as_visible"]


def as_points(
    value: ArrayLike, name: str = "landmarks", *, allow_empty: bool = False
) -> NDArray[np.float64]:
    """Validate and promote landmarks to a fresh ``(T, 68, 2)`` float64 array.

    Args:
        value: (T, 68, 2) or (68, 2) array-like of real numbers, pixel (x, y).
            A :class:`Landmarks` is accepted too (its points are used).
        name: the argument name used in error messages.
        allow_empty: accept T == 0.

    Returns:
        (T, 68, 2) float64, a new array (the input is never modified or aliased).

    Raises:
        LandmarkShapeError: wrong number of dimensions, points or coordinates, T == 0,
            or a non-numeric dtype.
        NonFiniteLandmarksError: a NaN or infinite coordinate (names frame and point).
    """
    if isinstance(value, Landmarks):
        value = value.points
    arr = np.array(value, copy=True)
    if arr.dtype.kind not in "iuf":
        raise LandmarkShapeError(
            f"`{name}` must hold real numbers (int or float); got dtype {arr.dtype}"
        )
    arr = arr.astype(np.float64, copy=False)
    if arr.ndim == 2:
        arr = arr[None]
    if arr.ndim != 3 or arr.shape[1:] != (NUM_POINTS, 2):
        raise LandmarkShapeError(
            f"`{name}` must have shape (T, 68, 2) or (68, 2); got {tuple(np.shape(value))}"
        )
    if arr.shape[0] == 0 and not allow_empty:
        raise LandmarkShapeError(f"`{name}` must have at least one frame; got T = 0")
    finite = np.isfinite(arr)
    if not finite.all():
        t, p, _ = np.argwhere(~finite)[0]
        raise NonFiniteLandmarksError(
            f"`{name}` frame {t}, point {p} is not finite ({arr[t, p].tolist()}); "
            "mark missing points with a `visible` mask instead of NaN"
        )
    return arr


def as_visible(
    value: ArrayLike | None, num_frames: int, name: str = "visible"
) -> NDArray[np.bool_] | None:
    """Validate a visibility mask to ``(T, 68)`` bool (``(68,)`` is promoted), or pass ``None``."""
    if value is None:
        return None
    arr = np.array(value, copy=True)
    if arr.dtype != np.bool_:
        raise LandmarkShapeError(f"`{name}` must be a bool array; got dtype {arr.dtype}")
    if arr.ndim == 1:
        arr = arr[None]
    if arr.shape != (num_frames, NUM_POINTS):
        raise LandmarkShapeError(
            f"`{name}` must have shape ({num_frames}, 68); got {tuple(np.shape(value))}"
        )
    return arr


def _readonly_points(value: Any) -> NDArray[np.float64]:
    arr = as_points(value, "points")
    arr.setflags(write=False)
    return arr


def _check_image_size(instance: Landmarks, attribute: Any, value: tuple[int, int] | None) -> None:
    if value is None:
        return
    if (
        not isinstance(value, tuple)
        or len(value) != 2
        or not all(isinstance(v, int | np.integer) and v > 0 for v in value)
    ):
        raise LandmarkShapeError(
            f"`image_size` must be a (height, width) pair of positive ints; got {value!r}"
        )


def _to_size(value: Any) -> tuple[int, int] | None:
    if value is None:
        return None
    try:
        size = tuple(int(v) for v in value)
        if any(float(v) != s for v, s in zip(value, size, strict=False)):
            return value  # type: ignore[no-any-return]  # 1.5 is not a size: never truncate
        return size  # type: ignore[return-value]
    except (TypeError, ValueError, OverflowError):
        return value  # type: ignore[no-any-return]  # the validator names the problem


def _check_visible(instance: Landmarks, attribute: Any, value: NDArray[np.bool_] | None) -> None:
    if value is None:
        return
    checked = as_visible(value, instance.points.shape[0])
    assert checked is not None


def _readonly_visible(value: Any) -> NDArray[np.bool_] | None:
    if value is None:
        return None
    arr = np.array(value, copy=True)
    if arr.dtype == np.bool_ and arr.ndim == 1:
        arr = arr[None]
    arr.setflags(write=False)
    return arr


@attrs.frozen
class Landmarks:
    """An immutable 68-point iBUG landmark sequence.

    Attributes:
        points: (T, 68, 2) float64, pixel (x, y) = (col, row) of the image they belong to,
            origin at the top-left pixel centre, +y down. A (68, 2) input is promoted to T = 1.
            Stored as a read-only copy.
        image_size: (height, width) in pixels of the image/video, or ``None`` when unknown.
        visible: (T, 68) bool mask of observed points, or ``None`` (all visible). Missing
            points keep finite (e.g. interpolated) coordinates; NaN is never used.

    Convention:
        Changes go through :func:`attrs.evolve`; arrays are never written in place.
    """

    points: NDArray[np.float64] = attrs.field(
        converter=_readonly_points, eq=attrs.cmp_using(eq=np.array_equal)
    )
    image_size: tuple[int, int] | None = attrs.field(
        default=None, converter=_to_size, validator=_check_image_size
    )
    visible: NDArray[np.bool_] | None = attrs.field(
        default=None,
        converter=_readonly_visible,
        validator=_check_visible,
        eq=attrs.cmp_using(
            eq=lambda a, b: (
                (a is None and b is None)
                or (a is not None and b is not None and np.array_equal(a, b))
            )
        ),
    )

    @property
    def num_frames(self) -> int:
        """T, the number of frames."""
        return int(self.points.shape[0])

    def __len__(self) -> int:
        return self.num_frames

    def frame(self, index: int) -> Landmarks:
        """The single frame ``index`` as a T = 1 :class:`Landmarks`."""
        vis = None if self.visible is None else self.visible[index : index + 1]
        return Landmarks(self.points[index : index + 1], self.image_size, vis)

    def __array__(self, dtype: Any = None, copy: bool | None = None) -> NDArray[Any]:
        return np.array(self.points, dtype=dtype, copy=True)
