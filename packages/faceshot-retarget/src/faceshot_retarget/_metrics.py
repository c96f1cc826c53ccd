"""Motion figures of a retargeted sequence: intact parts, in-canvas share, jumps, transfer.

The definitions follow the project's reference motion check (per frame):

* **violation**: a mouth point (48-67) leaves the face polygon (:data:`ibug68.FACE_OUTLINE`:
  jaw 0-16 closed over the brows 26..17), or an inner-lip point (60-67) leaves the
  outer-lip polygon (48-59), by more than ``tol`` face widths (even-odd test, or within
  ``tol`` of an edge);
* **face width**: the x-extent of the jaw points 0-16 of that frame;
* **in canvas**: the face box (all 68 points) lies within [0, W] x [0, H];
* **jump**: the largest move of any point from the previous frame, in face widths;
* **mouth opening**: |P66 - P62| / face width; **head angle**: the angle of the chord 0 -> 16;
  their driver-vs-character Pearson correlations are pooled within shots (each shot's mean
  removed) over the frames where the driver is present.

Figures that reward stillness (violations, jumps, in-canvas) always come with the
correlations of driver and character mouth opening and head angle, which a frozen
character fails.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from faceshot_retarget._landmarks import as_points
from faceshot_retarget.ibug68 import FACE_OUTLINE

__all__ = ["motion_figures", "violation_frames"]

F64 = NDArray[np.float64]


def _inside(poly: F64, pts: F64, tol: F64) -> NDArray[np.bool_]:
    """Points inside polygons (even-odd) or within tol of an edge.

    Args:
        poly: (T, N, 2) closed polygons; pts: (T, M, 2); tol: (T,).

    Returns:
        (T, M) bool.
    """
    x, y = pts[..., 0][..., None], pts[..., 1][..., None]  # (T, M, 1)
    a, b = poly[:, None], np.roll(poly, -1, axis=1)[:, None]  # (T, 1, N, 2)
    ay, by, ax, bx = a[..., 1], b[..., 1], a[..., 0], b[..., 0]
    cond = (ay > y) != (by > y)
    dy = np.where(by == ay, 1e-12, by - ay)
    xin = (bx - ax) * (y - ay) / dy + ax
    ins = (cond & (x < xin)).sum(axis=-1) % 2 == 1
    ab = (b - a)[..., :]
    ap = pts[:, :, None] - a
    t = np.clip((ap * ab).sum(-1) / np.maximum((ab**2).sum(-1), 1e-12), 0.0, 1.0)
    d = np.linalg.norm(ap - t[..., None] * ab, axis=-1).min(axis=-1)
    return ins | (d <= tol[:, None])  # type: ignore[no-any-return]


def _width(points: F64) -> F64:
    return np.ptp(points[:, 0:17, 0], axis=1)  # type: ignore[no-any-return]


def violation_frames(points: ArrayLike, tol: float = 0.01) -> NDArray[np.bool_]:
    """Frames whose mouth leaves the face or whose inner lips leave the outer lips.

    Args:
        points: (T, 68, 2) or (68, 2) float64 pixels.
        tol: tolerance in face widths (x-extent of the jaw).

    Returns:
        (T,) bool, True where the frame violates.
    """
    p = as_points(points, "points")
    tolerance = tol * _width(p)
    face = p[:, FACE_OUTLINE]
    mouth_ok = _inside(face, p[:, 48:68], tolerance).all(axis=1)
    lips_ok = _inside(p[:, 48:60], p[:, 60:68], tolerance).all(axis=1)
    bad: NDArray[np.bool_] = np.logical_not(mouth_ok & lips_ok)
    return bad


def _corr(a: F64, b: F64, segment: NDArray[np.intp]) -> float:
    """Pearson correlation of ``a`` and ``b`` after removing each segment's mean (pooled
    within-segment correlation; one segment = the plain correlation)."""
    ok = np.isfinite(a) & np.isfinite(b)
    if ok.sum() < 3:
        return 0.0
    seg = segment[ok]
    counts = np.bincount(seg)
    safe = np.maximum(counts, 1)
    da = a[ok] - (np.bincount(seg, a[ok]) / safe)[seg]
    db = b[ok] - (np.bincount(seg, b[ok]) / safe)[seg]
    if da.std() == 0 or db.std() == 0:
        return 0.0
    return float(np.corrcoef(da, db)[0, 1])


def _opening(p: F64) -> F64:
    return np.linalg.norm(p[:, 66] - p[:, 62], axis=-1) / np.maximum(_width(p), 1e-6)  # type: ignore[no-any-return]


def _angle(p: F64) -> F64:
    v = p[:, 16] - p[:, 0]
    out: F64 = np.unwrap(np.arctan2(v[:, 1], v[:, 0]))
    return out


def _jumps(p: F64) -> F64:
    """(T,) largest per-point move from the previous frame in face widths (0 at frame 0)."""
    out = np.zeros(len(p))
    if len(p) > 1:
        out[1:] = np.linalg.norm(np.diff(p, axis=0), axis=-1).max(axis=1) / np.maximum(
            _width(p)[1:], 1e-6
        )
    return out


def motion_figures(
    driving: ArrayLike,
    landmarks: ArrayLike,
    canvas_size: tuple[int, int],
    *,
    present: ArrayLike | None = None,
    cuts: ArrayLike = (),
    tol: float = 0.01,
    jump_limit: float = 0.08,
    settle: int = 0,
) -> dict[str, Any]:
    """The motion figures of one retargeted clip (see the module docs).

    Args:
        driving: (T, 68, 2) driver pixels.
        landmarks: (T, 68, 2) character pixels (the retargeted sequence).
        canvas_size: (H, W) of the character's canvas, pixels.
        present: (T,) bool frames where the driver is present (correlations use those
            only); default all.
        cuts: frames where a new shot starts. Correlations are pooled within segments
            (shots, split again where the driver leaves or returns): each segment's mean is
            removed first, because re-anchoring deliberately drops the driver's per-shot
            offsets (a mirrored shot's head angle, another framing's mouth size).
        settle: frames after each segment start left out of the correlations as well
            (e.g. the re-anchoring cross-fade); 0 keeps every present frame.
        tol: violation tolerance in face widths.
        jump_limit: face widths; frames where the driver's own jump reaches it are excused
            from ``max_unexplained_jump``.

    Returns:
        dict with ``frames``, ``violations`` (count), ``in_canvas`` (share), ``max_jump``
        (face widths), ``max_jump_frame``, ``driver_jump_there`` (the driver's own largest
        point move at that frame, in its face widths), ``max_unexplained_jump`` (the largest
        jump at frames where the driver's own jump stayed below ``jump_limit``),
        ``unexplained_jump_frames`` (frames jumping more than ``jump_limit`` there), ``mouth_corr`` and
        ``angle_corr`` (driver vs character Pearson correlations).
    """
    d = as_points(driving, "driving")
    p = as_points(landmarks, "landmarks")
    if d.shape != p.shape:
        raise ValueError(
            f"`driving` and `landmarks` must have the same shape; got {d.shape} and {p.shape}"
        )
    h, w = canvas_size
    lo, hi = p.min(axis=1), p.max(axis=1)
    inside = (lo[:, 0] >= 0) & (lo[:, 1] >= 0) & (hi[:, 0] <= w) & (hi[:, 1] <= h)
    jc, jd = _jumps(p), _jumps(d)
    k = int(np.argmax(jc))
    unexplained = jc[jd < jump_limit]
    keep = np.ones(len(p), dtype=bool) if present is None else np.asarray(present, dtype=bool)
    change = np.zeros(len(p), dtype=bool)
    cut_idx = np.asarray(cuts, dtype=np.intp).reshape(-1)
    change[cut_idx[(cut_idx > 0) & (cut_idx < len(p))]] = True
    change[1:] |= keep[1:] != keep[:-1]
    change[0] = True
    segment_all = np.cumsum(change)
    starts = np.flatnonzero(change)
    since = np.arange(len(p)) - starts[segment_all - 1]
    keep = keep & (since >= settle)
    segment = segment_all[keep]
    return {
        "frames": len(p),
        "violations": int(violation_frames(p, tol).sum()),
        "in_canvas": float(inside.mean()),
        "max_jump": float(jc.max()),
        "max_jump_frame": k,
        "driver_jump_there": float(jd[k]),
        "max_unexplained_jump": float(unexplained.max()) if unexplained.size else 0.0,
        "unexplained_jump_frames": int((unexplained > jump_limit).sum()),
        "mouth_corr": _corr(_opening(d)[keep], _opening(p)[keep], segment),
        "angle_corr": _corr(_angle(d)[keep], _angle(p)[keep], segment),
    }
