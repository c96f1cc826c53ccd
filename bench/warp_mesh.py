"""Benchmark the WarpAnimator mesh warp internals at 512x512 against per-pixel baselines in the same run.

Prints:
  * WarpAnimator end-to-end fps (mesh build, per-frame maps, remap, mouth cavity), on a
    realistic landmark sequence: the template face scaled into the image with head
    motion (translation + rotation), mouth opening/closing and blinks;
  * the same dense fields applied with a plain per-pixel ``scipy.ndimage.map_coordinates``
    (order 1, per channel) and the speed ratio (field computation excluded from the
    baseline, so the ratio is conservative);
  * a thin-plate-spline field (scipy RBFInterpolator on the same control points, same
    coarse grid) for speed, and both methods' error on a known affine motion.

Run:  uv run python bench/warp_mesh.py [--size 512] [--frames 200] [--threads N]
"""

from __future__ import annotations

import argparse
import os
import time

import cv2
import numpy as np
from faceshot_animate import WarpAnimator, WarpConfig
from faceshot_animate._mesh import build_mesh
from faceshot_animate._warp import _FrameRenderer
from faceshot_retarget import template_face
from scipy import ndimage
from scipy.interpolate import RBFInterpolator


def synthetic_face(size: int, lm: np.ndarray, seed: int = 0) -> np.ndarray:
    """A textured (size, size, 3) uint8 portrait-like image drawn around landmarks."""
    rng = np.random.default_rng(seed)
    img = cv2.GaussianBlur(rng.random((size, size, 3)).astype(np.float32), (0, 0), size / 128)
    img = np.round(60 + 150 * (img - img.min()) / np.ptp(img)).astype(np.uint8)
    c = lm[[0, 16, 8, 27]].mean(axis=0)
    width = np.ptp(lm[:, 0])
    cv2.ellipse(
        img,
        (int(c[0]), int(c[1] - 0.1 * width)),
        (int(0.62 * width), int(0.85 * width)),
        0,
        0,
        360,
        (90, 60, 40),
        -1,
    )
    cv2.ellipse(
        img,
        (int(c[0]), int(c[1])),
        (int(0.55 * width), int(0.72 * width)),
        0,
        0,
        360,
        (220, 180, 150),
        -1,
    )
    skin_noise = cv2.GaussianBlur(rng.random((size, size)).astype(np.float32), (0, 0), 2) * 25
    img = np.clip(img.astype(np.float32) + skin_noise[:, :, None] - 12, 0, 255).astype(np.uint8)
    for eye in (slice(36, 42), slice(42, 48)):
        cv2.fillPoly(img, [np.round(lm[eye]).astype(np.int32)], (240, 240, 240))
        e = lm[eye].mean(axis=0)
        cv2.circle(img, (int(e[0]), int(e[1])), int(0.035 * width), (40, 30, 20), -1)
    for brow in (slice(17, 22), slice(22, 27)):
        cv2.polylines(
            img, [np.round(lm[brow]).astype(np.int32)], False, (70, 45, 30), max(2, int(width / 60))
        )
    cv2.polylines(img, [np.round(lm[27:36]).astype(np.int32)], False, (170, 120, 100), 2)
    cv2.fillPoly(img, [np.round(lm[48:60]).astype(np.int32)], (180, 60, 70))
    return img


def driving_sequence(lm0: np.ndarray, frames: int) -> np.ndarray:
    """(T, 68, 2): head translation/rotation, talking mouth, a blink every ~2 s at 25 fps."""
    t = np.arange(frames) / 25.0
    seq = np.repeat(lm0[None], frames, axis=0).copy()
    width = np.ptp(lm0[:, 0])
    mouth = np.clip(np.sin(2 * np.pi * 1.7 * t), 0, None) * 0.22 * width
    seq[:, [65, 66, 67, 56, 57, 58], 1] += mouth[:, None]
    seq[:, [55, 59], 1] += 0.6 * mouth[:, None]
    seq[:, 5:12, 1] += mouth[:, None] * np.array([0.2, 0.5, 0.8, 1.0, 0.8, 0.5, 0.2])
    blink = np.clip(1 - np.abs((t % 2.0) - 1.0) / 0.12, 0, 1)
    for up, lo in ((37, 41), (38, 40), (43, 47), (44, 46)):
        seq[:, up] += blink[:, None] * (lm0[lo] - lm0[up])
    centre = lm0.mean(axis=0)
    angle = np.deg2rad(6.0) * np.sin(2 * np.pi * 0.3 * t)
    shift = np.stack(
        [0.03 * width * np.sin(2 * np.pi * 0.2 * t), 0.02 * width * np.cos(2 * np.pi * 0.25 * t)],
        axis=1,
    )
    cos, sin = np.cos(angle), np.sin(angle)
    rel = seq - centre
    rot = np.stack(
        [
            cos[:, None] * rel[..., 0] - sin[:, None] * rel[..., 1],
            sin[:, None] * rel[..., 0] + cos[:, None] * rel[..., 1],
        ],
        axis=2,
    )
    return rot + centre + shift[:, None]


def tps_map(mesh, landmarks: np.ndarray, step: int) -> np.ndarray:
    """Dense (H, W, 2) displacement from a thin-plate spline through the mesh's control points."""
    dst = mesh.control_points(landmarks)
    tps = RBFInterpolator(dst, mesh.source - dst, kernel="thin_plate_spline")
    w, h = mesh.size
    hc, wc = -(-h // step), -(-w // step)
    xs = (np.arange(wc) + 0.5) * step - 0.5
    ys = (np.arange(hc) + 0.5) * step - 0.5
    gx, gy = np.meshgrid(xs, ys)
    coarse = tps(np.stack([gx.ravel(), gy.ravel()], axis=1)).reshape(hc, wc, 2).astype(np.float32)
    return cv2.resize(coarse, (wc * step, hc * step), interpolation=cv2.INTER_LINEAR)[:h, :w]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=512)
    parser.add_argument("--frames", type=int, default=200)
    parser.add_argument("--baseline-frames", type=int, default=20)
    parser.add_argument(
        "--threads", type=int, default=None, help="cv2.setNumThreads (default: OpenCV's)"
    )
    parser.add_argument("--grid-step", type=int, default=4)
    args = parser.parse_args()
    if args.threads is not None:
        cv2.setNumThreads(args.threads)
    size = args.size
    lm0 = template_face(0.45 * size, (size / 2, size / 2 - 0.02 * size))
    img = synthetic_face(size, lm0)
    seq = driving_sequence(lm0, args.frames)
    config = WarpConfig(grid_step=args.grid_step)
    print(
        f"cpu cores: {os.cpu_count()}  cv2 threads: {cv2.getNumThreads()}  image: {size}x{size}x3  frames: {args.frames}"
    )

    anim = WarpAnimator(config)
    for _ in anim.animate(img, seq[:5]):  # warm-up (imports, allocator)
        pass
    t0 = time.perf_counter()
    n = sum(1 for _ in anim.animate(img, seq))
    warp_s = time.perf_counter() - t0
    fps = n / warp_s
    print(
        f"WarpAnimator (piecewise affine, step {args.grid_step}): {fps:8.1f} fps  ({1e3 * warp_s / n:.2f} ms/frame, end to end)"
    )

    # The same dense fields, applied with a plain per-pixel map_coordinates warp.
    mesh = build_mesh(lm0, (size, size), step=args.grid_step)
    renderer = _FrameRenderer(img, mesh, config, lm0)
    k = min(args.baseline_frames, n)
    picks = np.linspace(0, n - 1, k).round().astype(int)
    t0 = time.perf_counter()
    fields = [renderer.dense_map(seq[i]) for i in picks]
    field_ms = 1e3 * (time.perf_counter() - t0) / k
    t0 = time.perf_counter()
    for f in fields:
        coords = np.stack([f[:, :, 1], f[:, :, 0]])
        out = np.empty_like(img)
        for c in range(3):
            out[:, :, c] = ndimage.map_coordinates(img[:, :, c], coords, order=1, mode="nearest")
    base_s = (time.perf_counter() - t0) / k
    print(f"  of which field (map) computation: {field_ms:.2f} ms/frame")
    print(
        f"scipy.ndimage.map_coordinates, same field:  {1 / base_s:8.1f} fps  ({1e3 * base_s:.2f} ms/frame, warp only)"
    )
    print(f"speed ratio WarpAnimator / map_coordinates: {fps * base_s:8.1f}x")

    # Thin-plate spline on the same control points and coarse grid.
    t0 = time.perf_counter()
    for i in picks:
        d = tps_map(mesh, seq[i], args.grid_step)
        cv2.remap(
            img, np.add(renderer.grid, d), None, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE
        )
    tps_s = (time.perf_counter() - t0) / k
    print(
        f"thin-plate spline (RBFInterpolator, step {args.grid_step}) + remap: {1 / tps_s:8.1f} fps"
    )

    # Quality on a known affine motion of all landmarks: error inside the face.
    c = lm0.mean(axis=0)
    m = cv2.getRotationMatrix2D((float(c[0]), float(c[1])), 6.0, 1.04)
    m[:, 2] += (0.02 * size, 0.01 * size)
    moved = lm0 @ m[:, :2].T + m[:, 2]
    expected = cv2.warpAffine(img, m, (size, size), flags=cv2.INTER_LINEAR)
    hull = cv2.convexHull(moved.astype(np.float32)).reshape(-1, 2)
    mask = np.zeros((size, size), np.uint8)
    cv2.fillPoly(mask, [np.round(c + 0.85 * (hull - c) + m[:, 2] * 0).astype(np.int32)], 1)
    mask = mask.astype(bool)
    _, pa = anim.animate(img, np.stack([lm0, moved]))
    d = tps_map(mesh, moved, args.grid_step)
    tp = cv2.remap(
        img, np.add(renderer.grid, d), None, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE
    )
    err_pa = np.abs(pa.astype(float) - expected)[mask].mean()
    err_tps = np.abs(tp.astype(float) - expected)[mask].mean()
    print(
        f"affine-motion error in the face (mean abs, 0-255): piecewise affine {err_pa:.2f}, thin-plate spline {err_tps:.2f}"
    )


if __name__ == "__main__":
    main()
