"""Reading images and annotated image folders (images + same-stem ``.pts``/``.json``)."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

from faceshot_landmarks.errors import FeatureMapError

__all__ = ["IMAGE_SUFFIXES", "annotated_images", "read_image"]

#: Image file suffixes recognised in folders.
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".ppm", ".pgm", ".bmp", ".tif", ".tiff", ".webp")


def read_image(path: str | os.PathLike[str]) -> NDArray[np.uint8]:
    """Read an image file as (H, W, 3) uint8 RGB (grey is expanded, alpha composited on white),
    upright: the EXIF orientation is applied (:func:`faceshot_retarget.apply_exif_orientation`).

    Raises:
        FeatureMapError: missing, not a regular file, undecodable, or a header declaring more
            than :data:`faceshot_retarget.MAX_IMAGE_PIXELS` pixels (refused before decoding).
    """
    import cv2
    from faceshot_retarget import apply_exif_orientation, input_file_problem

    p = Path(path)
    problem = input_file_problem(p)
    if problem is not None:
        raise FeatureMapError(f"image {str(p)!r} {problem}")
    orientation = _checked_header(p)
    raw = cv2.imdecode(np.fromfile(p, np.uint8), cv2.IMREAD_UNCHANGED)
    if raw is None:
        raise FeatureMapError(f"cannot decode image {str(p)!r}")
    raw = apply_exif_orientation(raw, orientation)
    if raw.dtype != np.uint8:
        top = 65535.0 if raw.dtype == np.uint16 else 1.0
        raw = np.clip(np.round(raw.astype(np.float64) * (255.0 / top)), 0, 255).astype(np.uint8)
    if raw.ndim == 2:
        return np.ascontiguousarray(np.repeat(raw[..., None], 3, axis=2))
    if raw.shape[2] == 4:
        rgba = cv2.cvtColor(raw, cv2.COLOR_BGRA2RGBA)
        a = rgba[..., 3:4].astype(np.float32) / 255.0
        return np.asarray(np.round(rgba[..., :3] * a + 255.0 * (1 - a)), dtype=np.uint8)
    return np.asarray(cv2.cvtColor(raw, cv2.COLOR_BGR2RGB), dtype=np.uint8)


def _checked_header(p: Path) -> int:
    """EXIF orientation from the header; refuses decompression bombs before decoding.

    A file Pillow cannot identify is left to OpenCV (orientation 1).
    """
    import warnings

    from faceshot_retarget import EXIF_ORIENTATION_TAG, MAX_IMAGE_PIXELS
    from PIL import Image, UnidentifiedImageError

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            with Image.open(p) as im:
                w, h = im.size
                orientation = int(im.getexif().get(EXIF_ORIENTATION_TAG, 1))
    except Image.DecompressionBombError as exc:  # Pillow refused it while opening
        import re

        found = re.search(r"(\d+) pixels", str(exc))
        size = f"{int(found.group(1)) / 1e6:.0f} MP" if found else "too large"
        raise FeatureMapError(
            f"image {str(p)!r} is {size}, above the {MAX_IMAGE_PIXELS / 1e6:.1f} MP "
            "decompression-bomb limit; downscale it first"
        ) from None
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError):
        return 1
    if w * h > MAX_IMAGE_PIXELS:
        raise FeatureMapError(
            f"image {str(p)!r} is {w}x{h} ({w * h / 1e6:.0f} MP), above the "
            f"{MAX_IMAGE_PIXELS / 1e6:.1f} MP decompression-bomb limit; downscale it first"
        )
    return orientation


def annotated_images(
    directory: str | os.PathLike[str],
) -> tuple[list[Path], list[Path], list[Path]]:
    """Pair the images of a folder with their same-stem ``.pts`` (preferred) or ``.json`` files.

    Returns:
        ``(images, annotations, unannotated)``: paired image and annotation paths (sorted by
        name) and the images that have no annotation file.

    Raises:
        FeatureMapError: ``directory`` is not a directory.
    """
    d = Path(directory)
    if not d.is_dir():
        raise FeatureMapError(f"`directory` {str(d)!r} is not a directory")
    images, annotations, missing = [], [], []
    for p in sorted(d.iterdir()):
        if p.suffix.lower() not in IMAGE_SUFFIXES or not p.is_file():
            continue
        ann = next(
            (p.with_suffix(s) for s in (".pts", ".json") if p.with_suffix(s).is_file()), None
        )
        if ann is None:
            missing.append(p)
        else:
            images.append(p)
            annotations.append(ann)
    return images, annotations, missing
