"""Tiny, seeded, randomly initialised MOFA components for tests (no weights, CPU, seconds).

Like diffusers' ``get_dummy_components``: every model is built from a small config with the
same structure as the real one (4 U-Net levels, 8x VAE, dilated ResNet CMP), so shapes,
key names, windowing and loading can be tested offline. Working size: 64 x 64.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import torch

from faceshot_animate.mofa._cmp import CmpConfig, CmpFlowNet
from faceshot_animate.mofa._controlnet import LandmarkControlNet
from faceshot_animate.mofa._layout import CMP_CHECKPOINTS, CONTROLNET_DIR, SVD_DIR, MofaComponents

__all__ = ["TINY_SIZE", "save_mofa_layout", "tiny_components"]

#: Working (H, W) the tiny components are meant for.
TINY_SIZE = (64, 64)

_WIDTHS = (32, 32, 32, 32)
_CROSS = 16
_TIME = 4


def _perturb_zero_convs(module: torch.nn.Module, gen: torch.Generator) -> None:
    """Zero-initialised layers make a random ControlNet a no-op; give them small weights."""
    with torch.no_grad():
        for p in module.parameters():
            if not p.any():
                p.copy_(torch.randn(p.shape, generator=gen) * 0.05)


def tiny_components(seed: int = 0) -> MofaComponents:
    """Seeded tiny U-Net, VAE, CLIP, scheduler, ControlNet and CMP (float32, CPU).

    Args:
        seed: torch seed for every initialisation; equal seeds give equal weights.

    Returns:
        Components for a 64 x 64 working size (``MofaAnimator(..., size=TINY_SIZE)``).
    """
    from diffusers import (
        AutoencoderKLTemporalDecoder,
        EulerDiscreteScheduler,
        UNetSpatioTemporalConditionModel,
    )
    from transformers import CLIPVisionConfig, CLIPVisionModelWithProjection

    torch.manual_seed(seed)
    common = dict(
        block_out_channels=_WIDTHS,
        layers_per_block=1,
        cross_attention_dim=_CROSS,
        num_attention_heads=(2, 2, 2, 2),
        addition_time_embed_dim=_TIME,
        projection_class_embeddings_input_dim=3 * _TIME,
        in_channels=8,
        out_channels=4,
        num_frames=25,
    )
    unet = UNetSpatioTemporalConditionModel(sample_size=8, **common)
    vae = AutoencoderKLTemporalDecoder(
        in_channels=3,
        out_channels=3,
        down_block_types=("DownEncoderBlock2D",) * 4,
        block_out_channels=(32, 32, 32, 32),
        layers_per_block=1,
        latent_channels=4,
        sample_size=64,
    )
    encoder = CLIPVisionModelWithProjection(
        CLIPVisionConfig(
            hidden_size=16,
            intermediate_size=32,
            num_hidden_layers=1,
            num_attention_heads=2,
            image_size=32,
            patch_size=8,
            projection_dim=_CROSS,
        )
    )
    scheduler = EulerDiscreteScheduler(
        num_train_timesteps=1000,
        beta_start=0.00085,
        beta_end=0.012,
        beta_schedule="scaled_linear",
        prediction_type="v_prediction",
        interpolation_type="linear",
        use_karras_sigmas=True,
        timestep_type="continuous",
        sigma_min=0.002,
        sigma_max=700.0,
        timestep_spacing="leading",
        steps_offset=1,
    )
    controlnet = LandmarkControlNet(
        sample_size=8,
        conditioning_embedding_out_channels=(4, 8, 8, 16),
        landmark_embedding_out_channels=(4, 4, 8, 8),
        occlusion_block_expansion=4,
        occlusion_max_features=16,
        **common,
    )
    gen = torch.Generator().manual_seed(seed + 1)
    _perturb_zero_convs(controlnet, gen)
    cmp = CmpFlowNet(
        CmpConfig(
            width=4,
            layers=(1, 1, 1, 1),
            img_enc_dim=8,
            sparse_enc_dim=4,
            dec_width=8,
            nbins=7,
            fmax=8.0,
            size=64,
        )
    )
    models: tuple[Any, ...] = (unet, vae, encoder, controlnet, cmp)
    for m in models:
        m.eval()
    return MofaComponents(
        unet=unet,
        vae=vae,
        image_encoder=encoder,
        scheduler=scheduler,
        controlnet=controlnet,
        cmp=cmp,
    )


def save_mofa_layout(
    components: MofaComponents, root: str | os.PathLike[str], *, fp16_variant: bool = True
) -> Path:
    """Write components in the released directory layout (see :mod:`faceshot_animate.mofa`).

    Args:
        components: what to save (tiny or real).
        root: destination directory (created).
        fp16_variant: name SVD files ``*.fp16.safetensors`` as the released SVD-XT 1.1 does.

    Returns:
        ``root`` as a Path. The CMP checkpoint is saved as CMP's trainer does:
        ``{"step": 42000, "state_dict": {"module.<key>": tensor}}``.
    """
    base = Path(root)
    svd = base / SVD_DIR
    variant = "fp16" if fp16_variant else None
    components.unet.save_pretrained(svd / "unet", variant=variant)
    components.vae.save_pretrained(svd / "vae", variant=variant)
    components.image_encoder.save_pretrained(svd / "image_encoder", variant=variant)
    components.scheduler.save_pretrained(svd / "scheduler")
    components.controlnet.save_pretrained(base / CONTROLNET_DIR)
    ckpt = base / CMP_CHECKPOINTS[0]
    ckpt.parent.mkdir(parents=True, exist_ok=True)
    state = {f"module.{k}": v for k, v in components.cmp.state_dict().items()}
    torch.save({"step": 42000, "state_dict": state}, ckpt)
    return base
