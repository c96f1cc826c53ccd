"""The README's "Python API" block runs (on the demo inputs, in a temporary folder)."""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def _api_block() -> str:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    section = text[text.index("## Python API") :]
    return re.search(r"```python\n(.*?)```", section, re.S).group(1)  # type: ignore[union-attr]


def test_the_python_api_block_compiles_and_names_real_methods() -> None:
    from faceshot import FaceShot

    code = _api_block()
    compile(code, "README.md", "exec")
    for name in set(re.findall(r"\bfs\.(\w+)\(", code)):
        assert callable(getattr(FaceShot, name)), name


@pytest.mark.slow
def test_the_python_api_block_runs(tmp_path: Path) -> None:
    shutil.copytree(ROOT / "assets" / "demo", tmp_path / "assets" / "demo")
    here = os.getcwd()
    os.chdir(tmp_path)
    try:
        exec(compile(_api_block(), "README.md", "exec"), {})
    finally:
        os.chdir(here)
    assert sorted(p.name for p in tmp_path.glob("*.mp4")) == ["again.mp4", "out.mp4", "stages.mp4"]
