"""Image input: validation of RGB arrays and reading image files."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from faceshot_features.errors import ImageError

__all__ = ["as_rgb_image", "load_image"]


def as_rgb_image(image: Any, *, name: str = "image") -> NDArray[np.uint8]:
    """Check that ``image`` is an (H, W, 3) uint8 RGB array.

    Args:
        image: (H, W, 3) uint8 array, RGB, H, W >= 1.
        name: argument name used in error messages.

    Returns:
        The same array (not copied, never modified).

    Raises:
        ImageError: wrong type, dtype or shape. Nothing is converted silently: use
            :func:`load_image` to read and convert files.
    """
    if not isinstance(image, np.ndarray):
        raise ImageError(
            f"`{name}` must be a numpy array (H, W, 3) uint8; got {type(image).__name__}"
        )
    if image.dtype != np.uint8:
        raise ImageError(f"`{name}` must have dtype uint8; got {image.dtype}")
    if image.ndim != 3 or image.shape[2] != 3 or image.shape[0] < 1 or image.shape[1] < 1:
        raise ImageError(f"`{name}` must have shape (H, W, 3); got {image.shape}")
    return image


def load_image(path: str | os.PathLike[str]) -> NDArray[np.uint8]:
    """Read an image file as (H, W, 3) uint8 RGB.

    Args:
        path: PNG, JPEG, PPM/PGM or any format Pillow reads.

    Returns:
        (H, W, 3) uint8 RGB array. Conversions: alpha is composited on white; grey and
        palette images become RGB; 16-bit (and 32-bit integer / float) grey is scaled to 8 bit
        by its type range (``I;16``: / 257). The EXIF orientation is applied (upright, as
        viewers show it).

    Raises:
        ImageError: the file is missing, not a regular file, above
            :data:`faceshot_retarget.MAX_IMAGE_PIXELS` (refused from the header, before
            decoding) or not a readable image (the message names the path).
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
                img = im.copy()
    except ImageError:
        raise
    except FileNotFoundError:
        raise ImageError(f"image file {str(p)!r} does not exist") from None
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        import re

        found = re.search(r"(\d+) pixels", str(exc))  # Pillow refused it while opening
        size = f"{int(found.group(1)) / 1e6:.0f} MP" if found else "too large"
        raise ImageError(
            f"image {str(p)!r} is {size}, above the {MAX_IMAGE_PIXELS / 1e6:.1f} MP "
            "decompression-bomb limit; downscale it first"
        ) from None
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError) as exc:
        raise ImageError(
            f"{str(p)!r} is not a readable image: {' '.join(str(exc).split())}"
        ) from None
    return apply_exif_orientation(_to_rgb(img, p), orientation)


def _to_rgb(img: Any, p: Path) -> NDArray[np.uint8]:
    """A loaded PIL image -> (H, W, 3) uint8 RGB (see :func:`load_image`)."""
    mode = img.mode
    if mode in ("I;16", "I;16B", "I;16L", "I;16N", "I", "F"):
        a = np.asarray(img)
        if mode == "F":
            grey = np.clip(a, 0.0, 1.0 if a.max(initial=0.0) <= 1.0 else 255.0)
            scale = 255.0 if a.max(initial=0.0) <= 1.0 else 1.0
            grey8 = np.round(grey * scale).astype(np.uint8)
        else:
            top = 65535 if mode.startswith("I;16") or a.max(initial=0) > 255 else 255
            grey8 = np.round(np.clip(a, 0, top).astype(np.float64) * (255.0 / top)).astype(np.uint8)
        return np.ascontiguousarray(np.repeat(grey8[:, :, None], 3, axis=2))
    if mode == "P":
        img = img.convert("RGBA")
        mode = "RGBA"
    if mode in ("LA", "La", "RGBa", "PA"):
        img = img.convert("RGBA")
        mode = "RGBA"
    if mode == "RGBA":
        a = np.asarray(img).astype(np.float32)
        alpha = a[:, :, 3:4] / 255.0
        rgb = a[:, :, :3] * alpha + 255.0 * (1.0 - alpha)
        return np.round(rgb).astype(np.uint8)
    if mode == "RGB":
        return np.ascontiguousarray(np.asarray(img, dtype=np.uint8))
    try:
        return np.ascontiguousarray(np.asarray(img.convert("RGB"), dtype=np.uint8))
    except (OSError, ValueError) as exc:
        raise ImageError(f"{str(p)!r}: cannot convert image mode {mode!r} to RGB: {exc}") from None
