"""One pyramidal Lucas-Kanade step with a forward-backward check: the tracker of every
point tracker in this package (:func:`~faceshot_landmarks.track_points`,
:func:`~faceshot_landmarks.track_grid`).

Convention: points are (N, 2) pixel ``(x, y)``, origin at the top-left pixel centre; frames
are (H, W) uint8 grey.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray

__all__ = ["lk_forward_backward", "lk_params"]


def lk_params(window: int, levels: int) -> dict[str, object]:
    """OpenCV ``calcOpticalFlowPyrLK`` keyword arguments: a ``window`` x ``window`` pixel
    search window, ``levels`` pyramid levels above the full image, and at most 30 iterations
    or a 0.01 px update per level."""
    import cv2

    return {
        "winSize": (window, window),
        "maxLevel": levels,
        "criteria": (cv2.TERM_CRITERIA_EPS | cv2.TERM_CRITERIA_COUNT, 30, 0.01),
    }


def lk_forward_backward(
    prev: NDArray[np.uint8], nxt: NDArray[np.uint8], points: ArrayLike, params: dict[str, object]
) -> tuple[NDArray[np.float32], NDArray[np.bool_], NDArray[np.float32]]:
    """Track ``points`` from ``prev`` to ``nxt`` and back.

    Args:
        prev, nxt: (H, W) uint8 grey frames.
        points: (N, 2) pixel (x, y) in ``prev`` (cast to float32, as OpenCV tracks).
        params: from :func:`lk_params`.

    Returns:
        ``(moved, found, fb_error)``: (N, 2) float32 positions in ``nxt``; (N,) bool, True
        where both the forward and the backward step found the point; (N,) float32 distance
        in pixels between ``points`` and the backward-tracked position (the
        forward-backward error).
    """
    import cv2

    src = np.asarray(points, dtype=np.float32).reshape(-1, 1, 2)
    fwd, st1, _ = cv2.calcOpticalFlowPyrLK(prev, nxt, src, None, **params)  # type: ignore[call-overload]
    bwd, st2, _ = cv2.calcOpticalFlowPyrLK(nxt, prev, fwd, None, **params)  # type: ignore[call-overload]
    err = np.linalg.norm((bwd - src).reshape(-1, 2), axis=1)
    found = (st1.reshape(-1) == 1) & (st2.reshape(-1) == 1)
    return fwd.reshape(-1, 2), found, err
