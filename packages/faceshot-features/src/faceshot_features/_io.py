"""Small file helpers: atomic writes and content hashing."""

from __future__ import annotations

import hashlib
import os
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import IO

from faceshot_features.errors import FeatureFileError

__all__ = ["atomic_write", "sha256_file"]


def atomic_write(path: str | os.PathLike[str], write: Callable[[IO[bytes]], None]) -> Path:
    """Call ``write(f)`` on a temporary file next to ``path``, then rename it over ``path``.

    Args:
        path: destination file; its directory must exist.
        write: callback that writes the whole content to the binary file object it gets.

    Returns:
        The destination path.

    Raises:
        FeatureFileError: the destination directory does not exist.

    A failure (or a killed process) leaves no partial file under the final name.
    """
    dest = Path(path)
    directory = dest.parent if str(dest.parent) else Path(".")
    if not directory.is_dir():
        raise FeatureFileError(
            f"cannot write {str(dest)!r}: directory {str(directory)!r} does not exist"
        )
    fd, tmp = tempfile.mkstemp(prefix=f".{dest.name}.", suffix=".tmp", dir=directory)
    try:
        with os.fdopen(fd, "wb") as f:
            write(f)
        os.replace(tmp, dest)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return dest


def sha256_file(path: str | os.PathLike[str]) -> str:
    """Hex SHA-256 of a file's bytes (read in 1 MiB chunks)."""
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()
