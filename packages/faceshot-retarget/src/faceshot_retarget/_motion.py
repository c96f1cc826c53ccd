"""Driver pose, size and neutral expression: the references relative motion is measured from.

A driving frame's *pose* is its jaw-chord frame (origin = midpoint of points 0 and 16,
direction of the chord 0 -> 16, as in paper Eq. 5) and its *size* is the RMS distance of
the expression-stable points (:data:`~faceshot_retarget.ibug68.STABLE_POINTS`: jaw ends,
nose, eye corners) from their centroid. Dividing by the size (not by a fixed reference
width) removes zoom from the expression, so a driver leaning in does not look like a driver
whose every feature moved outwards.

Shapes are complex numbers ``x + i y`` internally; public functions take and return
(…, 68, 2) float64 pixel arrays.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray

from faceshot_retarget._frames import wrap_angle
from faceshot_retarget._landmarks import as_points, as_visible
from faceshot_retarget.errors import DegenerateLandmarksError
from faceshot_retarget.ibug68 import INNER_LIP_PAIRS, STABLE_POINTS

__all__ = ["mouth_opening", "neutral_reference", "shot_bounds", "smoothstep"]

F64 = NDArray[np.float64]
C128 = NDArray[np.complex128]

#: Longest run of frames a neutral estimate looks at (longer shots are sampled evenly).
_NEUTRAL_SAMPLE = 750


def smoothstep(x: ArrayLike) -> F64:
    """3x² - 2x³ on [0, 1] (0 below, 1 above): the ease curve of re-anchoring and absences."""
    v = np.clip(np.asarray(x, dtype=np.float64), 0.0, 1.0)
    out: F64 = v * v * (3.0 - 2.0 * v)
    return out


def as_complex(points: F64) -> C128:
    """(..., 2) float64 -> (...) complex128 ``x + i y`` (a copy)."""
    return np.ascontiguousarray(points, dtype=np.float64).view(np.complex128)[..., 0].copy()


def as_real(z: C128) -> F64:
    """(...) complex128 -> (..., 2) float64 ``(x, y)``."""
    arr = np.ascontiguousarray(z, dtype=np.complex128)
    return arr.view(np.float64).reshape(*arr.shape, 2)


def face_pose(z: C128) -> tuple[C128, C128, F64, F64]:
    """Pose and size of (..., 68) complex faces.

    Returns:
        origin: (...) complex, midpoint of points 0 and 16, pixels.
        direction: (...) complex unit, direction of the chord 0 -> 16 (1 for a zero chord).
        width: (...) chord length |P16 - P0|, pixels.
        size: (...) RMS distance of the stable points from their centroid, pixels (the
            chord length when those points coincide).
    """
    origin = 0.5 * (z[..., 0] + z[..., 16])
    chord = z[..., 16] - z[..., 0]
    width = np.abs(chord)
    direction = np.divide(chord, width, out=np.ones_like(chord), where=width > 0)
    stable = z[..., STABLE_POINTS]
    centred = stable - stable.mean(axis=-1, keepdims=True)
    size = np.sqrt((centred.real**2 + centred.imag**2).mean(axis=-1))
    size = np.where(size > 1e-9 * np.maximum(width, 1.0), size, width)
    return origin, direction, width, size


def normalise(z: C128, origin: C128, direction: C128, size: F64) -> C128:
    """Faces (..., 68) in their own pose frame, in units of their size: (z - o) conj(u) / s."""
    factor = np.conj(direction) / np.where(size > 0, size, 1.0)
    out: C128 = (z - origin[..., None]) * factor[..., None]
    return out


def opening_c(n: C128) -> F64:
    """Mean inner-lip gap |P_lower - P_upper| over INNER_LIP_PAIRS of (..., 68) complex faces."""
    return np.abs(n[..., INNER_LIP_PAIRS[:, 1]] - n[..., INNER_LIP_PAIRS[:, 0]]).mean(axis=-1)  # type: ignore[no-any-return]


def mouth_opening(points: ArrayLike) -> F64:
    """Inner-lip opening of landmark frames in face widths (jaw chord length).

    Args:
        points: (T, 68, 2) or (68, 2) float64 pixels.

    Returns:
        (T,) float64: mean gap of the inner-lip pairs 61/67, 62/66, 63/65 over |P16 - P0|.
    """
    z = as_complex(as_points(points, "points"))
    _, _, width, _ = face_pose(z)
    out: F64 = opening_c(z) / np.where(width > 0, width, 1.0)
    return out


def neutral_shape(n: C128, *, quantile: float, min_frames: int) -> tuple[C128, NDArray[np.bool_]]:
    """Robust neutral expression of normalised faces (K, 68) (see :func:`neutral_reference`).

    Returns:
        shape: (68,) complex; used: (K,) bool, the frames it was taken from.
    """
    k = len(n)
    used = np.zeros(k, dtype=bool)
    if k < max(1, min_frames):
        used[0] = True
        return n[0].copy(), used
    if k > _NEUTRAL_SAMPLE:  # a strided sample is as good for a median, and bounds the cost
        step = -(-k // _NEUTRAL_SAMPLE)
        sub_shape, sub_used = neutral_shape(n[::step], quantile=quantile, min_frames=min_frames)
        used[::step] = sub_used
        return sub_shape, used
    gap = opening_c(n)
    used = gap <= np.quantile(gap, quantile)
    sel = n[used]
    shape = np.median(sel.real, axis=0) + 1j * np.median(sel.imag, axis=0)
    return shape, used


def geometric_median(z: C128, iterations: int = 50) -> complex:
    """Geometric median of complex points (Weiszfeld's iteration from the mean).

    Robust to outliers like a median and, unlike per-coordinate medians, equivariant
    under rotations of the plane.
    """
    m = complex(z.mean())
    for _ in range(iterations):
        w = 1.0 / np.maximum(np.abs(z - m), 1e-9 * (1.0 + abs(m)))
        m_new = complex((w * z).sum() / w.sum())
        if abs(m_new - m) <= 1e-12 * (1.0 + abs(m)):
            return m_new
        m = m_new
    return m


def median_pose(origin: C128, direction: C128, size: F64) -> tuple[complex, complex, float]:
    """Geometric-median origin, circular median direction and median log size."""
    o = geometric_median(origin)
    theta = np.angle(direction)
    t0 = float(theta[0])
    turn = t0 + float(np.median(wrap_angle(theta - t0)))
    s = float(np.exp(np.median(np.log(np.maximum(size, 1e-300)))))
    return o, complex(np.exp(1j * turn)), s


def neutral_reference(
    points: ArrayLike,
    visible: ArrayLike | None = None,
    *,
    quantile: float = 0.3,
    min_frames: int = 10,
) -> F64:
    """Estimate a driver's neutral face (pose and expression) from a shot, robustly.

    How: every visible frame is put in its own pose frame (jaw-chord origin and direction)
    and divided by its size (RMS radius of the expression-stable points), which removes
    head motion and zoom. The frames whose inner-lip opening is at or below the
    ``quantile`` of the shot are taken as "mouth at rest"; the per-point median of their
    normalised shapes is the neutral expression (a blink, a word or a one-frame detection
    glitch is outvoted). It is placed back in pixels at the median pose of those frames
    (geometric median origin, circular median angle, median log size), so the estimate
    moves with the shot under any similarity transform.
    Shots with fewer than ``min_frames`` visible frames are too short for statistics: the
    first visible frame is returned. Shots longer than 750 frames are sampled evenly (750
    frames) to bound the cost.

    Args:
        points: (T, 68, 2) float64 driving pixels (one shot).
        visible: (T, 68) bool, or ``None``; frames with no visible point are ignored.
        quantile: share of the most-closed-mouth frames the expression is taken from, (0, 1].
        min_frames: fewest visible frames for the robust estimate (>= 1).

    Returns:
        (68, 2) float64 driving pixels.

    Raises:
        LandmarkShapeError: wrong shapes.
        DegenerateLandmarksError: no visible frame.
        ValueError: bad ``quantile`` or ``min_frames``.
    """
    if not (0.0 < quantile <= 1.0):
        raise ValueError(f"`quantile` must be in (0, 1]; got {quantile!r}")
    if min_frames < 1:
        raise ValueError(f"`min_frames` must be >= 1; got {min_frames!r}")
    pts = as_points(points, "points")
    vis = as_visible(visible, len(pts))
    present = np.ones(len(pts), dtype=bool) if vis is None else vis.any(axis=1)
    if not present.any():
        raise DegenerateLandmarksError(
            "`visible` marks every frame absent: no neutral face to estimate"
        )
    z = as_complex(pts[present])
    origin, direction, _, size = face_pose(z)
    n = normalise(z, origin, direction, size)
    shape, used = neutral_shape(n, quantile=quantile, min_frames=min_frames)
    o, u, s = median_pose(origin[used], direction[used], size[used])
    return as_real(o + s * u * shape)


def shot_bounds(cuts: ArrayLike, num_frames: int) -> NDArray[np.intp]:
    """Validate shot cuts and return the shot boundaries ``[0, *cuts, T]``.

    Args:
        cuts: sorted frame indices where a new shot starts (0 is allowed and ignored).
        num_frames: T.

    Raises:
        ValueError: not integers, not strictly increasing, or outside [0, T).
    """
    arr = np.asarray(cuts if cuts is not None else (), dtype=np.float64).reshape(-1)
    if arr.size and (not np.all(np.isfinite(arr)) or not np.all(arr == np.round(arr))):
        raise ValueError(
            f"`cuts` must be frame indices (integers); got {list(np.asarray(cuts).tolist())}"
        )
    idx = arr.astype(np.intp)
    if idx.size and (idx.min() < 0 or idx.max() >= num_frames):
        raise ValueError(
            f"`cuts` must lie in [0, {num_frames}) (the driving frames); got {idx.tolist()}"
        )
    if idx.size > 1 and np.any(np.diff(idx) <= 0):
        raise ValueError(f"`cuts` must be strictly increasing; got {idx.tolist()}")
    idx = idx[idx > 0]
    return np.concatenate([[0], idx, [num_frames]]).astype(np.intp)
