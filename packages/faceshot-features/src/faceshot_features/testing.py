"""Tiny, seeded, randomly initialised diffusion components for tests and benchmarks.

Built from config exactly as diffusers' own tests build theirs (no downloads): a 2-level
``UNet2DConditionModel``, a 2-level ``AutoencoderKL``, tiny CLIP text and vision models, a
CLIP tokenizer over a 56-token character vocabulary written to a directory you choose, and an
IP-Adapter state dict in the ``ip-adapter_sd15`` key layout. Features from these models are
meaningless; they exercise the code paths, shapes and numerics only.
"""

from __future__ import annotations

import json
import os
import string
from pathlib import Path
from typing import Any

import torch

from faceshot_features._diffusion import DiffusionComponents

__all__ = [
    "SD_SCHEDULER_CONFIG",
    "random_ip_adapter_state_dict",
    "tiny_components",
    "tiny_tokenizer",
]

#: Stable Diffusion 1.5/2.1's scheduler settings (``scheduler/scheduler_config.json``).
SD_SCHEDULER_CONFIG: dict[str, Any] = {
    "num_train_timesteps": 1000,
    "beta_start": 0.00085,
    "beta_end": 0.012,
    "beta_schedule": "scaled_linear",
    "clip_sample": False,
    "set_alpha_to_one": False,
    "steps_offset": 1,
    "prediction_type": "epsilon",
    "timestep_spacing": "leading",
}

_CROSS_DIM = 32
_IMAGE_EMBED_DIM = 32


def tiny_tokenizer(directory: str | os.PathLike[str], *, max_length: int = 16) -> Any:
    """Write a tiny CLIP BPE vocabulary (a-z, no merges) to ``directory`` and load it.

    Args:
        directory: existing directory; ``vocab.json`` and ``merges.txt`` are (over)written.
        max_length: the tokenizer's ``model_max_length`` (prompt padding length).

    Returns:
        ``transformers.CLIPTokenizer`` with 56 tokens (ids 0/1 start/end of text).
    """
    from faceshot_features._extras import require_diffusion

    require_diffusion("faceshot_features.testing")
    from transformers import CLIPTokenizer

    d = Path(directory)
    vocab = {"<|startoftext|>": 0, "<|endoftext|>": 1}
    for c in string.ascii_lowercase:
        vocab[c] = len(vocab)
    for c in string.ascii_lowercase:
        vocab[c + "</w>"] = len(vocab)
    vocab["!"] = len(vocab)
    vocab["!</w>"] = len(vocab)
    (d / "vocab.json").write_text(json.dumps(vocab), encoding="utf-8")
    (d / "merges.txt").write_text("#version: 0.2\n", encoding="utf-8")
    return CLIPTokenizer(str(d / "vocab.json"), str(d / "merges.txt"), model_max_length=max_length)


def random_ip_adapter_state_dict(
    unet: Any, image_embed_dim: int = _IMAGE_EMBED_DIM, *, seed: int = 0
) -> dict[str, Any]:
    """A random IP-Adapter (``ip-adapter_sd15`` layout) state dict fitting ``unet``.

    Keys: ``image_proj``: ``proj.weight`` (4 * cross_dim, image_embed_dim), ``proj.bias``,
    ``norm.weight``, ``norm.bias``; ``ip_adapter``: ``{n}.to_k_ip.weight`` and
    ``{n}.to_v_ip.weight`` (hidden, cross_dim) for every cross-attention processor, ``n`` its
    index in ``unet.attn_processors`` (odd numbers, as in the original checkpoints). Weights are
    normal * 0.1 (see :func:`faceshot_features.full_size.ip_adapter_state_dict`).
    """
    from faceshot_features.full_size import ip_adapter_state_dict

    return ip_adapter_state_dict(unet, image_embed_dim, 4, seed=seed, scale=0.1)


def tiny_components(
    tokenizer_dir: str | os.PathLike[str],
    *,
    seed: int = 0,
    ip_adapter: bool = True,
    prediction_type: str = "epsilon",
    vae_factor: int = 2,
) -> DiffusionComponents:
    """Seeded tiny components (UNet (32, 64), VAE (32, 64), CLIP text/vision with 32 dims).

    Args:
        tokenizer_dir: existing directory for the tokenizer files (:func:`tiny_tokenizer`).
        seed: torch seed used before building each model.
        ip_adapter: include a CLIP vision encoder and a random IP-Adapter state dict.
        prediction_type: scheduler prediction type (``"epsilon"`` or ``"v_prediction"``).
        vae_factor: VAE downsampling factor, a power of two (2 for tests; 8 as in SD for
            benchmarks at 512 x 512, which keeps the tiny U-Net's attention at SD's token counts).

    Returns:
        :class:`DiffusionComponents`; VAE factor ``vae_factor``, U-Net with 2 up-blocks (``up_blocks[1]``
        outputs 32 channels at 1/2 of the input size).
    """
    from faceshot_features._extras import require_diffusion

    require_diffusion("faceshot_features.testing")
    from diffusers import AutoencoderKL, UNet2DConditionModel
    from transformers import (
        CLIPTextConfig,
        CLIPTextModel,
        CLIPVisionConfig,
        CLIPVisionModelWithProjection,
    )

    torch.manual_seed(seed)
    unet = UNet2DConditionModel(
        block_out_channels=(32, 64),
        layers_per_block=2,
        sample_size=32,
        in_channels=4,
        out_channels=4,
        down_block_types=("DownBlock2D", "CrossAttnDownBlock2D"),
        up_block_types=("CrossAttnUpBlock2D", "UpBlock2D"),
        cross_attention_dim=_CROSS_DIM,
        norm_num_groups=8,
    )
    torch.manual_seed(seed)
    levels = int(vae_factor).bit_length()
    if vae_factor < 2 or 2 ** (levels - 1) != vae_factor:
        raise ValueError(f"`vae_factor` must be a power of two >= 2; got {vae_factor}")
    vae = AutoencoderKL(
        block_out_channels=[32] * (levels - 1) + [64],
        in_channels=3,
        out_channels=3,
        down_block_types=["DownEncoderBlock2D"] * levels,
        up_block_types=["UpDecoderBlock2D"] * levels,
        latent_channels=4,
        norm_num_groups=8,
    )
    torch.manual_seed(seed)
    text_encoder = CLIPTextModel(
        CLIPTextConfig(
            bos_token_id=0,
            eos_token_id=1,
            pad_token_id=1,
            hidden_size=_CROSS_DIM,
            intermediate_size=37,
            layer_norm_eps=1e-5,
            num_attention_heads=4,
            num_hidden_layers=2,
            vocab_size=64,
            max_position_embeddings=16,
        )
    )
    image_encoder = state = None
    if ip_adapter:
        torch.manual_seed(seed)
        image_encoder = CLIPVisionModelWithProjection(
            CLIPVisionConfig(
                hidden_size=32,
                projection_dim=_IMAGE_EMBED_DIM,
                num_hidden_layers=2,
                num_attention_heads=4,
                image_size=32,
                intermediate_size=37,
                patch_size=4,
            )
        )
        state = random_ip_adapter_state_dict(unet, _IMAGE_EMBED_DIM, seed=seed)
    scheduler = dict(SD_SCHEDULER_CONFIG, prediction_type=prediction_type)
    return DiffusionComponents(  # DiffusionExtractor puts every model in eval mode
        unet=unet,
        vae=vae,
        text_encoder=text_encoder.eval(),
        tokenizer=tiny_tokenizer(tokenizer_dir),
        scheduler_config=scheduler,
        image_encoder=image_encoder.eval() if image_encoder is not None else None,
        ip_adapter=state,
    )
