"""MOFA-Video's landmark conditions: part polylines and the sparse landmark flow.

Two inputs of the landmark ControlNet are computed from the landmark sequence alone:

- **Landmark images** (:func:`render_landmark_images`): the 68 points drawn as 15 coloured
  open polylines (jaw, eyes, brows, nose bridge/base, and the lips split into eight
  half-chains), 2 px thick on a black 320 x 320 canvas, then resized to the working size.
  The canvas size keeps line widths as in training (MOFA-Video trained at 320 x 320).
- **Sparse flow** (:func:`sparse_landmark_flow`): for every frame t >= 1 a (2, S, S) map
  holding the displacement ``L_t - L_0`` (dx, dy) at the pixel of each first-frame landmark,
  plus a {0, 1} mask of those pixels; CMP densifies it (:mod:`faceshot_animate.mofa._cmp`).

Part table, colours and canvas size are MOFA-Video-Hybrid's (``PARTS`` in its
``run_gradio_video_driven.py``, identical in FaceShot's ``utils/utils.py``); indices here are
0-based iBUG. Upstream resizes the canvas with OpenCV's default bilinear filter (its
``cv2.resize(img, size, cv2.INTER_NEAREST)`` passes the flag as ``dst``), so we do too.
"""

from __future__ import annotations

from types import MappingProxyType
from typing import Final

import cv2
import numpy as np
from numpy.typing import NDArray

__all__ = ["CANVAS_SIZE", "LANDMARK_PARTS", "render_landmark_images", "sparse_landmark_flow"]

#: Side of the square canvas polylines are drawn on before resizing (training resolution).
CANVAS_SIZE: Final = 320

#: name -> (0-based iBUG indices of the open polyline, colour as (ch0, ch1, ch2) in 0..255).
LANDMARK_PARTS: Final = MappingProxyType(
    {
        "face": (tuple(range(0, 17)), (10, 200, 10)),
        "left_eye": ((42, 43, 44, 45, 46, 47, 42), (180, 200, 10)),
        "left_eyebrow": ((22, 23, 24, 25, 26), (180, 220, 10)),
        "right_eye": ((36, 37, 38, 39, 40, 41, 36), (10, 200, 180)),
        "right_eyebrow": ((17, 18, 19, 20, 21), (10, 220, 180)),
        "nose_up": ((27, 28, 29, 30), (10, 200, 250)),
        "nose_down": ((31, 32, 33, 34, 35), (250, 200, 10)),
        "lips_outer_bottom_left": ((54, 55, 56, 57), (10, 180, 20)),
        "lips_outer_bottom_right": ((48, 59, 58, 57), (20, 10, 180)),
        "lips_inner_bottom_left": ((64, 65, 66), (100, 100, 30)),
        "lips_inner_bottom_right": ((60, 67, 66), (100, 150, 50)),
        "lips_outer_top_left": ((51, 52, 53, 54), (20, 80, 100)),
        "lips_outer_top_right": ((51, 50, 49, 48), (80, 100, 20)),
        "lips_inner_top_left": ((62, 63, 64), (120, 100, 200)),
        "lips_inner_top_right": ((62, 61, 60), (150, 120, 100)),
    }
)


def render_landmark_images(
    landmarks: NDArray[np.float64],
    height: int,
    width: int,
    *,
    canvas: int = CANVAS_SIZE,
    thickness: int = 2,
) -> NDArray[np.float32]:
    """Draw each frame's landmarks as coloured part polylines.

    Args:
        landmarks: (T, 68, 2) float64, pixel (x, y) in a ``height`` x ``width`` image.
        height: H, output rows (pixels).
        width: W, output columns (pixels).
        canvas: side of the square drawing canvas (pixels); lines are ``thickness`` px there.
        thickness: line width on the canvas (pixels).

    Returns:
        (T, 3, H, W) float32 in [0, 1], channel c = colour component c of the part.

    Convention:
        Points are mapped to the canvas by ``x * canvas / W``, ``y * canvas / H`` and
        truncated toward zero, as upstream; points outside the canvas are clipped by OpenCV.
    """
    pts = np.asarray(landmarks, dtype=np.float64)
    scale = np.array([canvas / width, canvas / height])
    on_canvas = np.trunc(pts * scale).astype(np.int32)
    out = np.empty((pts.shape[0], 3, height, width), dtype=np.float32)
    board = np.zeros((canvas, canvas, 3), dtype=np.uint8)
    for t in range(pts.shape[0]):
        board[:] = 0
        for idx, colour in LANDMARK_PARTS.values():
            line = on_canvas[t, list(idx)].reshape(-1, 1, 2)
            cv2.polylines(board, [line], isClosed=False, color=colour, thickness=thickness)
        resized = cv2.resize(board, (width, height), interpolation=cv2.INTER_LINEAR)
        out[t] = resized.transpose(2, 0, 1).astype(np.float32) * (1.0 / 255.0)
    return out


def sparse_landmark_flow(
    landmarks: NDArray[np.float64], height: int, width: int, size: int
) -> tuple[NDArray[np.float32], NDArray[np.float32]]:
    """Sparse landmark flow from frame 0 to every later frame, on a ``size`` x ``size`` grid.

    Args:
        landmarks: (T, 68, 2) float64, pixel (x, y) in a ``height`` x ``width`` image.
        height: H of the landmarks' image (pixels).
        width: W of the landmarks' image (pixels).
        size: side S of the square grid the flow is expressed on (CMP's input, 384 upstream).

    Returns:
        ``(flow, mask)``: flow (T - 1, 2, S, S) float32, displacement (dx, dy) in grid pixels
        written at the grid pixel of each frame-0 landmark, 0 elsewhere; mask
        (T - 1, 2, S, S) float32, 1 at those pixels (both channels), 0 elsewhere.

    Convention:
        Landmarks are rescaled by S/W (x) and S/H (y); a landmark's pixel is
        (row, col) = (trunc(y), trunc(x)) clipped to the grid, as upstream. When two
        landmarks share a pixel the later index wins.
    """
    pts = np.asarray(landmarks, dtype=np.float64) * np.array([size / width, size / height])
    t = pts.shape[0]
    flow = np.zeros((max(t - 1, 0), 2, size, size), dtype=np.float32)
    mask = np.zeros_like(flow)
    if t <= 1:
        return flow, mask
    disp = (pts[1:] - pts[:1]).astype(np.float32)  # (T-1, 68, 2)
    cols = np.clip(np.trunc(pts[0, :, 0]).astype(np.intp), 0, size - 1)
    rows = np.clip(np.trunc(pts[0, :, 1]).astype(np.intp), 0, size - 1)
    flow[:, 0, rows, cols] = disp[:, :, 0]
    flow[:, 1, rows, cols] = disp[:, :, 1]
    mask[:, :, rows, cols] = 1.0
    return flow, mask
