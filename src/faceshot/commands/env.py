"""``faceshot env``: what this install can run (versions, devices, weights found)."""

from __future__ import annotations

import argparse
import json
from typing import Any

__all__ = ["collect_env", "extras_status", "register"]

_PACKAGES = (
    "faceshot",
    "faceshot-retarget",
    "faceshot-landmarks",
    "faceshot-features",
    "faceshot-animate",
    "numpy",
    "torch",
    "diffusers",
    "transformers",
    "opencv-python-headless",
    "av",
    "dlib-bin",
    "dlib",
    "faiss-cpu",
    "faiss-gpu",
    "gradio",
    "cairosvg",
)


def register(subparsers: Any) -> None:
    """Add the ``env`` command."""
    p = subparsers.add_parser("env", help="print versions, devices and which weights are found")
    p.add_argument("--json", action="store_true", help="print JSON instead of text")
    p.set_defaults(handler=_env)


#: The extras of faceshot and its members: what each needs importable, and what installs it.
_EXTRAS = {
    "cpu/gpu (FAISS)": (("faiss",), "faceshot[cpu]"),
    "dlib (driving detection)": (("dlib", "face_recognition_models"), "faceshot-landmarks[dlib]"),
    "ui (faceshot ui)": (("gradio",), "faceshot[ui]"),
    "mofa (--animator mofa)": (("torch", "diffusers", "transformers"), "faceshot[mofa]"),
    "diffusion (--backbone sd15-ip/sd21)": (
        ("diffusers", "transformers", "safetensors", "huggingface_hub"),
        "faceshot[diffusion]",
    ),
    "cluster (batch --ray)": (("ray",), "faceshot[cluster]"),
}


def extras_status() -> dict[str, str]:
    """Each extra: ``"installed"``, or ``"missing MODULES: pip install 'EXTRA'"`` (nothing imported)."""
    from faceshot_retarget import missing_modules

    status = {}
    for what, (modules, extra) in _EXTRAS.items():
        missing = missing_modules(modules)
        status[what] = (
            f"missing {', '.join(missing)}: pip install '{extra}'" if missing else "installed"
        )
    return status


def _found(fn: Any) -> str:
    try:
        return f"found: {fn()}"
    except Exception as exc:  # each probe reports its own failure, one line
        return "missing: " + " ".join(str(exc).split())


def collect_env() -> dict[str, Any]:
    """Versions, torch/CUDA, FAISS GPUs and weight files, as a JSON-serialisable dict."""
    import platform
    from importlib import metadata

    versions: dict[str, str] = {}
    for name in _PACKAGES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            continue
    info: dict[str, Any] = {
        "python": platform.python_version(),
        "platform": platform.platform(),
        "packages": versions,
    }
    info["extras"] = extras_status()
    try:
        import torch

        info["torch"] = {
            "cuda_available": bool(torch.cuda.is_available()),
            "cuda_version": torch.version.cuda,
            "devices": [torch.cuda.get_device_name(i) for i in range(torch.cuda.device_count())],
            "threads": torch.get_num_threads(),
        }
    except Exception as exc:
        info["torch"] = {"error": " ".join(str(exc).split())}
    try:
        from faceshot_landmarks import import_faiss

        info["faiss_gpus"] = int(import_faiss().get_num_gpus())
    except Exception as exc:
        info["faiss_gpus"] = "unavailable: " + " ".join(str(exc).split())

    def dlib_predictor() -> str:
        from faceshot_landmarks import predictor_path

        return str(predictor_path())

    def face_recognition() -> str:
        from faceshot._bench import face_recognition_model_path

        return str(face_recognition_model_path())

    def mobilenet() -> str:
        from faceshot_features import mobilenet_v2_weights_path

        return str(mobilenet_v2_weights_path())

    def gallery() -> str:
        from faceshot import default_gallery_path

        return str(default_gallery_path())

    def diffusion(name: str) -> Any:
        def probe() -> str:
            from faceshot_features import (
                check_weights,  # names every missing file and the hf download commands
            )

            return ", ".join(check_weights(name)) + " (Hugging Face cache)"

        return probe

    def mofa() -> str:
        import os

        root = os.environ.get("FACESHOT_MOFA_WEIGHTS")
        if not root:
            from faceshot_animate.mofa import required_files

            raise FileNotFoundError(
                "FACESHOT_MOFA_WEIGHTS is not set; point it at a clone of "
                "huggingface.co/MyNiuuu/MOFA-Video-Hybrid holding: " + "; ".join(required_files())
            )
        from faceshot_animate.mofa import check_mofa_layout

        check_mofa_layout(root)
        return root

    info["weights"] = {
        "dlib shape predictor (68 pt)": _found(dlib_predictor),
        "dlib face recognition (bench)": _found(face_recognition),
        "MobileNetV2 ImageNet (embedded backbone)": _found(mobilenet),
        "default gallery": _found(gallery),
        "Stable Diffusion 1.5 + IP-Adapter (sd15-ip)": _found(diffusion("sd15-ip")),
        "Stable Diffusion 2.1 (sd21)": _found(diffusion("sd21")),
        "MOFA-Video-Hybrid (FACESHOT_MOFA_WEIGHTS)": _found(mofa),
    }
    return info


def _env(args: argparse.Namespace) -> int:
    info = collect_env()
    if args.json:
        print(json.dumps(info, indent=2))
        return 0
    print(f"python      {info['python']} ({info['platform']})")
    for name, version in info["packages"].items():
        print(f"{name:<24}{version}")
    torch_info = info["torch"]
    if "error" in torch_info:
        print(f"torch       {torch_info['error']}")
    else:
        devices = ", ".join(torch_info["devices"]) or "none"
        print(
            f"CUDA        available={torch_info['cuda_available']} (CUDA {torch_info['cuda_version']}; devices: {devices}); torch threads {torch_info['threads']}"
        )
    print(f"FAISS GPUs  {info['faiss_gpus']}")
    for what, state in info["extras"].items():
        print(f"extra {what:<38}{state}")
    for what, state in info["weights"].items():
        print(f"{what:<44}{state}")
    return 0
