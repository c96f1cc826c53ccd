"""Temporal windows for videos longer than SVD's 25 frames (FaceShot's sliding scheme).

Every window is the anchor frame 0 followed by ``window - 1`` consecutive frames: window
``i`` holds frames ``[0] + [1 + i*stride, i*stride + window)``, and a last window is aligned
to the end of the video, ``[0] + [T - window + 1, T)``. Frame 0 is the character image, the
reference every landmark flow is measured from, so each window sees it first, as the
ControlNet was trained. At every denoising step the model outputs of overlapping windows
are averaged per frame; frame 0 is taken from the first window only.

With ``window = 25, stride = 12`` (the official values) and T = 125, the windows start at
frames 1, 13, ..., 97 and a last one at 101; every frame 1..124 is covered by one or two
windows.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from faceshot_animate.mofa.errors import MofaConfigError

__all__ = ["Window", "plan_windows", "window_weights"]


@dataclass(frozen=True)
class Window:
    """One temporal window: the anchor frame 0 plus frames ``start .. stop - 1``.

    Attributes:
        start: first non-anchor frame (>= 1).
        stop: one past the last frame (``stop >= start``; ``stop == start`` only when the
            video is the single frame 0).
    """

    start: int
    stop: int

    @property
    def frames(self) -> NDArray[np.intp]:
        """(stop - start + 1,) intp: the frame indices of the window, anchor 0 first."""
        return np.concatenate([[0], np.arange(self.start, self.stop)]).astype(np.intp)

    def __len__(self) -> int:
        return self.stop - self.start + 1


def plan_windows(num_frames: int, window: int = 25, stride: int = 12) -> tuple[Window, ...]:
    """Windows covering a video of ``num_frames`` frames.

    Args:
        num_frames: T >= 1, number of output frames (frame 0 is the character image).
        window: frames per window including the anchor frame 0 (>= 2); SVD-XT uses 25.
        stride: shift between consecutive windows, ``1 <= stride <= window - 1`` so that
            consecutive windows overlap or touch and no frame is skipped.

    Returns:
        Windows in temporal order, without duplicates. ``T <= window`` gives one window
        holding every frame; otherwise every window has exactly ``window`` frames and the
        last one ends at frame ``T - 1``.

    Raises:
        MofaConfigError: invalid ``num_frames``, ``window`` or ``stride``.
    """
    if int(num_frames) != num_frames or num_frames < 1:
        raise MofaConfigError(f"`num_frames` must be an integer >= 1; got {num_frames!r}")
    if int(window) != window or window < 2:
        raise MofaConfigError(f"`window` must be an integer >= 2; got {window!r}")
    if int(stride) != stride or not 1 <= stride <= window - 1:
        raise MofaConfigError(
            f"`stride` must be an integer in [1, window - 1] = [1, {window - 1}]; got {stride!r}"
        )
    t, w, s = int(num_frames), int(window), int(stride)
    if t <= w:
        return (Window(1, t),)
    count = (t - w) // s + 1
    wins = [Window(1 + i * s, i * s + w) for i in range(count)]
    last = Window(t - w + 1, t)
    if wins[-1] != last:
        wins.append(last)
    return tuple(wins)


def window_weights(num_frames: int, windows: tuple[Window, ...]) -> NDArray[np.float64]:
    """Per-window averaging weights: how much each window's output counts for each frame.

    Args:
        num_frames: T, the video length the windows were planned for.
        windows: from :func:`plan_windows`.

    Returns:
        (len(windows), T) float64. ``weights[k, f] = 1 / n_f`` when window k contains frame f
        (``n_f`` = number of windows containing f), else 0; frame 0 counts in the first
        window only. Every column sums to 1.

    Raises:
        MofaConfigError: a window reaches past ``num_frames`` or a frame is not covered.
    """
    member = np.zeros((len(windows), num_frames), dtype=np.float64)
    for k, win in enumerate(windows):
        if win.start < 1 or win.stop > num_frames or win.stop < win.start:
            raise MofaConfigError(
                f"window {k} = frames [{win.start}, {win.stop}) does not fit T = {num_frames}"
            )
        member[k, win.start : win.stop] = 1.0
    if len(windows):
        member[0, 0] = 1.0
    counts = member.sum(axis=0)
    if (counts == 0).any():
        missing = np.flatnonzero(counts == 0)[:10].tolist()
        raise MofaConfigError(f"frames {missing} are covered by no window")
    return np.asarray(member / counts, dtype=np.float64)
