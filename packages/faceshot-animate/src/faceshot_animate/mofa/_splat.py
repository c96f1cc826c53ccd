"""Softmax splatting (forward warping) in pure PyTorch, no CuPy kernel.

Forward warping moves every source pixel ``(x, y)`` to ``(x + u, y + v)`` and spreads it
over the four surrounding integer pixels with bilinear weights; overlapping contributions
are accumulated. The four modes follow Niklaus & Liu, "Softmax Splatting for Video Frame
Interpolation" (CVPR 2020), as MOFA-Video uses them:

- ``"sum"``: plain accumulation, no normalisation.
- ``"avg"``: every source pixel weighs 1; the result is divided by the splatted weights
  (MOFA-Video's landmark ControlNet uses this mode).
- ``"linear"``: source pixel ``p`` weighs ``metric[p]``.
- ``"soft"``: source pixel ``p`` weighs ``exp(metric[p])`` (softmax splatting).

Normalised modes divide by ``splatted_weight + eps``, so target pixels nothing lands on are 0.
"""

from __future__ import annotations

from typing import Literal

import torch

__all__ = ["SplatMode", "softsplat"]

SplatMode = Literal["sum", "avg", "linear", "soft"]

_MODES = ("sum", "avg", "linear", "soft")


def softsplat(
    image: torch.Tensor,
    flow: torch.Tensor,
    metric: torch.Tensor | None = None,
    mode: SplatMode = "avg",
    *,
    eps: float = 1e-7,
) -> torch.Tensor:
    """Forward-warp ``image`` by ``flow`` with bilinear splatting.

    Args:
        image: (N, C, H, W) floating tensor, the source.
        flow: (N, 2, H, W) floating tensor, pixel displacement (dx, dy) of every source pixel
            (x = column, y = row, +y down). Non-finite displacements drop that pixel.
        metric: (N, 1, H, W) floating tensor, required for ``"linear"`` and ``"soft"``,
            forbidden otherwise.
        mode: ``"sum"``, ``"avg"``, ``"linear"`` or ``"soft"`` (see the module docstring).
        eps: added to the splatted weight before dividing (normalised modes only).

    Returns:
        (N, C, H, W) tensor of ``image``'s dtype. The arithmetic runs in float32 (float64 for
        float64 inputs) whatever the input dtype, as the reference CUDA kernel is used.

    Raises:
        ValueError: unknown mode, mismatched shapes, or a metric given/missing for the mode.

    Convention:
        Pixel ``(x, y)`` is the centre of column x, row y; a pixel landing at fractional
        ``(fx, fy)`` contributes ``(1 - ax)(1 - ay)`` to ``(floor fx, floor fy)`` and so on,
        with ``ax = fx - floor fx``. Contributions outside the image are dropped.
    """
    if mode not in _MODES:
        raise ValueError(f"`mode` must be one of {_MODES}; got {mode!r}")
    if image.ndim != 4:
        raise ValueError(f"`image` must have shape (N, C, H, W); got {tuple(image.shape)}")
    n, c, h, w = image.shape
    if flow.shape != (n, 2, h, w):
        raise ValueError(f"`flow` must have shape {(n, 2, h, w)}; got {tuple(flow.shape)}")
    needs_metric = mode in ("linear", "soft")
    if needs_metric and metric is None:
        raise ValueError(f"`metric` is required for mode {mode!r}")
    if not needs_metric and metric is not None:
        raise ValueError(f"`metric` must be None for mode {mode!r}")
    if metric is not None and metric.shape != (n, 1, h, w):
        raise ValueError(f"`metric` must have shape {(n, 1, h, w)}; got {tuple(metric.shape)}")

    work = torch.float64 if image.dtype == torch.float64 else torch.float32
    src = image.to(work)
    fl = flow.to(work)

    # Per-source weight (N, 1, H, W); the weight channel is splatted with the values.
    if mode == "soft":
        assert metric is not None
        # Plain exp as upstream (no max shift, which would change the eps term): keep
        # metrics below ~88 in float32.
        weight = torch.exp(metric.to(work))
    elif mode == "linear":
        assert metric is not None
        weight = metric.to(work)
    else:
        weight = torch.ones((n, 1, h, w), dtype=work, device=image.device)
    normalise = mode != "sum"
    payload = torch.cat([src * weight, weight], dim=1) if normalise else src

    ys = torch.arange(h, dtype=work, device=image.device).view(1, h, 1)
    xs = torch.arange(w, dtype=work, device=image.device).view(1, 1, w)
    fx = xs + fl[:, 0]  # (N, H, W)
    fy = ys + fl[:, 1]
    finite = torch.isfinite(fx) & torch.isfinite(fy)
    fx = torch.where(finite, fx, torch.zeros_like(fx))
    fy = torch.where(finite, fy, torch.zeros_like(fy))
    x0 = torch.floor(fx)
    y0 = torch.floor(fy)
    ax = fx - x0
    ay = fy - y0
    x0i = x0.long()
    y0i = y0.long()

    k = payload.shape[1]
    # Channels-last payload so one scatter row carries all channels of one source pixel.
    vals = payload.permute(0, 2, 3, 1).reshape(n * h * w, k)
    out = torch.zeros((n * h * w, k), dtype=work, device=image.device)
    base = (torch.arange(n, device=image.device) * (h * w)).view(n, 1, 1)
    corners = (
        (0, 0, (1 - ax) * (1 - ay)),
        (1, 0, ax * (1 - ay)),
        (0, 1, (1 - ax) * ay),
        (1, 1, ax * ay),
    )
    for dx, dy, bw in corners:
        cx = x0i + dx
        cy = y0i + dy
        ok = finite & (cx >= 0) & (cx < w) & (cy >= 0) & (cy < h)
        idx = base + cy.clamp(0, h - 1) * w + cx.clamp(0, w - 1)
        cw = torch.where(ok, bw, torch.zeros_like(bw)).reshape(-1, 1)
        out.index_add_(0, idx.reshape(-1), vals * cw)

    out = out.view(n, h, w, k).permute(0, 3, 1, 2)
    if normalise:
        out = out[:, :c] / (out[:, c:] + eps)
    return out.contiguous().to(image.dtype)
