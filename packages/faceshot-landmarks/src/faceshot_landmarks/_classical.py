"""A classical dense descriptor: the labelled *baseline* feature extractor of this package.

This is not FaceShot's diffusion feature. It is a DAISY/HOG-like dense descriptor computed
with OpenCV and NumPy so the matcher, gallery and tests work without any learned backbone:

1. the image is resized so that its longer side is ``size`` pixels (aspect kept);
2. at each gradient scale ``sigma`` the grey image is blurred, Sobel gradients give
   magnitude and signed orientation, soft-binned into ``bins`` orientation channels;
3. each orientation channel is pooled with Gaussians of width ``pool * stride`` at three
   levels; level 0 is sampled at the cell centre, levels 1 and 2 at the centre and at four
   points on a ring of radius ``2 * pool * stride`` (DAISY-style context);
4. each sampled histogram is L2-normalised, clipped at 0.2 and renormalised (SIFT style);
5. CIE Lab colour pooled at level 1 is appended (weighted by ``color_weight``).

The output grid has ``round(H' / stride) x round(W' / stride)`` cells of the resized image
(H', W'); the returned ``image_size`` is the size of the image given to :meth:`extract`, so the
contract's pixel <-> cell mapping holds in the caller's pixels.
"""

from __future__ import annotations

from typing import Any

import attrs
import numpy as np
from numpy.typing import NDArray

from faceshot_landmarks._features import DenseFeatures
from faceshot_landmarks.errors import FeatureMapError

__all__ = ["CLASSICAL_BACKBONE", "ClassicalExtractor", "check_image"]

#: Backbone id recorded in galleries built with :class:`ClassicalExtractor`.
CLASSICAL_BACKBONE = "classical-daisy-hog"

_RING = np.array([[0.0, 0.0], [1.0, 0.0], [-1.0, 0.0], [0.0, 1.0], [0.0, -1.0]])


def check_image(image: Any, name: str = "image") -> NDArray[np.uint8]:
    """Validate an (H, W, 3) uint8 RGB image (RGBA is composited on white).

    Raises:
        FeatureMapError: wrong type, dtype or shape.
    """
    arr = np.asarray(image)
    if arr.dtype != np.uint8:
        raise FeatureMapError(f"`{name}` must be uint8 RGB; got dtype {arr.dtype}")
    if arr.ndim != 3 or arr.shape[2] not in (3, 4) or min(arr.shape[:2]) < 2:
        raise FeatureMapError(f"`{name}` must have shape (H, W, 3) with H, W >= 2; got {arr.shape}")
    if arr.shape[2] == 4:
        a = arr[..., 3:4].astype(np.float32) / 255.0
        arr = np.round(arr[..., :3] * a + 255.0 * (1.0 - a)).astype(np.uint8)
    return arr


def _check_positive(instance: Any, attribute: Any, value: Any) -> None:
    if not value > 0:
        raise FeatureMapError(f"ClassicalExtractor `{attribute.name}` must be > 0; got {value!r}")


@attrs.frozen
class ClassicalExtractor:
    """Dense multi-scale gradient-orientation descriptor (a baseline, see the module docs).

    Attributes:
        size: longer image side in pixels after resizing (aspect kept).
        stride: pixels per output cell of the resized image.
        bins: signed orientation bins over 2 pi.
        sigmas: gradient scales in pixels (Gaussian blur before Sobel).
        pool: pooling Gaussian width as a fraction of ``stride`` for level 0; levels 1, 2
            use 2x and 4x.
        color_weight: weight of the 3 Lab colour channels relative to one histogram.
    """

    size: int = attrs.field(default=256, validator=_check_positive)
    stride: int = attrs.field(default=4, validator=_check_positive)
    bins: int = attrs.field(default=8, validator=_check_positive)
    sigmas: tuple[float, ...] = attrs.field(default=(1.0, 2.5), converter=tuple)
    pool: float = attrs.field(default=0.75, validator=_check_positive)
    color_weight: float = 0.5

    @property
    def backbone(self) -> str:
        """Descriptor id (:data:`CLASSICAL_BACKBONE`)."""
        return CLASSICAL_BACKBONE

    @property
    def config(self) -> dict[str, Any]:
        """JSON-serialisable configuration (galleries compare it for compatibility)."""
        return {
            "size": self.size,
            "stride": self.stride,
            "bins": self.bins,
            "sigmas": [float(s) for s in self.sigmas],
            "pool": float(self.pool),
            "color_weight": float(self.color_weight),
        }

    @property
    def channels(self) -> int:
        """C, the number of output channels."""
        return len(self.sigmas) * self.bins * 11 + 3

    def extract(self, image: Any, *, image_prompt: Any = None) -> DenseFeatures:
        """Compute the dense descriptor of one image.

        Args:
            image: (H, W, 3) uint8 RGB (or RGBA, composited on white).
            image_prompt: ignored (accepted for protocol compatibility).

        Returns:
            :class:`DenseFeatures` with ``array`` (C, h, w) float32 and ``image_size`` (H, W).
        """
        import cv2

        rgb = check_image(image)
        H, W = rgb.shape[:2]
        scale = self.size / max(H, W)
        h2, w2 = max(2, round(H * scale)), max(2, round(W * scale))
        small = cv2.resize(
            rgb, (w2, h2), interpolation=cv2.INTER_AREA if scale < 1 else cv2.INTER_LINEAR
        )
        gh, gw = max(1, round(h2 / self.stride)), max(1, round(w2 / self.stride))
        # Cell centres in resized-image pixels (align-corners=False).
        cy = (np.arange(gh) + 0.5) * h2 / gh - 0.5
        cx = (np.arange(gw) + 0.5) * w2 / gw - 0.5
        grey = cv2.cvtColor(small, cv2.COLOR_RGB2GRAY).astype(np.float32) / 255.0
        s = float(self.stride)
        levels = (self.pool * s, 2.0 * self.pool * s, 4.0 * self.pool * s)
        chunks: list[NDArray[np.float32]] = []
        for sigma in self.sigmas:
            g = cv2.GaussianBlur(grey, (0, 0), sigma)
            gx = cv2.Sobel(g, cv2.CV_32F, 1, 0, ksize=3)
            gy = cv2.Sobel(g, cv2.CV_32F, 0, 1, ksize=3)
            mag = np.sqrt(gx * gx + gy * gy)
            ang = np.arctan2(gy, gx) % (2 * np.pi)
            pos = ang * (self.bins / (2 * np.pi))
            b0 = np.floor(pos).astype(np.intp) % self.bins
            frac = (pos - np.floor(pos)).astype(np.float32)
            bins = np.arange(self.bins)[None, None, :]
            b0e, b1e = b0[..., None], ((b0 + 1) % self.bins)[..., None]
            hwc = np.ascontiguousarray(
                (mag * (1 - frac))[..., None] * (bins == b0e)
                + (mag * frac)[..., None] * (bins == b1e),
                dtype=np.float32,
            )
            for li, width in enumerate(levels):
                pooled = cv2.GaussianBlur(hwc, (0, 0), width)
                if pooled.ndim == 2:
                    pooled = pooled[..., None]
                offsets = _RING[:1] if li == 0 else _RING * (2.0 * width)
                for dx, dy in offsets:
                    yi = np.clip(np.round(cy + dy), 0, h2 - 1).astype(np.intp)
                    xi = np.clip(np.round(cx + dx), 0, w2 - 1).astype(np.intp)
                    chunks.append(_sift_norm(pooled[yi[:, None], xi[None, :]]))
        lab = cv2.cvtColor(small, cv2.COLOR_RGB2LAB).astype(np.float32) / 255.0
        lab = np.asarray(cv2.GaussianBlur(lab, (0, 0), levels[1]), dtype=np.float32)
        yi = np.clip(np.round(cy), 0, h2 - 1).astype(np.intp)
        xi = np.clip(np.round(cx), 0, w2 - 1).astype(np.intp)
        color = (lab[yi[:, None], xi[None, :]] - 0.5) * (2.0 * self.color_weight)
        chunks.append(color.astype(np.float32))
        feat = np.concatenate(chunks, axis=2).transpose(2, 0, 1)
        return DenseFeatures(feat, (H, W), self.backbone, self.config)

    def extract_batch(self, images: Any, *, image_prompts: Any = None) -> list[DenseFeatures]:
        """:meth:`extract` for each image of a sequence (protocol compatibility)."""
        return [self.extract(im) for im in images]


def _sift_norm(h: NDArray[np.float32]) -> NDArray[np.float32]:
    n = np.sqrt(np.sum(h * h, axis=-1, keepdims=True))
    # Floor the norm at half the median energy so flat, noisy regions stay weak.
    floor = max(0.5 * float(np.median(n)), 1e-6)
    h = np.minimum(h / np.maximum(n, floor), 0.2)
    n = np.sqrt(np.sum(h * h, axis=-1, keepdims=True))
    return np.asarray(h / np.maximum(n, 1e-6), dtype=np.float32)
