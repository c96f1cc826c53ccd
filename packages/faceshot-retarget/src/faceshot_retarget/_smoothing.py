"""One-Euro temporal filter (Casiez, Roussel & Vogel, CHI 2012) for landmark sequences."""

from __future__ import annotations

from typing import Final

import attrs
import numpy as np
from numpy.typing import NDArray

__all__ = ["RETARGET_SMOOTHING", "OneEuroConfig", "one_euro_filter"]


def _positive(instance: object, attribute: attrs.Attribute[float], value: float) -> None:
    if not (np.isfinite(value) and value > 0):
        raise ValueError(f"`{attribute.name}` must be a positive number; got {value!r}")


def _non_negative(instance: object, attribute: attrs.Attribute[float], value: float) -> None:
    if not (np.isfinite(value) and value >= 0):
        raise ValueError(f"`{attribute.name}` must be a non-negative number; got {value!r}")


@attrs.frozen(kw_only=True)
class OneEuroConfig:
    """One-Euro filter parameters.

    Attributes:
        min_cutoff: Hz, cutoff at rest (lower = smoother when still).
        beta: speed coefficient (higher = less lag when moving), in 1 / pixel.
        d_cutoff: Hz, cutoff of the derivative estimate.
    """

    min_cutoff: float = attrs.field(default=1.0, validator=_positive)
    beta: float = attrs.field(default=0.05, validator=_non_negative)
    d_cutoff: float = attrs.field(default=1.0, validator=_positive)


#: The One-Euro filter every faceshot front end applies to retargeted landmarks when it
#: smooths them (``FaceShot(smooth=True)``, the default; ``faceshot retarget --smooth``;
#: ``faceshot animate``): 1.5 Hz at rest removes the ~1 px jitter of driving detections,
#: which the character would amplify, and a beta of 0.02 / px keeps fast mouth and head
#: motion within a frame of the driver.
RETARGET_SMOOTHING: Final = OneEuroConfig(min_cutoff=1.5, beta=0.02)


def _alpha(cutoff: NDArray[np.float64] | float, dt: float) -> NDArray[np.float64]:
    tau = 1.0 / (2.0 * np.pi * np.asarray(cutoff, dtype=np.float64))
    return 1.0 / (1.0 + tau / dt)


def one_euro_filter(
    sequence: NDArray[np.float64], *, fps: float, config: OneEuroConfig | None = None
) -> NDArray[np.float64]:
    """Filter a sequence along its first axis with the One-Euro filter.

    Args:
        sequence: (T, ...) float64 (e.g. (T, 68, 2) landmark pixels).
        fps: sampling rate, frames per second (> 0).
        config: filter parameters (default :class:`OneEuroConfig`).

    Returns:
        (T, ...) float64, a new array; frame 0 is unchanged.

    Convention:
        The recursion is inherently sequential over time, so it loops over frames; every
        step is vectorised over all points and coordinates.
    """
    cfg = config if config is not None else OneEuroConfig()
    if not (np.isfinite(fps) and fps > 0):
        raise ValueError(f"`fps` must be a positive number; got {fps!r}")
    x = np.asarray(sequence, dtype=np.float64)
    out = np.empty_like(x)
    if len(x) == 0:
        return out
    dt = 1.0 / fps
    a_d = _alpha(cfg.d_cutoff, dt)
    out[0] = x[0]
    dx_prev = np.zeros_like(x[0])
    for t in range(1, len(x)):
        dx = (x[t] - out[t - 1]) / dt
        dx_hat = a_d * dx + (1.0 - a_d) * dx_prev
        a = _alpha(cfg.min_cutoff + cfg.beta * np.abs(dx_hat), dt)
        out[t] = a * x[t] + (1.0 - a) * out[t - 1]
        dx_prev = dx_hat
    return out
