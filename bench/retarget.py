"""Retargeting throughput on one core: the constrained default vs the raw Eq. 5-6 path.

Usage: uv run python bench/retarget.py [--frames 10000]
Prints, measured in one run with threads pinned to 1, in frames per CPU second of this
process (``time.process_time``, so other processes' load mostly cancels out): frames/s of ``retarget`` with every constraint on (part rules, scale and
amplitude bounds, a canvas, the rate limit; mode="constrained", the default), of the raw
path (mode="paper"), and of a per-frame Python loop over the raw path, plus their ratios;
and checks that the raw path and the loop give the same landmarks.
"""

from __future__ import annotations

import os

for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(var, "1")

import argparse  # noqa: E402
import time  # noqa: E402

import numpy as np  # noqa: E402
from faceshot_retarget import retarget, template_face  # noqa: E402


def make_driving(frames: int, seed: int = 0) -> np.ndarray:
    """A talking, nodding template face: (frames, 68, 2) pixels."""
    rng = np.random.default_rng(seed)
    base = template_face(120.0, (160.0, 140.0))
    t = np.arange(frames) / 25.0
    angle = 0.15 * np.sin(2 * np.pi * 0.3 * t)
    shift = np.stack([8 * np.sin(2 * np.pi * 0.2 * t), 4 * np.cos(2 * np.pi * 0.25 * t)], axis=1)
    c, s = np.cos(angle), np.sin(angle)
    rot = np.stack([np.stack([c, -s], -1), np.stack([s, c], -1)], -2)
    centre = base.mean(axis=0)
    seq = np.einsum("tij,pj->tpi", rot, base - centre) + centre + shift[:, None]
    mouth = np.clip(np.sin(2 * np.pi * 1.5 * t), 0, None) * 12.0
    seq[:, [55, 56, 57, 58, 59, 65, 66, 67, 7, 8, 9], 1] += mouth[:, None]
    seq += rng.normal(0, 0.3, seq.shape)
    seq[0] = base
    return seq


def loop_retarget(driving: np.ndarray, target: np.ndarray) -> np.ndarray:
    """The raw maths one frame at a time (what a straightforward implementation does)."""
    out = np.empty_like(driving)
    ref = driving[0]
    for m in range(len(driving)):
        out[m] = retarget(np.stack([ref, driving[m]]), target, mode="paper")[1]
    return out


def best_rate(fn, frames: int, repeats: int = 5) -> float:
    """Frames per CPU second (process time: other processes' load does not count) of the
    fastest of ``repeats`` calls."""
    best = np.inf
    for _ in range(repeats):
        t0 = time.process_time()
        fn()
        best = min(best, time.process_time() - t0)
    return frames / best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--frames", type=int, default=10_000)
    parser.add_argument(
        "--loop-frames", type=int, default=1_000, help="frames timed for the loop baseline"
    )
    args = parser.parse_args()
    driving = make_driving(args.frames)
    target = template_face(300.0, (256.0, 256.0))
    canvas = (512, 512)

    retarget(driving[:50], target, canvas_size=canvas)  # warm-up
    retarget(driving[:50], target, mode="paper")
    # interleave the two paths so that load changes hit both alike
    fps_con, fps_raw = [], []
    for _ in range(3):
        fps_con.append(
            best_rate(lambda: retarget(driving, target, canvas_size=canvas), args.frames, 2)
        )
        fps_raw.append(best_rate(lambda: retarget(driving, target, mode="paper"), args.frames, 2))
    con, raw = max(fps_con), max(fps_raw)
    out = retarget(driving, target, mode="paper")

    n_loop = min(args.loop_frames, args.frames)
    t0 = time.process_time()
    out_loop = loop_retarget(driving[:n_loop], target)
    fps_loop = n_loop / (time.process_time() - t0)
    err = float(np.abs(out_loop - out[:n_loop]).max())
    constrained = retarget(driving, target, canvas_size=canvas)

    print(f"frames                              : {args.frames}")
    print(f"constrained (all constraints on)    : {con:,.0f} frames/s")
    print(f"raw Eq. 5-6 (mode='paper')          : {raw:,.0f} frames/s")
    print(f"constrained / raw                   : {con / raw:.2f}")
    print(
        f"per-frame Python loop (raw)         : {fps_loop:,.0f} frames/s (timed on {n_loop} frames)"
    )
    print(f"speed-up (raw vectorised / loop)    : {raw / fps_loop:,.0f}x")
    print(f"max |raw vectorised - loop|         : {err:.2e} px")
    print(
        f"max |constrained - raw|             : {np.abs(constrained - out).max():.2f} px (the constraints act)"
    )
    print(
        f"load average                        : {', '.join(f'{v:.1f}' for v in os.getloadavg())} ({os.cpu_count()} CPUs)"
    )


if __name__ == "__main__":
    main()
