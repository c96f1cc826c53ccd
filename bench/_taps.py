"""On-disk cache of raw MobileNetV2 layer outputs ("taps") for the matching benchmark.

The embedded extractor (``faceshot_features.EmbeddedExtractor``) runs MobileNetV2 on a small
input pyramid and resamples a few layer outputs to a stride-8 grid (640 channels at 64x64 for a
512² image: 10 MB float32). The benchmark needs the same features for hundreds of images, under
several layer/scale settings, on a shared 2-core machine where one extraction takes ~10 s. This
module stores the *raw* outputs of a superset of layers at a superset of input sizes (float16,
~1 MB per image) keyed by the image's SHA-256 and the tap layout, and rebuilds any extractor
configuration from them with the extractor's own arithmetic (per-layer L2 normalisation,
bilinear resampling to the stride-8 grid of the largest input, weighting, concatenation).
:func:`check_against_extractor` proves the rebuild equals ``EmbeddedExtractor.extract``.

Dev-time code (bench only): it reads the extractor's private model attribute.
"""

from __future__ import annotations

import hashlib
import math
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

ROOT = Path(__file__).resolve().parents[1]
#: default cache directory (ignored by git).
CACHE = Path(os.environ.get("FACESHOT_BENCH_CACHE", ROOT / "out" / "tap_cache"))
#: layers and input long sides stored for every image.
TAP_LAYERS = (6, 10, 13, 15, 17)
TAP_SIZES = (512, 256)
_VERSION = "taps-v1"


def _digest(image: NDArray[np.uint8]) -> str:
    h = hashlib.sha256()
    h.update(repr(tuple(image.shape)).encode())
    h.update(np.ascontiguousarray(image).tobytes())
    h.update(f"{_VERSION} {TAP_LAYERS} {TAP_SIZES}".encode())
    return h.hexdigest()


class TapExtractor:
    """Cached raw taps -> feature maps of any embedded configuration.

    Args:
        cache: cache directory.
        input_sizes, layers, layer_weights: the embedded extractor's settings (subsets of
            :data:`TAP_SIZES` / :data:`TAP_LAYERS`).
        center: subtract the image's mean feature per layer before normalising (a lever:
            per-image "style" normalisation); ``False`` reproduces the extractor exactly.
    """

    def __init__(
        self,
        cache: Path = CACHE,
        *,
        input_sizes: Sequence[int] = (512, 256),
        layers: Sequence[int] = (10, 13, 15),
        layer_weights: Sequence[float] = (0.2, 0.4, 0.4),
        center: bool = False,
    ) -> None:
        from faceshot_features import load_extractor

        self.cache = Path(cache)
        self.cache.mkdir(parents=True, exist_ok=True)
        self.sizes = tuple(input_sizes)
        self.layers = tuple(layers)
        w = np.asarray(layer_weights, np.float64)
        self.weights = tuple(float(v) for v in w / w.sum())
        self.center = center
        assert set(self.sizes) <= set(TAP_SIZES) and set(self.layers) <= set(TAP_LAYERS)
        self._ex: Any = None
        self._load = load_extractor
        self.backbone = "embedded-mobilenetv2"
        self.config = self._config()

    def _config(self) -> dict[str, Any]:
        cfg = {
            "weights": "mobilenet_v2-b0353104.pth",
            "input_sizes": list(self.sizes),
            "layers": list(self.layers),
            "layer_weights": [round(v, 6) for v in self.weights],
            "grid_stride": 8,
            "resize": "bilinear-antialias, long side per level, sides multiple of 32",
            "normalisation": "imagenet",
        }
        if self.center:
            cfg["center"] = True
        return cfg

    def variant(self, **kw: Any) -> TapExtractor:
        """The same cache with other settings."""
        args = {
            "input_sizes": self.sizes,
            "layers": self.layers,
            "layer_weights": self.weights,
            "center": self.center,
        }
        args.update(kw)
        out = TapExtractor(self.cache, **args)
        out._ex = self._ex
        return out

    # ------------------------------------------------------------------ raw taps

    def taps(self, image: NDArray[np.uint8]) -> dict[tuple[int, int], NDArray[np.float16]]:
        """{(input size, layer): (C, h, w) float16} for one (H, W, 3) uint8 image (cached)."""
        path = self.cache / f"{_digest(image)}.npz"
        if path.is_file():
            try:
                with np.load(path) as z:
                    return {(int(k.split("_")[0]), int(k.split("_")[1])): z[k] for k in z.files}
            except (OSError, ValueError, KeyError):
                pass
        out = self._compute(image)
        tmp = path.with_suffix(f".{os.getpid()}.tmp.npz")
        np.savez(tmp, **{f"{s}_{k}": v for (s, k), v in out.items()})
        os.replace(tmp, path)
        return out

    def _compute(self, image: NDArray[np.uint8]) -> dict[tuple[int, int], NDArray[np.float16]]:
        import torch
        import torch.nn.functional as F
        from faceshot_features._embedded import _IMAGENET_MEAN, _IMAGENET_STD, resized_shape

        if self._ex is None:
            self._ex = self._load("embedded")
        model = self._ex._model
        height, width = image.shape[:2]
        out = {}
        with torch.inference_mode():
            x = (
                torch.from_numpy(np.array(image, dtype=np.uint8, copy=True))
                .permute(2, 0, 1)[None]
                .float()
                .div_(255.0)
            )
            mean = torch.tensor(_IMAGENET_MEAN).view(1, 3, 1, 1)
            std = torch.tensor(_IMAGENET_STD).view(1, 3, 1, 1)
            for size in TAP_SIZES:
                hs, ws = resized_shape(height, width, size)
                xi = F.interpolate(
                    x, size=(hs, ws), mode="bilinear", antialias=True, align_corners=False
                )
                y = (xi - mean) / std
                for k, block in enumerate(model.features):
                    y = block(y)
                    if k in TAP_LAYERS:
                        out[(size, k)] = y[0].numpy().astype(np.float16)
                    if k == max(TAP_LAYERS):
                        break
        return out

    # ------------------------------------------------------------------ features

    def extract(self, image: NDArray[np.uint8]) -> Any:
        """``faceshot_features.Features`` of this configuration, rebuilt from the taps."""
        import torch
        import torch.nn.functional as F
        from faceshot_features import Features
        from faceshot_features._embedded import resized_shape

        image = np.ascontiguousarray(image, dtype=np.uint8)
        taps = self.taps(image)
        height, width = image.shape[:2]
        h0, w0 = resized_shape(height, width, self.sizes[0])
        grid = (h0 // 8, w0 // 8)
        per_level = 1.0 / len(self.sizes)
        maps = []
        with torch.inference_mode():
            for size in self.sizes:
                for layer, weight in zip(self.layers, self.weights, strict=True):
                    t = torch.from_numpy(taps[(size, layer)].astype(np.float32))[None]
                    if self.center:
                        t = t - t.mean(dim=(2, 3), keepdim=True)
                    t = F.normalize(t, dim=1, eps=1e-12)
                    if t.shape[-2:] != grid:
                        t = F.interpolate(t, size=grid, mode="bilinear", align_corners=False)
                        t = F.normalize(t, dim=1, eps=1e-12)
                    maps.append(t * math.sqrt(weight * per_level))
            array = torch.cat(maps, dim=1)[0].numpy()
        return Features(
            array=array, image_size=(height, width), backbone=self.backbone, config=self.config
        )


def check_against_extractor(image: NDArray[np.uint8]) -> float:
    """Largest absolute difference between the rebuilt and the real default features."""
    from faceshot_features import load_extractor

    a = TapExtractor().extract(image).array
    b = load_extractor("embedded").extract(image).array
    return float(np.abs(a - b).max())


def _all_images(mirror: bool) -> list[tuple[str, NDArray[np.uint8]]]:
    """(label, image) of every benchmark image (every style's renders, the human gallery),
    interleaved across styles so that a partial cache covers every style."""
    import sys

    sys.path.insert(0, str(ROOT / "scripts"))
    from annotate_keypoints import render
    from build_default_gallery import collect, load_pair

    src = ROOT / "gallery_src"
    per_style = []
    for style in ("twemoji", "noto", "noto-v1", "emojione", "fxemoji"):
        files = sorted(p for p in (src / style).iterdir() if p.suffix == ".svg")
        per_style.append([(f"{style}/{p.stem}", p) for p in files])
    order = []
    for k in range(max(len(s) for s in per_style)):
        order += [s[k] for s in per_style if k < len(s)]
    out = [(f"human/{im.stem}", load_pair(im, pts)[0]) for im, pts in collect(src / "human")]
    for label, p in order:
        out.append((label, render(p)))
    if mirror:
        out = [(f"{lab} mirrored", np.ascontiguousarray(im[:, ::-1])) for lab, im in out]
    return out


if __name__ == "__main__":
    import argparse
    import time

    ap = argparse.ArgumentParser(description="fill the tap cache")
    ap.add_argument("--mirror", action="store_true", help="the mirrored images instead")
    args = ap.parse_args()
    tx = TapExtractor()
    t0 = time.perf_counter()
    images = _all_images(args.mirror)
    for n, (label, im) in enumerate(images):
        tx.taps(im)
        print(f"{n + 1}/{len(images)} {label} {time.perf_counter() - t0:.0f} s", flush=True)
