"""Small file helpers: atomic writes and content hashing."""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable
from pathlib import Path
from typing import IO

from faceshot_features.errors import FeatureFileError

__all__ = ["atomic_write", "sha256_file"]


def atomic_write(path: str | os.PathLike[str], write: Callable[[IO[bytes]], None]) -> Path:
    """Call ``write(f)`` on a temporary file next to ``path``, then rename it over ``path``.

    The one atomic writer of faceshot (:func:`faceshot_retarget.atomic_write`: mode
    ``0666 & ~umask``, bounded temporary names, nothing left behind on failure), raising
    this package's error for a missing directory.

    Args:
        path: destination file; its directory must exist.
        write: callback that writes the whole content to the binary file object it gets.

    Returns:
        The destination path.

    Raises:
        FeatureFileError: the destination directory does not exist or cannot be written.
    """
    from faceshot_retarget import atomic_write as _atomic_write
    from faceshot_retarget.errors import OutputPathError

    try:
        return _atomic_write(path, write)
    except OutputPathError as exc:
        raise FeatureFileError(str(exc)) from None


def sha256_file(path: str | os.PathLike[str]) -> str:
    """Hex SHA-256 of a file's bytes (read in 1 MiB chunks)."""
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()
