"""Real models: run only where the weights are in the Hugging Face cache (and a GPU for `gpu`)."""

from __future__ import annotations

import numpy as np
import pytest


def _extractor_or_skip(name: str, **kwargs):
    from faceshot_features import WeightsNotFoundError, load_extractor

    try:
        return load_extractor(name, progress=False, **kwargs)
    except WeightsNotFoundError as exc:
        pytest.skip(f"{name} weights not on this machine: {str(exc)[:120]}")


def _cuda_or_skip():
    import torch

    if not torch.cuda.is_available():
        pytest.skip("no CUDA GPU")


@pytest.mark.weights
@pytest.mark.parametrize("name", ["sd21", "sd15-ip"])
def test_real_recipe_shapes_and_matching(name, faces):
    import torch

    device = "cuda" if torch.cuda.is_available() else "cpu"
    ex = _extractor_or_skip(name, device=device)
    (a, pa), (b, pb) = faces["einstein"], faces["takeo"]
    fb, (fa,) = __import__("faceshot_features").extract_pair(ex, b, [a])
    assert fa.array.shape == (1280, 32, 32) and fb.array.shape == (1280, 32, 32)
    an, bn = fa.normalized(), fb.normalized()
    height, width = fa.image_size
    j = np.clip(np.round((pa[:, 0] + 0.5) * 32 / width - 0.5).astype(int), 0, 31)
    i = np.clip(np.round((pa[:, 1] + 0.5) * 32 / height - 0.5).astype(int), 0, 31)
    idx = (an[:, i, j].T @ bn.reshape(1280, -1)).argmax(1)
    xs, ys = fb.cell_centers()
    pred = np.stack([xs[idx % 32], ys[idx // 32]], axis=1)
    nme = np.linalg.norm(pred - pb, axis=1) / np.linalg.norm(pb[36] - pb[45])
    assert np.median(nme) < 0.2  # SD features should beat the embedded backbone's 0.17 comfortably


@pytest.mark.gpu
@pytest.mark.weights
def test_real_recipe_batching_k10_matches_single(faces):
    _cuda_or_skip()
    import torch

    ex = _extractor_or_skip("sd15-ip", device="cuda", dtype=torch.float32)
    a, b = faces["einstein"][0], faces["takeo"][0]
    batch = ex.extract_batch([a] * 10, image_prompts=[b] * 10)
    one = ex.extract(a, image_prompt=b)
    for f in batch:
        np.testing.assert_allclose(f.array, one.array, atol=2e-2, rtol=2e-2)
