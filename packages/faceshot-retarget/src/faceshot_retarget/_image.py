"""Image conventions shared by every faceshot image loader (pure NumPy; no decoder here).

* :data:`MAX_IMAGE_PIXELS` -- the decompression-bomb guard: an image whose header declares
  more pixels is refused before any pixel is decoded. Each loader applies it explicitly
  (Pillow's own ``Image.MAX_IMAGE_PIXELS`` is a process-wide setting other libraries may
  change or disable; ours does not depend on it). Same value as Pillow's default.
* EXIF orientation: files from cameras and phones store pixels as the sensor saw them
  plus an orientation tag (EXIF 0x0112, values 1-8); every loader shows the image the
  way viewers do, upright, with :func:`apply_exif_orientation`. Landmarks of such an
  image are in the upright image's pixels.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import NDArray

__all__ = ["EXIF_ORIENTATION_TAG", "MAX_IMAGE_PIXELS", "apply_exif_orientation"]

#: Largest accepted image, in pixels (W * H): Pillow's default decompression-bomb limit,
#: 89.5 megapixels (a 9459 x 9459 image; 0.25 GiB as 24-bit RGB).
MAX_IMAGE_PIXELS = 89_478_485
#: The EXIF tag holding the orientation (1 = upright ... 8).
EXIF_ORIENTATION_TAG = 0x0112


def apply_exif_orientation(image: NDArray[Any], orientation: int | None) -> NDArray[Any]:
    """Turn stored pixels upright according to an EXIF orientation value.

    Args:
        image: (H, W) or (H, W, C) array as stored in the file.
        orientation: EXIF orientation 1-8 (``None``, 1 or an unknown value: unchanged).
            2 mirror left-right; 3 rotate 180; 4 mirror top-bottom; 5 transpose;
            6 rotate 90 degrees clockwise; 7 transverse; 8 rotate 90 degrees counter-clockwise.

    Returns:
        The upright image, a contiguous array ((W, H[, C]) for orientations 5-8).
    """
    ops = {
        2: lambda a: a[:, ::-1],
        3: lambda a: a[::-1, ::-1],
        4: lambda a: a[::-1],
        5: lambda a: np.swapaxes(a, 0, 1),
        6: lambda a: np.rot90(a, k=-1),
        7: lambda a: np.rot90(a, k=1)[:, ::-1],
        8: lambda a: np.rot90(a, k=1),
    }
    op = ops.get(int(orientation)) if orientation is not None else None
    if op is None:
        return image
    return np.ascontiguousarray(op(image))
