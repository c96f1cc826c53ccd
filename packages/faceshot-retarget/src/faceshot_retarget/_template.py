"""A canonical frontal 68-point face, built from simple geometry (no data set involved)."""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

__all__ = ["TEMPLATE_68", "template_face"]


def _build() -> NDArray[np.float64]:
    phi = np.pi - np.arange(17) * np.pi / 16.0
    jaw = np.stack([0.5 * np.cos(phi), -0.05 + 0.6 * np.sin(phi)], axis=1)
    bx = np.linspace(-0.40, -0.08, 5)
    right_brow = np.stack([bx, -0.30 - 0.06 * np.sin(np.linspace(0.2, np.pi - 0.6, 5))], axis=1)
    left_brow = right_brow[::-1] * np.array([-1.0, 1.0])
    bridge = np.stack([np.zeros(4), np.linspace(-0.20, 0.08, 4)], axis=1)
    base = np.array([[-0.10, 0.15], [-0.05, 0.165], [0.0, 0.17], [0.05, 0.165], [0.10, 0.15]])
    right_eye = np.array(
        [
            [-0.32, -0.17],
            [-0.255, -0.21],
            [-0.185, -0.21],
            [-0.12, -0.17],
            [-0.185, -0.13],
            [-0.255, -0.13],
        ]
    )
    # Left eye: mirror, starting at the inner corner (42) going over the upper lid to the outer (45).
    left_eye = right_eye[[3, 2, 1, 0, 5, 4]] * np.array([-1.0, 1.0])
    outer = np.array(
        [
            [-0.20, 0.32],
            [-0.13, 0.28],
            [-0.05, 0.26],
            [0.0, 0.27],
            [0.05, 0.26],
            [0.13, 0.28],
            [0.20, 0.32],
            [0.13, 0.38],
            [0.06, 0.41],
            [0.0, 0.42],
            [-0.06, 0.41],
            [-0.13, 0.38],
        ]
    )
    inner = np.array(
        [
            [-0.17, 0.32],
            [-0.06, 0.31],
            [0.0, 0.31],
            [0.06, 0.31],
            [0.17, 0.32],
            [0.06, 0.33],
            [0.0, 0.33],
            [-0.06, 0.33],
        ]
    )
    face = np.concatenate(
        [jaw, right_brow, left_brow, bridge, base, right_eye, left_eye, outer, inner]
    )
    face.setflags(write=False)
    return face


#: (68, 2) float64: a canonical frontal face, jaw chord of length 1 centred near the origin, +y down.
TEMPLATE_68 = _build()


def template_face(
    width: float = 1.0, center: tuple[float, float] = (0.0, 0.0)
) -> NDArray[np.float64]:
    """The canonical face scaled to a jaw-chord ``width`` (pixels) and shifted to ``center``.

    Returns:
        (68, 2) float64 pixel (x, y), a new writable array.
    """
    return TEMPLATE_68 * float(width) + np.asarray(center, dtype=np.float64)
