"""The animator protocol shared by every renderer (CPU warp, GPU MOFA-style)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Protocol, runtime_checkable

import numpy as np
from numpy.typing import NDArray

__all__ = ["Animator"]


@runtime_checkable
class Animator(Protocol):
    """Turns a character image and its landmark sequence into video frames.

    ``animate(image, landmarks, *, fps)``:
        image: (H, W), (H, W, 3) or (H, W, 4) array, uint8 / uint16 / float in [0, 1];
            the character, whose landmarks are ``landmarks[0]``.
        landmarks: (T, 68, 2) float64 pixel (x, y) in ``image``'s pixels, iBUG order;
            frame 0 is the character's own landmarks (what ``faceshot_retarget.retarget``
            returns).
        fps: frames per second of the output (some animators use it for motion scale).

    Yields T frames, one at a time (streaming: never all in memory), each (H, W, C) uint8
    with C = 3, or 4 when the input has alpha; frame 0 reproduces the input image.
    """

    def animate(
        self, image: NDArray[np.generic], landmarks: NDArray[np.float64], *, fps: float = 25.0
    ) -> Iterator[NDArray[np.uint8]]: ...
