"""MOFA-Video landmark animator for GPUs: SVD-XT 1.1 + MOFA-Video-Hybrid's landmark ControlNet.

FaceShot's renderer, rebuilt on current diffusers in pure PyTorch (no CuPy): landmark
polylines and CMP-densified landmark flow condition a ControlNet that warps first-frame
features by softmax (average) splatting, refines occlusions, and feeds zero-conv residuals to
diffusers' SVD U-Net through hooks. Any video length: windows of 25 frames (anchor frame 0 +
24) with stride 12, model outputs averaged per frame at every denoising step.

Weights directory (``MofaAnimator(root)``; :func:`check_mofa_layout` lists what is missing).
Clone https://huggingface.co/MyNiuuu/MOFA-Video-Hybrid (git lfs); only these files are read::

    ckpts/mofa/stable-video-diffusion-img2vid-xt-1-1/
        unet/config.json, unet/diffusion_pytorch_model[.fp16].safetensors
        vae/config.json, vae/diffusion_pytorch_model[.fp16].safetensors
        image_encoder/config.json, image_encoder/model[.fp16].safetensors
        scheduler/scheduler_config.json
    ckpts/mofa/ldmk_controlnet/config.json, diffusion_pytorch_model.safetensors
    models/cmp/experiments/semiauto_annot/resnet50_vip+mpii_liteflow/checkpoints/ckpt_iter_42000.pth.tar
        (or ckpts/mofa/cmp/ckpt_iter_42000.pth.tar)

Nothing is downloaded; every checkpoint is loaded strictly (missing, unexpected or mis-shaped
keys raise :class:`MofaWeightsError`).

Example::

    from faceshot_animate.mofa import MofaAnimator
    animator = MofaAnimator("/data/MOFA-Video-Hybrid", device="cuda", dtype=torch.float16)
    for frame in animator.animate(image, landmarks):   # (T, 68, 2) from faceshot_retarget
        ...

Needs the ``mofa`` extra (torch, diffusers, transformers): ``pip install
'faceshot-animate[mofa]'``; without it, importing this package raises
:class:`faceshot_retarget.MissingExtraError` (an ``ImportError``) saying so in one line.
"""

# ruff: noqa: E402 -- the extra is checked before anything imports torch
from faceshot_retarget import require_extra

#: What installs the MOFA renderer's libraries, and their import names.
MOFA_EXTRA = "faceshot-animate[mofa]"
MOFA_MODULES = ("torch", "diffusers", "transformers")
require_extra(MOFA_MODULES, extra=MOFA_EXTRA, what="faceshot_animate.mofa (MofaAnimator)")

from faceshot_animate.mofa._animator import MofaAnimator, MofaConfig, working_size
from faceshot_animate.mofa._cmp import CmpConfig, CmpFlowNet, load_cmp
from faceshot_animate.mofa._controlnet import ControlConditions, LandmarkControlNet
from faceshot_animate.mofa._layout import (
    MofaComponents,
    MofaLayout,
    check_mofa_layout,
    load_mofa_components,
    required_files,
)
from faceshot_animate.mofa._render import (
    LANDMARK_PARTS,
    render_landmark_images,
    sparse_landmark_flow,
)
from faceshot_animate.mofa._splat import softsplat
from faceshot_animate.mofa._unet import residual_multipliers, unet_residuals
from faceshot_animate.mofa._windows import Window, plan_windows, window_weights
from faceshot_animate.mofa.errors import MofaConfigError, MofaError, MofaWeightsError

__all__ = [
    "LANDMARK_PARTS",
    "MOFA_EXTRA",
    "MOFA_MODULES",
    "CmpConfig",
    "CmpFlowNet",
    "ControlConditions",
    "LandmarkControlNet",
    "MofaAnimator",
    "MofaComponents",
    "MofaConfig",
    "MofaConfigError",
    "MofaError",
    "MofaLayout",
    "MofaWeightsError",
    "Window",
    "check_mofa_layout",
    "load_cmp",
    "load_mofa_components",
    "plan_windows",
    "render_landmark_images",
    "required_files",
    "residual_multipliers",
    "softsplat",
    "sparse_landmark_flow",
    "unet_residuals",
    "window_weights",
    "working_size",
]
