"""Extras by use (issue 14): each member's core works without its optional dependencies, and
a missing extra is one line naming the extra to install.

Each case runs in a fresh interpreter where the optional modules are made unimportable
(``sys.modules[name] = None``: ``import name`` raises, ``find_spec`` finds nothing), which
is what an install without the extra looks like to the code.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap


def _run(blocked: tuple[str, ...], *parts: str) -> subprocess.CompletedProcess[str]:
    code = "import sys\n" + "".join(f"sys.modules[{m!r}] = None\n" for m in blocked)
    code += "".join(textwrap.dedent(part) for part in parts)
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)


def _one_line_error(result: subprocess.CompletedProcess[str], extra: str) -> str:
    lines = [line for line in result.stdout.splitlines() if line.startswith("ERROR ")]
    assert result.returncode == 0, result.stderr[-2000:]
    assert len(lines) == 1, result.stdout
    message = lines[0][len("ERROR ") :]
    assert f"pip install '{extra}'" in message and "\n" not in message
    return message


_CATCH = """
try:
    {call}
except ImportError as exc:
    print("ERROR", type(exc).__name__, str(exc))
else:
    print("NO ERROR")
"""


def test_animate_without_mofa_extra_warps_and_names_the_extra() -> None:
    blocked = ("torch", "diffusers", "transformers")
    body = """
    import numpy as np
    from faceshot_animate import WarpAnimator
    from faceshot_retarget import template_face
    face = template_face(40.0, (48.0, 48.0))
    frames = list(WarpAnimator().animate(np.full((96, 96, 3), 200, np.uint8), np.stack([face, face + 1.0]), fps=25))
    print("frames", len(frames))
    """
    result = _run(blocked, body, _CATCH.format(call="from faceshot_animate import MofaAnimator"))
    assert "frames 2" in result.stdout
    message = _one_line_error(result, "faceshot-animate[mofa]")
    assert message.startswith(
        "MissingExtraError faceshot_animate.mofa (MofaAnimator) needs torch, diffusers and transformers"
    )


def test_features_without_diffusion_extra_run_the_embedded_backbone_and_name_the_extra() -> None:
    blocked = ("diffusers", "transformers", "safetensors", "huggingface_hub")
    body = """
    import numpy as np
    from faceshot_features import load_extractor
    feats = load_extractor("embedded").extract(np.full((64, 64, 3), 128, np.uint8))
    print("features", feats.array.shape)
    """
    result = _run(blocked, body, _CATCH.format(call='load_extractor("sd21")'))
    assert "features (640, 64, 64)" in result.stdout
    message = _one_line_error(result, "faceshot-features[diffusion]")
    assert (
        "backbone 'sd21' needs diffusers, transformers, safetensors and huggingface_hub" in message
    )


def test_landmarks_matcher_without_dlib_and_the_dlib_extra_named() -> None:
    blocked = ("dlib", "face_recognition_models")
    body = """
    import tempfile
    import numpy as np
    import faceshot_landmarks as fl
    from faceshot_landmarks.testing import synthetic_features
    from faceshot_retarget import template_face
    face = template_face(36.0, (32.0, 30.0))
    feats = [synthetic_features((64, 64), (16, 16), 16, seed=s) for s in range(2)]
    with tempfile.TemporaryDirectory() as d:
        gallery = fl.add_domain(d + "/g", "toy", feats, np.stack([face, face]))
        print("matched", fl.match(feats[0], gallery).points.shape)
    """
    result = _run(
        blocked,
        body,
        _CATCH.format(call="fl.DlibLandmarker()"),
        _CATCH.format(call="fl.predictor_path()"),
    )
    assert "matched (68, 2)" in result.stdout
    lines = [line for line in result.stdout.splitlines() if line.startswith("ERROR ")]
    assert len(lines) == 2 and all(
        "pip install 'faceshot-landmarks[dlib]'" in line for line in lines
    )
    assert lines[0].startswith(
        "ERROR BackendUnavailableError DlibLandmarker (dlib's face detector and 68-point predictor) needs dlib"
    )
    assert "needs dlib and face_recognition_models, which are not installed" in lines[1]


def test_cli_ui_without_the_ui_extra_is_one_line_naming_it() -> None:
    result = _run(
        ("gradio",),
        """
    from faceshot.cli import main
    raise SystemExit(main(["ui", "--port", "17999"]))
    """,
    )
    assert result.returncode == 1, result.stderr[-2000:]
    assert result.stderr.splitlines() == [
        "faceshot ui: error: the web UI (faceshot ui) needs gradio, which is not installed: pip install 'faceshot[ui]'"
    ]


def test_env_lists_every_extra_and_what_installs_a_missing_one() -> None:
    result = _run(
        ("gradio", "ray"),
        """
    import json
    from faceshot.commands.env import extras_status
    print(json.dumps(extras_status()))
    """,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    import json

    extras = json.loads(result.stdout.strip().splitlines()[-1])
    assert extras["ui (faceshot ui)"] == "missing gradio: pip install 'faceshot[ui]'"
    assert extras["cluster (batch --ray)"] == "missing ray: pip install 'faceshot[cluster]'"
    assert extras["dlib (driving detection)"] == "installed"
    assert set(extras) >= {
        "cpu/gpu (FAISS)",
        "mofa (--animator mofa)",
        "diffusion (--backbone sd15-ip/sd21)",
    }
