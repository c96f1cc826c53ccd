"""expression_error and track_grid (FaceShot §4.1 with LK), on synthetic textured frames."""

from __future__ import annotations

import cv2
import numpy as np
from faceshot_retarget import template_face

import faceshot_landmarks as fl


def _frames(shifts: list[float], mouth_open: list[float]) -> tuple[list[np.ndarray], np.ndarray]:
    """Textured 160x160 frames with a face whose mouth opens by ``mouth_open`` pixels, the whole
    image shifted right by ``shifts`` pixels; and the (68, 2) frame-0 landmarks."""
    rng = np.random.default_rng(0)
    base = cv2.GaussianBlur((rng.random((160, 160, 3)) * 255).astype(np.uint8), (0, 0), 1.5)
    lm = template_face(90.0, (80.0, 78.0))
    frames = []
    for dx, gap in zip(shifts, mouth_open, strict=True):
        img = base.copy()
        inner = lm[60:68].copy()
        inner[5:8, 1] += gap  # lower inner lip down
        cv2.fillPoly(img, [np.round(lm[48:60]).astype(np.int32)], (200, 40, 50))
        cv2.fillPoly(img, [np.round(inner).astype(np.int32)], (20, 10, 10))
        m = np.float32([[1, 0, dx], [0, 1, 0]])
        frames.append(cv2.warpAffine(img, m, (160, 160), borderMode=cv2.BORDER_REFLECT))
    return frames, lm


def test_track_grid_follows_a_shift() -> None:
    frames, _ = _frames([0.0, 2.0, 4.0], [0.0, 0.0, 0.0])
    pts, ok = fl.track_grid(frames, np.array([40.0, 40.0, 120.0, 120.0]), n=4)
    assert pts.shape == (16, 3, 2) and ok.dtype == bool and ok.any()
    np.testing.assert_allclose(pts[ok, 2] - pts[ok, 0], [[4.0, 0.0]] * int(ok.sum()), atol=0.3)


def test_expression_error_zero_for_same_video_larger_for_a_still() -> None:
    frames, lm = _frames([0.0, 1.0, 2.0, 3.0, 4.0], [0.0, 2.0, 4.0, 6.0, 8.0])
    assert fl.expression_error(frames, lm, frames, lm) < 1e-12
    assert fl.expression_error(frames, lm, [frames[0]] * len(frames), lm) > 1e-5
