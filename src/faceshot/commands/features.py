"""``faceshot features``: dense semantic features of one image, saved as ``.npz``.

Heavy imports (torch, diffusers) happen inside the handler so ``faceshot --help`` stays fast.
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

from faceshot_features import BACKBONES

__all__ = ["register"]


def register(subparsers: Any) -> None:
    """Add the ``features`` subcommand."""
    p = subparsers.add_parser(
        "features",
        help="extract dense semantic features of an image (.npz)",
        description=(
            "Extract a dense feature map (C, h, w) float32 of IMAGE and write it to an .npz file with "
            "fields array, image_size (H, W), backbone and config (JSON). Backbones: embedded "
            "(ImageNet MobileNetV2 on the CPU, default), sd15-ip (paper recipe: SD 1.5 + IP-Adapter), "
            "sd21 (official-code recipe: SD 2.1). Diffusion weights are read from --weights or the "
            "Hugging Face cache and are never downloaded unless --allow-download is given."
        ),
    )
    p.add_argument("image", metavar="IMAGE", help="input image (PNG, JPEG, ...)")
    p.add_argument("-o", "--output", required=True, metavar="F.npz", help="output feature file")
    p.add_argument(
        "--backbone",
        choices=BACKBONES,
        default="embedded",
        help="feature backbone (default: embedded)",
    )
    p.add_argument(
        "--weights",
        metavar="PATH",
        default=None,
        help="weights: MobileNetV2 .pth (embedded) or diffusers pipeline directory / HF id (sd*)",
    )
    p.add_argument(
        "--ip-adapter",
        metavar="PATH",
        default=None,
        help="sd15-ip: IP-Adapter checkpoint (default h94/IP-Adapter/models/ip-adapter_sd15.safetensors)",
    )
    p.add_argument(
        "--image-prompt",
        metavar="IMAGE",
        default=None,
        help="sd15-ip: image prompt (default: the image itself)",
    )
    p.add_argument("--device", default="cpu", help="torch device (default: cpu)")
    p.add_argument(
        "--dtype",
        choices=("auto", "float32", "float16", "bfloat16"),
        default="auto",
        help="diffusion model dtype (auto: float16 on CUDA, float32 on CPU)",
    )
    p.add_argument(
        "--allow-download",
        action="store_true",
        help="let missing Hugging Face weights download into the cache",
    )
    p.add_argument(
        "--cache-dir", metavar="DIR", default=None, help="on-disk feature cache directory"
    )
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    p.set_defaults(handler=_run)


def _run(args: argparse.Namespace) -> int:
    from pathlib import Path

    from faceshot_features import FeatureFileError, load_extractor, load_image, save_features

    from faceshot._io import check_output_path

    out = Path(args.output)
    if not (out.parent if str(out.parent) else Path(".")).is_dir():
        raise FeatureFileError(f"--output directory {str(out.parent)!r} does not exist")
    check_output_path(
        out,
        inputs=(args.image, args.image_prompt, args.weights, args.ip_adapter),
        suffixes=(".npz",),
        option="-o",
        what="NumPy .npz",
    )
    image = load_image(args.image)
    prompt = load_image(args.image_prompt) if args.image_prompt else None
    kwargs: dict[str, Any] = {
        "weights": args.weights,
        "device": args.device,
        "cache_dir": args.cache_dir,
    }
    if args.backbone != "embedded":
        import torch

        kwargs["dtype"] = None if args.dtype == "auto" else getattr(torch, args.dtype)
        kwargs["local_files_only"] = not args.allow_download
        kwargs["progress"] = False if args.no_progress else None
        if args.ip_adapter is not None:
            kwargs["ip_adapter"] = args.ip_adapter
    extractor = load_extractor(args.backbone, **kwargs)
    feats = extractor.extract(image, image_prompt=prompt)
    save_features(out, feats)
    c, h, w = feats.array.shape
    print(
        f"{out}: {feats.backbone} features ({c}, {h}, {w}) for a {feats.image_size[0]}x{feats.image_size[1]} "
        f"image, stride {feats.stride:.3g} px",
        file=sys.stderr,
    )
    return 0
