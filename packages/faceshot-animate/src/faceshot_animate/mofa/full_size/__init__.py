"""Full-size configurations of the MOFA renderer's models, as published, and builders.

One ``<name>.json`` per model: SVD-XT 1.1's U-Net, VAE, CLIP image encoder and scheduler, the
MOFA-Video-Hybrid landmark ControlNet and CMP. Each holds ``config`` (constructor arguments as
released), ``source`` (where they were read) and ``published`` (parameter count; byte size and
SHA-256 of released safetensors files, whose exact size pins the key set; see
:func:`faceshot_features.full_size.safetensors_file_size`). The ControlNet and CMP have no
public checkpoint index or parameter count; their ``upstream_reference`` records the tensor
count, parameter count and key/shape digest of the upstream modules, instantiated once on the
meta device.

Models are built on torch's ``meta`` device by default (no memory, no weights); the GPU benchmark
(``bench/mofa.py --random-full``) builds them on CUDA with random weights via :func:`components`.
"""

from __future__ import annotations

import copy
import json
from functools import cache
from importlib import resources
from typing import Any

import torch

from faceshot_animate.mofa._cmp import CmpConfig, CmpFlowNet
from faceshot_animate.mofa._controlnet import LandmarkControlNet
from faceshot_animate.mofa._layout import MofaComponents
from faceshot_animate.mofa.errors import MofaConfigError

__all__ = ["MODELS", "build", "components", "spec"]

#: Names of the model specs (one JSON file each).
MODELS: tuple[str, ...] = (
    "svd_xt_1_1_unet",
    "svd_xt_1_1_vae",
    "svd_xt_1_1_image_encoder",
    "svd_xt_1_1_scheduler",
    "ldmk_controlnet",
    "cmp",
)


@cache
def _load(name: str) -> dict[str, Any]:
    if name not in MODELS:
        raise MofaConfigError(f"`name` must be one of {list(MODELS)}; got {name!r}")
    text = resources.files(__name__).joinpath(f"{name}.json").read_text(encoding="utf-8")
    data: dict[str, Any] = json.loads(text)
    return data


def spec(name: str) -> dict[str, Any]:
    """The published facts of one model (a fresh copy of its JSON file).

    Args:
        name: one of :data:`MODELS`.

    Raises:
        MofaConfigError: unknown name.
    """
    return copy.deepcopy(_load(name))


def build(
    name: str,
    *,
    device: str | torch.device = "meta",
    dtype: torch.dtype | None = None,
    seed: int = 0,
) -> Any:
    """Build one full-size model from its published config, with random (or no) weights.

    Args:
        name: one of :data:`MODELS` (the scheduler is built from its config; ``device`` and
            ``dtype`` do not apply to it).
        device: ``"meta"`` (default: shapes only, no memory) or a real device, where the
            model's own random initialisation runs (fast on CUDA).
        dtype: cast after building (None: float32).
        seed: torch seed used before building (ignored on ``meta``).

    Returns:
        The module in eval mode (or the ``EulerDiscreteScheduler``).
    """
    s = _load(name)
    cls, cfg = s["class"], s["config"]
    dev = torch.device(device)
    if cls == "diffusers.EulerDiscreteScheduler":
        from diffusers import EulerDiscreteScheduler

        return EulerDiscreteScheduler.from_config(cfg)
    if dev.type != "meta":
        torch.manual_seed(seed)
    model: Any
    with torch.device(dev):
        if cls == "faceshot_animate.mofa.LandmarkControlNet":
            model = LandmarkControlNet.from_config(cfg)
        elif cls == "faceshot_animate.mofa.CmpFlowNet":
            fields: dict[str, Any] = {
                k: tuple(v) if isinstance(v, list) else v for k, v in cfg.items()
            }
            model = CmpFlowNet(CmpConfig(**fields))
        elif cls.startswith("diffusers."):
            import diffusers

            model = getattr(diffusers, cls.split(".", 1)[1]).from_config(cfg)
        elif cls.startswith("transformers."):
            import transformers

            model_cls = getattr(transformers, cls.split(".", 1)[1])
            model = model_cls(model_cls.config_class(**cfg))
        else:  # pragma: no cover - the JSON files are part of the package
            raise MofaConfigError(f"{name!r}: unknown class {cls!r}")
    # A few modules make tensors with the legacy ``torch.Tensor([...])`` constructor, which ignores
    # the device context (e.g. diffusers' AlphaBlender.mix_factor): move everything explicitly.
    torch.nn.Module.to(model, device=dev, dtype=dtype)
    return model.eval()


def components(
    *, device: str | torch.device = "meta", dtype: torch.dtype | None = None, seed: int = 0
) -> MofaComponents:
    """Every MOFA model at full size with random weights (for timing), or on ``meta`` (for checks).

    Args:
        device: where the models are built.
        dtype: dtype of U-Net, VAE, image encoder and ControlNet (None: float32); CMP stays
            float32, as :class:`~faceshot_animate.mofa.MofaAnimator` runs it.
        seed: torch seed.

    Returns:
        :class:`~faceshot_animate.mofa.MofaComponents`; pass it to ``MofaAnimator`` (which moves
        the models to its device and dtype).
    """
    kw: dict[str, Any] = {"device": device, "dtype": dtype, "seed": seed}
    return MofaComponents(
        unet=build("svd_xt_1_1_unet", **kw),
        vae=build("svd_xt_1_1_vae", **kw),
        image_encoder=build("svd_xt_1_1_image_encoder", **kw),
        scheduler=build("svd_xt_1_1_scheduler"),
        controlnet=build("ldmk_controlnet", **kw),
        cmp=build("cmp", device=device, seed=seed),
    )
