"""The embedded CPU backbone: multi-scale ImageNet MobileNetV2 features.

Recipe (chosen by measurement, see the package README): the image is resized (bilinear,
antialiased, per-axis scale) to a small pyramid of input sizes whose long side is 512 and 256
and whose sides are multiples of 32; ImageNet mean/std normalisation; the outputs of
``features.10`` (64 ch, stride 16), ``features.13`` (96 ch, stride 16) and ``features.15``
(160 ch, stride 32) are each L2-normalised per cell, bilinearly resampled (align-corners=False)
to the stride-8 grid of the largest input, normalised again, multiplied by ``sqrt(weight)`` and concatenated.
With weights summing to 1 per level and levels weighted equally, every output cell has unit
norm and the cosine of two cells is the weighted mean of the per-layer cosines.
"""

from __future__ import annotations

import copy
import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from numpy.typing import NDArray
from torch import nn

from faceshot_features._cache import FeatureCache
from faceshot_features._features import Features
from faceshot_features._image import as_rgb_image
from faceshot_features._loader import BACKBONE_IDS
from faceshot_features._mobilenet import MOBILENET_V2_FILENAME, load_mobilenet_v2
from faceshot_features.errors import FeatureConfigError

__all__ = ["EMBEDDED_BACKBONE", "EmbeddedExtractor", "resized_shape"]

#: Backbone id of :class:`EmbeddedExtractor`.
EMBEDDED_BACKBONE = BACKBONE_IDS["embedded"]
_IMAGENET_MEAN = (0.485, 0.456, 0.406)
_IMAGENET_STD = (0.229, 0.224, 0.225)
_NUM_BLOCKS = 19  # features.0 .. features.18


def resized_shape(height: int, width: int, long_side: int, multiple: int = 32) -> tuple[int, int]:
    """Network input size for an image: long side ``long_side``, both sides multiples of ``multiple``.

    Args:
        height, width: image size in pixels.
        long_side: target long side in pixels (a multiple of ``multiple``).
        multiple: both output sides are rounded to the nearest multiple of this (at least one).

    Returns:
        (H', W') ints. The aspect ratio changes by at most ``multiple / 2`` pixels on the short
        side; the pixel <-> cell mapping stays exact because each axis is scaled separately.
    """
    s = long_side / max(height, width)
    h = max(multiple, round(height * s / multiple) * multiple)
    w = max(multiple, round(width * s / multiple) * multiple)
    return h, w


class EmbeddedExtractor:
    """Dense multi-scale MobileNetV2 features on the CPU (the default backbone).

    Args:
        input_sizes: long sides (pixels, multiples of 32) of the input pyramid, largest first;
            the output grid is the stride-8 grid of the first.
        layers: indices k of ``features[k]`` whose outputs are used (0..18).
        layer_weights: one non-negative weight per layer (normalised to sum to 1).
        weights: checkpoint file; default: the one shipped in this package (``weights/``).
        device: torch device string.
        center: subtract each layer output's mean over the image (per pyramid level, per
            image) before the per-cell normalisation: a per-image "style" normalisation that
            keeps what differs across the face and drops what is common to the whole drawing
            (flat colour, line weight). Recorded in ``config`` as ``"center": true`` only when on.
        num_threads: if given, torch's intra-op thread count is set to it during each
            extraction and restored afterwards; None leaves torch's setting alone.
        cache_dir: optional directory for an on-disk feature cache (:class:`FeatureCache`).

    Attributes:
        backbone: ``"embedded-mobilenetv2"``.
        config: JSON-serialisable configuration (recorded in every :class:`Features`).
    """

    backbone: str = EMBEDDED_BACKBONE

    def __init__(
        self,
        *,
        input_sizes: Sequence[int] = (512, 256),
        layers: Sequence[int] = (10, 13, 15),
        layer_weights: Sequence[float] = (0.2, 0.4, 0.4),
        weights: str | Path | None = None,
        device: str = "cpu",
        center: bool = False,
        num_threads: int | None = None,
        cache_dir: str | Path | None = None,
    ) -> None:
        sizes = tuple(int(s) for s in input_sizes)
        if not sizes or any(s < 32 or s % 32 for s in sizes):
            raise FeatureConfigError(
                f"`input_sizes` must be multiples of 32 (>= 32); got {tuple(input_sizes)}"
            )
        lay = tuple(int(k) for k in layers)
        if not lay or any(not 0 <= k < _NUM_BLOCKS for k in lay):
            raise FeatureConfigError(
                f"`layers` must be indices in 0..{_NUM_BLOCKS - 1}; got {tuple(layers)}"
            )
        w = np.asarray(layer_weights, dtype=np.float64)
        if w.shape != (len(lay),) or not np.isfinite(w).all() or (w < 0).any() or w.sum() <= 0:
            raise FeatureConfigError(
                f"`layer_weights` must be {len(lay)} non-negative numbers with a positive sum; got {tuple(layer_weights)}"
            )
        if num_threads is not None and num_threads < 1:
            raise FeatureConfigError(f"`num_threads` must be >= 1; got {num_threads}")
        self._sizes = sizes
        self._layers = lay
        self._weights = tuple(float(v) for v in w / w.sum())
        self._device = torch.device(device)
        self._num_threads = num_threads
        self._center = bool(center)
        self._model = load_mobilenet_v2(weights).to(self._device)
        self._last = max(lay)
        self._cache = FeatureCache(cache_dir) if cache_dir is not None else None
        self._weights_name = Path(weights).name if weights is not None else MOBILENET_V2_FILENAME

    @property
    def config(self) -> dict[str, Any]:
        """JSON-serialisable configuration of this extractor."""
        out: dict[str, Any] = {
            "weights": self._weights_name,
            "input_sizes": list(self._sizes),
            "layers": list(self._layers),
            "layer_weights": [round(v, 6) for v in self._weights],
            "grid_stride": 8,
            "resize": "bilinear-antialias, long side per level, sides multiple of 32",
            "normalisation": "imagenet",
        }
        if self._center:
            out["center"] = True
        return out

    def extract(
        self, image: NDArray[np.uint8], *, image_prompt: NDArray[np.uint8] | None = None
    ) -> Features:
        """Dense features of one image.

        Args:
            image: (H, W, 3) uint8 RGB.
            image_prompt: accepted for protocol compatibility and ignored (this backbone has
                no image conditioning); it is not part of the cache key.

        Returns:
            :class:`Features` with ``array`` (C, H'/8, W'/8) float32, unit L2 norm per cell,
            where (H', W') = :func:`resized_shape` (H, W, ``input_sizes[0]``);
            C = ``len(input_sizes) * sum(channels of layers)`` (640 by default).
        """
        image = as_rgb_image(image)
        key = None
        if self._cache is not None:
            key = FeatureCache.key(image, None, self.backbone, self.config)
            hit = self._cache.get(key)
            if hit is not None:
                return hit
        prev = torch.get_num_threads()
        try:
            if self._num_threads is not None:
                torch.set_num_threads(self._num_threads)
            with torch.inference_mode():
                array = self._forward_stack(image[None], self._sizes)[0].cpu().numpy()
        finally:
            if self._num_threads is not None:
                torch.set_num_threads(prev)
        feats = Features(
            array=array, image_size=image.shape[:2], backbone=self.backbone, config=self.config
        )
        if self._cache is not None and key is not None:
            self._cache.put(key, feats)
        return feats

    def extract_batch(
        self,
        images: Sequence[NDArray[np.uint8]],
        *,
        image_prompts: Sequence[NDArray[np.uint8] | None] | None = None,
    ) -> list[Features]:
        """Features of several images (one forward pass each: sizes may differ).

        Args:
            images: k (H_i, W_i, 3) uint8 RGB images.
            image_prompts: ignored (see :meth:`extract`); if given, must have length k.

        Returns:
            k :class:`Features`, in order.
        """
        if image_prompts is not None and len(image_prompts) != len(images):
            raise FeatureConfigError(
                f"`image_prompts` must have one entry per image ({len(images)}); got {len(image_prompts)}"
            )
        return [self.extract(im) for im in images]

    def extract_stack(
        self,
        images: Sequence[NDArray[np.uint8]] | NDArray[np.uint8],
        *,
        input_sizes: Sequence[int] | None = None,
    ) -> list[Features]:
        """Features of several same-size images in one batched forward pass per pyramid level.

        Batching amortises the per-call overhead of small inputs (video frames, face crops):
        on 2 CPU cores a batch of 8 256-pixel crops costs well under 8 single calls. The
        on-disk cache is not consulted.

        Args:
            images: k >= 1 (H, W, 3) uint8 RGB images of one size, or a (k, H, W, 3) array.
            input_sizes: long sides (multiples of 32, largest first) of the input pyramid for
                this call; ``None``: the extractor's own. ``(256,)`` gives a cheap single-scale
                pass (about a fifth of the default two-level cost at 512 pixels).

        Returns:
            k :class:`Features` in order, as :meth:`extract` would give with these
            ``input_sizes``; their ``config`` records the sizes used, so a gallery built with
            other sizes rejects them.

        Raises:
            FeatureConfigError: no images, sizes differ, or bad ``input_sizes``.
        """
        stack = [as_rgb_image(im) for im in images]
        if not stack:
            raise FeatureConfigError("`images` is empty; need at least one (H, W, 3) image")
        shape = stack[0].shape
        for n, im in enumerate(stack):
            if im.shape != shape:
                raise FeatureConfigError(
                    f"`images[{n}]` has shape {im.shape}; expected {shape} like images[0]"
                )
        sizes = self._sizes if input_sizes is None else tuple(int(v) for v in input_sizes)
        if not sizes or any(v < 32 or v % 32 for v in sizes):
            raise FeatureConfigError(
                f"`input_sizes` must be multiples of 32 (>= 32); got {tuple(input_sizes or ())}"
            )
        config = {**self.config, "input_sizes": list(sizes)}
        prev = torch.get_num_threads()
        try:
            if self._num_threads is not None:
                torch.set_num_threads(self._num_threads)
            with torch.inference_mode():
                arrays = self._forward_stack(np.stack(stack), sizes).cpu().numpy()
        finally:
            if self._num_threads is not None:
                torch.set_num_threads(prev)
        return [
            Features(array=a, image_size=shape[:2], backbone=self.backbone, config=config)
            for a in arrays
        ]

    def _folded_blocks(self) -> nn.Module:
        """``features[0..max(layers)]`` with every batch norm folded into the convolution before
        it (exact in eval mode up to float rounding, ~1e-5; a quarter to half faster on CPU).
        Built on first use and kept."""
        folded = getattr(self, "_folded", None)
        if folded is None:
            folded = _fold_batchnorm(nn.Sequential(*list(self._model.features)[: self._last + 1]))
            self._folded = folded
        return folded

    def _forward_stack(self, images: NDArray[np.uint8], sizes: tuple[int, ...]) -> torch.Tensor:
        """(k, C, h, w) features of a (k, H, W, 3) uint8 stack (the recipe of the module docs,
        on the batch-norm-folded blocks: equal to the unfolded network up to float rounding)."""
        height, width = images.shape[1:3]
        x = torch.from_numpy(np.ascontiguousarray(images)).to(self._device)
        x = x.permute(0, 3, 1, 2).float().div_(255.0)
        mean = torch.tensor(_IMAGENET_MEAN, device=self._device).view(1, 3, 1, 1)
        std = torch.tensor(_IMAGENET_STD, device=self._device).view(1, 3, 1, 1)
        h0, w0 = resized_shape(height, width, sizes[0])
        grid = (h0 // 8, w0 // 8)
        per_level = 1.0 / len(sizes)
        maps: list[torch.Tensor] = []
        for size in sizes:
            hs, ws = resized_shape(height, width, size)
            xi = (
                x
                if (hs, ws) == (height, width)
                else F.interpolate(
                    x, size=(hs, ws), mode="bilinear", antialias=True, align_corners=False
                )
            )
            xi = (xi - mean) / std
            taps = []
            for k, block in enumerate(self._folded_blocks().children()):
                xi = block(xi)
                if k in self._layers:
                    taps.append(xi)
            for tap, weight in zip(taps, self._weights, strict=True):
                t = tap.float()
                if self._center:
                    t = t - t.mean(dim=(2, 3), keepdim=True)
                t = F.normalize(t, dim=1, eps=1e-12)
                if t.shape[-2:] != grid:
                    t = F.interpolate(t, size=grid, mode="bilinear", align_corners=False)
                    t = F.normalize(t, dim=1, eps=1e-12)
                maps.append(t * math.sqrt(weight * per_level))
        return torch.cat(maps, dim=1)


def _fold_batchnorm(module: nn.Module) -> nn.Module:
    """A copy of ``module`` in which every ``Conv2d`` directly followed by a ``BatchNorm2d``
    inside an ``nn.Sequential`` absorbs it (``w' = w g / s``, ``b' = (b - mu) g / s + beta`` with
    ``s = sqrt(var + eps)``); the batch norm becomes ``nn.Identity``. Eval-mode maths only."""
    out = copy.deepcopy(module).eval()
    for mod in out.modules():
        if not isinstance(mod, nn.Sequential):
            continue
        kids = list(mod)
        for i in range(len(kids) - 1):
            conv, bn = kids[i], kids[i + 1]
            if not (isinstance(conv, nn.Conv2d) and isinstance(bn, nn.BatchNorm2d)):
                continue
            assert bn.running_var is not None and bn.running_mean is not None
            scale = bn.weight.detach() / torch.sqrt(bn.running_var + bn.eps)
            geometry: dict[str, Any] = {
                "kernel_size": conv.kernel_size,
                "stride": conv.stride,
                "padding": conv.padding,
                "dilation": conv.dilation,
                "groups": conv.groups,
            }
            fused = nn.Conv2d(conv.in_channels, conv.out_channels, bias=True, **geometry)
            bias = (
                conv.bias.detach() if conv.bias is not None else torch.zeros_like(bn.running_mean)
            )
            with torch.no_grad():
                fused.weight.copy_(conv.weight.detach() * scale.view(-1, 1, 1, 1))
                fused.bias.copy_((bias - bn.running_mean) * scale + bn.bias.detach())  # type: ignore[union-attr]
            mod[i] = fused.to(conv.weight.device)
            mod[i + 1] = nn.Identity()
    return out
