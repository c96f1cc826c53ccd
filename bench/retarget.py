"""Retargeting throughput: vectorised faceshot_retarget.retarget vs a per-frame Python loop.

Usage: uv run python bench/retarget.py [--frames 10000]
Prints frames/s of both on one core (threads pinned to 1) and their ratio, measured in one run,
and checks that both give the same landmarks.
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
    """The same maths one frame at a time (what a straightforward implementation does)."""
    out = np.empty_like(driving)
    ref = driving[0]
    for m in range(len(driving)):
        out[m] = retarget(np.stack([ref, driving[m]]), target)[1]
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--frames", type=int, default=10_000)
    parser.add_argument("--loop-frames", type=int, default=1_000, help="frames timed for the loop baseline")
    args = parser.parse_args()
    driving = make_driving(args.frames)
    target = template_face(300.0, (256.0, 256.0))

    retarget(driving[:10], target)  # warm-up
    best = np.inf
    for _ in range(5):
        t0 = time.perf_counter()
        out = retarget(driving, target)
        best = min(best, time.perf_counter() - t0)
    fps_vec = args.frames / best

    n_loop = min(args.loop_frames, args.frames)
    t0 = time.perf_counter()
    out_loop = loop_retarget(driving[:n_loop], target)
    fps_loop = n_loop / (time.perf_counter() - t0)
    err = float(np.abs(out_loop - out[:n_loop]).max())

    print(f"frames                       : {args.frames}")
    print(f"vectorised retarget          : {fps_vec:,.0f} frames/s ({best * 1e3:.1f} ms total)")
    print(f"per-frame Python loop        : {fps_loop:,.0f} frames/s (timed on {n_loop} frames)")
    print(f"speed-up (vectorised / loop) : {fps_vec / fps_loop:,.0f}x")
    print(f"max |vectorised - loop|      : {err:.2e} px")


if __name__ == "__main__":
    main()
