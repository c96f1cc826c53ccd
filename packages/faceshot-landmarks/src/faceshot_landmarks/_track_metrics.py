"""Figures of landmark sequences against known ones (the non-human driving benchmark).

All lengths are in *face widths*: the distance between jaw points 0 and 16 of the reference
(known) shape of the same frame, so figures do not depend on resolution or character size.

* :func:`face_widths` -- (T,) the unit;
* :func:`mouth_opening`, :func:`eye_opening` -- mean inner-lip / eyelid pair distance
  (``INNER_LIP_PAIRS``, ``EYE_LID_PAIRS`` of :mod:`faceshot_retarget.ibug68`) over the face width;
* :func:`jitter` -- mean length of the second difference of every point, per face width;
* :func:`track_figures` -- all of them for a recovered sequence against the known one, with the
  error split by part (``PARTS`` of :mod:`faceshot_retarget.ibug68`) and into the first frame's
  error (what a tracker carries along from its start) and the rest.
"""

from __future__ import annotations

import numpy as np
from faceshot_retarget import as_points
from faceshot_retarget.ibug68 import EYE_LID_PAIRS, INNER_LIP_PAIRS, PARTS
from numpy.typing import ArrayLike, NDArray

from faceshot_landmarks._shape import similarity_fit
from faceshot_landmarks.errors import FeatureMapError

__all__ = ["eye_opening", "face_widths", "jitter", "mouth_opening", "track_figures"]


def face_widths(points: ArrayLike) -> NDArray[np.float64]:
    """(T,) float64 distance in pixels between jaw points 0 and 16 of each frame.

    Args:
        points: (T, 68, 2) or (68, 2) float pixel landmarks.
    """
    p = as_points(points, "points")
    return np.asarray(np.linalg.norm(p[:, 16] - p[:, 0], axis=-1), dtype=np.float64)


def _pair_opening(
    points: NDArray[np.float64], pairs: NDArray[np.intp], width: NDArray[np.float64]
) -> NDArray[np.float64]:
    gap = np.linalg.norm(points[:, pairs[:, 0]] - points[:, pairs[:, 1]], axis=-1).mean(axis=-1)
    return np.asarray(gap / np.maximum(width, 1e-9), dtype=np.float64)


def mouth_opening(points: ArrayLike, widths: ArrayLike | None = None) -> NDArray[np.float64]:
    """(T,) float64 mean distance of the inner-lip pairs 61/67, 62/66, 63/65, in face widths.

    Args:
        points: (T, 68, 2) or (68, 2) float pixel landmarks.
        widths: (T,) face widths in pixels to divide by (``None``: those of ``points``).
    """
    p = as_points(points, "points")
    w = face_widths(p) if widths is None else np.asarray(widths, dtype=np.float64).reshape(-1)
    return _pair_opening(p, np.asarray(INNER_LIP_PAIRS), w)


def eye_opening(points: ArrayLike, widths: ArrayLike | None = None) -> NDArray[np.float64]:
    """(T,) float64 mean distance of the eyelid pairs 37/41, 38/40, 43/47, 44/46, in face widths.

    Args:
        points: (T, 68, 2) or (68, 2) float pixel landmarks.
        widths: (T,) face widths in pixels to divide by (``None``: those of ``points``).
    """
    p = as_points(points, "points")
    w = face_widths(p) if widths is None else np.asarray(widths, dtype=np.float64).reshape(-1)
    return _pair_opening(p, np.asarray(EYE_LID_PAIRS), w)


def jitter(points: ArrayLike, widths: ArrayLike | None = None) -> float:
    """Mean over frames 1..T-2 and points of ``|p[t+1] - 2 p[t] + p[t-1]|``, in face widths.

    A still sequence scores 0; so does motion at constant velocity. Real motion contributes
    too, so compare sequences of the same motion.

    Args:
        points: (T, 68, 2) float pixel landmarks, T >= 3.
        widths: (T,) face widths in pixels (``None``: those of ``points``).

    Returns:
        float (NaN when T < 3).
    """
    p = as_points(points, "points")
    if len(p) < 3:
        return float("nan")
    w = face_widths(p) if widths is None else np.asarray(widths, dtype=np.float64).reshape(-1)
    second = np.linalg.norm(p[2:] - 2 * p[1:-1] + p[:-2], axis=-1).mean(axis=-1)
    return float(np.mean(second / np.maximum(w[1:-1], 1e-9)))


def _correlation(a: NDArray[np.float64], b: NDArray[np.float64]) -> float:
    if len(a) < 3 or np.std(a) < 1e-12 or np.std(b) < 1e-12:
        return float("nan")
    return float(np.corrcoef(a, b)[0, 1])


def _carried_offset(
    recovered: NDArray[np.float64], known: NDArray[np.float64]
) -> NDArray[np.float64]:
    """The known sequence plus the recovered frame-0 offset carried along by the known head
    motion: ``k_t + A_t (r_0 - k_0)`` with ``A_t`` the linear part (scale, rotation) of the
    similarity from ``k_0`` to ``k_t``. A tracker that followed the motion perfectly from a
    wrong start lands exactly there."""
    offset = recovered[0] - known[0]
    out = np.empty_like(known)
    for t in range(len(known)):
        scale, rot, _ = similarity_fit(known[0], known[t])
        out[t] = known[t] + scale * offset @ rot.T
    return out


def track_figures(recovered: ArrayLike, known: ArrayLike) -> dict[str, float]:
    """Figures of a recovered landmark sequence against the known one, in face widths.

    Args:
        recovered: (T, 68, 2) float pixel landmarks.
        known: (T, 68, 2) float pixel landmarks of the same frames (the truth).

    Returns:
        ``{"error", "error_max", "error_first", "error_<part>", "motion_error", "mouth_corr",
        "eye_corr", "jitter", "jitter_known", "mouth_range", "mouth_range_known"}``: mean and
        largest per-frame mean point error, frame 0's, and the mean error of each part's
        points (``<part>`` a key of ``faceshot_retarget.ibug68.PARTS``: face_boundary,
        eyebrows, nose, eyes, mouth); the motion error, the mean distance from the known points plus the
        recovered frame-0 offset carried along by the known head motion (how well the motion
        is recovered, whatever the first frame's error); Pearson correlations
        of mouth and eye opening (NaN when either is constant); jitter of both; the range
        (max - min) of the mouth opening of both (shows that motion is still there).

    Raises:
        FeatureMapError: the shapes differ.
    """
    r = as_points(recovered, "recovered")
    k = as_points(known, "known")
    if r.shape != k.shape:
        raise FeatureMapError(
            f"`recovered` and `known` must have the same shape; got {r.shape} and {k.shape}"
        )
    w = face_widths(k)
    per_point = np.linalg.norm(r - k, axis=-1) / np.maximum(w, 1e-9)[:, None]
    per_frame = per_point.mean(axis=-1)
    motion = np.linalg.norm(r - _carried_offset(r, k), axis=-1).mean(axis=-1) / np.maximum(w, 1e-9)
    # openings of each sequence in its own face widths (a frozen sequence stays constant)
    mr, mk = mouth_opening(r), mouth_opening(k)
    return {
        "error": float(per_frame.mean()),
        "error_max": float(per_frame.max()),
        "error_first": float(per_frame[0]),
        **{f"error_{name}": float(per_point[:, part].mean()) for name, part in PARTS.items()},
        "motion_error": float(motion.mean()),
        "mouth_corr": _correlation(mk, mr),
        "eye_corr": _correlation(eye_opening(k), eye_opening(r)),
        "jitter": jitter(r, w),
        "jitter_known": jitter(k, w),
        "mouth_range": float(np.ptp(mr)),
        "mouth_range_known": float(np.ptp(mk)),
    }
