"""bench/features.py and bench/mofa.py --random-full: argument handling and the CPU paths.

The timing itself needs CUDA; here: without CUDA the scripts fail with one line (exit 2), bad
arguments are refused, and (``full_size``) ``--dry-run`` builds every full-size model on the meta
device and prints the plan.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import ModuleType

import pytest

BENCH = Path(__file__).resolve().parents[1] / "bench"


def _load(name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(f"bench_{name}", BENCH / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture
def no_cuda(monkeypatch: pytest.MonkeyPatch) -> None:
    torch = pytest.importorskip("torch")
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)


def _threads() -> list[str]:
    import torch

    return ["--threads", str(torch.get_num_threads())]  # main() sets it; keep the process's value


@pytest.mark.parametrize("script", ["features", "mofa"])
def test_random_full_without_cuda_fails_with_one_line(script: str, no_cuda: None, capsys: pytest.CaptureFixture[str]) -> None:
    module = _load(script)
    argv = ["--random-full", *(_threads() if script == "features" else [])]
    assert module.main(argv) == 2
    out, err = capsys.readouterr()
    assert out == ""
    assert len(err.strip().splitlines()) == 1
    assert f"bench/{script}.py --random-full: not run: CUDA is not available" in err


@pytest.mark.parametrize(
    ("script", "argv", "message"),
    [
        ("features", ["--dry-run"], "--dry-run and --json apply to --random-full only"),
        ("features", ["--random-full", "--ks", "0,10"], "expected comma-separated integers >= 1"),
        ("features", ["--random-full", "--ks", "a"], "expected comma-separated integers >= 1"),
        ("features", ["--random-full", "--recipe", "sd3"], "invalid choice"),
        ("features", ["--random-full", "--repeats", "0"], "--repeats must be >= 1"),
        ("mofa", ["--dry-run"], "--dry-run applies to --random-full only"),
        ("mofa", ["--random-full", "--size", "500"], "--size must be a positive multiple of 64"),
        ("mofa", ["--random-full", "--decode-chunk", "0"], "--decode-chunk must be >= 1"),
        ("mofa", ["--random-full", "--frames", "0"], "--frames must be >= 1"),
    ],
)
def test_bad_arguments_are_refused(script: str, argv: list[str], message: str, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as info:
        _load(script).main(argv)
    assert info.value.code == 2
    assert message in capsys.readouterr().err


@pytest.mark.full_size
def test_features_dry_run_builds_the_full_size_recipe(no_cuda: None, capsys: pytest.CaptureFixture[str]) -> None:
    assert _load("features").main(["--random-full", "--dry-run", "--recipe", "sd21", "--ks", "1", *_threads()]) == 0
    out = capsys.readouterr().out
    assert "sd21 (dry run on the meta device, float16): parameters unet 865.9 M" in out
    assert "17 U-Net calls (inversion 1..301 + feature pass) -> features (1280, 32, 32)" in out


@pytest.mark.full_size
def test_mofa_dry_run_builds_every_full_size_model(no_cuda: None, capsys: pytest.CaptureFixture[str]) -> None:
    assert _load("mofa").main(["--random-full", "--dry-run"]) == 0
    out = capsys.readouterr().out
    assert "unet 1524.6 M, vae 97.7 M, image_encoder 632.1 M, controlnet 722.5 M, cmp 28.5 M" in out
    assert "12 ControlNet residuals -> U-Net output (2, 25, 4, 64, 64)" in out
    assert "125 frames: 10 windows x 25 steps = 250 ControlNet + U-Net calls" in out
