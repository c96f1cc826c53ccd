"""Opt-in on-disk cache of extracted features, keyed by image content and configuration."""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from faceshot_features._features import Features, load_features, save_features
from faceshot_features.errors import FaceshotFeaturesError, FeatureConfigError

__all__ = ["FeatureCache", "image_digest"]


def image_digest(image: NDArray[np.uint8]) -> str:
    """Hex SHA-256 of an (H, W, 3) uint8 image's shape and pixel bytes."""
    h = hashlib.sha256()
    h.update(repr(tuple(image.shape)).encode())
    h.update(np.ascontiguousarray(image).tobytes())
    return h.hexdigest()


class FeatureCache:
    """A directory of ``<key>.npz`` feature files.

    The key is the SHA-256 of the image digest, the image-prompt digest (or ``-``) and the
    extractor's backbone id + canonical JSON configuration, so a changed configuration never
    reuses stale features. Writes are atomic; unreadable entries are treated as misses.

    Args:
        directory: cache directory; created (with parents) if missing.
    """

    def __init__(self, directory: str | os.PathLike[str]) -> None:
        self.directory = Path(directory)
        try:
            self.directory.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise FeatureConfigError(
                f"`cache_dir` {str(self.directory)!r} cannot be created: {exc}"
            ) from None

    @staticmethod
    def key(
        image: NDArray[np.uint8],
        image_prompt: NDArray[np.uint8] | Sequence[NDArray[np.uint8]] | None,
        backbone: str,
        config: dict[str, Any],
    ) -> str:
        """Cache key (hex SHA-256) of one extraction (a list prompt hashes its images in order)."""
        if image_prompt is None:
            prompt = "-"
        elif isinstance(image_prompt, np.ndarray):
            prompt = image_digest(image_prompt)
        else:
            prompt = "+".join(image_digest(p) for p in image_prompt)
        parts = [
            image_digest(image),
            prompt,
            backbone,
            json.dumps(config, sort_keys=True),
        ]
        return hashlib.sha256("\n".join(parts).encode()).hexdigest()

    def path(self, key: str) -> Path:
        """File that stores ``key``."""
        return self.directory / f"{key}.npz"

    def get(self, key: str) -> Features | None:
        """Stored features for ``key``, or None (missing or unreadable entry)."""
        p = self.path(key)
        if not p.is_file():
            return None
        try:
            return load_features(p)
        except FaceshotFeaturesError:
            return None

    def put(self, key: str, features: Features) -> None:
        """Store features under ``key`` (atomic write)."""
        save_features(self.path(key), features)
