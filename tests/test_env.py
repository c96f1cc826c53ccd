"""``faceshot env``: every GPU path names the exact files it needs when they are missing."""

from __future__ import annotations

from pathlib import Path

import pytest


def test_env_names_every_missing_weight_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from faceshot_animate.mofa import required_files as mofa_files
    from faceshot_features import required_files

    from faceshot.commands.env import collect_env

    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path))
    monkeypatch.delenv("FACESHOT_MOFA_WEIGHTS", raising=False)
    weights = collect_env()["weights"]
    for name, key in (
        ("sd15-ip", "Stable Diffusion 1.5 + IP-Adapter (sd15-ip)"),
        ("sd21", "Stable Diffusion 2.1 (sd21)"),
    ):
        line = weights[key]
        assert line.startswith("missing: ") and "\n" not in line
        for repo, files in required_files(name).items():
            assert f"hf download {repo} {' '.join(files)}" in line
    mofa = weights["MOFA-Video-Hybrid (FACESHOT_MOFA_WEIGHTS)"]
    assert mofa.startswith("missing: FACESHOT_MOFA_WEIGHTS is not set")
    assert len(mofa_files()) == 10
    for f in mofa_files():
        assert f in mofa

    monkeypatch.setenv("FACESHOT_MOFA_WEIGHTS", str(tmp_path / "mofa"))
    (tmp_path / "mofa").mkdir()
    mofa = collect_env()["weights"]["MOFA-Video-Hybrid (FACESHOT_MOFA_WEIGHTS)"]
    assert "is missing 10 file(s)" in mofa
    for f in mofa_files():
        assert f in mofa
