"""Pose images and landmark export for other landmark-driven animators.

Pose images are coloured part polylines on black, the conditioning picture MOFA-Video's
landmark ControlNet (and AniPortrait-style pose guiders) consume. The part split and
colours follow MOFA-Video-Hybrid's face renderer (15 polylines: jaw; each brow; each eye,
closed; nose bridge; nose base; the outer and inner lips split into left/right,
top/bottom halves), so images drawn here match what that ControlNet was trained on.

Export formats (:func:`export_sequence`):

``npy``
    one ``.npy`` file, (T, 68, 2) float64, faceshot's convention (pixel (x, y), origin at
    the top-left pixel centre), rescaled to the requested size.
``pose-png``
    a directory of ``00000.png`` ... pose images, (H, W, 3) uint8 RGB.
``mofa``
    a directory laid out for MOFA-Video-Hybrid's landmark pipeline, which loads
    ``landmarks.npy`` of shape (T, 68, 2) in pixel (x, y) of the frame size it animates at
    (its demo: 512x512) and draws pose images itself: ``landmarks.npy`` (float32, rescaled
    to ``size``), ``pose/00000.png`` ... (the pose images, for inspection or other
    pipelines) and ``meta.json`` (size, frame count, layout notes). MOFA truncates
    coordinates with ``int()``, i.e. the same pixel-centre origin as faceshot, so no
    half-pixel shift is applied. Assumption documented here: the exact dtype MOFA's own
    landmark producer writes is not known; float32 loads identically there.

Directories are written atomically: into a temporary sibling directory renamed to the
destination on success. ``overwrite`` replaces only a previous export: an existing
destination directory holding anything an export of that format does not write (your
other files) is refused, never deleted; a destination that contains the input file is
refused by the ``faceshot export`` command.
"""

from __future__ import annotations

import json
import os
import re
import shutil
from collections.abc import Sequence
from pathlib import Path
from typing import Final

import cv2
import numpy as np
from numpy.typing import ArrayLike, NDArray

from faceshot_animate.errors import ExportError

__all__ = [
    "EXPORT_FORMATS",
    "POSE_PARTS",
    "export_sequence",
    "render_pose_image",
    "scale_landmarks",
]

#: (name, 0-based iBUG indices of the polyline, RGB colour), MOFA-Video-Hybrid's layout.
POSE_PARTS: Final[tuple[tuple[str, tuple[int, ...], tuple[int, int, int]], ...]] = (
    ("jaw", tuple(range(0, 17)), (10, 200, 10)),
    ("left_eye", (42, 43, 44, 45, 46, 47, 42), (180, 200, 10)),
    ("left_brow", (22, 23, 24, 25, 26), (180, 220, 10)),
    ("right_eye", (36, 37, 38, 39, 40, 41, 36), (10, 200, 180)),
    ("right_brow", (17, 18, 19, 20, 21), (10, 220, 180)),
    ("nose_bridge", (27, 28, 29, 30), (10, 200, 250)),
    ("nose_base", (31, 32, 33, 34, 35), (250, 200, 10)),
    ("outer_lip_bottom_left", (54, 55, 56, 57), (10, 180, 20)),
    ("outer_lip_bottom_right", (48, 59, 58, 57), (20, 10, 180)),
    ("inner_lip_bottom_left", (64, 65, 66), (100, 100, 30)),
    ("inner_lip_bottom_right", (60, 67, 66), (100, 150, 50)),
    ("outer_lip_top_left", (51, 52, 53, 54), (20, 80, 100)),
    ("outer_lip_top_right", (51, 50, 49, 48), (80, 100, 20)),
    ("inner_lip_top_left", (62, 63, 64), (120, 100, 200)),
    ("inner_lip_top_right", (62, 61, 60), (150, 120, 100)),
)

#: The formats :func:`export_sequence` writes.
EXPORT_FORMATS: Final = ("mofa", "pose-png", "npy")


def _size(value: Sequence[int] | None, name: str) -> tuple[int, int] | None:
    if value is None:
        return None
    try:
        w, h = (int(v) for v in value)
    except (TypeError, ValueError):
        raise ExportError(f"`{name}` must be a (width, height) pair; got {value!r}") from None
    if w < 1 or h < 1:
        raise ExportError(f"`{name}` must be positive; got {(w, h)}")
    return w, h


def scale_landmarks(
    landmarks: ArrayLike, source_size: Sequence[int], size: Sequence[int]
) -> NDArray[np.float64]:
    """Rescale landmarks from one image size to another (pixel-centre convention).

    Args:
        landmarks: (T, 68, 2) or (68, 2) pixel (x, y) in an image of ``source_size``.
        source_size: (W, H) of the image the landmarks belong to.
        size: (W, H) of the target frame.

    Returns:
        (T, 68, 2) float64, ``(p + 0.5) * size / source_size - 0.5``
        (:func:`faceshot_retarget.rescale_points`).
    """
    from faceshot_retarget import as_points, rescale_points

    pts = as_points(landmarks, "landmarks")
    src = _size(source_size, "source_size")
    dst = _size(size, "size")
    assert src is not None and dst is not None
    return rescale_points(pts, src[::-1], dst[::-1])


def render_pose_image(
    landmarks: ArrayLike,
    size: Sequence[int],
    *,
    thickness: int = 2,
    canvas: NDArray[np.uint8] | None = None,
) -> NDArray[np.uint8]:
    """Draw one frame of landmarks as coloured part polylines (:data:`POSE_PARTS`).

    Args:
        landmarks: (68, 2) or (1, 68, 2) pixel (x, y) in the frame being drawn.
        size: (W, H) of the image.
        thickness: line width in pixels.
        canvas: optional (H, W, 3) uint8 image to draw on (copied, never modified);
            default black.

    Returns:
        (H, W, 3) uint8 RGB.
    """
    from faceshot_retarget import as_points

    pts = as_points(landmarks, "landmarks")
    if pts.shape[0] != 1:
        raise ExportError(f"`landmarks` must be one frame (68, 2); got {pts.shape[0]} frames")
    wh = _size(size, "size")
    assert wh is not None
    w, h = wh
    if canvas is None:
        image = np.zeros((h, w, 3), dtype=np.uint8)
    else:
        if canvas.shape != (h, w, 3) or canvas.dtype != np.uint8:
            raise ExportError(
                f"`canvas` must be ({h}, {w}, 3) uint8; got {canvas.shape} {canvas.dtype}"
            )
        image = canvas.copy()
    fixed = np.round(pts[0] * 16.0).astype(np.int32)  # 4 fractional bits
    for _, idx, colour in POSE_PARTS:
        cv2.polylines(image, [fixed[list(idx)]], False, colour, int(thickness), cv2.LINE_AA, 4)
    return image


def _write_png(path: Path, image: NDArray[np.uint8]) -> None:
    ok, buf = cv2.imencode(".png", cv2.cvtColor(image, cv2.COLOR_RGB2BGR))
    if not ok:
        raise ExportError(f"cannot encode PNG {str(path)!r}")
    path.write_bytes(buf.tobytes())


#: Names an export of each directory format writes (anything else in an existing
#: destination is someone else's file: ``overwrite`` refuses to delete it).
_FRAME_PNG = re.compile(r"^\d{5}\.png$")


def _foreign_entries(dest: Path, format: str) -> list[str]:
    """Entries of an existing directory that an export of ``format`` would not have written."""
    foreign = []
    for entry in sorted(dest.iterdir()):
        name = entry.name
        if format == "pose-png":
            ok = entry.is_file() and not entry.is_symlink() and bool(_FRAME_PNG.match(name))
        elif name == "pose" and entry.is_dir() and not entry.is_symlink():
            inner = _foreign_entries(entry, "pose-png")
            foreign += [f"pose/{n}" for n in inner]
            ok = True
        else:
            ok = (
                name in ("landmarks.npy", "meta.json")
                and entry.is_file()
                and not entry.is_symlink()
            )
        if not ok:
            foreign.append(name)
    return foreign


def _atomic_dir(dest: Path, overwrite: bool, format: str) -> Path:
    from faceshot_retarget import temp_dir_beside
    from faceshot_retarget.errors import OutputPathError

    parent = dest.parent if str(dest.parent) else Path(".")
    if not parent.is_dir():
        raise ExportError(f"cannot write {str(dest)!r}: directory {str(parent)!r} does not exist")
    if dest.exists() or dest.is_symlink():
        if not overwrite:
            raise ExportError(
                f"output {str(dest)!r} already exists (pass overwrite=True to replace it)"
            )
        if dest.is_symlink() or not dest.is_dir():
            raise ExportError(
                f"output {str(dest)!r} exists and is not a directory; refusing to replace it"
            )
        foreign = _foreign_entries(dest, format)
        if foreign:
            shown = ", ".join(repr(n) for n in foreign[:3]) + (" ..." if len(foreign) > 3 else "")
            raise ExportError(
                f"output {str(dest)!r} holds files a {format} export does not write ({shown}); "
                "overwrite only replaces a previous export, never other files: choose a new directory"
            )
    try:
        return temp_dir_beside(dest)
    except OutputPathError as exc:
        raise ExportError(str(exc)) from None


def _commit_dir(tmp: Path, dest: Path) -> None:
    """Swap ``tmp`` in at ``dest``; the old export (checked by :func:`_atomic_dir`) goes.

    ``tmp`` is committed with :func:`faceshot_retarget.replace_atomically` (every file and
    the directory flushed to disk, then renamed)."""
    from faceshot_retarget import replace_atomically

    old = None
    if dest.exists():
        old = dest.with_name(f".{dest.name[:200]}.{os.getpid()}.old")
        os.replace(dest, old)
    try:
        replace_atomically(tmp, dest)
    except BaseException:
        if old is not None:
            os.replace(old, dest)
        raise
    if old is not None:
        shutil.rmtree(old)


def export_sequence(
    landmarks: ArrayLike,
    out: str | os.PathLike[str],
    *,
    format: str,
    size: Sequence[int] | None = None,
    source_size: Sequence[int] | None = None,
    thickness: int = 2,
    overwrite: bool = False,
    progress: bool = True,
) -> Path:
    """Export a landmark sequence for another landmark-driven model.

    Args:
        landmarks: (T, 68, 2) or (68, 2) float pixel (x, y) in an image of ``source_size``.
        out: destination: a ``.npy`` file for ``npy``, a directory for ``pose-png``/``mofa``.
        format: one of :data:`EXPORT_FORMATS` (see the module docstring for the layouts).
        size: (W, H) of the exported frames; default ``source_size``.
        source_size: (W, H) of the image the landmarks belong to; default ``size``.
            At least one of the two is needed for the image formats.
        thickness: pose line width in pixels.
        overwrite: replace an existing destination (atomically) that holds a previous
            export; a directory holding other files is refused, never deleted.
        progress: tqdm bar on stderr while drawing pose images.

    Returns:
        The written path.

    Raises:
        ExportError: unknown format, missing/bad sizes, a thickness outside [1, 64], an
            ``npy`` output not ending in ``.npy``, an existing destination (or, with
            ``overwrite``, one holding files an export does not write).
    """
    from faceshot_retarget import as_points, write_npy
    from tqdm.auto import tqdm

    if format not in EXPORT_FORMATS:
        raise ExportError(f"`format` must be one of {list(EXPORT_FORMATS)}; got {format!r}")
    if (
        isinstance(thickness, bool)
        or not isinstance(thickness, int | np.integer)
        or not 1 <= thickness <= 64
    ):
        raise ExportError(f"`thickness` must be an int in [1, 64] pixels; got {thickness!r}")
    pts = as_points(landmarks, "landmarks")
    dst = _size(size, "size")
    src = _size(source_size, "source_size")
    dst = dst or src
    src = src or dst
    if dst is not None and src is not None:
        pts = scale_landmarks(pts, src, dst)
    dest = Path(out)
    if format == "npy":
        if dest.suffix.lower() != ".npy":
            raise ExportError(
                f"format 'npy' writes a .npy file; output {str(dest)!r} must end in .npy"
            )
        if dest.exists() and not overwrite:
            raise ExportError(
                f"output {str(dest)!r} already exists (pass overwrite=True to replace it)"
            )
        if dest.is_dir() or (dest.exists() and not dest.is_file()):
            raise ExportError(
                f"output {str(dest)!r} exists and is not a regular file; refusing to replace it"
            )
        return write_npy(dest, pts)
    if dst is None:
        raise ExportError(f"format {format!r} draws images: give `size` or `source_size` (W, H)")
    tmp = _atomic_dir(dest, overwrite, format)
    try:
        pose_dir = tmp / "pose" if format == "mofa" else tmp
        pose_dir.mkdir(exist_ok=True)
        for t in tqdm(range(pts.shape[0]), disable=not progress, desc="pose images", unit="frame"):
            _write_png(
                pose_dir / f"{t:05d}.png", render_pose_image(pts[t], dst, thickness=thickness)
            )
        if format == "mofa":
            np.save(tmp / "landmarks.npy", pts.astype(np.float32), allow_pickle=False)
            meta = {
                "format": "faceshot-mofa-landmarks",
                "version": 1,
                "frames": int(pts.shape[0]),
                "size": list(dst),
                "landmarks": "landmarks.npy: (T, 68, 2) float32 pixel (x, y), iBUG 68 order, frame 0 = reference",
                "pose": "pose/%05d.png: part polylines on black, MOFA-Video-Hybrid colours",
            }
            (tmp / "meta.json").write_text(json.dumps(meta, indent=1), encoding="utf-8")
        _commit_dir(tmp, dest)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return dest
