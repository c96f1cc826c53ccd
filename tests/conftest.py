"""Shared fixtures of the root integration tests (small files from tests/data)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

DATA = Path(__file__).parent / "data"

os.environ.setdefault("HF_HUB_OFFLINE", "1")


@pytest.fixture(scope="session")
def data_dir() -> Path:
    """tests/data: character.png (160x160 RGBA), character.pts, driving.mp4 (30 frames)."""
    return DATA


@pytest.fixture(scope="session")
def demo_character(data_dir: Path) -> Path:
    return data_dir / "character.png"


@pytest.fixture(scope="session")
def demo_landmarks(data_dir: Path) -> Path:
    return data_dir / "character.pts"


@pytest.fixture(scope="session")
def demo_driving(data_dir: Path) -> Path:
    return data_dir / "driving.mp4"
