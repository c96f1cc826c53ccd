"""FaceShot §4.1 expression error, with Lucas-Kanade instead of CoTracker (no weights).

A dense grid (``n`` x ``n``) in each eye and mouth patch (landmark boxes at frame 0, padded
30 %) is tracked through the driving video and through the generated video (pyramidal LK,
forward-backward checked: :func:`track_grid`); per frame, the similarity transform of the
patch's points back to frame 0 is undone (head motion out, the patch's own deformation kept);
coordinates are normalised by the patch box (origin and size); one least-squares affine
transform per patch maps the generated trajectories onto the driving ones; the figure is the
mean over trajectories of the per-trajectory mean squared error (in patch units²).

Convention: frames are (H, W, 3) uint8 RGB; points (68, 2) float64 pixel ``(x, y)`` in iBUG
order, origin at the top-left pixel centre.
"""

from __future__ import annotations

import itertools

import numpy as np
from faceshot_retarget import ibug68
from numpy.typing import NDArray

from faceshot_landmarks._lk import lk_forward_backward, lk_params
from faceshot_landmarks._shape import similarity_fit

__all__ = ["expression_error", "track_grid"]


def track_grid(
    frames: list[NDArray[np.uint8]],
    box: NDArray[np.float64],
    n: int = 8,
    *,
    fb: float = 0.02,
    keep: float = 0.9,
) -> tuple[NDArray[np.float64], NDArray[np.bool_]]:
    """Track an n x n grid laid over ``box`` (x0, y0, x1, y1) in frame 0 through ``frames``.

    Args:
        frames: T (H, W, 3) uint8 RGB frames.
        box: (4,) float64 pixel box (x0, y0, x1, y1) in frame 0.
        n: grid side.
        fb: forward-backward error threshold as a fraction of the box diagonal (at least 1 px).
            The LK window is a third of the box's short side (15..61 px), so flat cartoon
            patches still see the edges of eyes and mouth.
        keep: fraction of frame steps a trajectory must pass the check in.

    Returns:
        ``(points, ok)``: (N, T, 2) float64 pixels and (N,) bool, True for trajectories that
        passed the forward-backward check in at least ``keep`` of the frame steps.
    """
    import cv2

    xs = np.linspace(box[0], box[2], n)
    ys = np.linspace(box[1], box[3], n)
    grid = np.stack(np.meshgrid(xs, ys), -1).reshape(-1, 2).astype(np.float32)
    side = int(min(box[2] - box[0], box[3] - box[1]) / 3) | 1
    lk = lk_params(int(np.clip(side, 15, 61)), 3)
    greys = [np.asarray(cv2.cvtColor(f, cv2.COLOR_RGB2GRAY), dtype=np.uint8) for f in frames]
    cur = grid
    out = [grid.astype(np.float64)]
    passed = np.zeros(len(grid), np.int64)
    limit = max(1.0, fb * float(np.hypot(box[2] - box[0], box[3] - box[1])))
    for prev, nxt in itertools.pairwise(greys):
        fwd, found, err = lk_forward_backward(prev, nxt, cur, lk)
        passed += found & (err < limit)
        cur = fwd
        out.append(fwd.astype(np.float64))
    ok = passed >= keep * max(1, len(greys) - 1)
    return np.stack(out, axis=1), ok


def _patch_boxes(points: NDArray[np.float64], pad: float = 0.3) -> dict[str, NDArray[np.float64]]:
    """(4,) boxes (x0, y0, x1, y1) of the eyes and the mouth, each padded by ``pad`` of its size."""
    parts = {"right eye": ibug68.RIGHT_EYE, "left eye": ibug68.LEFT_EYE, "mouth": ibug68.MOUTH}
    boxes = {}
    for name, sl in parts.items():
        p = points[sl]
        lo, hi = p.min(axis=0), p.max(axis=0)
        size = np.maximum(hi - lo, 4.0)
        boxes[name] = np.concatenate([lo - pad * size, hi + pad * size])
    return boxes


def _rigid_removed(tracks: NDArray[np.float64]) -> NDArray[np.float64]:
    """(N, T, 2) trajectories with each frame's similarity motion to frame 0 undone (head pose
    out, patch deformation kept)."""
    out = np.empty_like(tracks)
    for t in range(tracks.shape[1]):
        s, r, tr = similarity_fit(tracks[:, t], tracks[:, 0])
        out[:, t] = s * tracks[:, t] @ np.asarray(r).T + tr
    return out


def expression_error(
    driving_frames: list[NDArray[np.uint8]],
    driving_points: NDArray[np.float64],
    generated_frames: list[NDArray[np.uint8]],
    generated_points: NDArray[np.float64],
    *,
    n: int = 8,
) -> float:
    """FaceShot §4.1 expression error (LK instead of CoTracker; see the module docs).

    Args:
        driving_frames, generated_frames: T (H, W, 3) uint8 frames each.
        driving_points, generated_points: (68, 2) float64 frame-0 landmarks of each video.
        n: grid side per patch.

    Returns:
        Mean per-trajectory MSE in patch units² over the eye and mouth patches; NaN when no
        patch keeps 3 trajectories through both videos.
    """
    t = min(len(driving_frames), len(generated_frames))
    dboxes, gboxes = _patch_boxes(driving_points), _patch_boxes(generated_points)
    errors = []
    for name in dboxes:
        d, dok = track_grid(driving_frames[:t], dboxes[name], n)
        g, gok = track_grid(generated_frames[:t], gboxes[name], n)
        ok = dok & gok
        if ok.sum() < 3:
            continue
        db, gb = dboxes[name], gboxes[name]
        dn = (_rigid_removed(d[ok]) - db[:2]) / (db[2:] - db[:2])
        gn = (_rigid_removed(g[ok]) - gb[:2]) / (gb[2:] - gb[:2])
        src = np.concatenate([gn.reshape(-1, 2), np.ones((gn.size // 2, 1))], axis=1)
        affine, *_ = np.linalg.lstsq(src, dn.reshape(-1, 2), rcond=None)
        aligned = (src @ affine).reshape(dn.shape)
        errors.append(((aligned - dn) ** 2).sum(axis=-1).mean(axis=1))
    if not errors:
        return float("nan")
    return float(np.concatenate(errors).mean())
