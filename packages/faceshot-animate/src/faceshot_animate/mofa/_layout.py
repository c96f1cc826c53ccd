"""The MOFA weights directory: layout check and strict loading of every component.

Expected layout (a clone of the Hugging Face repository ``MyNiuuu/MOFA-Video-Hybrid``; only
these files are read, paths relative to the root)::

    ckpts/mofa/stable-video-diffusion-img2vid-xt-1-1/
        unet/config.json
        unet/diffusion_pytorch_model.fp16.safetensors      (or diffusion_pytorch_model.safetensors)
        vae/config.json
        vae/diffusion_pytorch_model.fp16.safetensors       (or diffusion_pytorch_model.safetensors)
        image_encoder/config.json
        image_encoder/model.fp16.safetensors               (or model.safetensors)
        scheduler/scheduler_config.json
    ckpts/mofa/ldmk_controlnet/
        config.json
        diffusion_pytorch_model.safetensors
    models/cmp/experiments/semiauto_annot/resnet50_vip+mpii_liteflow/checkpoints/
        ckpt_iter_42000.pth.tar                            (or ckpts/mofa/cmp/ckpt_iter_42000.pth.tar)

:func:`check_mofa_layout` verifies all of it at once and raises one
:class:`~faceshot_animate.mofa.MofaWeightsError` listing every missing file.
:func:`load_mofa_components` then loads each model with no hub access and fails on any
missing, unexpected or mis-shaped key.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

from faceshot_animate.mofa._cmp import CmpConfig, CmpFlowNet, load_cmp
from faceshot_animate.mofa._controlnet import LandmarkControlNet
from faceshot_animate.mofa.errors import MofaWeightsError

__all__ = [
    "MofaComponents",
    "MofaLayout",
    "check_mofa_layout",
    "load_mofa_components",
    "required_files",
]

SVD_DIR = "ckpts/mofa/stable-video-diffusion-img2vid-xt-1-1"
CONTROLNET_DIR = "ckpts/mofa/ldmk_controlnet"
CMP_CHECKPOINTS = (
    "models/cmp/experiments/semiauto_annot/resnet50_vip+mpii_liteflow/checkpoints/ckpt_iter_42000.pth.tar",
    "ckpts/mofa/cmp/ckpt_iter_42000.pth.tar",
)

#: (field, candidate relative paths, first existing wins).
_EXPECTED: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("unet_config", (f"{SVD_DIR}/unet/config.json",)),
    (
        "unet_weights",
        (
            f"{SVD_DIR}/unet/diffusion_pytorch_model.fp16.safetensors",
            f"{SVD_DIR}/unet/diffusion_pytorch_model.safetensors",
        ),
    ),
    ("vae_config", (f"{SVD_DIR}/vae/config.json",)),
    (
        "vae_weights",
        (
            f"{SVD_DIR}/vae/diffusion_pytorch_model.fp16.safetensors",
            f"{SVD_DIR}/vae/diffusion_pytorch_model.safetensors",
        ),
    ),
    ("image_encoder_config", (f"{SVD_DIR}/image_encoder/config.json",)),
    (
        "image_encoder_weights",
        (
            f"{SVD_DIR}/image_encoder/model.fp16.safetensors",
            f"{SVD_DIR}/image_encoder/model.safetensors",
        ),
    ),
    ("scheduler_config", (f"{SVD_DIR}/scheduler/scheduler_config.json",)),
    ("controlnet_config", (f"{CONTROLNET_DIR}/config.json",)),
    ("controlnet_weights", (f"{CONTROLNET_DIR}/diffusion_pytorch_model.safetensors",)),
    ("cmp_checkpoint", CMP_CHECKPOINTS),
)


def required_files() -> tuple[str, ...]:
    """Every file a MOFA weights directory must hold, relative to its root (module docstring).

    Returns:
        10 POSIX paths; where either of two files will do they are joined by ``" or "`` (the
        fp16 variant first), exactly as :func:`check_mofa_layout` reports missing files.
    """
    return tuple(" or ".join(candidates) for _, candidates in _EXPECTED)


@dataclass(frozen=True)
class MofaLayout:
    """Absolute paths of every file a :class:`MofaAnimator` loads (see module docstring)."""

    root: Path
    unet_config: Path
    unet_weights: Path
    vae_config: Path
    vae_weights: Path
    image_encoder_config: Path
    image_encoder_weights: Path
    scheduler_config: Path
    controlnet_config: Path
    controlnet_weights: Path
    cmp_checkpoint: Path

    @property
    def svd_dir(self) -> Path:
        return self.unet_config.parent.parent

    @property
    def controlnet_dir(self) -> Path:
        return self.controlnet_config.parent


def check_mofa_layout(root: str | os.PathLike[str]) -> MofaLayout:
    """Check that a MOFA weights directory holds every file, and locate them.

    Args:
        root: the directory (a clone of ``MyNiuuu/MOFA-Video-Hybrid``; module docstring).

    Returns:
        The located files.

    Raises:
        MofaWeightsError: ``root`` is not a directory, or files are missing; the message lists
            every missing relative path (alternatives joined by " or ") and the exception's
            ``missing`` attribute holds them.
    """
    base = Path(root).expanduser()
    if not base.is_dir():
        raise MofaWeightsError(
            f"MOFA weights directory {str(base)!r} does not exist; expected a clone of "
            "https://huggingface.co/MyNiuuu/MOFA-Video-Hybrid (see faceshot_animate.mofa)",
            (str(base),),
        )
    found: dict[str, Path] = {}
    missing: list[str] = []
    for name, candidates in _EXPECTED:
        hit = next((base / c for c in candidates if (base / c).is_file()), None)
        if hit is None:
            missing.append(" or ".join(candidates))
        else:
            found[name] = hit.resolve()
    if missing:
        listing = "; ".join(missing)
        raise MofaWeightsError(
            f"MOFA weights directory {str(base)!r} is missing {len(missing)} file(s): {listing}",
            tuple(missing),
        )
    return MofaLayout(root=base.resolve(), **found)


@dataclass
class MofaComponents:
    """Every model of the MOFA renderer.

    Attributes:
        unet: diffusers ``UNetSpatioTemporalConditionModel`` (SVD-XT 1.1).
        vae: diffusers ``AutoencoderKLTemporalDecoder``.
        image_encoder: transformers ``CLIPVisionModelWithProjection``.
        scheduler: diffusers ``EulerDiscreteScheduler`` (SVD's config).
        controlnet: :class:`LandmarkControlNet`.
        cmp: :class:`CmpFlowNet`.
        image_mean: CLIP input normalisation mean (RGB).
        image_std: CLIP input normalisation std (RGB).
    """

    unet: Any
    vae: Any
    image_encoder: Any
    scheduler: Any
    controlnet: LandmarkControlNet
    cmp: CmpFlowNet
    image_mean: tuple[float, float, float] = (0.48145466, 0.4578275, 0.40821073)
    image_std: tuple[float, float, float] = (0.26862954, 0.26130258, 0.27577711)


def _variant(weights: Path) -> str | None:
    return "fp16" if ".fp16." in weights.name else None


#: Buffers older checkpoints stored and current modules recompute (CLIP's position ids).
_HARMLESS_UNEXPECTED = (".position_ids",)


def _check_info(info: dict[str, Any], what: str) -> None:
    bad = {}
    for k in ("missing_keys", "unexpected_keys", "mismatched_keys"):
        keys = [str(x) for x in (info.get(k) or [])]
        if k == "unexpected_keys":
            keys = [x for x in keys if not x.endswith(_HARMLESS_UNEXPECTED)]
        if keys:
            bad[k] = keys
    if bad:
        detail = "; ".join(f"{len(v)} {k.replace('_', ' ')} (e.g. {v[:3]})" for k, v in bad.items())
        raise MofaWeightsError(f"{what} does not match the architecture: {detail}")


def _load_diffusers(cls: Any, folder: Path, weights: Path, dtype: torch.dtype, what: str) -> Any:
    try:
        model, info = cls.from_pretrained(
            folder,
            variant=_variant(weights),
            local_files_only=True,
            output_loading_info=True,
            torch_dtype=dtype,
        )
    except (OSError, ValueError, RuntimeError) as exc:
        raise MofaWeightsError(f"cannot load {what} from {str(folder)!r}: {exc}") from exc
    _check_info(info, f"{what} ({str(weights)!r})")
    return model.eval()


def load_mofa_components(
    root: str | os.PathLike[str],
    *,
    dtype: torch.dtype = torch.float16,
    cmp_config: CmpConfig | None = None,
) -> MofaComponents:
    """Load every MOFA component from a weights directory (on CPU), strictly and offline.

    Args:
        root: the weights directory (module docstring).
        dtype: dtype of the U-Net, VAE, CLIP encoder and ControlNet; CMP stays float32.
        cmp_config: CMP architecture (default: the released ResNet-50 model).

    Returns:
        The components, in eval mode, on CPU.

    Raises:
        MofaWeightsError: missing files (all listed), or any checkpoint whose keys or shapes
            differ from the module's (missing, unexpected or mismatched keys).
    """
    from diffusers import (
        AutoencoderKLTemporalDecoder,
        EulerDiscreteScheduler,
        UNetSpatioTemporalConditionModel,
    )
    from transformers import CLIPVisionModelWithProjection

    lay = check_mofa_layout(root)
    unet = _load_diffusers(
        UNetSpatioTemporalConditionModel,
        lay.unet_config.parent,
        lay.unet_weights,
        dtype,
        "SVD U-Net",
    )
    vae = _load_diffusers(
        AutoencoderKLTemporalDecoder, lay.vae_config.parent, lay.vae_weights, dtype, "SVD VAE"
    )
    controlnet = _load_diffusers(
        LandmarkControlNet, lay.controlnet_dir, lay.controlnet_weights, dtype, "landmark ControlNet"
    )
    try:
        loaded: Any = CLIPVisionModelWithProjection.from_pretrained(
            lay.image_encoder_config.parent,
            variant=_variant(lay.image_encoder_weights),
            local_files_only=True,
            output_loading_info=True,
        )
    except (OSError, ValueError, RuntimeError) as exc:
        raise MofaWeightsError(
            f"cannot load the CLIP image encoder from {str(lay.image_encoder_config.parent)!r}: {exc}"
        ) from exc
    encoder, info = loaded
    _check_info(info, f"CLIP image encoder ({str(lay.image_encoder_weights)!r})")
    encoder = encoder.to(dtype).eval()
    scheduler = EulerDiscreteScheduler.from_pretrained(
        lay.scheduler_config.parent, local_files_only=True
    )
    cmp = load_cmp(lay.cmp_checkpoint, cmp_config or CmpConfig())
    mean, std = _clip_normalisation(lay.svd_dir)
    return MofaComponents(
        unet=unet,
        vae=vae,
        image_encoder=encoder,
        scheduler=scheduler,
        controlnet=controlnet,
        cmp=cmp,
        image_mean=mean,
        image_std=std,
    )


def _clip_normalisation(
    svd_dir: Path,
) -> tuple[tuple[float, float, float], tuple[float, float, float]]:
    cfg = svd_dir / "feature_extractor" / "preprocessor_config.json"
    default = MofaComponents.__dataclass_fields__
    mean = default["image_mean"].default
    std = default["image_std"].default
    if cfg.is_file():
        data = json.loads(cfg.read_text())
        mean = tuple(float(v) for v in data.get("image_mean", mean))
        std = tuple(float(v) for v in data.get("image_std", std))
    return mean, std  # type: ignore[return-value]
