"""Landmark file IO: iBUG ``.pts``, JSON and ``.npy``.

Coordinate conventions on disk:
    ``.pts`` files (iBUG 300-W, menpo) store **1-based** pixel coordinates (MATLAB style);
    they are converted to faceshot's 0-based convention (origin at the top-left pixel
    centre) on read and back on write. JSON and ``.npy`` store faceshot's 0-based
    coordinates as they are.

Writes are atomic: data goes to a temporary file in the destination directory that is
renamed over the destination only on success.

Shared file conventions of every faceshot package (the one home for them):

* :func:`atomic_write` / :func:`atomic_path` -- the one atomic single-file writer: a
  temporary file in the destination's directory (mode ``0666 & ~umask``, like a plain
  ``open()``; its name never exceeds :data:`NAME_MAX` bytes, so a legal 244-character file
  name stays writable), flushed to disk (``fsync``), renamed over the destination
  (:func:`replace_atomically`), and the directory entry flushed too. Writers that produce
  the file themselves (a video encoder given a path) use :func:`atomic_path`. Two processes
  writing the same output each write their own temporary file; the rename is atomic, so
  the output is always one writer's complete file, never a mix;
* :class:`AtomicOutputs` -- several output files committed together: all or none;
* :func:`check_output` -- the output policy: right suffix, an existing directory to write
  into, never an input (same path, symbolic link or hard link), never a directory or a
  device, never a directory holding an input;
* :func:`input_file_problem` -- what is wrong with an input path (missing, a directory, a
  FIFO, a device, empty, too large), in words, *before* it is opened: a FIFO would block
  and ``/dev/zero`` would never end;
* landmark files are bounded: at most :data:`MAX_LANDMARK_FILE_BYTES`, JSON nesting is
  refused with the file's name, ``.npy`` headers are checked against the file size before
  any allocation, and only real-number dtypes are accepted.
"""

from __future__ import annotations

import json
import os
import stat
import tempfile
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from types import TracebackType
from typing import IO, Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from faceshot_retarget._landmarks import Landmarks, as_points
from faceshot_retarget.errors import FaceshotRetargetError, LandmarkFileError, OutputPathError
from faceshot_retarget.ibug68 import NUM_POINTS

__all__ = [
    "JSON_FORMAT",
    "MAX_LANDMARK_FILE_BYTES",
    "NAME_MAX",
    "AtomicOutputs",
    "atomic_path",
    "atomic_write",
    "check_output",
    "input_file_problem",
    "load_landmarks",
    "read_json",
    "read_npy",
    "read_pts",
    "replace_atomically",
    "save_landmarks",
    "temp_dir_beside",
    "temp_path_beside",
    "write_json",
    "write_npy",
    "write_pts",
]

#: The ``format`` tag of faceshot landmark JSON files.
JSON_FORMAT = "faceshot-landmarks"
_JSON_VERSION = 1


#: Longest file name in bytes (POSIX ``NAME_MAX`` on Linux and macOS file systems).
NAME_MAX = 255
#: Landmark files above this size are refused before they are read (128 MiB holds about
#: 120 000 frames as ``.npy``, over an hour of 30 fps video).
MAX_LANDMARK_FILE_BYTES = 128 << 20
_RANDOM_CHARS = 8  # tempfile's random part


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


def _mb(n: int) -> str:
    return f"{n / (1 << 20):.1f} MiB" if n >= 1 << 20 else f"{n} bytes"


def _short_prefix(name: str, suffix: str) -> str:
    """``.NAME.`` cut so that ``.NAME.XXXXXXXX<suffix>`` fits in :data:`NAME_MAX` bytes."""
    budget = NAME_MAX - len(os.fsencode(suffix)) - _RANDOM_CHARS - 2
    raw = os.fsencode(name)[: max(budget, 1)]
    return "." + os.fsdecode(raw).encode("utf-8", "ignore").decode("utf-8", "ignore") + "."


def temp_path_beside(path: str | os.PathLike[str], suffix: str = ".tmp") -> Path:
    """Create an empty hidden temporary file next to ``path`` and return its path.

    The name is ``.NAME.XXXXXXXX<suffix>`` with NAME shortened as needed so that it never
    exceeds :data:`NAME_MAX` bytes; its mode is ``0666 & ~umask`` (a plain ``open()``'s).

    Raises:
        OutputPathError: the directory does not exist or cannot be written.
    """
    dest = Path(path)
    directory = dest.parent if str(dest.parent) else Path(".")
    if not directory.is_dir():
        raise OutputPathError(
            f"cannot write {str(dest)!r}: directory {str(directory)!r} does not exist"
        )
    try:
        fd, tmp = tempfile.mkstemp(
            prefix=_short_prefix(dest.name, suffix), suffix=suffix, dir=directory
        )
    except OSError as exc:
        reason = exc.strerror or type(exc).__name__
        raise OutputPathError(
            f"cannot write {str(dest)!r}: directory {str(directory)!r}: {reason}"
        ) from None
    try:
        # mkstemp creates 0600 files; give the result the mode a plain open() would (0666 & ~umask).
        os.fchmod(fd, 0o666 & ~_current_umask())
    finally:
        os.close(fd)
    return Path(tmp)


def temp_dir_beside(path: str | os.PathLike[str]) -> Path:
    """Create an empty hidden temporary directory next to ``path`` (name within
    :data:`NAME_MAX` bytes), for outputs that are directories written atomically.

    Raises:
        OutputPathError: the parent directory does not exist or cannot be written.
    """
    dest = Path(path)
    directory = dest.parent if str(dest.parent) else Path(".")
    if not directory.is_dir():
        raise OutputPathError(
            f"cannot write {str(dest)!r}: directory {str(directory)!r} does not exist"
        )
    try:
        tmp = Path(
            tempfile.mkdtemp(prefix=_short_prefix(dest.name, ".tmp"), suffix=".tmp", dir=directory)
        )
    except OSError as exc:
        reason = exc.strerror or type(exc).__name__
        raise OutputPathError(
            f"cannot write {str(dest)!r}: directory {str(directory)!r}: {reason}"
        ) from None
    # mkdtemp creates 0700 directories; give the result a plain mkdir()'s mode (0777 & ~umask).
    os.chmod(tmp, 0o777 & ~_current_umask())
    return tmp


def _fsync(path: str | os.PathLike[str], *, directory: bool = False) -> None:
    """Flush a file's data (or a directory's entries) to disk; best effort for directories
    (some file systems refuse ``fsync`` on a directory descriptor)."""
    flags = os.O_RDONLY | (getattr(os, "O_DIRECTORY", 0) if directory else 0)
    try:
        fd = os.open(path, flags)
    except OSError:
        if directory:
            return
        raise
    try:
        os.fsync(fd)
    except OSError:
        if not directory:
            raise
    finally:
        os.close(fd)


def replace_atomically(tmp: str | os.PathLike[str], path: str | os.PathLike[str]) -> Path:
    """Commit a finished temporary file (or directory tree) ``tmp`` to ``path``.

    ``tmp`` must be in ``path``'s directory (:func:`temp_path_beside`, :func:`temp_dir_beside`).
    Its data is flushed (``fsync``; for a directory, every file in it and the directories
    themselves), it is renamed over ``path`` (atomic: readers see the old file or the new
    one, never a part), and the directory entry is flushed, so a power cut after this call
    returns cannot leave a truncated file under ``path``. A directory can only replace a
    missing path or an empty directory.

    Returns:
        ``path`` as a :class:`Path`.
    """
    src, dest = Path(tmp), Path(path)
    if src.is_dir():
        for root, _, files in os.walk(src):
            for name in files:
                _fsync(Path(root) / name)
            _fsync(root, directory=True)
    else:
        _fsync(src)
    os.replace(src, dest)
    _fsync(dest.parent if str(dest.parent) else ".", directory=True)
    return dest


@contextmanager
def atomic_path(path: str | os.PathLike[str], suffix: str | None = None) -> Iterator[Path]:
    """A temporary path to produce ``path`` in, committed when the ``with`` block succeeds.

    For writers that want a file name rather than a file object (a video encoder, an image
    library). The temporary file exists (empty, mode ``0666 & ~umask``) next to ``path``;
    on a normal exit it is committed with :func:`replace_atomically`; on any exception
    (Ctrl-C included) it is removed and ``path`` is left as it was.

    Args:
        path: the destination; its directory must exist.
        suffix: suffix of the temporary name (default ``".tmp" + path's suffix``, so that
            format detection by suffix still works).

    Raises:
        OutputPathError: the directory does not exist or cannot be written.

    Example::

        with atomic_path("out.mp4") as tmp:
            encode_video(tmp)          # writes the whole file at tmp
    """
    dest = Path(path)
    tmp = temp_path_beside(dest, suffix if suffix is not None else ".tmp" + dest.suffix)
    try:
        yield tmp
        replace_atomically(tmp, dest)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def atomic_write(path: str | os.PathLike[str], write: Callable[[IO[bytes]], object]) -> Path:
    """Call ``write(f)`` on a temporary file next to ``path``, then commit it to ``path``.

    The one atomic writer (see :func:`atomic_path`): temporary file in the destination
    directory, ``fsync``, rename, directory ``fsync``; mode ``0666 & ~umask``. A failure (or
    an interrupt, or a handled SIGTERM/SIGHUP) leaves no partial file under the final name
    and removes the temporary one; a killed process leaves at most the hidden temporary
    file; concurrent writers leave one writer's complete file.

    Raises:
        LandmarkFileError: the destination directory does not exist (an
            :class:`OutputPathError` too) or cannot be written.
    """
    dest = Path(path)
    directory = dest.parent if str(dest.parent) else Path(".")
    if not directory.is_dir():
        raise _OutputLandmarkError(
            f"cannot write {str(dest)!r}: directory {str(directory)!r} does not exist"
        )
    with atomic_path(dest, ".tmp") as tmp, open(tmp, "wb") as f:
        write(f)
    return dest


class _OutputLandmarkError(LandmarkFileError, OutputPathError):
    """A missing output directory, for callers catching either error."""


def input_file_problem(
    path: str | os.PathLike[str], *, max_bytes: int | None = None, allow_empty: bool = False
) -> str | None:
    """What keeps ``path`` from being read as an input file, in words; ``None`` if nothing.

    Checked with one ``stat`` before the file is opened, so a FIFO (which would block),
    ``/dev/zero`` (which never ends) or a directory is refused up front.

    Args:
        path: the input path (symbolic links are followed).
        max_bytes: refuse larger files (``None``: no limit).
        allow_empty: accept a 0-byte file.

    Returns:
        e.g. ``"does not exist"``, ``"is a directory, not a file"``, ``"is a FIFO (named
        pipe), not a regular file"``, ``"is empty (0 bytes)"``, ``"is 300.0 MiB, above the
        128.0 MiB limit"``; or ``None``.
    """
    p = os.fspath(path)
    try:
        st = os.stat(p)
    except FileNotFoundError:
        return "is a broken symbolic link" if os.path.islink(p) else "does not exist"
    except NotADirectoryError:
        return "does not exist (a parent is not a directory)"
    except PermissionError:
        return "cannot be read: permission denied"
    except OSError as exc:
        return f"cannot be read: {exc.strerror or type(exc).__name__}"
    mode = st.st_mode
    if stat.S_ISDIR(mode):
        return "is a directory, not a file"
    if not stat.S_ISREG(mode):
        kind = (
            "a FIFO (named pipe)"
            if stat.S_ISFIFO(mode)
            else "a character device"
            if stat.S_ISCHR(mode)
            else "a block device"
            if stat.S_ISBLK(mode)
            else "a socket"
            if stat.S_ISSOCK(mode)
            else "a special file"
        )
        return f"is {kind}, not a regular file"
    if st.st_size == 0 and not allow_empty:
        return "is empty (0 bytes)"
    if max_bytes is not None and st.st_size > max_bytes:
        return f"is {_mb(st.st_size)}, above the {_mb(max_bytes)} limit"
    return None


def _same_file(a: str, b: str) -> bool:
    try:
        return os.path.samefile(a, b)
    except OSError:
        return os.path.realpath(a) == os.path.realpath(b)


def _inside(child: str, parent: str) -> bool:
    c, p = os.path.realpath(child), os.path.realpath(parent)
    return c == p or c.startswith(p.rstrip(os.sep) + os.sep)


def check_output(
    path: str | os.PathLike[str],
    *,
    suffixes: Sequence[str] | None = None,
    inputs: Iterable[str | os.PathLike[str] | None] = (),
    option: str = "output",
    directory: bool = False,
    what: str | None = None,
) -> Path:
    """Check that an output can be written at ``path`` before any work is done.

    The output policy of every faceshot command and API (checked in this order):

    * it is not, and does not resolve to (symbolic link, hard link), any of ``inputs``;
      it does not lie inside an input folder (a gallery); a directory output
      (``directory=True``) does not contain any of ``inputs``;
    * the suffix is one of ``suffixes`` (the format written), compared case-insensitively;
    * the name fits in :data:`NAME_MAX` bytes (with room for the temporary name);
    * its directory exists and a file can be created there;
    * a file output is not an existing directory, FIFO or device (writing would replace
      ``/dev/null`` itself when run as root).

    Args:
        path: the output path.
        suffixes: accepted suffixes with the dot (``(".npy", ".json")``); ``None``: any.
        inputs: input paths the output must never be (``None`` entries are skipped).
        option: how the output is named in messages (``"-o"``, ``"--preview"``, ``"`out`"``).
        directory: the output is a directory (its suffix is not checked unless given).
        what: the format written, for the suffix message (``"H.264 MP4"``).

    Returns:
        ``path`` as a :class:`Path`.

    Raises:
        OutputPathError: one line naming ``option``, the path and the problem.
    """
    out = Path(path)
    name = f"{option} {str(out)!r}"
    if not out.name or out.name in (".", ".."):
        raise OutputPathError(f"{name} has no file name")
    size = len(os.fsencode(out.name))
    if size > NAME_MAX:
        raise OutputPathError(f"{name}: the file name is {size} bytes; the limit is {NAME_MAX}")
    for item in inputs:
        if item is None:
            continue
        src = os.fspath(item)
        if not os.path.exists(src):
            continue
        if os.path.exists(out) and _same_file(os.fspath(out), src):
            how = "" if os.path.abspath(out) == os.path.abspath(src) else " (through a link)"
            raise OutputPathError(
                f"{name} is the input file {src!r}{how}; refusing to overwrite an input"
            )
        if directory and _inside(src, os.fspath(out)):
            raise OutputPathError(f"{name} contains the input {src!r}; refusing to write into it")
        if os.path.isdir(src) and _inside(os.fspath(out), src):
            raise OutputPathError(
                f"{name} is inside the input folder {src!r}; refusing to write into an input"
            )
    if suffixes is not None:
        allowed = tuple(x.lower() for x in suffixes)
        if out.suffix.lower() not in allowed:
            fmt = f" ({what})" if what else ""
            got = repr(out.suffix) if out.suffix else "no suffix"
            raise OutputPathError(f"{name} must end in {' or '.join(allowed)}{fmt}; got {got}")
    parent = out.parent if str(out.parent) else Path(".")
    if not parent.is_dir():
        raise OutputPathError(f"cannot write {name}: directory {str(parent)!r} does not exist")
    if out.exists() or out.is_symlink():
        try:
            mode = os.stat(out).st_mode
        except OSError:
            mode = None
        if directory:
            if mode is not None and not stat.S_ISDIR(mode):
                raise OutputPathError(f"{name} exists and is not a directory")
        elif mode is not None and stat.S_ISDIR(mode):
            raise OutputPathError(f"{name} is a directory; expected a file path")
        elif mode is not None and not stat.S_ISREG(mode):
            raise OutputPathError(
                f"{name} exists and is not a regular file (a device or FIFO); refusing to replace it"
            )
    probe = temp_path_beside(out, ".probe")
    probe.unlink(missing_ok=True)
    return out


class AtomicOutputs:
    """Several output files written as one: all of them appear, or none.

    Each output is written to a temporary file beside it (:meth:`stage`); when the ``with``
    block ends without an exception, every temporary file is renamed over its destination.
    An exception (including Ctrl-C, or SIGTERM/SIGHUP turned into an exception by the CLI)
    removes every temporary file and leaves every destination as it was. If a rename fails
    half-way, destinations already replaced are restored from hard-link backups (or removed
    when they did not exist before).

    Example::

        with AtomicOutputs() as outs:
            save_landmarks(outs.stage("d.npy"), lm)
            write_preview(video, lm.points, outs.stage("p.mp4"))
    """

    def __init__(self) -> None:
        self._staged: list[tuple[Path, Path]] = []

    def __enter__(self) -> AtomicOutputs:
        return self

    def stage(self, path: str | os.PathLike[str]) -> Path:
        """A temporary path (an empty file, same directory and suffix) to write ``path`` into."""
        dest = Path(path)
        if any(d == dest for d, _ in self._staged):
            raise OutputPathError(f"output {str(dest)!r} is staged twice")
        tmp = temp_path_beside(dest, ".tmp" + dest.suffix)
        self._staged.append((dest, tmp))
        return tmp

    def write(self, path: str | os.PathLike[str], write: Callable[[IO[bytes]], object]) -> Path:
        """Stage ``path`` and fill it with ``write(f)`` (a binary file object)."""
        tmp = self.stage(path)
        with open(tmp, "wb") as f:
            write(f)
        return tmp

    def discard(self) -> None:
        """Remove every temporary file (destinations are untouched)."""
        for _, tmp in self._staged:
            tmp.unlink(missing_ok=True)
        self._staged = []

    def commit(self) -> list[Path]:
        """Rename every staged file over its destination (all or none); returns the destinations."""
        backups: dict[Path, Path] = {}
        done: list[Path] = []
        try:
            for dest, _ in self._staged:
                if dest.is_file() and not dest.is_symlink():
                    backup = temp_path_beside(dest, ".bak")
                    backup.unlink()
                    try:
                        os.link(dest, backup)
                        backups[dest] = backup
                    except OSError:
                        pass  # no hard links here: a failed commit cannot restore this one
            for _, tmp in self._staged:
                _fsync(tmp)
            for dest, tmp in self._staged:
                os.replace(tmp, dest)
                done.append(dest)
            for directory in {dest.parent for dest, _ in self._staged}:
                _fsync(directory if str(directory) else ".", directory=True)
        except BaseException:
            for dest in done:
                if dest in backups:
                    os.replace(backups.pop(dest), dest)
                else:
                    dest.unlink(missing_ok=True)
            for backup in backups.values():
                backup.unlink(missing_ok=True)
            self.discard()
            raise
        for backup in backups.values():
            backup.unlink(missing_ok=True)
        self._staged = []
        return done

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if exc_type is None:
            self.commit()
        else:
            self.discard()


def _check_input(path: Path) -> None:
    problem = input_file_problem(path, max_bytes=MAX_LANDMARK_FILE_BYTES)
    if problem is not None:
        raise LandmarkFileError(f"landmark file {str(path)!r} {problem}")


def _read_text(path: Path) -> str:
    _check_input(path)
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise LandmarkFileError(f"landmark file {str(path)!r} does not exist") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise LandmarkFileError(
            f"cannot read landmark file {str(path)!r}: {' '.join(str(exc).split())}"
        ) from None


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
        raise LandmarkFileError(
            f"{str(p)!r}: expected 68 points of 2 numbers; got shape {pts.shape}"
        )
    if one_based:
        pts = pts - 1.0
    try:
        return Landmarks(pts)
    except FaceshotRetargetError as exc:
        raise LandmarkFileError(f"{str(p)!r}: {exc}") from None


def write_pts(
    path: str | os.PathLike[str], landmarks: Landmarks | ArrayLike, *, one_based: bool = True
) -> Path:
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
    except RecursionError:
        raise LandmarkFileError(
            f"{str(p)!r}: JSON nested too deeply (landmark JSON has 3 levels)"
        ) from None
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
        vis = None
        if visible is not None:
            vis = np.asarray(visible)
            if vis.dtype != np.bool_:
                raise LandmarkFileError(
                    f"{str(p)!r}: 'visible' must hold true/false values; got {vis.dtype} values"
                )
        arr = np.asarray(data)
        if arr.dtype.kind not in "iuf":
            raise LandmarkFileError(
                f"{str(p)!r}: 'points' must hold numbers; got {arr.dtype} values"
            )
        return Landmarks(arr.astype(np.float64), image_size, vis)
    except LandmarkFileError:
        raise
    except (FaceshotRetargetError, TypeError, ValueError, OverflowError) as exc:
        raise LandmarkFileError(f"{str(p)!r}: {' '.join(str(exc).split())}") from None


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
    _check_input(p)
    try:
        with open(p, "rb") as f:
            _check_npy_header(p, f)
            f.seek(0)
            arr = np.load(f, allow_pickle=False)
    except LandmarkFileError:
        raise
    except FileNotFoundError:
        raise LandmarkFileError(f"landmark file {str(p)!r} does not exist") from None
    except (OSError, ValueError, EOFError) as exc:
        raise LandmarkFileError(
            f"cannot read {str(p)!r} as .npy: {' '.join(str(exc).split())}"
        ) from None
    try:
        return Landmarks(arr)
    except FaceshotRetargetError as exc:
        raise LandmarkFileError(f"{str(p)!r}: {exc}") from None


def _check_npy_header(p: Path, f: IO[bytes]) -> None:
    """Refuse a ``.npy`` whose header is not landmarks, before its data is allocated.

    Checks the dtype (real numbers: int or float; bool, complex, object and strings are
    refused), the shape ((68, 2) or (T, 68, 2)) and that the file holds the bytes the header
    promises (a 100-byte file claiming terabytes is refused, not allocated).
    """
    fmt = np.lib.format
    try:
        version = fmt.read_magic(f)
        if version == (1, 0):
            shape, _, dtype = fmt.read_array_header_1_0(f)
        elif version == (2, 0):
            shape, _, dtype = fmt.read_array_header_2_0(f)
        else:
            raise LandmarkFileError(f"{str(p)!r}: unsupported .npy format version {version}")
    except LandmarkFileError:
        raise
    except (ValueError, EOFError, OSError) as exc:
        raise LandmarkFileError(
            f"cannot read {str(p)!r} as .npy: {' '.join(str(exc).split())}"
        ) from None
    if dtype.hasobject or dtype.kind not in "iuf":
        raise LandmarkFileError(
            f"{str(p)!r} holds {dtype} values; landmarks must be real numbers (int or float)"
        )
    if len(shape) not in (2, 3) or tuple(shape[-2:]) != (NUM_POINTS, 2):
        raise LandmarkFileError(
            f"{str(p)!r} has shape {tuple(shape)}; expected (T, 68, 2) or (68, 2)"
        )
    need = int(np.prod(shape, dtype=np.float64)) * dtype.itemsize
    have = os.fstat(f.fileno()).st_size - f.tell()
    if need > have:
        raise LandmarkFileError(
            f"{str(p)!r} is truncated or corrupt: its header promises {_mb(need)} of data, the file holds {_mb(have)}"
        )


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
