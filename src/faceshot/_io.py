"""Input and output checks of the meta-package: character images, output paths, the gallery.

Character images:
    * PNG, JPEG, and anything else Pillow reads, through :func:`faceshot_animate.load_image`
      (grey and 16-bit become 8-bit RGB, alpha is kept as RGBA, the EXIF orientation is
      applied so photos from phones come out upright);
    * SVG through cairosvg, in a separate process (Ctrl-C, SIGTERM and a time limit stop it
      at once; its memory is capped), rendered with its long side :data:`SVG_LONG_SIDE`
      (512) pixels, never at its declared size. Refused before rendering: SVG files (or
      gzip-compressed ``.svgz`` content once inflated, decompressed as a stream) above
      :data:`MAX_SVG_BYTES`; a declared size above :data:`~faceshot_retarget.MAX_IMAGE_PIXELS`;
      rendering that takes more than :data:`SVG_TIMEOUT` seconds or more than
      :data:`SVG_MEMORY` bytes;
    * images smaller than :data:`MIN_SIDE` pixels on a side are refused (1x1, 16x16, ...);
    * images above the decompression-bomb limit (:data:`faceshot_retarget.MAX_IMAGE_PIXELS`,
      89.5 megapixels; 20000x20000 is 400) are refused from the file header, before their
      pixels are decoded. Below that limit, images with a long side above ``max_side``
      (1024 by default) are downscaled (area filter) and
      user landmarks scaled with them;
    * blank or near-uniform characters (:func:`check_not_blank`) are refused by every
      stage that needs a face (:meth:`FaceShot.match`, :meth:`FaceShot.animate`, ``faceshot
      render``) right after loading: there is no face to find or animate.

Outputs follow one policy (:func:`faceshot_retarget.check_output`, wrapped by
:func:`check_output_path`): the suffix matches the format written, the directory exists,
and an output is never one of the inputs, not even through a symbolic or hard link.
"""

from __future__ import annotations

import io
import os
import subprocess
import sys
import warnings
import zlib
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

from faceshot.errors import CharacterImageError, DrivingVideoError, OutputPathError

__all__ = [
    "MAX_SVG_BYTES",
    "MAX_WORKING_SIDE",
    "MIN_SIDE",
    "SVG_LONG_SIDE",
    "SVG_MEMORY",
    "SVG_TIMEOUT",
    "Character",
    "check_driving_video",
    "check_not_blank",
    "check_output_path",
    "default_gallery_path",
    "give_room",
    "load_character",
]

#: Long side in pixels SVG characters are rendered at.
SVG_LONG_SIDE = 512
#: Smallest accepted character (and driving video) side in pixels.
MIN_SIDE = 32
#: Largest accepted ``max_side``: characters are worked on at most this long side.
MAX_WORKING_SIDE = 8192
#: Largest SVG accepted, in bytes, as stored and (for gzip-compressed SVG) once inflated.
MAX_SVG_BYTES = 32 << 20
#: Seconds an SVG may take to render before it is refused.
SVG_TIMEOUT = 30.0
#: Address-space limit of the SVG rendering process, bytes.
SVG_MEMORY = 2 << 30
#: A character whose pixels all lie within this many grey levels of one colour is blank.
BLANK_LEVELS = 12


@dataclass(frozen=True)
class Character:
    """A loaded character image.

    Attributes:
        image: (H, W, 3) uint8 RGB or (H, W, 4) uint8 RGBA, the working image.
        path: the file it came from (``None`` for in-memory images).
        original_size: (H, W) of the file's pixels (of the SVG render for SVGs; upright,
            after the EXIF orientation).
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


def give_room(
    character: Character, landmarks: NDArray[np.float64], room: float
) -> tuple[Character, tuple[int, int]]:
    """Put a character that fills its image on a larger canvas, so its head can move.

    Each side of the image whose distance to the character's box is less than ``room``
    face-box widths is extended by the difference (rounded up, then by one more pixel where
    needed to make both sides even for H.264). The character's box holds the 68 landmarks
    and, on a plain or transparent background, its whole silhouette
    (``faceshot_animate.head_extent``: ears, horns and hair move with the head too); the
    face-box width is the landmarks' (x extent). The new pixels are transparent
    for RGBA images; for RGB images they are the border's colour when the border is plain
    (its pixels within 12 levels of their median), else the image mirrored at its edge.
    Characters with enough room, and every character when ``room`` is 0 (even one whose
    landmarks reach past the image edge), are returned unchanged.

    Args:
        character: the loaded character (working image).
        landmarks: (68, 2) float64 its landmarks in working-image pixels.
        room: wanted distance between the character's box and the canvas edge, in face-box
            widths (>= 0).

    Returns:
        ``(canvas_character, (left, top))``: the character on the canvas (same ``path``,
        ``original_size`` and ``scale``) and the canvas position of the working image's
        top-left pixel; landmarks move to ``landmarks + (left, top)``. Output videos have
        the canvas's size: (H + top + bottom, W + left + right).
    """
    if not (np.isfinite(room) and room >= 0):
        raise ValueError(f"`room` must be a non-negative number of face widths; got {room!r}")
    if room == 0:
        return character, (0, 0)
    from faceshot_animate import head_extent

    h, w = character.size
    pts = np.asarray(landmarks, dtype=np.float64).reshape(-1, 2)
    want = room * float(np.ptp(pts[:, 0]))
    extent = head_extent(character.image, pts)
    held = pts if extent is None else np.concatenate([pts, extent])
    lo, hi = held.min(axis=0), held.max(axis=0)
    left, top = (int(np.ceil(max(0.0, want - v))) for v in lo + 0.5)
    right = int(np.ceil(max(0.0, want - (w - 0.5 - hi[0]))))
    bottom = int(np.ceil(max(0.0, want - (h - 0.5 - hi[1]))))
    right += (w + left + right) % 2
    bottom += (h + top + bottom) % 2
    if not (left or top or right or bottom):
        return character, (0, 0)
    import cv2

    img = character.image
    pad = (top, bottom, left, right)
    if img.shape[2] == 4:
        out = cv2.copyMakeBorder(img, *pad, cv2.BORDER_CONSTANT, value=(0, 0, 0, 0))
    else:
        border = np.concatenate([img[0], img[-1], img[:, 0], img[:, -1]]).astype(np.int16)
        median = np.median(border, axis=0)
        if (
            np.abs(border - median).max(axis=1).mean() <= 12
            and np.percentile(np.abs(border - median).max(axis=1), 95) <= 24
        ):
            out = cv2.copyMakeBorder(
                img, *pad, cv2.BORDER_CONSTANT, value=tuple(int(v) for v in median)
            )
        else:
            out = cv2.copyMakeBorder(img, *pad, cv2.BORDER_REFLECT_101)
    canvas = Character(
        np.ascontiguousarray(out, dtype=np.uint8),
        character.path,
        character.original_size,
        character.scale,
    )
    return canvas, (left, top)


@dataclass(frozen=True)
class Staged:
    """A character on the canvas it is animated on (:func:`stage_on_canvas`).

    Attributes:
        canvas: the character given room (:func:`give_room`).
        offset: (left, top) canvas position of the working image's top-left pixel.
        landmarks: (68, 2) float64 its landmarks in canvas pixels.
        extent: (4, 2) float64 corners of its silhouette's box in canvas pixels
            (``faceshot_animate.head_extent`` of the canvas), ``None`` for scenes: what
            ``retarget(..., extent=)`` keeps inside the canvas besides the landmarks.
    """

    canvas: Character
    offset: tuple[int, int]
    landmarks: NDArray[np.float64]
    extent: NDArray[np.float64] | None


def stage_on_canvas(character: Character, landmarks: NDArray[np.float64], room: float) -> Staged:
    """The character as ``FaceShot.animate`` animates it: on a canvas with ``room`` face
    widths around it (:func:`give_room`), its landmarks moved there, and the silhouette's
    box to keep in that canvas. The one recipe for the pipeline, ``faceshot bench``, the
    benchmarks and the contact sheet, so they retarget alike.

    Args:
        character: the loaded character (working image).
        landmarks: (68, 2) float64 its landmarks in working-image pixels.
        room: wanted distance to the canvas edge, in face-box widths (>= 0).
    """
    from faceshot_animate import head_extent

    canvas, (dx, dy) = give_room(character, landmarks, room)
    pts = np.asarray(landmarks, dtype=np.float64) + np.array([dx, dy], dtype=np.float64)
    return Staged(canvas, (dx, dy), pts, head_extent(canvas.image, pts))


def _inflate(data: bytes, name: str) -> bytes:
    """gzip-compressed SVG (``.svgz``) -> bytes, streamed, refused above MAX_SVG_BYTES."""
    out = bytearray()
    rest = data
    while rest[:2] == b"\x1f\x8b":
        d = zlib.decompressobj(16 + zlib.MAX_WBITS)
        chunk = rest
        try:
            while chunk and not d.eof:
                out += d.decompress(chunk, MAX_SVG_BYTES + 1 - len(out))
                if len(out) > MAX_SVG_BYTES:
                    raise CharacterImageError(
                        f"SVG character image {name!r} inflates to more than {MAX_SVG_BYTES >> 20} MiB "
                        "(a compression bomb?); the limit is that size of SVG text"
                    )
                chunk = d.unconsumed_tail
        except zlib.error as exc:
            raise CharacterImageError(
                f"cannot read SVG character image {name!r}: broken gzip data ({exc})"
            ) from None
        if not d.eof:
            raise CharacterImageError(
                f"cannot read SVG character image {name!r}: truncated gzip data"
            )
        rest = d.unused_data
    return bytes(out) if out else data


# Runs in a fresh interpreter (python -I): only cairosvg is imported. Exit 3 + one stderr
# line for a refused SVG; the parent turns either into a CharacterImageError.
_SVG_CHILD = r"""
import io, math, resource, sys
limit, long_side, max_pixels = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
try:
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
except (ValueError, OSError):
    pass
def refuse(msg):
    sys.stderr.write(msg + "\n")
    sys.exit(3)
try:
    from cairosvg.helpers import node_format
    from cairosvg.parser import Tree
    from cairosvg.surface import PNGSurface
    data = sys.stdin.buffer.read()
    tree = Tree(bytestring=data)
    class Probe:
        dpi, font_size, context_width, context_height = 96, 16.0, 0, 0
    w, h, _ = node_format(Probe, tree)
    if not (math.isfinite(w) and math.isfinite(h)) or w <= 0 or h <= 0:
        refuse("has no usable size (no positive width/height or viewBox)")
    if w * h > max_pixels:
        refuse(f"declares {w:.0f}x{h:.0f} pixels, above the {max_pixels / 1e6:.1f} MP limit")
    scale = long_side / max(w, h)
    ow, oh = max(1, round(w * scale)), max(1, round(h * scale))
    buf = io.BytesIO()
    PNGSurface(tree, buf, 96, output_width=ow, output_height=oh).finish()
    sys.stdout.buffer.write(buf.getvalue())
except MemoryError:
    refuse(f"needs more than {limit >> 30} GiB of memory to render")
except SystemExit:
    raise
except BaseException as exc:
    refuse(" ".join(str(exc).split()) or type(exc).__name__)
"""


def _svg_to_array(path: Path) -> NDArray[np.uint8]:
    """Render an SVG at :data:`SVG_LONG_SIDE` in a bounded, killable child process."""
    from faceshot_retarget import MAX_IMAGE_PIXELS, input_file_problem
    from PIL import Image

    name = str(path)
    problem = input_file_problem(path, max_bytes=MAX_SVG_BYTES)
    if problem is not None:
        raise CharacterImageError(f"SVG character image {name!r} {problem}")
    data = path.read_bytes()
    if not data.strip():
        raise CharacterImageError(f"character image {name!r} is empty (0 bytes of SVG)")
    data = _inflate(data, name)
    cmd = [
        sys.executable,
        "-I",
        "-c",
        _SVG_CHILD,
        str(SVG_MEMORY),
        str(SVG_LONG_SIDE),
        str(MAX_IMAGE_PIXELS),
    ]
    try:
        done = subprocess.run(
            cmd, input=data, capture_output=True, timeout=SVG_TIMEOUT, check=False
        )
    except subprocess.TimeoutExpired:
        raise CharacterImageError(
            f"SVG character image {name!r} took more than {SVG_TIMEOUT:.0f} s to render; "
            "simplify it or convert it to PNG"
        ) from None
    if done.returncode != 0:
        lines = [ln for ln in done.stderr.decode("utf-8", "replace").splitlines() if ln.strip()]
        why = (
            lines[-1].strip() if lines else f"the renderer stopped (exit status {done.returncode})"
        )
        if done.returncode < 0:
            why = f"the renderer was killed (signal {-done.returncode}); it may need more than {SVG_MEMORY >> 30} GiB"
        raise CharacterImageError(f"cannot read SVG character image {name!r}: {why}")
    try:
        with Image.open(io.BytesIO(done.stdout)) as im:
            return np.asarray(im.convert("RGBA"), dtype=np.uint8).copy()
    except Exception as exc:  # a renderer that wrote no PNG
        msg = " ".join(str(exc).split()) or type(exc).__name__
        raise CharacterImageError(f"cannot read SVG character image {name!r}: {msg}") from None


def _raster_size(path: Path) -> tuple[int, int]:
    """Upright (W, H) from the file header, refusing decompression bombs before any decoding."""
    from faceshot_retarget import EXIF_ORIENTATION_TAG, MAX_IMAGE_PIXELS
    from PIL import Image, UnidentifiedImageError

    def bomb(pixels: int) -> CharacterImageError:
        return CharacterImageError(
            f"character image {str(path)!r} is {pixels / 1e6:.0f} MP, above the "
            f"{MAX_IMAGE_PIXELS / 1e6:.1f} MP decompression-bomb limit; downscale it first"
        )

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(path) as im:
                w, h = int(im.size[0]), int(im.size[1])
                if w * h > MAX_IMAGE_PIXELS:
                    raise bomb(w * h)
                orientation = im.getexif().get(EXIF_ORIENTATION_TAG, 1)
    except CharacterImageError:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        import re

        found = re.search(r"(\d+) pixels", str(exc))
        raise bomb(int(found.group(1)) if found else MAX_IMAGE_PIXELS + 1) from None
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError) as exc:
        msg = " ".join(str(exc).split()) or type(exc).__name__
        raise CharacterImageError(f"cannot read character image {str(path)!r}: {msg}") from None
    return (h, w) if orientation in (5, 6, 7, 8) else (w, h)


def check_not_blank(image: NDArray[np.uint8], name: str) -> None:
    """Refuse a blank or near-uniform character image (nothing to find or animate).

    Args:
        image: (H, W, 3|4) uint8.
        name: how the image is named in the message (``"character image 'x.png'"``).

    Raises:
        CharacterImageError: fewer than max(16 pixels, 0.02 %) of the pixels differ from the
            median colour (RGB composited over white, and alpha) by more than
            :data:`BLANK_LEVELS` grey levels.
    """
    from faceshot_animate import composite_over

    img = np.asarray(image)
    step = max(1, int(np.sqrt(img.shape[0] * img.shape[1] / 262144)))  # at most ~512x512 samples
    sample = np.ascontiguousarray(img[::step, ::step])
    rgb = composite_over(sample).reshape(-1, 3).astype(np.int16)
    planes = [rgb]
    if sample.ndim == 3 and sample.shape[2] == 4:
        planes.append(sample[:, :, 3].reshape(-1, 1).astype(np.int16))
    values = np.concatenate(planes, axis=1)
    median = np.median(values, axis=0)
    differs = (np.abs(values - median) > BLANK_LEVELS).any(axis=1)
    if int(differs.sum()) < max(16 // (step * step) or 1, int(2e-4 * len(values))):
        colour = tuple(int(v) for v in median[:3])
        raise CharacterImageError(
            f"{name} is blank: all its pixels lie within {BLANK_LEVELS} grey levels of one colour "
            f"{colour}; there is no face to animate"
        )


def load_character(path: str | os.PathLike[str], *, max_side: int = 1024) -> Character:
    """Read a character image file (PNG/JPEG/... via Pillow, SVG via cairosvg).

    Args:
        path: image file; ``.svg`` files are rendered at a 512-pixel long side.
        max_side: raster images with a longer side are downscaled to it (area filter); an
            int >= :data:`MIN_SIDE` (no upper limit: the pixel limit bounds the work;
            ``faceshot animate --max-side`` accepts up to :data:`MAX_WORKING_SIDE`).

    Returns:
        :class:`Character` with an (H, W, 3|4) uint8 image, upright (EXIF orientation applied).

    Raises:
        CharacterImageError: missing, not a regular file, empty, undecodable, smaller than
            32 pixels on a side, or above the decompression-bomb limit (names the file and
            the problem).
        ValueError: ``max_side`` outside its range.
    """
    from faceshot_animate import FaceshotAnimateError, load_image
    from faceshot_retarget import input_file_problem

    if (
        isinstance(max_side, bool)
        or not isinstance(max_side, int | np.integer)
        or max_side < MIN_SIDE
    ):
        raise ValueError(f"`max_side` must be an int >= {MIN_SIDE}; got {max_side!r}")
    p = Path(path)
    problem = input_file_problem(p)
    if problem is not None:
        raise CharacterImageError(f"character image {str(p)!r} {problem}")
    if p.suffix.lower() in (".svg", ".svgz"):
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


def check_output_path(
    output: str | os.PathLike[str],
    *,
    inputs: tuple[str | os.PathLike[str] | None, ...] = (),
    suffixes: tuple[str, ...] | None = (".mp4",),
    option: str = "output",
    what: str | None = "H.264 MP4",
    directory: bool = False,
) -> Path:
    """Check that an output can be written at ``output`` before any work is done.

    The output policy of :func:`faceshot_retarget.check_output` (suffix, directory, never an
    input or a link to one), raising the meta-package's :class:`OutputPathError`.

    Args:
        output: destination path (an ``.mp4`` by default).
        inputs: input files that must not be overwritten.
        suffixes: accepted suffixes (``None``: any).
        option: how the output is named in messages (``"-o"``, ``"--preview"``).
        what: the format written, for the suffix message.
        directory: the output is a directory.

    Returns:
        ``output`` as a :class:`Path`.

    Raises:
        OutputPathError: wrong suffix, missing or unwritable directory, an existing directory,
            or an input file.
    """
    from faceshot_retarget import check_output
    from faceshot_retarget import errors as rerr

    try:
        return check_output(
            output, suffixes=suffixes, inputs=inputs, option=option, what=what, directory=directory
        )
    except rerr.OutputPathError as exc:
        raise OutputPathError(str(exc)) from None


def check_driving_video(path: str | os.PathLike[str], size_wh: tuple[int, int]) -> None:
    """Refuse a driving video whose frames are too small or too large to track a face in.

    Args:
        path: the video (for the message).
        size_wh: (W, H) of its frames (:attr:`faceshot_retarget.VideoInfo.size_wh`; the
            message says WxH).

    Raises:
        DrivingVideoError: a side under :data:`MIN_SIDE` pixels, or frames above
            :data:`faceshot_retarget.MAX_IMAGE_PIXELS`.
    """
    from faceshot_retarget import MAX_IMAGE_PIXELS

    w, h = (int(v) for v in size_wh)
    if min(w, h) < MIN_SIDE:
        raise DrivingVideoError(
            f"driving video {str(path)!r} is {w}x{h} pixels; need at least {MIN_SIDE}x{MIN_SIDE} to find a face"
        )
    if w * h > MAX_IMAGE_PIXELS:
        raise DrivingVideoError(
            f"driving video {str(path)!r} frames are {w}x{h} ({w * h / 1e6:.0f} MP), above the "
            f"{MAX_IMAGE_PIXELS / 1e6:.1f} MP limit; downscale it first"
        )


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
