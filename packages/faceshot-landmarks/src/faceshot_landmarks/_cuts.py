"""Shot cuts from the frames: block colour histograms and an adaptive threshold.

A frame's *signature* is a grid of joint colour histograms of a small copy of the frame
(:func:`frame_signature`). The distance between consecutive frames
(:func:`signature_distance`) is the mean over blocks of the total-variation distance of their
histograms, in [0, 1]: 0 for identical frames, 1 when no block shares a colour bin. A block
grid, not one global histogram, so a mirrored or shifted copy of the same shot still counts
as a change.

A frame ``t`` is a cut *candidate* when its distance to frame ``t - 1`` exceeds the adaptive
threshold of :func:`adaptive_threshold`: the median of the previous ``window`` non-candidate
distances plus ``sensitivity`` robust standard deviations (1.4826 MAD), and at least
``threshold``. A steady shot has small, regular distances, so a small jump stands out; a
handheld or panning shot raises its own threshold. The caller (the driving detector) then
confirms a candidate by a landmark discontinuity (faces appearing, vanishing, jumping or
changing shape between ``t - 1`` and ``t``) unless the distance alone is above ``strong``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import attrs
import numpy as np
from numpy.typing import ArrayLike, NDArray

__all__ = [
    "CutConfig",
    "adaptive_threshold",
    "cut_candidates",
    "frame_signature",
    "signature_distance",
]


def _in_unit(instance: Any, attribute: Any, value: Any) -> None:
    if not 0.0 <= value <= 1.0:
        raise ValueError(f"`{attribute.name}` must be in [0, 1]; got {value!r}")


def _at_least(low: float) -> Any:
    def check(instance: Any, attribute: Any, value: Any) -> None:
        if not value >= low:
            raise ValueError(f"`{attribute.name}` must be >= {low}; got {value!r}")

    return check


@attrs.frozen
class CutConfig:
    """Settings of the shot-cut detector.

    Attributes:
        grid: blocks per side of the histogram grid (4: 16 blocks). More blocks react to
            smaller moving objects; 4 sees a mirrored, zoomed or re-framed shot as new.
        bins: histogram bins per colour channel (4: 64 joint RGB bins per block); coarse bins
            ignore noise, compression and small lighting changes.
        side: the frame is downscaled so its longer side is this many pixels before the
            histograms (64: about 0.1 ms per frame; fine detail does not matter here).
        window: previous frames (non-candidates) whose distances set the adaptive threshold
            (30: one second at 30 fps).
        sensitivity: a candidate's distance exceeds the window median by this many robust
            standard deviations (6: far above ordinary frame-to-frame change).
        threshold: a candidate's distance is at least this (0.15 of the histogram mass moved;
            carphone's own frame-to-frame distances stay below 0.1).
        strong: distances above this are cuts without landmark confirmation (0.5: half the
            colour mass of every block changed).
        min_shot: shortest shot in frames; a candidate closer than this to the previous cut
            is ignored (2: a one-frame flash does not make two cuts).
    """

    grid: int = attrs.field(default=4, validator=_at_least(1))
    bins: int = attrs.field(default=4, validator=_at_least(2))
    side: int = attrs.field(default=64, validator=_at_least(8))
    window: int = attrs.field(default=30, validator=_at_least(1))
    sensitivity: float = attrs.field(default=6.0, validator=_at_least(0.0))
    threshold: float = attrs.field(default=0.15, validator=_in_unit)
    strong: float = attrs.field(default=0.5, validator=_in_unit)
    min_shot: int = attrs.field(default=2, validator=_at_least(1))


def frame_signature(
    image: NDArray[np.uint8], config: CutConfig = CutConfig()
) -> NDArray[np.float32]:
    """Block colour histograms of a frame.

    Args:
        image: (H, W, 3) uint8 RGB (or (H, W) grey, treated as R = G = B).
        config: ``grid``, ``bins`` and ``side`` are used.

    Returns:
        (grid * grid, bins ** 3) float32; each row sums to 1 (the block's pixel share per
        joint colour bin).
    """
    import cv2

    img = np.asarray(image)
    if img.ndim == 2:
        img = np.repeat(img[:, :, None], 3, axis=2)
    h, w = img.shape[:2]
    scale = config.side / max(h, w)
    sw, sh = max(config.grid, round(w * scale)), max(config.grid, round(h * scale))
    small = cv2.resize(np.ascontiguousarray(img[:, :, :3]), (sw, sh), interpolation=cv2.INTER_AREA)
    q = (small.astype(np.int64) * config.bins) >> 8  # (sh, sw, 3) in [0, bins)
    colour = (q[:, :, 0] * config.bins + q[:, :, 1]) * config.bins + q[:, :, 2]
    by = np.arange(sh) * config.grid // sh
    bx = np.arange(sw) * config.grid // sw
    block = by[:, None] * config.grid + bx[None, :]
    nb = config.bins**3
    hist = np.bincount((block * nb + colour).ravel(), minlength=config.grid**2 * nb).reshape(
        config.grid**2, nb
    )
    out = hist / np.maximum(hist.sum(axis=1, keepdims=True), 1)
    return np.asarray(out, dtype=np.float32)


def signature_distance(a: ArrayLike, b: ArrayLike) -> float:
    """Mean over blocks of the total-variation distance of two signatures, in [0, 1].

    Args:
        a: (blocks, bins) float signature of one frame (:func:`frame_signature`).
        b: (blocks, bins) float signature of another frame, same shape.
    """
    x, y = np.asarray(a, np.float64), np.asarray(b, np.float64)
    if x.shape != y.shape:
        raise ValueError(f"signatures must have the same shape; got {x.shape} and {y.shape}")
    return float(0.5 * np.abs(x - y).sum(axis=-1).mean())


def adaptive_threshold(
    history: Sequence[float] | NDArray[np.float64], config: CutConfig = CutConfig()
) -> float:
    """The distance a frame must exceed to be a cut candidate, given recent distances.

    Args:
        history: the previous non-candidate frame distances (the last ``config.window`` are
            used; may be empty).
        config: ``window``, ``sensitivity`` and ``threshold`` are used.

    Returns:
        ``max(threshold, median + sensitivity * 1.4826 * MAD)`` over the window (just
        ``threshold`` when the history is empty).
    """
    h = np.asarray(history, np.float64)[-config.window :]
    if h.size == 0:
        return float(config.threshold)
    med = float(np.median(h))
    mad = float(np.median(np.abs(h - med)))
    return max(float(config.threshold), med + config.sensitivity * 1.4826 * mad)


def cut_candidates(distances: ArrayLike, config: CutConfig = CutConfig()) -> NDArray[np.bool_]:
    """Cut candidates of a whole distance sequence (causal: each frame sees only the past).

    Args:
        distances: (T,) float; ``distances[t]`` is the distance between frames ``t - 1`` and
            ``t`` (``distances[0]`` is ignored).
        config: the detector settings.

    Returns:
        (T,) bool, True where frame ``t`` starts a new shot by the histogram test alone
        (frame 0 never does). This is the same rule the driving detector applies online,
        before landmark confirmation.
    """
    d = np.asarray(distances, np.float64).reshape(-1)
    out = np.zeros(d.shape, bool)
    history: list[float] = []
    last = 0
    for t in range(1, len(d)):
        if d[t] > adaptive_threshold(history, config) and t - last >= config.min_shot:
            out[t] = True
            last = t
        else:
            history.append(float(d[t]))
    return out
