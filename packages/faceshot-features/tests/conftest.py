"""Shared fixtures of the faceshot-features tests (offline, CPU-only)."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest

# Hub code must never reach the network in tests.
os.environ["HF_HUB_OFFLINE"] = "1"

DATA = Path(__file__).parent / "data"


def read_pts(path: Path) -> np.ndarray:
    """(68, 2) float64 0-based pixel (x, y) from a 1-based iBUG .pts file."""
    body = path.read_text().split("{")[1].split("}")[0]
    return np.array([ln.split() for ln in body.strip().splitlines()], dtype=np.float64) - 1.0


@pytest.fixture(autouse=True)
def _single_thread_torch():
    """Tiny models run faster on one thread; torch's setting is restored afterwards."""
    import torch

    prev = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(prev)


@pytest.fixture(scope="session")
def faces() -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """{name: ((H, W, 3) uint8 RGB face crop, (68, 2) ground-truth landmarks)}."""
    from faceshot_features import load_image

    return {
        n: (load_image(DATA / f"{n}_face.png"), read_pts(DATA / f"{n}_face.pts"))
        for n in ("einstein", "takeo")
    }


@pytest.fixture(scope="session")
def embedded():
    from faceshot_features import EmbeddedExtractor

    return EmbeddedExtractor()


@pytest.fixture(scope="session")
def tiny_dir(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("tiny-tokenizer")


@pytest.fixture(scope="session")
def tiny_ip(tiny_dir):
    """Tiny SD-like extractor with a random IP-Adapter (32 px input, 10-step schedule)."""
    from faceshot_features import DiffusionConfig, DiffusionExtractor
    from faceshot_features.testing import tiny_components

    cfg = DiffusionConfig(
        model_id="tiny", image_size=32, num_inference_steps=10, ip_adapter_id="tiny-ip"
    )
    return DiffusionExtractor(
        tiny_components(tiny_dir, seed=0), backbone="tiny-ip", config=cfg, progress=False
    )


@pytest.fixture(scope="session")
def tiny_plain(tiny_dir):
    """Tiny SD-like extractor without IP-Adapter."""
    from faceshot_features import DiffusionConfig, DiffusionExtractor
    from faceshot_features.testing import tiny_components

    cfg = DiffusionConfig(model_id="tiny", image_size=32, num_inference_steps=10)
    return DiffusionExtractor(
        tiny_components(tiny_dir, seed=0, ip_adapter=False),
        backbone="tiny",
        config=cfg,
        progress=False,
    )


@pytest.fixture
def rgb() -> np.ndarray:
    """A (40, 48, 3) uint8 RGB test image (smooth gradients plus a square)."""
    y, x = np.mgrid[0:40, 0:48]
    img = np.stack([x * 5, y * 6, (x + y) * 3], axis=2).astype(np.uint8)
    img[10:20, 12:24] = (250, 30, 60)
    return img
