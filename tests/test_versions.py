"""Each package's ``__version__`` is its installed distribution's (importlib.metadata), which is
its pyproject.toml's version: one place to bump."""

from __future__ import annotations

import importlib
import tomllib
from importlib import metadata
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PYPROJECTS = {
    "faceshot": ROOT / "pyproject.toml",
    **{
        f"faceshot-{m}": ROOT / "packages" / f"faceshot-{m}" / "pyproject.toml"
        for m in ("retarget", "landmarks", "features", "animate")
    },
}


@pytest.mark.parametrize("dist", sorted(PYPROJECTS))
def test_version_comes_from_the_distribution(dist: str) -> None:
    module = importlib.import_module(dist.replace("-", "_"))
    declared = tomllib.loads(PYPROJECTS[dist].read_text(encoding="utf-8"))["project"]["version"]
    assert module.__version__ == metadata.version(dist) == declared
