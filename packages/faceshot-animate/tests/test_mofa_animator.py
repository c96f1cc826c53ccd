"""MofaAnimator end to end on tiny random components (CPU), plus the real-weights GPU test."""

from __future__ import annotations

import os

os.environ.setdefault("HF_HUB_OFFLINE", "1")

from pathlib import Path

import numpy as np
import pytest
import torch
from faceshot_retarget import template_face

from faceshot_animate._protocol import Animator
from faceshot_animate.errors import AnimateInputError
from faceshot_animate.mofa import MofaAnimator, MofaConfigError
from faceshot_animate.mofa.testing import TINY_SIZE, tiny_components


@pytest.fixture(autouse=True, scope="module")
def _one_thread():
    """Tiny models run fastest single-threaded (OpenMP overhead dominates); restored after."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


T = 6


def _landmarks(t=T, w=40, h=48):
    base = template_face(0.5 * w, (w / 2, h / 2))
    return np.stack([base + np.array([0.8 * i, 0.4 * i]) for i in range(t)])


def _image(h=48, w=40, c=3, seed=0):
    return (np.random.default_rng(seed).random((h, w, c)) * 255).astype(np.uint8)


@pytest.fixture(scope="module")
def animator():
    torch.manual_seed(0)
    return MofaAnimator(
        tiny_components(0),
        device="cpu",
        dtype=torch.float32,
        num_inference_steps=1,
        size=TINY_SIZE,
        window=5,
        stride=2,
        progress=False,
    )


@pytest.fixture(scope="module")
def first_run(animator):
    return list(animator.animate(_image(), _landmarks()))


def test_protocol_shapes_and_frame0(animator, first_run):
    assert isinstance(animator, Animator)
    assert len(first_run) == T
    for f in first_run:
        assert f.shape == (48, 40, 3) and f.dtype == np.uint8
    np.testing.assert_array_equal(first_run[0], _image())
    assert any(f.std() > 0 for f in first_run[1:])


def test_deterministic_with_seed(animator, first_run):
    again = list(animator.animate(_image(), _landmarks()))
    for a, b in zip(first_run, again, strict=True):
        np.testing.assert_array_equal(a, b)
    animator.seed = 7
    try:
        other = list(animator.animate(_image(), _landmarks()))
    finally:
        animator.seed = 42
    assert any(not np.array_equal(a, b) for a, b in zip(first_run[1:], other[1:], strict=True))


def test_rgba_alpha_carried_and_single_frame(animator):
    img = _image(c=4, seed=1)
    img[:10, :, 3] = 0
    frames = list(animator.animate(img, _landmarks(2)))
    assert len(frames) == 2
    np.testing.assert_array_equal(frames[0], img)
    assert frames[1].shape == (48, 40, 4)
    np.testing.assert_array_equal(frames[1][:, :, 3], img[:, :, 3])
    only = list(animator.animate(img[:, :, :3], _landmarks(1)[0]))  # (68, 2) promoted
    assert len(only) == 1
    np.testing.assert_array_equal(only[0], img[:, :, :3])


def test_input_errors(animator):
    with pytest.raises(AnimateInputError, match="landmarks"):
        animator.animate(_image(), np.zeros((3, 67, 2)))
    with pytest.raises(ValueError, match="fps"):
        animator.animate(_image(), _landmarks(), fps=0)
    with pytest.raises(AnimateInputError):
        animator.animate(np.zeros((4, 4, 2), np.uint8), _landmarks())


def test_config_errors():
    comps = tiny_components(0)
    with pytest.raises(MofaConfigError, match="size"):
        MofaAnimator(comps, device="cpu", dtype=torch.float32, size=(64, 60))
    with pytest.raises(MofaConfigError, match="num_inference_steps"):
        MofaAnimator(comps, device="cpu", dtype=torch.float32, num_inference_steps=0)
    with pytest.raises(MofaConfigError, match="stride"):
        MofaAnimator(comps, device="cpu", dtype=torch.float32, window=5, stride=5)


WEIGHTS = os.environ.get("FACESHOT_MOFA_WEIGHTS", "")


@pytest.mark.gpu
@pytest.mark.weights
@pytest.mark.slow
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")
@pytest.mark.skipif(
    not WEIGHTS or not Path(WEIGHTS).is_dir(),
    reason="set FACESHOT_MOFA_WEIGHTS to a MOFA-Video-Hybrid clone",
)
def test_real_weights_on_gpu():
    anim = MofaAnimator(WEIGHTS, device="cuda", dtype=torch.float16, progress=False)
    lm = np.stack([template_face(260, (256 + 2 * np.sin(i / 3), 270)) for i in range(30)])
    img = _image(512, 512)
    frames = list(anim.animate(img, lm))
    assert len(frames) == 30 and frames[5].shape == (512, 512, 3)
    assert all(np.isfinite(f).all() for f in frames)


def test_landmarks_drive_the_output(animator):
    """Same seed, different landmark motion: different frames (the conditions reach the U-Net)."""
    still = np.repeat(_landmarks(1), 3, axis=0)
    moving = still.copy()
    moving[1:, 48:68] += np.array([0.0, 3.0])  # mouth moves down
    a = list(animator.animate(_image(), still))
    b = list(animator.animate(_image(), moving))
    np.testing.assert_array_equal(a[0], b[0])
    assert not np.array_equal(a[1], b[1])


def test_float16_path_upcasts_vae_encode_and_restores():
    anim = MofaAnimator(
        tiny_components(0),
        device="cpu",
        dtype=torch.float16,
        num_inference_steps=1,
        size=TINY_SIZE,
        window=5,
        stride=2,
        progress=False,
    )
    frames = list(anim.animate(_image(), _landmarks(2)))
    assert len(frames) == 2 and frames[1].shape == (48, 40, 3)
    assert next(anim.components.vae.parameters()).dtype == torch.float16
    assert next(anim.components.cmp.parameters()).dtype == torch.float32


def test_working_size_keeps_aspect_in_multiples_of_64():
    from faceshot_animate.mofa import working_size

    assert working_size(512, 512) == (512, 512)
    assert working_size(1080, 1920) == (384, 704)
    assert working_size(48, 40) == (576, 448)
    h, w = working_size(3000, 20)
    assert h % 64 == 0 and w == 64
    anim = MofaAnimator(tiny_components(0), device="cpu", dtype=torch.float32, size=None)
    assert anim.size is None


def test_from_pretrained_defaults_to_cpu_float32_and_one_config() -> None:
    from faceshot_animate.mofa import MofaConfig

    cfg = MofaConfig(num_inference_steps=1, size=TINY_SIZE, window=5, stride=2)
    anim = MofaAnimator.from_pretrained(tiny_components(0), config=cfg, progress=False)
    assert anim.device == torch.device("cpu") and anim.dtype == torch.float32
    assert anim.config == cfg and anim.num_inference_steps == 1 and anim.size == TINY_SIZE
    assert next(anim.components.unet.parameters()).dtype == torch.float32
    assert MofaConfig().num_inference_steps == 25 and MofaConfig().max_guidance == 7.5
    with pytest.raises(MofaConfigError, match="num_inference_steps"):
        MofaAnimator.from_pretrained(tiny_components(0), config=MofaConfig(num_inference_steps=0))
