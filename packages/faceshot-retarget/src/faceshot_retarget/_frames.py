"""Chord frames: the local coordinate systems of FaceShot's relative motion transfer.

For an ordered chain of points P_1..P_n, its frame has origin c = (P_1 + P_n) / 2 and
angle theta = atan2 of the chord P_1 -> P_n. Local coordinates are L(p) = Rot(-theta)(p - c).
All functions broadcast over leading (frame) dimensions and never loop in Python.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

__all__ = [
    "chord_frames",
    "rotate",
    "wrap_angle",
]

F64 = NDArray[np.float64]


def wrap_angle(angle: F64 | float) -> F64:
    """Wrap angles (radians) into [-pi, pi)."""
    a = np.asarray(angle, dtype=np.float64)
    return np.mod(a + np.pi, 2.0 * np.pi) - np.pi


def rotate(vectors: F64, angle: F64 | float) -> F64:
    """Rotate 2-D vectors counter-clockwise (in x-right, y-down pixels: clockwise on screen).

    Args:
        vectors: (..., 2) float64.
        angle: radians, broadcastable to ``vectors.shape[:-1]``.

    Returns:
        (..., 2) float64, Rot(angle) @ v.
    """
    a = np.asarray(angle, dtype=np.float64)
    c, s = np.cos(a), np.sin(a)
    x, y = vectors[..., 0], vectors[..., 1]
    return np.stack([c * x - s * y, s * x + c * y], axis=-1)


def chord_frames(points: F64, first: NDArray[np.intp], last: NDArray[np.intp]) -> tuple[F64, F64]:
    """Origins and angles of chord frames.

    Args:
        points: (..., N, 2) float64 pixel (x, y).
        first: (K,) index of each chain's first point.
        last: (K,) index of each chain's last point.

    Returns:
        origin: (..., K, 2) float64, chord midpoints (P_first + P_last) / 2.
        angle: (..., K) float64 radians, atan2 of P_first -> P_last (0 for a zero-length chord).
    """
    p0 = points[..., first, :]
    p1 = points[..., last, :]
    d = p1 - p0
    return 0.5 * (p0 + p1), np.arctan2(d[..., 1], d[..., 0])
