"""Image normalisation and loading: every animator works on (H, W, 3|4) uint8.

Accepted in-memory layouts (see :func:`as_uint8_image`):
    (H, W) grey, (H, W, 1) grey, (H, W, 3) RGB, (H, W, 4) RGBA; dtype uint8, uint16
    (scaled by 255/65535, rounded), bool, or float in [0, 1] (scaled by 255, rounded).
Grey is expanded to RGB (C = 3), as the :class:`~faceshot_animate.Animator` protocol only
yields C = 3 or 4.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

from faceshot_animate.errors import AnimateInputError, ImageError

__all__ = ["as_uint8_image", "composite_over", "load_image"]


def as_uint8_image(image: NDArray[np.generic], name: str = "image") -> NDArray[np.uint8]:
    """Validate an image and convert it to a fresh (H, W, 3) or (H, W, 4) uint8 array.

    Args:
        image: (H, W), (H, W, 1), (H, W, 3) or (H, W, 4); uint8, uint16, bool, or float
            in [0, 1]. Never modified.
        name: the argument name used in error messages.

    Returns:
        (H, W, 3) uint8 RGB, or (H, W, 4) uint8 RGBA when the input has alpha; a new array.

    Raises:
        AnimateInputError: wrong number of dimensions or channels, empty, unsupported dtype,
            non-finite or out-of-range float values.
    """
    arr = np.asarray(image)
    if arr.ndim == 3 and arr.shape[2] == 1:
        arr = arr[:, :, 0]
    if arr.ndim not in (2, 3) or (arr.ndim == 3 and arr.shape[2] not in (3, 4)):
        raise AnimateInputError(
            f"`{name}` must have shape (H, W), (H, W, 1), (H, W, 3) or (H, W, 4); got {arr.shape}"
        )
    if arr.shape[0] < 2 or arr.shape[1] < 2:
        raise AnimateInputError(f"`{name}` must be at least 2x2 pixels; got {arr.shape[:2]}")
    if arr.dtype == np.uint8:
        out = arr.copy()
    elif arr.dtype == np.uint16:
        out = np.round(arr.astype(np.float32) * (255.0 / 65535.0)).astype(np.uint8)
    elif arr.dtype == np.bool_:
        out = arr.astype(np.uint8) * np.uint8(255)
    elif arr.dtype.kind == "f":
        if not np.isfinite(arr).all():
            raise AnimateInputError(f"`{name}` holds NaN or infinite values")
        lo, hi = float(arr.min()), float(arr.max())
        if lo < 0.0 or hi > 1.0:
            raise AnimateInputError(
                f"float `{name}` must lie in [0, 1]; got values in [{lo:.4g}, {hi:.4g}]"
            )
        out = np.round(arr.astype(np.float32) * 255.0).astype(np.uint8)
    else:
        raise AnimateInputError(
            f"`{name}` must be uint8, uint16, bool or float in [0, 1]; got dtype {arr.dtype}"
        )
    if out.ndim == 2:
        out = np.repeat(out[:, :, None], 3, axis=2)
    return np.ascontiguousarray(out)


def composite_over(
    frame: NDArray[np.uint8], background: tuple[int, int, int] = (255, 255, 255)
) -> NDArray[np.uint8]:
    """Flatten an RGBA frame over a solid colour; RGB frames are returned unchanged.

    Args:
        frame: (H, W, 3) or (H, W, 4) uint8.
        background: RGB uint8 colour shown where alpha < 255.

    Returns:
        (H, W, 3) uint8 (a new array when alpha was composited, else ``frame`` itself).
    """
    if frame.ndim != 3 or frame.shape[2] != 4:
        return frame
    alpha = frame[:, :, 3:4].astype(np.float32) * (1.0 / 255.0)
    bg = np.asarray(background, dtype=np.float32)
    rgb = frame[:, :, :3].astype(np.float32) * alpha + bg * (1.0 - alpha)
    return np.round(rgb).astype(np.uint8)


def load_image(path: str | os.PathLike[str]) -> NDArray[np.uint8]:
    """Read a raster image (PNG, JPEG, PPM, WebP, ... anything Pillow reads), upright.

    Args:
        path: image file. 16-bit greyscale is scaled to 8 bits; palette images with
            transparency and LA become RGBA; CMYK/YCbCr become RGB. The EXIF orientation
            is applied (:func:`faceshot_retarget.apply_exif_orientation`).

    Returns:
        (H, W, 3) uint8 RGB or (H, W, 4) uint8 RGBA.

    Raises:
        ImageError: missing file, not a regular file (directory, FIFO, device), a header
            declaring more than :data:`faceshot_retarget.MAX_IMAGE_PIXELS` pixels (refused
            before decoding), or a format Pillow cannot decode (vector formats such as SVG
            are rasterised by the ``faceshot`` meta-package).
    """
    import warnings

    from faceshot_retarget import (
        EXIF_ORIENTATION_TAG,
        MAX_IMAGE_PIXELS,
        apply_exif_orientation,
        input_file_problem,
    )
    from PIL import Image, UnidentifiedImageError

    p = Path(path)
    problem = input_file_problem(p)
    if problem is not None:
        raise ImageError(f"image file {str(p)!r} {problem}")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(p) as im:
                w, h = im.size
                if w * h > MAX_IMAGE_PIXELS:
                    raise ImageError(
                        f"image {str(p)!r} is {w}x{h} ({w * h / 1e6:.0f} MP), above the "
                        f"{MAX_IMAGE_PIXELS / 1e6:.1f} MP decompression-bomb limit; downscale it first"
                    )
                orientation = im.getexif().get(EXIF_ORIENTATION_TAG, 1)
                im.load()
                out = _decode(im)
    except ImageError:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        import re

        found = re.search(r"(\d+) pixels", str(exc))  # Pillow refused it while opening
        size = f"{int(found.group(1)) / 1e6:.0f} MP" if found else "too large"
        raise ImageError(
            f"image {str(p)!r} is {size}, above the {MAX_IMAGE_PIXELS / 1e6:.1f} MP "
            "decompression-bomb limit; downscale it first"
        ) from None
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError) as exc:
        raise ImageError(f"cannot read image {str(p)!r}: {' '.join(str(exc).split())}") from None
    return apply_exif_orientation(out, orientation)


def _decode(im: object) -> NDArray[np.uint8]:
    """A loaded PIL image -> (H, W, 3|4) uint8 (see :func:`load_image` for the conversions)."""
    from PIL import Image

    assert isinstance(im, Image.Image)
    mode = im.mode
    if mode in ("I;16", "I;16B", "I;16L", "I"):
        arr = np.asarray(im).astype(np.float64)
        peak = 65535.0 if mode != "I" or arr.max() > 255 else 255.0
        return as_uint8_image(np.clip(arr / peak, 0.0, 1.0), "image")
    if mode == "F":
        return as_uint8_image(np.clip(np.asarray(im, dtype=np.float64), 0.0, 1.0), "image")
    has_alpha = mode in ("RGBA", "LA", "PA", "RGBa", "La") or (
        mode == "P" and "transparency" in im.info
    )
    if mode in ("L", "1"):
        return as_uint8_image(np.asarray(im.convert("L")), "image")
    rgb = im.convert("RGBA" if has_alpha else "RGB")
    return as_uint8_image(np.asarray(rgb), "image")
