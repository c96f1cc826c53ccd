"""Input and output checks of the meta-package: character images, output paths, the gallery.

Character images:
    * PNG, JPEG, and anything else Pillow reads, through :func:`faceshot_animate.load_image`
      (grey and 16-bit become 8-bit RGB, alpha is kept as RGBA);
    * SVG through cairosvg, rendered with its long side :data:`SVG_LONG_SIDE` (512) pixels;
    * images smaller than :data:`MIN_SIDE` pixels on a side are refused (1x1, 16x16, ...);
    * images above Pillow's decompression-bomb limit (``PIL.Image.MAX_IMAGE_PIXELS``, 89.5
      megapixels; 20000x20000 is 400) are refused before their pixels are decoded: decoding
      one would take gigabytes. Below that limit, images with a long side above ``max_side``
      (1024 by default) are downscaled (area filter) and user landmarks scaled with them;
    * :func:`check_not_blank` refuses blank images (fully transparent, or one flat colour)
      before landmarks are matched on them: they hold no face.
"""

from __future__ import annotations

import io
import os
import re
import tempfile
import warnings
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

from faceshot.errors import CharacterImageError, OutputPathError

__all__ = [
    "MIN_SIDE",
    "SVG_LONG_SIDE",
    "Character",
    "check_not_blank",
    "check_output_path",
    "default_gallery_path",
    "load_character",
]

#: Long side in pixels SVG characters are rendered at.
SVG_LONG_SIDE = 512
#: Smallest accepted character side in pixels.
MIN_SIDE = 32
#: Largest per-channel spread (grey levels) of an image refused as blank (JPEG noise on a flat colour).
BLANK_TOLERANCE = 2


@dataclass(frozen=True)
class Character:
    """A loaded character image.

    Attributes:
        image: (H, W, 3) uint8 RGB or (H, W, 4) uint8 RGBA, the working image.
        path: the file it came from (``None`` for in-memory images).
        original_size: (H, W) of the file's pixels (of the SVG render for SVGs).
        scale: working pixels per original pixel (1.0 unless the image was downscaled).
    """

    image: NDArray[np.uint8]
    path: Path | None
    original_size: tuple[int, int]
    scale: float

    @property
    def rgb(self) -> NDArray[np.uint8]:
        """(H, W, 3) uint8 RGB (alpha composited over white), a writable array."""
        from faceshot_animate import composite_over

        return np.array(composite_over(self.image), dtype=np.uint8, copy=True)

    @property
    def size(self) -> tuple[int, int]:
        """(H, W) of :attr:`image`."""
        return int(self.image.shape[0]), int(self.image.shape[1])


def _svg_to_array(path: Path) -> NDArray[np.uint8]:
    import cairosvg
    from PIL import Image

    data = path.read_bytes()
    if not data.strip():
        raise CharacterImageError(f"character image {str(path)!r} is empty (0 bytes of SVG)")
    try:
        probe = cairosvg.svg2png(bytestring=data)
        with Image.open(io.BytesIO(probe)) as im:
            w0, h0 = im.size
        scale = SVG_LONG_SIDE / max(w0, h0)
        png = cairosvg.svg2png(
            bytestring=data,
            output_width=max(1, round(w0 * scale)),
            output_height=max(1, round(h0 * scale)),
        )
        with Image.open(io.BytesIO(png)) as im:
            return np.asarray(im.convert("RGBA"), dtype=np.uint8).copy()
    except CharacterImageError:
        raise
    except Exception as exc:  # cairosvg raises XML, value and cairo errors alike
        msg = " ".join(str(exc).split()) or type(exc).__name__
        raise CharacterImageError(f"cannot read SVG character image {str(path)!r}: {msg}") from None


def _raster_size(path: Path) -> tuple[int, int]:
    """(W, H) from the file header, refusing decompression bombs before any decoding."""
    from PIL import Image, UnidentifiedImageError

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(path) as im:
                return int(im.size[0]), int(im.size[1])
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        limit = (Image.MAX_IMAGE_PIXELS or 0) / 1e6
        found = re.search(r"(\d+) pixels", str(exc))
        size = f"{int(found.group(1)) / 1e6:.0f} MP" if found else "too large"
        raise CharacterImageError(
            f"character image {str(path)!r} is {size}, above the {limit:.1f} MP "
            "decompression-bomb limit; downscale it first"
        ) from None
    except (UnidentifiedImageError, OSError, ValueError) as exc:
        msg = " ".join(str(exc).split()) or type(exc).__name__
        raise CharacterImageError(f"cannot read character image {str(path)!r}: {msg}") from None


def load_character(path: str | os.PathLike[str], *, max_side: int = 1024) -> Character:
    """Read a character image file (PNG/JPEG/... via Pillow, SVG via cairosvg).

    Args:
        path: image file; ``.svg`` files are rendered at a 512-pixel long side.
        max_side: raster images with a longer side are downscaled to it (area filter).

    Returns:
        :class:`Character` with an (H, W, 3|4) uint8 image.

    Raises:
        CharacterImageError: missing, empty, undecodable, smaller than 32 pixels on a side,
            or above the decompression-bomb limit (names the file and the problem).
    """
    from faceshot_animate import FaceshotAnimateError, load_image

    p = Path(path)
    if not p.exists():
        raise CharacterImageError(f"character image {str(p)!r} does not exist")
    if not p.is_file():
        raise CharacterImageError(f"character image {str(p)!r} is not a file")
    if p.stat().st_size == 0:
        raise CharacterImageError(f"character image {str(p)!r} is empty (0 bytes)")
    if p.suffix.lower() == ".svg":
        image = _svg_to_array(p)
        h, w = image.shape[:2]
    else:
        w, h = _raster_size(p)
        image = None
    if min(w, h) < MIN_SIDE:
        raise CharacterImageError(
            f"character image {str(p)!r} is {w}x{h} pixels; need at least {MIN_SIDE}x{MIN_SIDE}"
        )
    if image is None:
        try:
            image = load_image(p)
        except FaceshotAnimateError as exc:
            msg = " ".join(str(exc).split())
            raise CharacterImageError(f"character image {str(p)!r}: {msg}") from None
    scale = 1.0
    if max(w, h) > max_side:
        import cv2

        scale = max_side / max(w, h)
        new = (max(MIN_SIDE, round(w * scale)), max(MIN_SIDE, round(h * scale)))
        image = np.asarray(cv2.resize(image, new, interpolation=cv2.INTER_AREA), dtype=np.uint8)
        scale = new[0] / w
    return Character(np.ascontiguousarray(image), p, (int(h), int(w)), float(scale))


def check_not_blank(character: Character) -> None:
    """Refuse a character image with no content at all before matching landmarks on it:
    fully transparent, or every pixel one colour (within :data:`BLANK_TOLERANCE` levels,
    for JPEG noise). There is no face to find.

    Raises:
        CharacterImageError: names the image and what it holds.
    """
    image = character.image
    name = f"character image {str(character.path)!r}" if character.path is not None else "`image`"
    if image.ndim == 3 and image.shape[2] == 4 and not image[..., 3].any():
        raise CharacterImageError(f"{name} is blank (fully transparent); there is no face to animate")
    flat = image.reshape(-1, image.shape[2] if image.ndim == 3 else 1)
    if int((flat.max(axis=0).astype(np.int16) - flat.min(axis=0)).max()) <= BLANK_TOLERANCE:
        colour = tuple(int(c) for c in flat[0])
        raise CharacterImageError(f"{name} is blank (every pixel is {colour}); there is no face to animate")


def check_output_path(
    output: str | os.PathLike[str], *, inputs: tuple[str | os.PathLike[str] | None, ...] = ()
) -> Path:
    """Check that an ``.mp4`` can be written at ``output`` before any work is done.

    Args:
        output: destination video path.
        inputs: input files that must not be overwritten.

    Returns:
        ``output`` as a :class:`Path`.

    Raises:
        OutputPathError: wrong suffix, missing or unwritable directory, an existing directory,
            or an input file.
    """
    out = Path(output)
    if out.suffix.lower() != ".mp4":
        raise OutputPathError(f"output {str(out)!r} must end in .mp4 (H.264 MP4); got suffix {out.suffix!r}")
    if out.is_dir():
        raise OutputPathError(f"output {str(out)!r} is a directory; expected a file path")
    directory = out.parent if str(out.parent) else Path(".")
    if not directory.is_dir():
        raise OutputPathError(f"cannot write output {str(out)!r}: directory {str(directory)!r} does not exist")
    for item in inputs:
        if item is not None and out.exists() and Path(item).exists() and os.path.samefile(out, item):
            raise OutputPathError(f"output {str(out)!r} is the input file {str(item)!r}; refusing to overwrite it")
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{out.name}.", suffix=".probe", dir=directory)
        os.close(fd)
        os.unlink(tmp)
    except OSError as exc:
        reason = exc.strerror or type(exc).__name__
        raise OutputPathError(f"cannot write output {str(out)!r}: directory {str(directory)!r}: {reason}") from None
    return out


def default_gallery_path() -> Path:
    """The appearance gallery shipped with the package (``faceshot/data/gallery``).

    Raises:
        FileNotFoundError: the package was installed without its data (or from a zip).
    """
    root = resources.files("faceshot").joinpath("data", "gallery")
    path = Path(str(root))
    if not (path / "manifest.json").is_file():
        raise FileNotFoundError(
            f"the default gallery is missing from this install ({str(path)!r}); build it with "
            "`uv run python scripts/build_default_gallery.py` or pass --gallery"
        )
    return path
