"""Benchmark faceshot-features: seconds per 512 x 512 image.

    uv run python bench/features.py [--threads 2] [--repeats 5] [--skip-tiny]

Prints, on the CPU with ``--threads`` torch threads:
  * the embedded MobileNetV2 backbone (goal <= 1 s on 2 cores);
  * a tiny random diffusion model (faceshot_features.testing; VAE factor 8 as in SD, so the
    tiny U-Net runs on 64 x 64 latents) through the full SD recipe
    (512 x 512 input, 50-step schedule, inversion to t = 301, up_blocks[1] hook), k = 1 and k = 10;
and, when CUDA is available and the weights are in the Hugging Face cache, the real recipes
(sd15-ip with Eq. 3 pairing, sd21) at k = 1 and k = 10 references in one batch
(paper: tau = 1.637 s per image at k = 1; goal: k = 10 in <= 1.5 tau).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

DATA = Path(__file__).resolve().parents[1] / "packages" / "faceshot-features" / "tests" / "data"


def _face(size: int = 512) -> np.ndarray:
    from faceshot_features import load_image
    from PIL import Image

    img = load_image(DATA / "takeo_face.png")
    return np.asarray(Image.fromarray(img).resize((size, size), Image.BILINEAR))


def _time(fn: Callable[[], object], repeats: int, sync: Callable[[], None] = lambda: None) -> tuple[float, float]:
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
    print(f"embedded-mobilenetv2  cpu  512x512  -> ({c}, {h}, {w})   {med:.3f} s/image (median of {repeats}; best {best:.3f})")


def bench_tiny(repeats: int) -> None:
    from faceshot_features import DiffusionConfig, DiffusionExtractor
    from faceshot_features.testing import tiny_components

    with tempfile.TemporaryDirectory() as d:
        ex = DiffusionExtractor(tiny_components(d, ip_adapter=True, vae_factor=8), backbone="tiny-ip",
                                config=DiffusionConfig(model_id="tiny", image_size=512, ip_adapter_id="tiny"),
                                progress=False)
        img = _face()
        steps = len(ex.config["timesteps"]) + 1
        for k in (1, 10):
            refs = [img] * k
            med, best = _time(lambda refs=refs: ex.extract_batch(refs, image_prompts=[img] * len(refs)), repeats)
            print(f"tiny random SD+IP     cpu  512x512  k={k:<2d} {steps} U-Net calls  {med:.3f} s/batch "
                  f"({med / k:.3f} s/image; best {best:.3f})")


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
            print(f"{name:<8s} {torch.cuda.get_device_name()}  512x512  k={k:<2d} target+references  "
                  f"{med:.3f} s (best {best:.3f})")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--threads", type=int, default=2, help="torch CPU threads (default 2)")
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--skip-tiny", action="store_true", help="skip the tiny diffusion model")
    args = ap.parse_args(argv)
    import torch

    torch.set_num_threads(args.threads)
    print(f"torch {torch.__version__}, {torch.get_num_threads()} CPU threads", file=sys.stderr)
    bench_embedded(args.repeats)
    if not args.skip_tiny:
        bench_tiny(max(1, args.repeats // 2))
    bench_gpu(args.repeats)
    return 0


if __name__ == "__main__":
    sys.exit(main())
