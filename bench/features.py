"""Benchmark faceshot-features: seconds per 512 x 512 image.

    uv run python bench/features.py [--threads 2] [--repeats 5] [--skip-tiny]
    uv run python bench/features.py --random-full [--recipe sd15-ip|sd21|both] [--ks 1,10]
        [--dtype float16] [--repeats 5] [--json out.json]      # CUDA only
    uv run python bench/features.py --random-full --dry-run  # any machine: meta device, no timing

Prints, on the CPU with ``--threads`` torch threads:
  * the embedded MobileNetV2 backbone (goal <= 1 s on 2 cores);
  * a tiny random diffusion model (faceshot_features.testing; VAE factor 8 as in SD, so the
    tiny U-Net runs on 64 x 64 latents) through the full SD recipe
    (512 x 512 input, 50-step schedule, inversion to t = 301, up_blocks[1] hook), k = 1 and k = 10;
and, when CUDA is available and the weights are in the Hugging Face cache, the real recipes
(sd15-ip with Eq. 3 pairing, sd21) at k = 1 and k = 10 references in one batch
(paper: tau = 1.637 s per image at k = 1; goal: k = 10 in <= 1.5 tau).

``--random-full`` times the paper's recipe without any download: every model at full size
(faceshot_features.full_size: the published configs) with random weights on CUDA, in --dtype
(float16), with PyTorch SDPA attention; per character = one Eq. 3 pair (target + k references,
the references in one batch: 2 batches of 17 U-Net calls each); beside it, the same k references
one at a time (the unbatched baseline) and the peak GPU memory. Without CUDA it fails with one
line (exit 2); ``--dry-run`` builds the same models on the meta device instead and prints their
parameter counts and the work plan (a CPU check of the benchmark itself).
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

DATA = Path(__file__).resolve().parents[1] / "packages" / "faceshot-features" / "tests" / "data"
#: FaceShot (ICLR 2025): seconds per image of the SD feature extraction at k = 1.
TAU = 1.637


def _face(size: int = 512) -> np.ndarray:
    from faceshot_features import load_image
    from PIL import Image

    img = load_image(DATA / "takeo_face.png")
    return np.asarray(Image.fromarray(img).resize((size, size), Image.BILINEAR))


def _time(
    fn: Callable[[], object], repeats: int, sync: Callable[[], None] = lambda: None
) -> tuple[float, float]:
    fn()  # warm-up (first-call allocations, kernel selection)
    sync()
    times = []
    for _ in range(repeats):
        t = time.perf_counter()
        fn()
        sync()
        times.append(time.perf_counter() - t)
    return statistics.median(times), min(times)


def bench_embedded(repeats: int) -> None:
    from faceshot_features import EmbeddedExtractor

    ex = EmbeddedExtractor()
    img = _face()
    med, best = _time(lambda: ex.extract(img), repeats)
    c, h, w = ex.extract(img).array.shape
    print(
        f"embedded-mobilenetv2  cpu  512x512  -> ({c}, {h}, {w})   {med:.3f} s/image (median of {repeats}; best {best:.3f})"
    )


def bench_tiny(repeats: int) -> None:
    from faceshot_features import DiffusionConfig, DiffusionExtractor
    from faceshot_features.testing import tiny_components

    with tempfile.TemporaryDirectory() as d:
        ex = DiffusionExtractor(
            tiny_components(d, ip_adapter=True, vae_factor=8),
            backbone="tiny-ip",
            config=DiffusionConfig(model_id="tiny", image_size=512, ip_adapter_id="tiny"),
            progress=False,
        )
        img = _face()
        steps = len(ex.config["timesteps"]) + 1
        for k in (1, 10):
            refs = [img] * k
            med, best = _time(
                lambda refs=refs: ex.extract_batch(refs, image_prompts=[img] * len(refs)), repeats
            )
            print(
                f"tiny random SD+IP     cpu  512x512  k={k:<2d} {steps} U-Net calls  {med:.3f} s/batch "
                f"({med / k:.3f} s/image; best {best:.3f})"
            )


def bench_gpu(repeats: int) -> None:
    import torch
    from faceshot_features import WeightsNotFoundError, extract_pair, load_extractor

    if not torch.cuda.is_available():
        print("GPU: CUDA not available; real SD recipe not timed")
        return
    sync = torch.cuda.synchronize
    img = _face()
    for name in ("sd15-ip", "sd21"):
        try:
            ex = load_extractor(name, device="cuda", progress=False)
        except WeightsNotFoundError as exc:
            print(f"{name}: skipped: {exc}")
            continue
        for k in (1, 10):
            refs = [img] * k
            med, best = _time(lambda ex=ex, refs=refs: extract_pair(ex, img, refs), repeats, sync)
            print(
                f"{name:<8s} {torch.cuda.get_device_name()}  512x512  k={k:<2d} target+references  "
                f"{med:.3f} s (best {best:.3f})"
            )


def _recipes(arg: str) -> list[str]:
    return ["sd15-ip", "sd21"] if arg == "both" else [arg]


def _ks(text: str) -> list[int]:
    try:
        ks = [int(v) for v in text.split(",") if v.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected comma-separated integers >= 1, e.g. 1,10; got {text!r}"
        ) from None
    if not ks or min(ks) < 1:
        raise argparse.ArgumentTypeError(
            f"expected comma-separated integers >= 1, e.g. 1,10; got {text!r}"
        )
    return ks


def _random_full_extractor(recipe: str, device: str, dtype: Any) -> Any:
    """A DiffusionExtractor running the preset recipe on full-size random-weight models."""
    import torch
    from faceshot_features import PRESETS, DiffusionExtractor, full_size

    config = dataclasses.replace(
        PRESETS[recipe], model_id=f"random-full:{PRESETS[recipe].model_id}"
    )
    with tempfile.TemporaryDirectory() as tok:
        comps = full_size.components(recipe, tok, device=device, dtype=dtype)
    with torch.device(device):  # on meta, the IP-Adapter layers must be made there too
        return DiffusionExtractor(
            comps, backbone=recipe, config=config, device=device, dtype=dtype, progress=False
        )


def _describe(ex: Any) -> dict[str, Any]:
    from faceshot_features import full_size

    cfg = ex.config
    parts = {"unet": ex.unet, "vae": ex.vae, "text_encoder": ex.text_encoder}
    if ex.image_encoder is not None:
        parts["image_encoder"] = ex.image_encoder
    procs = sorted({type(p).__name__ for p in ex.unet.attn_processors.values()})
    counts = {k: full_size.parameter_count(m) for k, m in parts.items()}
    ip = sum(
        p.numel()
        for n, p in ex.unet.named_parameters()
        if n.startswith("encoder_hid_proj.") or "to_k_ip" in n or "to_v_ip" in n
    )
    if ip:  # IP-Adapter layers live inside the U-Net once loaded
        counts = {
            "unet": counts["unet"] - ip,
            "ip_adapter": ip,
            **{k: v for k, v in counts.items() if k != "unet"},
        }
    return {
        "parameters": counts,
        "unet_calls_per_batch": len(cfg["timesteps"]) + 1,
        "timesteps": cfg["timesteps"],
        "attention_processors": procs,
        "dtype": cfg["dtype"],
        "ip_adapter": cfg["ip_adapter"],
    }


def _dry_run(args: argparse.Namespace) -> int:
    """Build every full-size model on the meta device; print counts and the plan (no timing)."""
    import numpy as np
    import torch

    dtype = getattr(torch, args.dtype)
    for recipe in _recipes(args.recipe):
        ex = _random_full_extractor(recipe, "meta", dtype)
        d = _describe(ex)
        img = np.zeros((512, 512, 3), np.uint8)
        with torch.device("meta"):  # a shape-only pass through the whole recipe
            shape = tuple(ex._run([img], [img]).shape)
        print(
            f"{recipe} (dry run on the meta device, {d['dtype']}): parameters "
            + ", ".join(f"{k} {v / 1e6:.1f} M" for k, v in d["parameters"].items())
            + f"; attention {', '.join(d['attention_processors'])}"
        )
        for k in args.ks:
            print(
                f"  k={k:<2d}: 2 batches (target; {k} reference(s)) x {d['unet_calls_per_batch']} U-Net calls "
                f"(inversion {d['timesteps'][0]}..{d['timesteps'][-1]} + feature pass) -> features {shape[1:]} each"
            )
    print("dry run: no timing (that needs CUDA: drop --dry-run on a GPU machine)")
    return 0


def bench_random_full(args: argparse.Namespace) -> int:
    """Seconds per character (Eq. 3 pair) at each k on full-size random-weight models, CUDA only."""
    import torch
    from faceshot_features import extract_pair

    if args.dry_run:
        return _dry_run(args)
    if not torch.cuda.is_available():
        print(
            "bench/features.py --random-full: not run: CUDA is not available on this machine (no GPU); "
            "the timing needs one (--dry-run checks the full-size models on the meta device)",
            file=sys.stderr,
        )
        return 2
    dtype = getattr(torch, args.dtype)
    sync = torch.cuda.synchronize
    target = _face()
    rng = np.random.default_rng(0)
    refs = [np.roll(target, int(s), axis=1) for s in rng.integers(-40, 40, size=max(args.ks))]
    report: dict[str, Any] = {
        "device": torch.cuda.get_device_name(),
        "torch": torch.__version__,
        "tau_s": TAU,
        "recipes": {},
    }
    print(
        f"device: {report['device']}  torch {torch.__version__}  dtype {args.dtype}  (random full-size weights)"
    )
    for recipe in _recipes(args.recipe):
        t0 = time.perf_counter()
        ex = _random_full_extractor(recipe, "cuda", dtype)
        sync()
        rep = _describe(ex) | {"build_s": time.perf_counter() - t0, "k": {}}
        print(
            f"{recipe}: built in {rep['build_s']:.1f} s; attention {', '.join(rep['attention_processors'])}; "
            f"{rep['unet_calls_per_batch']} U-Net calls per batch"
        )
        for k in args.ks:
            batch = refs[:k]
            torch.cuda.reset_peak_memory_stats()
            med, best = _time(lambda b=batch, e=ex: extract_pair(e, target, b), args.repeats, sync)
            peak = torch.cuda.max_memory_allocated() / 2**30
            tgt, ref_feats = extract_pair(ex, target, batch)
            finite = bool(
                np.isfinite(tgt.array).all() and all(np.isfinite(f.array).all() for f in ref_feats)
            )

            def one_at_a_time(b: list[np.ndarray] = batch, e: Any = ex) -> None:
                e.extract(target, image_prompt=b if len(b) > 1 else b[0])
                for r in b:
                    e.extract(r, image_prompt=target)

            seq, _ = _time(one_at_a_time, max(1, args.repeats // 2), sync)
            rep["k"][k] = {
                "s_per_character": med,
                "best_s": best,
                "vs_tau": med / TAU,
                "sequential_s": seq,
                "batching_speedup": seq / med,
                "peak_gib": peak,
                "features_finite": finite,
            }
            print(
                f"  k={k:<2d}  {med:.3f} s per character (best {best:.3f}) = {med / TAU:.2f} tau; "
                f"one at a time {seq:.3f} s ({seq / med:.2f}x); peak {peak:.2f} GiB"
                + ("" if finite else "; features not finite (random fp16 weights)")
            )
        if 10 in rep["k"]:
            ok = rep["k"][10]["s_per_character"] <= 1.5 * TAU
            print(f"  goal k=10 <= 1.5 tau = {1.5 * TAU:.3f} s: {'met' if ok else 'NOT met'}")
        report["recipes"][recipe] = rep
        del ex
        torch.cuda.empty_cache()
    if args.json:
        Path(args.json).write_text(json.dumps(report, indent=2), encoding="utf-8")
    return 0


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--threads", type=int, default=2, help="torch CPU threads (default 2)")
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--skip-tiny", action="store_true", help="skip the tiny diffusion model")
    ap.add_argument(
        "--random-full",
        action="store_true",
        help="time the paper's recipe on full-size random-weight models (CUDA only; no download)",
    )
    ap.add_argument(
        "--recipe",
        choices=("sd15-ip", "sd21", "both"),
        default="sd15-ip",
        help="--random-full: which recipe (default sd15-ip, the paper's)",
    )
    ap.add_argument(
        "--ks", type=_ks, default=[1, 10], help="--random-full: reference counts k (default 1,10)"
    )
    ap.add_argument(
        "--dtype",
        choices=("float16", "bfloat16", "float32"),
        default="float16",
        help="--random-full: model dtype (default float16)",
    )
    ap.add_argument(
        "--dry-run",
        action="store_true",
        help="--random-full: build on the meta device and print the plan instead of timing (no GPU needed)",
    )
    ap.add_argument("--json", metavar="PATH", help="--random-full: also write the figures as JSON")
    args = ap.parse_args(argv)
    if args.repeats < 1:
        ap.error(f"--repeats must be >= 1; got {args.repeats}")
    if (args.dry_run or args.json) and not args.random_full:
        ap.error("--dry-run and --json apply to --random-full only")
    import torch

    torch.set_num_threads(args.threads)
    if args.random_full:
        return bench_random_full(args)
    print(f"torch {torch.__version__}, {torch.get_num_threads()} CPU threads", file=sys.stderr)
    bench_embedded(args.repeats)
    if not args.skip_tiny:
        bench_tiny(max(1, args.repeats // 2))
    bench_gpu(args.repeats)
    return 0


if __name__ == "__main__":
    sys.exit(main())
