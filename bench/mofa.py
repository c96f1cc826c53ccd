"""Benchmark MofaAnimator (GPU only): seconds per 125 frames at 512 x 512, peak GPU memory.

Usage:
    uv run python bench/mofa.py --weights /path/to/MOFA-Video-Hybrid [--frames 125]
        [--size 512] [--steps 25] [--dtype float16|bfloat16] [--decode-chunk 8] [--no-progress]
    uv run python bench/mofa.py --random-full [same options] [--json out.json]   # no download
    uv run python bench/mofa.py --random-full --dry-run                          # any machine

The weights directory may also be given as FACESHOT_MOFA_WEIGHTS; without CUDA that path prints
"no GPU: skipped" and exits 0. ``--random-full`` builds every model at full size from the
published configs (faceshot_animate.mofa.full_size: SVD-XT 1.1 U-Net, VAE and CLIP encoder,
the landmark ControlNet, CMP) with random weights on CUDA, in --dtype (float16) with PyTorch SDPA
attention and the VAE decoding --decode-chunk frames at a time; speed and memory do not depend on
weight values. Without CUDA it fails with one line (exit 2); ``--dry-run`` builds the same models
on the meta device instead, passes one 25-frame window through ControlNet + U-Net there (shapes
only) and prints the work plan. Figures: time to the first diffused frame (conditions +
denoising), total seconds for all frames (VAE decode included), frames per second, and
torch.cuda.max_memory_allocated. A synthetic textured face is animated with talking and head
motion, so no data files are needed.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np


def _face_video(frames: int, size: int) -> tuple[np.ndarray, np.ndarray]:
    import cv2
    from faceshot_retarget import template_face

    rng = np.random.default_rng(0)
    img = cv2.GaussianBlur((rng.random((size, size, 3)) * 255).astype(np.uint8), (0, 0), 3)
    base = template_face(0.5 * size, (size / 2, size * 0.55))
    cv2.ellipse(
        img,
        (size // 2, int(size * 0.52)),
        (size // 3, int(size * 0.4)),
        0,
        0,
        360,
        (220, 180, 150),
        -1,
    )
    for part in (slice(36, 42), slice(42, 48), slice(48, 60)):
        cv2.fillPoly(img, [np.round(base[part]).astype(np.int32)], (60, 40, 40))
    t = np.arange(frames)[:, None, None]
    lm = np.repeat(base[None], frames, axis=0)
    lm = lm + np.concatenate([4 * np.sin(t / 9.0), 2 * np.sin(t / 13.0)], axis=2)  # head sway
    mouth = np.zeros((1, 68, 1))
    mouth[0, 57:60] = 1.0
    mouth[0, 65:68] = 1.0
    lm[..., 1:] += 0.03 * size * np.maximum(0, np.sin(t / 3.0)) * mouth  # talking
    return img, lm


def _tiny(args: argparse.Namespace) -> int:
    import torch
    from faceshot_animate.mofa import MofaAnimator
    from faceshot_animate.mofa.testing import TINY_SIZE, tiny_components

    anim = MofaAnimator(
        tiny_components(0),
        device="cpu",
        dtype=torch.float32,
        num_inference_steps=min(args.steps, 2),
        size=TINY_SIZE,
        progress=not args.no_progress,
    )
    img, lm = _face_video(args.frames, TINY_SIZE[0])
    t0 = time.perf_counter()
    n = sum(1 for _ in anim.animate(img, lm))
    total = time.perf_counter() - t0
    net = anim.components.controlnet
    s = TINY_SIZE[0]
    net.encode_conditions(
        torch.rand(2, 3, s, s) * 2 - 1,
        torch.randn(2, 24, 2, s, s),
        torch.rand(2, 25, 3, s, s),
        frame_chunk=1,
    )
    print(f"tiny CPU smoke run (not a benchmark): {n} frames at {s}x{s} in {total:.1f} s")
    return 0


def _dry_run(args: argparse.Namespace) -> int:
    """Full-size models on the meta device: parameter counts, one window's shapes, the work plan."""
    import torch
    from faceshot_animate.mofa import full_size, plan_windows, unet_residuals
    from faceshot_features.full_size import parameter_count

    dtype = getattr(torch, args.dtype)
    c = full_size.components(dtype=dtype)
    parts = {
        "unet": c.unet,
        "vae": c.vae,
        "image_encoder": c.image_encoder,
        "controlnet": c.controlnet,
        "cmp": c.cmp,
    }
    print(
        "dry run on the meta device: parameters "
        + ", ".join(f"{k} {parameter_count(m) / 1e6:.1f} M" for k, m in parts.items())
    )
    f, s = 25, args.size
    with torch.device("meta"):
        conds = c.controlnet.encode_conditions(
            torch.empty(1, 3, s, s, dtype=dtype),
            torch.empty(1, f - 1, 2, s, s),
            torch.empty(1, f, 3, s, s),
        )
        sample = torch.empty(2, f, 8, s // 8, s // 8, dtype=dtype)
        ehs = torch.empty(2, 1, c.unet.config.cross_attention_dim, dtype=dtype)
        added = torch.empty(2, 3, dtype=dtype)
        down, mid = c.controlnet(sample, torch.tensor(1.0), ehs, added, conds, 1.0)
        with unet_residuals(c.unet, down, mid, mofa_accumulation=True):
            out = c.unet(sample, torch.tensor(1.0), ehs, added, return_dict=False)[0]
    procs = sorted({type(p).__name__ for p in c.unet.attn_processors.values()})
    windows = plan_windows(args.frames, 25, 12)
    print(
        f"one window (CFG batch 2 x 25 frames at {s}x{s}): {len(down)} ControlNet residuals -> U-Net output "
        f"{tuple(out.shape)}; attention {', '.join(procs)}"
    )
    print(
        f"{args.frames} frames: {len(windows)} windows x {args.steps} steps = {len(windows) * args.steps} "
        f"ControlNet + U-Net calls on 2 x 25 frames; VAE decode in {-(-(args.frames - 1) // args.decode_chunk)} "
        f"chunks of <= {args.decode_chunk} frames"
    )
    print("dry run: no timing (that needs CUDA: drop --dry-run on a GPU machine)")
    return 0


def _time_animator(anim: Any, args: argparse.Namespace, load_s: float) -> dict[str, Any]:
    import torch

    img, lm = _face_video(args.frames, args.size)

    # warm-up on a short clip (kernel selection, allocator), not timed
    list(anim.animate(img, lm[:3]))
    torch.cuda.synchronize()
    torch.cuda.reset_peak_memory_stats()

    t0 = time.perf_counter()
    it = anim.animate(img, lm)
    next(it)
    second = next(it)
    torch.cuda.synchronize()
    first_s = time.perf_counter() - t0
    n = 2 + sum(1 for _ in it)
    torch.cuda.synchronize()
    total_s = time.perf_counter() - t0
    peak = torch.cuda.max_memory_allocated() / 2**30
    procs = sorted({type(p).__name__ for p in anim.components.unet.attn_processors.values()})
    print(
        f"device: {torch.cuda.get_device_name()}  torch {torch.__version__}  dtype {args.dtype}  "
        f"attention {', '.join(procs)}  decode chunk {args.decode_chunk}"
    )
    print(f"load: {load_s:.1f} s")
    print(
        f"{n} frames at {args.size}x{args.size}, {args.steps} steps: {total_s:.1f} s total "
        f"({n / total_s:.2f} fps); first diffused frame after {first_s:.1f} s"
    )
    print(f"seconds per 125 frames: {total_s * 125 / n:.1f}")
    print(f"peak GPU memory (max_memory_allocated): {peak:.2f} GiB")
    assert second.shape[:2] == (args.size, args.size)
    return {
        "device": torch.cuda.get_device_name(),
        "torch": torch.__version__,
        "dtype": args.dtype,
        "attention_processors": procs,
        "decode_chunk": args.decode_chunk,
        "load_s": load_s,
        "frames": n,
        "size": args.size,
        "steps": args.steps,
        "total_s": total_s,
        "fps": n / total_s,
        "first_frame_s": first_s,
        "s_per_125_frames": total_s * 125 / n,
        "peak_gib": peak,
    }


def _animator(args: argparse.Namespace, device: str) -> Any:
    """MofaAnimator on ``device`` from --weights, or from full-size random-weight models (--random-full)."""
    import torch
    from faceshot_animate.mofa import MofaAnimator, full_size

    dtype = getattr(torch, args.dtype)
    weights: Any = (
        full_size.components(device=device, dtype=dtype) if args.random_full else args.weights
    )
    return MofaAnimator(
        weights,
        device=device,
        dtype=dtype,
        num_inference_steps=args.steps,
        size=(args.size, args.size),
        decode_chunk=args.decode_chunk,
        progress=not args.no_progress,
    )


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--weights", default=os.environ.get("FACESHOT_MOFA_WEIGHTS", ""))
    ap.add_argument("--frames", type=int, default=125)
    ap.add_argument("--size", type=int, default=512)
    ap.add_argument("--steps", type=int, default=25)
    ap.add_argument("--dtype", choices=("float16", "bfloat16"), default="float16")
    ap.add_argument(
        "--decode-chunk", type=int, default=8, help="frames the VAE decodes at once (default 8)"
    )
    ap.add_argument("--no-progress", action="store_true")
    ap.add_argument(
        "--tiny",
        action="store_true",
        help="smoke-test this script on CPU with tiny random components (figures meaningless)",
    )
    ap.add_argument(
        "--random-full",
        action="store_true",
        help="full-size models with random weights instead of --weights (CUDA only; no download)",
    )
    ap.add_argument(
        "--dry-run",
        action="store_true",
        help="--random-full: build on the meta device and print the plan instead of timing (no GPU needed)",
    )
    ap.add_argument("--json", metavar="PATH", help="also write the figures as JSON")
    args = ap.parse_args(argv)
    for name in ("frames", "steps", "decode_chunk"):
        if getattr(args, name) < 1:
            ap.error(f"--{name.replace('_', '-')} must be >= 1; got {getattr(args, name)}")
    if args.size < 64 or args.size % 64:
        ap.error(f"--size must be a positive multiple of 64; got {args.size}")
    if args.dry_run and not args.random_full:
        ap.error("--dry-run applies to --random-full only")

    import torch

    if args.tiny:
        return _tiny(args)
    if args.dry_run:
        return _dry_run(args)
    if not torch.cuda.is_available():
        if args.random_full:
            print(
                "bench/mofa.py --random-full: not run: CUDA is not available on this machine (no GPU); "
                "the timing needs one (--dry-run checks the full-size models on the meta device)",
                file=sys.stderr,
            )
            return 2
        print("mofa bench: no GPU: skipped")
        return 0
    if not args.weights and not args.random_full:
        print(
            "mofa bench: give --weights or FACESHOT_MOFA_WEIGHTS (a MOFA-Video-Hybrid clone), or --random-full"
        )
        return 2

    t0 = time.perf_counter()
    anim = _animator(args, "cuda")
    torch.cuda.synchronize()
    load_s = time.perf_counter() - t0
    if args.random_full:
        print(
            "random full-size weights (faceshot_animate.mofa.full_size): speed and memory only, frames meaningless"
        )
    report = _time_animator(anim, args, load_s)
    n = report["frames"]
    total_s = report["total_s"]

    # The official pipeline recomputes the ControlNet's timestep-independent conditions
    # (first-frame warping, occlusion hourglasses, landmark embedding) for every window at
    # every step, on the CFG-duplicated batch of 2, one frame at a time; we compute them once.
    # Time that work for one 25-frame window to give a lower bound of the official cost.
    from faceshot_animate.mofa import plan_windows

    net = anim.components.controlnet
    s = args.size
    dev = anim.device
    cond_img = torch.rand(2, 3, s, s, device=dev) * 2 - 1
    flows = torch.randn(2, 24, 2, s, s, device=dev)
    marks = torch.rand(2, 25, 3, s, s, device=dev)
    net.encode_conditions(cond_img, flows, marks, frame_chunk=1)
    torch.cuda.synchronize()
    t0 = time.perf_counter()
    net.encode_conditions(cond_img, flows, marks, frame_chunk=1)
    torch.cuda.synchronize()
    per_window = time.perf_counter() - t0
    n_win = len(plan_windows(n, 25, 12))
    extra = per_window * n_win * args.steps
    print(
        f"official-style per-step condition recomputation: {per_window:.2f} s x {n_win} windows x "
        f"{args.steps} steps = {extra:.1f} s more (lower bound of the official pipeline: "
        f"{total_s + extra:.1f} s, ratio >= {(total_s + extra) / total_s:.2f}x)"
    )
    report["official_lower_bound_s"] = total_s + extra
    if args.json:
        Path(args.json).write_text(
            json.dumps(report | {"random_full": args.random_full}, indent=2), encoding="utf-8"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
