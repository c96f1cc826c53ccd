"""Softmax splatting in pure torch vs a slow per-pixel reference."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from faceshot_animate.mofa import softsplat


def splat_reference(image, flow, metric, mode, eps=1e-7):
    """Explicit loops over pixels: bilinear forward splatting, float64."""
    img = image.double().numpy()
    fl = flow.double().numpy()
    n, c, h, w = img.shape
    acc = np.zeros((n, c, h, w))
    norm = np.zeros((n, 1, h, w))
    for b in range(n):
        for y in range(h):
            for x in range(w):
                fx = x + fl[b, 0, y, x]
                fy = y + fl[b, 1, y, x]
                if not (math.isfinite(fx) and math.isfinite(fy)):
                    continue
                if mode == "soft":
                    wt = math.exp(float(metric[b, 0, y, x]))
                elif mode == "linear":
                    wt = float(metric[b, 0, y, x])
                else:
                    wt = 1.0
                x0, y0 = math.floor(fx), math.floor(fy)
                for cx, cy in ((x0, y0), (x0 + 1, y0), (x0, y0 + 1), (x0 + 1, y0 + 1)):
                    bw = (1 - abs(fx - cx)) * (1 - abs(fy - cy))
                    if 0 <= cx < w and 0 <= cy < h:
                        acc[b, :, cy, cx] += img[b, :, y, x] * wt * bw
                        norm[b, 0, cy, cx] += wt * bw
    if mode == "sum":
        return acc
    return acc / (norm + eps)


def _inputs(seed, n=2, c=3, h=5, w=6, scale=2.5):
    g = torch.Generator().manual_seed(seed)
    image = torch.randn(n, c, h, w, generator=g)
    flow = torch.randn(n, 2, h, w, generator=g) * scale
    metric = torch.randn(n, 1, h, w, generator=g)
    return image, flow, metric


@pytest.mark.parametrize("mode", ["sum", "avg", "linear", "soft"])
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_matches_reference(mode, seed):
    image, flow, metric = _inputs(seed)
    flow[0, :, 1, 2] = float("nan")  # dropped pixel
    flow[1, 0, 0, 0] = 40.0  # lands outside
    if mode == "linear":
        metric = metric.abs() + 0.1
    m = metric if mode in ("linear", "soft") else None
    got = softsplat(image.double(), flow.double(), None if m is None else m.double(), mode)
    want = splat_reference(image, flow, m, mode)
    np.testing.assert_allclose(got.numpy(), want, rtol=1e-9, atol=1e-9)


def test_float32_close_to_reference_and_dtype_kept():
    image, flow, _ = _inputs(5, n=1, c=4, h=7, w=4)
    got = softsplat(image.half(), flow.half(), None, "avg")
    assert got.dtype == torch.float16 and got.shape == image.shape
    want = splat_reference(image.half().float(), flow.half().float(), None, "avg")
    np.testing.assert_allclose(got.float().numpy(), want, atol=5e-3, rtol=5e-3)


def test_zero_flow_avg_is_identity_and_integer_shift_moves():
    image, _, _ = _inputs(3, n=1, c=2, h=4, w=5)
    zero = torch.zeros(1, 2, 4, 5)
    torch.testing.assert_close(softsplat(image, zero), image, atol=1e-6, rtol=1e-6)
    shift = zero.clone()
    shift[:, 0] = 1.0  # everything one column right
    out = softsplat(image, shift)
    torch.testing.assert_close(out[..., 1:], image[..., :-1], atol=1e-6, rtol=1e-6)
    assert torch.all(out[..., 0] == 0)


def test_input_not_modified_and_errors():
    image, flow, metric = _inputs(4)
    before = image.clone(), flow.clone()
    softsplat(image, flow)
    assert torch.equal(image, before[0]) and torch.equal(flow, before[1])
    with pytest.raises(ValueError, match="mode"):
        softsplat(image, flow, None, "max")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="`flow` must have shape"):
        softsplat(image, flow[:, :1])
    with pytest.raises(ValueError, match="`metric` is required"):
        softsplat(image, flow, None, "soft")
    with pytest.raises(ValueError, match="`metric` must be None"):
        softsplat(image, flow, metric, "avg")
