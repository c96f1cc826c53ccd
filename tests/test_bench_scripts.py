"""bench/features.py and bench/mofa.py --random-full: argument handling and the CPU paths.

The timing itself needs CUDA; here: without CUDA the scripts fail with one line (exit 2), bad
arguments are refused, the CUDA timing loops run end to end on the CPU with tiny stand-in models
and no-op ``torch.cuda`` timers (``slow``), and (``full_size``) ``--dry-run`` builds every
full-size model on the meta device and prints the plan.
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
def test_random_full_without_cuda_fails_with_one_line(
    script: str, no_cuda: None, capsys: pytest.CaptureFixture[str]
) -> None:
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
def test_bad_arguments_are_refused(
    script: str, argv: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as info:
        _load(script).main(argv)
    assert info.value.code == 2
    assert message in capsys.readouterr().err


@pytest.mark.full_size
def test_features_dry_run_builds_the_full_size_recipe(
    no_cuda: None, capsys: pytest.CaptureFixture[str]
) -> None:
    assert (
        _load("features").main(
            ["--random-full", "--dry-run", "--recipe", "sd21", "--ks", "1", *_threads()]
        )
        == 0
    )
    out = capsys.readouterr().out
    assert "sd21 (dry run on the meta device, float16): parameters unet 865.9 M" in out
    assert "17 U-Net calls (inversion 1..301 + feature pass) -> features (1280, 32, 32)" in out


@pytest.mark.full_size
def test_mofa_dry_run_builds_every_full_size_model(
    no_cuda: None, capsys: pytest.CaptureFixture[str]
) -> None:
    assert _load("mofa").main(["--random-full", "--dry-run"]) == 0
    out = capsys.readouterr().out
    assert "unet 1524.6 M, vae 97.7 M, image_encoder 632.1 M, controlnet 722.5 M, cmp 28.5 M" in out
    assert "12 ControlNet residuals -> U-Net output (2, 25, 4, 64, 64)" in out
    assert "125 frames: 10 windows x 25 steps = 250 ControlNet + U-Net calls" in out


@pytest.fixture
def fake_cuda(monkeypatch: pytest.MonkeyPatch) -> None:
    """torch.cuda's timing/memory calls as no-ops, so the --random-full loops run on the CPU."""
    torch = pytest.importorskip("torch")
    for name, value in (
        ("is_available", True),
        ("synchronize", None),
        ("reset_peak_memory_stats", None),
        ("max_memory_allocated", 0),
        ("get_device_name", "stand-in"),
        ("empty_cache", None),
    ):
        monkeypatch.setattr(torch.cuda, name, lambda *a, _v=value, **k: _v)


@pytest.mark.slow
def test_features_random_full_timing_loop_on_cpu_with_a_tiny_stand_in(
    fake_cuda: None,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """The CUDA code path end to end, with the full-size extractor replaced by a tiny one on the CPU."""
    import json

    from faceshot_features import DiffusionConfig, DiffusionExtractor
    from faceshot_features.testing import tiny_components

    module = _load("features")

    def tiny(recipe: str, device: str, dtype: object) -> DiffusionExtractor:
        assert device == "cuda"
        comps = tiny_components(tmp_path, ip_adapter=recipe == "sd15-ip")
        cfg = DiffusionConfig(
            model_id="tiny",
            image_size=16,
            num_inference_steps=4,
            ip_adapter_id="tiny" if recipe == "sd15-ip" else None,
        )
        return DiffusionExtractor(comps, backbone=recipe, config=cfg, progress=False)

    monkeypatch.setattr(module, "_random_full_extractor", tiny)
    out_json = tmp_path / "features.json"
    argv = ["--random-full", "--ks", "1,2", "--repeats", "1", "--json", str(out_json), *_threads()]
    assert module.main(argv) == 0
    out = capsys.readouterr().out
    assert "k=1 " in out and "k=2 " in out and "tau; one at a time" in out
    report = json.loads(out_json.read_text())
    assert set(report["recipes"]) == {"sd15-ip"}
    rep = report["recipes"]["sd15-ip"]
    k2 = rep["k"]["2"]
    assert k2["s_per_character"] > 0 and k2["sequential_s"] > 0 and k2["features_finite"]
    assert rep["parameters"]["ip_adapter"] > 0 and rep["ip_adapter"]
    assert rep["unet_calls_per_batch"] == len(rep["timesteps"]) + 1 == 3


@pytest.mark.slow
def test_mofa_random_full_timing_loop_on_cpu_with_a_tiny_stand_in(
    fake_cuda: None,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    import json

    import torch
    from faceshot_animate.mofa import MofaAnimator
    from faceshot_animate.mofa.testing import tiny_components

    module = _load("mofa")

    def tiny(args: object, device: str) -> MofaAnimator:
        assert device == "cuda"
        return MofaAnimator(
            tiny_components(0),
            device="cpu",
            dtype=torch.float32,
            num_inference_steps=1,
            size=(64, 64),
            progress=False,
        )

    monkeypatch.setattr(module, "_animator", tiny)
    out_json = tmp_path / "mofa.json"
    argv = [
        "--random-full",
        "--frames",
        "6",
        "--size",
        "64",
        "--steps",
        "1",
        "--no-progress",
        "--json",
        str(out_json),
    ]
    assert module.main(argv) == 0
    out = capsys.readouterr().out
    assert (
        "6 frames at 64x64" in out and "seconds per 125 frames" in out and "official-style" in out
    )
    report = json.loads(out_json.read_text())
    assert report["random_full"] and report["frames"] == 6 and report["total_s"] > 0
