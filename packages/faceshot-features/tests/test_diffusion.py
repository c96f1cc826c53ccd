"""Diffusion features with tiny, seeded, randomly initialised components (offline, CPU)."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from faceshot_features import (
    DiffusionConfig,
    DiffusionExtractor,
    FeatureConfigError,
    ddim_invert,
    extract_pair,
    inversion_timesteps,
)
from faceshot_features.testing import SD_SCHEDULER_CONFIG, tiny_components

# up_blocks[1] output, channel 0, rows 0-2, cols 0-2 of the `rgb` fixture without IP-Adapter.
GOLDEN_PLAIN = [[0.3096, 0.2214, 0.3075], [0.3848, 0.1808, 0.2097], [0.4673, 0.3417, 0.3353]]


def images(n: int, seed: int = 0, size=(36, 30)) -> list[np.ndarray]:
    rng = np.random.default_rng(seed)
    return [rng.integers(0, 256, (*size, 3), dtype=np.uint8) for _ in range(n)]


def test_inversion_timesteps_stop_closest_to_t():
    from faceshot_features._diffusion import _inverse_scheduler

    s = _inverse_scheduler(SD_SCHEDULER_CONFIG)
    steps = inversion_timesteps(s, 50, 301)
    assert steps == list(range(1, 302, 20))  # 1, 21, ..., 301: 16 inversion steps
    assert inversion_timesteps(s, 10, 301) == [1, 101, 201, 301]
    assert inversion_timesteps(s, 10, 260)[-1] == 301
    assert inversion_timesteps(s, 10, 240)[-1] == 201


def test_ddim_inversion_reaches_the_noise_level_of_t():
    """With an exact noise predictor, DDIM inversion is exact: x_T = sqrt(a_T) z + sqrt(1 - a_T) eps."""
    from faceshot_features._diffusion import _inverse_scheduler

    s = _inverse_scheduler(SD_SCHEDULER_CONFIG)
    steps = inversion_timesteps(s, 50, 301)
    g = torch.Generator().manual_seed(0)
    z, eps = torch.randn(2, 4, 8, 8, generator=g), torch.randn(2, 4, 8, 8, generator=g)
    a0 = torch.as_tensor(s.initial_alpha_cumprod, dtype=torch.float32)  # level of the clean latent
    x0 = a0.sqrt() * z + (1 - a0).sqrt() * eps
    calls = []

    def model(x, t):
        calls.append(t)
        return eps

    out = ddim_invert(model, x0, s, steps, progress=False)
    a = s.alphas_cumprod[301]
    np.testing.assert_allclose(
        out.numpy(), (a.sqrt() * z + (1 - a).sqrt() * eps).numpy(), atol=1e-5
    )
    assert calls == steps
    a_wrong = s.alphas_cumprod[281]
    assert not np.allclose(
        out.numpy(), (a_wrong.sqrt() * z + (1 - a_wrong).sqrt() * eps).numpy(), atol=1e-3
    )


def test_shapes_config_and_input_untouched(tiny_plain, rgb):
    before = rgb.copy()
    f = tiny_plain.extract(rgb)
    np.testing.assert_array_equal(rgb, before)
    assert f.array.shape == (
        32,
        16,
        16,
    )  # tiny U-Net: up_blocks[1] = last block, 32 ch, latent 16 x 16
    assert f.image_size == (40, 48)
    assert f.backbone == "tiny"
    assert f.config["timesteps"] == [1, 101, 201, 301]
    assert f.config["ip_adapter"] is False and f.config["up_block"] == 1
    assert np.isfinite(f.array).all()


def test_deterministic_with_golden_slice(tiny_plain, rgb):
    a = tiny_plain.extract(rgb).array
    b = tiny_plain.extract(rgb).array
    np.testing.assert_array_equal(a, b)
    golden = np.array(GOLDEN_PLAIN, dtype=np.float32)
    np.testing.assert_allclose(a[0, :3, :3], golden, atol=1e-2)


def test_feature_is_the_hooked_up_block_output_of_the_last_unet_call(tiny_plain, rgb):
    seen, calls = [], []
    h1 = tiny_plain.unet.up_blocks[1].register_forward_hook(
        lambda m, i, o: seen.append(o.detach().clone())
    )
    h2 = tiny_plain.unet.register_forward_pre_hook(
        lambda m, a, k: calls.append(1), with_kwargs=True
    )
    try:
        f = tiny_plain.extract(rgb)
    finally:
        h1.remove()
        h2.remove()
    assert len(calls) == len(f.config["timesteps"]) + 1  # inversion steps + the feature pass
    np.testing.assert_allclose(f.array, seen[-1][0].numpy(), rtol=0, atol=0)


def test_batch_of_k_equals_one_at_a_time(tiny_ip):
    refs = images(4, seed=1)
    prompts = images(2, seed=2)
    batch = tiny_ip.extract_batch(refs, image_prompts=[prompts[0], prompts[1], None, prompts])
    single = [
        tiny_ip.extract(refs[0], image_prompt=prompts[0]),
        tiny_ip.extract(refs[1], image_prompt=prompts[1]),
        tiny_ip.extract(refs[2]),
        tiny_ip.extract(refs[3], image_prompt=prompts),
    ]
    for b, s in zip(batch, single, strict=True):
        np.testing.assert_allclose(b.array, s.array, atol=1e-4, rtol=1e-4)
    assert not np.allclose(batch[0].array, batch[1].array, atol=1e-3)


def test_ip_adapter_load_scale_unload(tiny_dir, tiny_plain, rgb):
    from diffusers.models.attention_processor import IPAdapterAttnProcessor2_0

    cfg = DiffusionConfig(
        model_id="tiny", image_size=32, num_inference_steps=10, ip_adapter_id="tiny-ip"
    )
    ex = DiffusionExtractor(
        tiny_components(tiny_dir, seed=0), backbone="tiny-ip", config=cfg, progress=False
    )
    assert ex.has_ip_adapter and ex.unet.encoder_hid_proj is not None
    procs = [
        p for p in ex.unet.attn_processors.values() if isinstance(p, IPAdapterAttnProcessor2_0)
    ]
    assert len(procs) == 6  # one per cross-attention layer of the tiny U-Net
    prompt_a, prompt_b = images(2, seed=3)
    plain = tiny_plain.extract(rgb).array
    with_a = ex.extract(rgb, image_prompt=prompt_a).array
    with_b = ex.extract(rgb, image_prompt=prompt_b).array
    assert np.abs(with_a - plain).max() > 1e-3  # the image prompt acts ...
    assert np.abs(with_a - with_b).max() > 1e-4  # ... and depends on the prompt
    ex.set_ip_adapter_scale(0.0)
    assert all(p.scale == [0.0] for p in procs)
    assert ex.config["ip_adapter_scale"] == 0.0
    np.testing.assert_allclose(ex.extract(rgb, image_prompt=prompt_a).array, plain, atol=1e-5)
    ex.unload_ip_adapter()
    assert not ex.has_ip_adapter and ex.unet.encoder_hid_proj is None
    assert not any(
        isinstance(p, IPAdapterAttnProcessor2_0) for p in ex.unet.attn_processors.values()
    )
    np.testing.assert_allclose(ex.extract(rgb).array, plain, atol=1e-5)
    assert ex.config["ip_adapter"] is False
    with pytest.raises(FeatureConfigError, match="no IP-Adapter"):
        ex.set_ip_adapter_scale(1.0)
    ex.load_ip_adapter(
        tiny_components(tiny_dir, seed=0).ip_adapter, scale=1.0
    )  # reload after unload
    assert ex.has_ip_adapter and ex.config["ip_adapter_scale"] == 1.0
    np.testing.assert_allclose(ex.extract(rgb, image_prompt=prompt_a).array, with_a, atol=1e-5)
    with pytest.raises(FeatureConfigError, match="image_proj"):
        ex.load_ip_adapter({"ip_adapter": {}})


def test_extract_pair_implements_eq3_prompts(tiny_ip):
    target, ref = images(2, seed=4)
    tgt, refs = extract_pair(tiny_ip, target, [ref])
    np.testing.assert_allclose(
        tgt.array, tiny_ip.extract(target, image_prompt=ref).array, atol=1e-5
    )
    np.testing.assert_allclose(
        refs[0].array, tiny_ip.extract(ref, image_prompt=target).array, atol=1e-5
    )
    assert not np.allclose(refs[0].array, tiny_ip.extract(ref).array, atol=1e-4)
    with pytest.raises(FeatureConfigError, match="at least one"):
        extract_pair(tiny_ip, target, [])


def test_feature_cache(tiny_dir, tmp_path, rgb):
    cfg = DiffusionConfig(model_id="tiny", image_size=32, num_inference_steps=10)
    ex = DiffusionExtractor(
        tiny_components(tiny_dir, seed=0, ip_adapter=False),
        backbone="tiny",
        config=cfg,
        cache_dir=tmp_path,
        progress=False,
    )
    a = ex.extract(rgb)
    assert len(list(tmp_path.glob("*.npz"))) == 1
    ex.unet = None  # hits must not run the model
    assert ex.extract(rgb) == a


def test_bfloat16_runs(tiny_dir, tiny_plain, rgb):
    cfg = DiffusionConfig(model_id="tiny", image_size=32, num_inference_steps=10)
    ex = DiffusionExtractor(
        tiny_components(tiny_dir, seed=0, ip_adapter=False),
        backbone="tiny",
        config=cfg,
        dtype=torch.bfloat16,
        progress=False,
    )
    f = ex.extract(rgb)
    assert f.config["dtype"] == "bfloat16" and f.array.dtype == np.float32
    ref = tiny_plain.extract(rgb).array
    assert np.corrcoef(f.array.ravel(), ref.ravel())[0, 1] > 0.98


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"t": 1000}, "`t`"),
        ({"num_inference_steps": 0}, "num_inference_steps"),
        ({"image_size": 30}, "image_size"),
        ({"ip_adapter_scale": -1.0}, "ip_adapter_scale"),
    ],
)
def test_config_validation(kwargs, match):
    with pytest.raises(FeatureConfigError, match=match):
        DiffusionConfig(**kwargs)


def test_extractor_validation(tiny_dir, tiny_plain):
    comps = tiny_components(tiny_dir, seed=0, ip_adapter=False)
    with pytest.raises(FeatureConfigError, match="up_block"):
        DiffusionExtractor(comps, config=DiffusionConfig(up_block=2, image_size=32))
    with pytest.raises(FeatureConfigError, match="image_prompts"):
        tiny_plain.extract_batch(images(2), image_prompts=[None])
    with pytest.raises(ValueError, match=r"images\[1\]"):
        tiny_plain.extract_batch([images(1)[0], np.zeros((4, 4), np.uint8)])
    with pytest.raises(FeatureConfigError, match="image_encoder"):
        DiffusionExtractor(comps, config=DiffusionConfig(image_size=32)).load_ip_adapter(
            {"image_proj": {}, "ip_adapter": {}}
        )


def test_v_prediction_schedule_runs(tiny_dir, tiny_plain, rgb):
    """SD 2.1 is a v-prediction model: the inverse scheduler must take the scheduler's prediction type."""
    cfg = DiffusionConfig(model_id="tiny", image_size=32, num_inference_steps=10)
    ex = DiffusionExtractor(
        tiny_components(tiny_dir, seed=0, ip_adapter=False, prediction_type="v_prediction"),
        backbone="tiny-v",
        config=cfg,
        progress=False,
    )
    assert ex.scheduler.config.prediction_type == "v_prediction"
    f = ex.extract(rgb)
    assert np.isfinite(f.array).all()
    assert np.abs(f.array - tiny_plain.extract(rgb).array).max() > 1e-3
