"""Landmark file IO: iBUG ``.pts``, JSON and ``.npy``.

Coordinate conventions on disk:
    ``.pts`` files (iBUG 300-W, menpo) store **1-based** pixel coordinates (MATLAB style);
    they are converted to faceshot's 0-based convention (origin at the top-left pixel
    centre) on read and back on write. JSON and ``.npy`` store faceshot's 0-based
    coordinates as they are.

Writes are atomic: data goes to a temporary file in the destination directory that is
renamed over the destination only on success.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import IO, Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from faceshot_retarget._landmarks import Landmarks, as_points
from faceshot_retarget.errors import FaceshotRetargetError, LandmarkFileError
from faceshot_retarget.ibug68 import NUM_POINTS

__all__ = [
    "JSON_FORMAT",
    "atomic_write",
    "load_landmarks",
    "read_json",
    "read_npy",
    "read_pts",
    "save_landmarks",
    "write_json",
    "write_npy",
    "write_pts",
]

#: The ``format`` tag of faceshot landmark JSON files.
JSON_FORMAT = "faceshot-landmarks"
_JSON_VERSION = 1


def _current_umask() -> int:
    """The process umask (read without changing it where /proc allows; else set-and-restore)."""
    try:
        with open("/proc/self/status", encoding="ascii") as f:
            for line in f:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError):
        pass
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def atomic_write(path: str | os.PathLike[str], write: Callable[[IO[bytes]], object]) -> Path:
    """Call ``write(f)`` on a temporary file next to ``path``, then rename it to ``path``.

    A failure (or a killed process) leaves no partial file under the final name.
    """
    dest = Path(path)
    directory = dest.parent if str(dest.parent) else Path(".")
    if not directory.is_dir():
        raise LandmarkFileError(f"cannot write {str(dest)!r}: directory {str(directory)!r} does not exist")
    fd, tmp = tempfile.mkstemp(prefix=f".{dest.name}.", suffix=".tmp", dir=directory)
    try:
        # mkstemp creates 0600 files; give the result the mode a plain open() would (0666 & ~umask).
        os.fchmod(fd, 0o666 & ~_current_umask())
        with os.fdopen(fd, "wb") as f:
            write(f)
        os.replace(tmp, dest)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return dest


def _read_text(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise LandmarkFileError(f"landmark file {str(path)!r} does not exist") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise LandmarkFileError(f"cannot read landmark file {str(path)!r}: {exc}") from None


def read_pts(path: str | os.PathLike[str], *, one_based: bool = True) -> Landmarks:
    """Read an iBUG ``.pts`` file.

    Args:
        path: file with ``version: 1``, ``n_points: 68``, ``{``, 68 lines ``x y``, ``}``.
        one_based: the file stores 1-based coordinates (iBUG/menpo convention); 1 is
            subtracted to give faceshot's 0-based pixel coordinates.

    Returns:
        :class:`Landmarks` with T = 1, (1, 68, 2) float64 pixel (x, y).

    Raises:
        LandmarkFileError: missing file, malformed header or body, wrong point count.
    """
    p = Path(path)
    text = _read_text(p)
    lines = [ln.strip() for ln in text.splitlines() if ln.strip()]
    try:
        start = lines.index("{")
        end = lines.index("}", start)
    except ValueError:
        raise LandmarkFileError(f"{str(p)!r} is not a .pts file: no '{{' ... '}}' block") from None
    header = {}
    for ln in lines[:start]:
        key, _, val = ln.partition(":")
        header[key.strip().lower()] = val.strip()
    body = lines[start + 1 : end]
    try:
        pts = np.array([[float(v) for v in ln.split()[:2]] for ln in body], dtype=np.float64)
    except ValueError:
        raise LandmarkFileError(f"{str(p)!r}: a point line is not two numbers") from None
    n_declared = header.get("n_points")
    if n_declared is not None and n_declared.isdigit() and int(n_declared) != len(body):
        raise LandmarkFileError(
            f"{str(p)!r}: header says n_points: {n_declared} but the body has {len(body)} points"
        )
    if pts.shape != (NUM_POINTS, 2):
        raise LandmarkFileError(f"{str(p)!r}: expected 68 points of 2 numbers; got shape {pts.shape}")
    if one_based:
        pts = pts - 1.0
    try:
        return Landmarks(pts)
    except FaceshotRetargetError as exc:
        raise LandmarkFileError(f"{str(p)!r}: {exc}") from None


def write_pts(path: str | os.PathLike[str], landmarks: Landmarks | ArrayLike, *, one_based: bool = True) -> Path:
    """Write a single-frame landmark set as an iBUG ``.pts`` file (atomic).

    Args:
        landmarks: (68, 2) or (1, 68, 2) pixel (x, y), 0-based.
        one_based: add 1 on write (the iBUG convention), the inverse of :func:`read_pts`.
    """
    pts = as_points(landmarks, "landmarks")
    if pts.shape[0] != 1:
        raise LandmarkFileError(f".pts holds one frame; `landmarks` has {pts.shape[0]} frames")
    out = pts[0] + (1.0 if one_based else 0.0)
    body = "\n".join(f"{x!r} {y!r}" for x, y in out.tolist())
    text = f"version: 1\nn_points: {NUM_POINTS}\n{{\n{body}\n}}\n"
    return atomic_write(path, lambda f: f.write(text.encode("utf-8")))


def read_json(path: str | os.PathLike[str]) -> Landmarks:
    """Read landmarks from JSON.

    Accepts faceshot's format ``{"format": "faceshot-landmarks", "version": 1, "points":
    [[[x, y] * 68] * T], "image_size": [H, W] | null, "visible": [[bool] * 68] * T | null}``
    or a bare nested list of shape (68, 2) or (T, 68, 2). Coordinates are 0-based pixels.
    """
    p = Path(path)
    try:
        data: Any = json.loads(_read_text(p))
    except json.JSONDecodeError as exc:
        raise LandmarkFileError(f"{str(p)!r} is not valid JSON: {exc}") from None
    image_size = visible = None
    if isinstance(data, dict):
        if data.get("format", JSON_FORMAT) != JSON_FORMAT or "points" not in data:
            raise LandmarkFileError(
                f"{str(p)!r}: expected a {JSON_FORMAT!r} object with a 'points' key"
            )
        image_size = data.get("image_size")
        visible = data.get("visible")
        data = data["points"]
    try:
        vis = None if visible is None else np.asarray(visible, dtype=bool)
        return Landmarks(np.asarray(data, dtype=np.float64), image_size, vis)
    except (FaceshotRetargetError, TypeError, ValueError) as exc:
        raise LandmarkFileError(f"{str(p)!r}: {exc}") from None


def write_json(path: str | os.PathLike[str], landmarks: Landmarks | ArrayLike) -> Path:
    """Write landmarks as faceshot JSON (atomic); see :func:`read_json`."""
    lm = landmarks if isinstance(landmarks, Landmarks) else Landmarks(landmarks)
    doc = {
        "format": JSON_FORMAT,
        "version": _JSON_VERSION,
        "image_size": None if lm.image_size is None else list(lm.image_size),
        "points": lm.points.tolist(),
        "visible": None if lm.visible is None else lm.visible.tolist(),
    }
    return atomic_write(path, lambda f: f.write(json.dumps(doc).encode("utf-8")))


def read_npy(path: str | os.PathLike[str]) -> Landmarks:
    """Read a ``.npy`` array of shape (T, 68, 2) or (68, 2), 0-based pixel (x, y)."""
    p = Path(path)
    try:
        arr = np.load(p, allow_pickle=False)
    except FileNotFoundError:
        raise LandmarkFileError(f"landmark file {str(p)!r} does not exist") from None
    except (OSError, ValueError, EOFError) as exc:
        raise LandmarkFileError(f"cannot read {str(p)!r} as .npy: {' '.join(str(exc).split())}") from None
    try:
        return Landmarks(arr)
    except FaceshotRetargetError as exc:
        raise LandmarkFileError(f"{str(p)!r}: {exc}") from None


def write_npy(path: str | os.PathLike[str], landmarks: Landmarks | ArrayLike) -> Path:
    """Write landmarks as a (T, 68, 2) float64 ``.npy`` (atomic)."""
    pts: NDArray[np.float64] = as_points(landmarks, "landmarks")
    return atomic_write(path, lambda f: np.save(f, pts, allow_pickle=False))


_READERS = {".pts": read_pts, ".json": read_json, ".npy": read_npy}
_WRITERS = {".pts": write_pts, ".json": write_json, ".npy": write_npy}


def load_landmarks(path: str | os.PathLike[str]) -> Landmarks:
    """Read landmarks from ``.pts``, ``.json`` or ``.npy`` (chosen by suffix)."""
    p = Path(path)
    reader = _READERS.get(p.suffix.lower())
    if reader is None:
        raise LandmarkFileError(
            f"{str(p)!r}: unsupported landmark file type {p.suffix!r}; expected one of {sorted(_READERS)}"
        )
    return reader(p)


def save_landmarks(path: str | os.PathLike[str], landmarks: Landmarks | ArrayLike) -> Path:
    """Write landmarks to ``.pts``, ``.json`` or ``.npy`` (chosen by suffix, atomic)."""
    p = Path(path)
    writer = _WRITERS.get(p.suffix.lower())
    if writer is None:
        raise LandmarkFileError(
            f"{str(p)!r}: unsupported landmark file type {p.suffix!r}; expected one of {sorted(_WRITERS)}"
        )
    return writer(p, landmarks)
