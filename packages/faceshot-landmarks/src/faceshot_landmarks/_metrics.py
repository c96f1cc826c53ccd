"""Landmark error metrics."""

from __future__ import annotations

import numpy as np
from faceshot_retarget import as_points
from faceshot_retarget.ibug68 import IOD_POINTS
from numpy.typing import ArrayLike, NDArray

from faceshot_landmarks.errors import FeatureMapError

__all__ = ["nme", "point_errors"]


def point_errors(pred: ArrayLike, gt: ArrayLike) -> NDArray[np.float64]:
    """IOD-normalised per-point errors.

    Args:
        pred: (T, 68, 2) or (68, 2) float pixel predictions.
        gt: same shape, ground truth in the same pixels.

    Returns:
        (T, 68) float64 Euclidean error / distance between ground-truth points 36 and 45.

    Raises:
        LandmarkShapeError: bad shapes; FeatureMapError (a ValueError): shapes differ or the
            ground-truth inter-ocular distance is zero.
    """
    p = as_points(pred, "pred")
    g = as_points(gt, "gt")
    if p.shape != g.shape:
        raise FeatureMapError(
            f"`pred` and `gt` must have the same shape; got {p.shape} and {g.shape}"
        )
    iod = np.linalg.norm(g[:, IOD_POINTS[0]] - g[:, IOD_POINTS[1]], axis=-1)
    if np.any(iod <= 0):
        raise FeatureMapError("`gt` has zero inter-ocular distance (points 36 and 45 coincide)")
    return np.asarray(np.linalg.norm(p - g, axis=-1) / iod[:, None], dtype=np.float64)


def nme(pred: ArrayLike, gt: ArrayLike) -> float:
    """Mean IOD-normalised point error (outer eye corners 36 and 45), averaged over frames.

    Args:
        pred: (T, 68, 2) or (68, 2) float pixel predictions.
        gt: same shape, ground truth.

    Returns:
        float, e.g. ~0.04 for dlib on frontal faces.
    """
    return float(point_errors(pred, gt).mean())
