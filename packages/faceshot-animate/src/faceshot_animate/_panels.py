"""Side-by-side composition of video panels (driving | landmarks | result)."""

from __future__ import annotations

from collections.abc import Sequence

import cv2
import numpy as np
from numpy.typing import ArrayLike, NDArray

from faceshot_animate._image import composite_over
from faceshot_animate._pose import render_pose_image
from faceshot_animate.errors import AnimateInputError

__all__ = ["preview_frame", "side_by_side"]


def side_by_side(
    panels: Sequence[NDArray[np.uint8]],
    height: int | None = None,
    *,
    background: tuple[int, int, int] = (255, 255, 255),
) -> NDArray[np.uint8]:
    """Scale panels to one height (keeping aspect ratios) and concatenate them left to right.

    Args:
        panels: (H_i, W_i, 3|4) uint8 images (RGBA is composited over ``background``),
            or (H_i, W_i) grey.
        height: common height in pixels; default the first panel's height.
        background: RGB colour behind transparent pixels.

    Returns:
        (height, sum of scaled widths, 3) uint8 RGB.
    """
    if not panels:
        raise AnimateInputError("`panels` must hold at least one image; got none")
    target = int(height) if height is not None else int(panels[0].shape[0])
    if target < 1:
        raise AnimateInputError(f"`height` must be positive; got {height!r}")
    out = []
    for i, panel in enumerate(panels):
        arr = np.asarray(panel)
        if arr.dtype != np.uint8 or arr.ndim not in (2, 3):
            raise AnimateInputError(
                f"`panels[{i}]` must be a uint8 (H, W[, C]) image; got {arr.shape} {arr.dtype}"
            )
        if arr.ndim == 2:
            arr = np.repeat(arr[:, :, None], 3, axis=2)
        arr = composite_over(arr, background)
        h, w = arr.shape[:2]
        if h != target:
            new_w = max(1, round(w * target / h))
            interp = cv2.INTER_AREA if target < h else cv2.INTER_LINEAR
            arr = np.asarray(cv2.resize(arr, (new_w, target), interpolation=interp), np.uint8)
        out.append(arr)
    return np.ascontiguousarray(np.concatenate(out, axis=1))


def preview_frame(
    result: NDArray[np.uint8],
    landmarks: ArrayLike,
    driving: NDArray[np.uint8] | None = None,
) -> NDArray[np.uint8]:
    """One frame of the preview video: driving | landmarks | result, at the result's height.

    The landmark panel is :func:`~faceshot_animate.render_pose_image` of ``landmarks`` on a
    canvas of the result's size, lines ``max(1, round(H / 256))`` pixels thick.

    Args:
        result: (H, W, 3|4) uint8 rendered frame.
        landmarks: (68, 2) float64 pixel (x, y) of this frame, in ``result`` pixels.
        driving: (H', W', 3) uint8 driving frame, or ``None`` (that panel is left out, e.g.
            before the driving video's first frame or after its last).

    Returns:
        (H, W_total, 3) uint8 RGB.
    """
    h, w = result.shape[:2]
    pose = render_pose_image(landmarks, (w, h), thickness=max(1, round(h / 256)))
    return side_by_side([p for p in (driving, pose, result) if p is not None], height=h)
