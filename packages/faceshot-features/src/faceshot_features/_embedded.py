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

import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from numpy.typing import NDArray

from faceshot_features._cache import FeatureCache
from faceshot_features._features import Features
from faceshot_features._image import as_rgb_image
from faceshot_features._mobilenet import MOBILENET_V2_FILENAME, load_mobilenet_v2
from faceshot_features.errors import FeatureConfigError

__all__ = ["EMBEDDED_BACKBONE", "EmbeddedExtractor", "resized_shape"]

#: Backbone id of :class:`EmbeddedExtractor`.
EMBEDDED_BACKBONE = "embedded-mobilenetv2"
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
        num_threads: int | None = None,
        cache_dir: str | Path | None = None,
    ) -> None:
        sizes = tuple(int(s) for s in input_sizes)
        if not sizes or any(s < 32 or s % 32 for s in sizes):
            raise FeatureConfigError(f"`input_sizes` must be multiples of 32 (>= 32); got {tuple(input_sizes)}")
        lay = tuple(int(k) for k in layers)
        if not lay or any(not 0 <= k < _NUM_BLOCKS for k in lay):
            raise FeatureConfigError(f"`layers` must be indices in 0..{_NUM_BLOCKS - 1}; got {tuple(layers)}")
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
        self._model = load_mobilenet_v2(weights).to(self._device)
        self._last = max(lay)
        self._cache = FeatureCache(cache_dir) if cache_dir is not None else None
        self._weights_name = Path(weights).name if weights is not None else MOBILENET_V2_FILENAME

    @property
    def config(self) -> dict[str, Any]:
        """JSON-serialisable configuration of this extractor."""
        return {
            "weights": self._weights_name,
            "input_sizes": list(self._sizes),
            "layers": list(self._layers),
            "layer_weights": [round(v, 6) for v in self._weights],
            "grid_stride": 8,
            "resize": "bilinear-antialias, long side per level, sides multiple of 32",
            "normalisation": "imagenet",
        }

    def _taps(self, x: torch.Tensor) -> list[torch.Tensor]:
        out: list[torch.Tensor] = []
        for k, block in enumerate(self._model.features):
            x = block(x)
            if k in self._layers:
                out.append(x)
            if k == self._last:
                break
        return out

    def _forward(self, image: NDArray[np.uint8]) -> torch.Tensor:
        height, width = image.shape[:2]
        x = torch.from_numpy(np.array(image, dtype=np.uint8, copy=True)).to(self._device)
        x = x.permute(2, 0, 1)[None].float().div_(255.0)
        mean = torch.tensor(_IMAGENET_MEAN, device=self._device).view(1, 3, 1, 1)
        std = torch.tensor(_IMAGENET_STD, device=self._device).view(1, 3, 1, 1)
        h0, w0 = resized_shape(height, width, self._sizes[0])
        grid = (h0 // 8, w0 // 8)
        per_level = 1.0 / len(self._sizes)
        maps: list[torch.Tensor] = []
        for size in self._sizes:
            hs, ws = resized_shape(height, width, size)
            xi = F.interpolate(x, size=(hs, ws), mode="bilinear", antialias=True, align_corners=False)
            xi = (xi - mean) / std
            for tap, weight in zip(self._taps(xi), self._weights, strict=True):
                t = F.normalize(tap.float(), dim=1, eps=1e-12)
                if t.shape[-2:] != grid:
                    t = F.interpolate(t, size=grid, mode="bilinear", align_corners=False)
                    t = F.normalize(t, dim=1, eps=1e-12)
                maps.append(t * math.sqrt(weight * per_level))
        return torch.cat(maps, dim=1)[0]

    def extract(self, image: NDArray[np.uint8], *, image_prompt: NDArray[np.uint8] | None = None) -> Features:
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
                array = self._forward(image).cpu().numpy()
        finally:
            if self._num_threads is not None:
                torch.set_num_threads(prev)
        feats = Features(array=array, image_size=image.shape[:2], backbone=self.backbone, config=self.config)
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
