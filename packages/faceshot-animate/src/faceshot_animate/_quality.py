"""Structure figures of animated characters: pure functions on frames and landmarks.

The definitions (faceshot's benchmark of the renderer, ``bench/animate.py``):

* **foreground** of a frame (RGB, a flat character over white): pixels whose colour differs
  from white by more than 20 in some channel (:func:`foreground_mask`).
* **silhouette rigidity** of frame t: the best IoU between its foreground and frame 0's
  foreground moved by a similarity built from the centroid shift, the square root of the
  area ratio as scale, and a rotation searched over ±30° in 2° steps
  (:func:`silhouette_rigidity`); reported as the median and 10th percentile over frames.
  Moving frame 0's mask is done as if each of its pixels were splatted with a 2x2
  footprint (backward nearest warp, then a 2x2 dilation towards +x, +y).
* **outline rigidity**: the same on the **silhouette** (:func:`silhouette_mask`): the
  foreground with the white regions it encloses filled in, so that white drawn inside the
  character (teeth, eye whites) counts as character, not background. The foreground figure
  treats those as holes, which open, close and stretch with every blink or mouth movement
  the character is meant to make; the outline figure sees only the outline.
* **palette fidelity**: the share of foreground pixels within RGB distance 40 of frame 0's
  12-colour k-means palette (:func:`kmeans_palette`), averaged over frames and divided by
  frame 0's own share (:func:`palette_share`).
* **in frame**: a frame is in frame when its foreground touches the image border no more
  than frame 0's does (plus 1 % of the perimeter) (:func:`border_touch`).
* **interior change**: the share of pixels in both the frame's foreground and the moved
  frame-0 foreground whose colour differs from the moved frame 0 by more than 60 in some
  channel: the expression actually drawn (a frozen or merely rigidly moved character
  scores ~0); reported as the 90th percentile over frames.
* **mouth opening** of landmarks: the mean inner-lip gap over the jaw-chord width
  (:func:`mouth_opening`); **mouth darkness** of a frame: the share of dark pixels in a
  window around the mouth (:func:`mouth_darkness`); their correlation over frames shows
  the driver's mouth motion is drawn.
* **background change** (photos): the mean absolute grey-level change, frame t against
  frame 0, of the pixels farther than a quarter face width from the head region, the
  head region being the landmark-only head outline (:func:`faceshot_animate._geometry.head_oval`)
  of frame 0 and of frame t (:func:`background_change`).

Frames are (H, W, 3) uint8 RGB (composite RGBA over white first); landmarks (68, 2)
float64 pixel (x, y).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

import cv2
import numpy as np
from numpy.typing import NDArray

from faceshot_animate._geometry import fill_polygon, head_oval

__all__ = [
    "background_change",
    "border_touch",
    "foreground_mask",
    "interior_change",
    "kmeans_palette",
    "mouth_darkness",
    "mouth_opening",
    "palette_share",
    "pearson",
    "silhouette_mask",
    "silhouette_rigidity",
    "structure_figures",
]

#: Rotations searched by :func:`silhouette_rigidity`, degrees.
ANGLES = np.arange(-30, 31, 2)


def foreground_mask(frame: NDArray[np.uint8]) -> NDArray[np.bool_]:
    """(H, W) bool: pixels differing from white by more than 20 in some channel."""
    rgb = np.asarray(frame)[:, :, :3]
    return np.asarray(rgb.min(axis=2) < 235)


def silhouette_mask(frame: NDArray[np.uint8]) -> NDArray[np.bool_]:
    """(H, W) bool: :func:`foreground_mask` plus the background pixels it encloses.

    Background is the white reachable from the image border through white (4-connected);
    white regions with no such path (teeth, eye whites) are part of the silhouette.
    """
    fg = foreground_mask(frame)
    h, w = fg.shape
    outside = np.zeros((h + 2, w + 2), np.uint8)
    outside[1:-1, 1:-1] = fg
    flood = np.zeros((h + 4, w + 4), np.uint8)
    cv2.floodFill(outside, flood, (0, 0), 2, flags=4)
    return np.asarray(outside[1:-1, 1:-1] != 2)


def kmeans_palette(
    pixels: NDArray[np.uint8], k: int = 12, iterations: int = 15, seed: int = 0
) -> NDArray[np.float64]:
    """(k, 3) float64 palette of (N, 3) RGB pixels by Lloyd's k-means.

    Initial centres are ``k`` distinct rows drawn with ``numpy.random.default_rng(seed)``;
    ``iterations`` assignment/update rounds; an empty cluster keeps its centre.
    """
    x = np.asarray(pixels, dtype=np.float64)
    rng = np.random.default_rng(seed)
    centres = x[rng.choice(len(x), size=min(k, len(x)), replace=False)].copy()
    for _ in range(iterations):
        dist = ((x[:, None, :] - centres[None]) ** 2).sum(axis=2)
        label = dist.argmin(axis=1)
        counts = np.bincount(label, minlength=len(centres))
        sums = np.zeros_like(centres)
        np.add.at(sums, label, x)
        filled = counts > 0
        centres[filled] = sums[filled] / counts[filled, None]
    return centres


def _sample(frame: NDArray[np.uint8], mask: NDArray[np.bool_]) -> NDArray[np.float64]:
    """Foreground pixels, strided to about 20000 (the palette and fidelity sample)."""
    count = int(mask.sum())
    return np.asarray(frame[:, :, :3][mask][:: max(1, count // 20000)], dtype=np.float64)


def palette_share(
    frame: NDArray[np.uint8],
    mask: NDArray[np.bool_],
    palette: NDArray[np.float64],
    radius: float = 40.0,
) -> float:
    """Share of ``mask``'s pixels of ``frame`` within RGB distance ``radius`` of ``palette``."""
    x = _sample(frame, mask)
    if len(x) == 0:
        return 0.0
    d = np.sqrt(((x[:, None, :] - palette[None]) ** 2).sum(axis=2)).min(axis=1)
    return float((d < radius).mean())


def border_touch(mask: NDArray[np.bool_]) -> int:
    """Number of border pixels (top, bottom, left and right rows, corners twice) in ``mask``."""
    return int(mask[0].sum() + mask[-1].sum() + mask[:, 0].sum() + mask[:, -1].sum())


def _moved(
    source: NDArray[Any],
    centre0: NDArray[np.float64],
    centre1: NDArray[np.float64],
    scale: float,
    angle: float,
    shape: tuple[int, int],
) -> NDArray[Any]:
    """``source`` moved by the similarity (centre0 -> centre1, scale, angle in radians),
    as a backward nearest warp followed by the 2x2 splat footprint (dilation to +x, +y)."""
    c, s = np.cos(angle) * scale, np.sin(angle) * scale
    forward = np.array([[c, -s, 0.0], [s, c, 0.0]])
    # Output pixel t samples the source at M^-1(t + 0.5): a source pixel lands on
    # floor(M(x)), then the footprint adds the +x/+y neighbours, as a 2x2 splat does.
    forward[:, 2] = centre1 - forward[:, :2] @ centre0 - 0.5
    h, w = shape
    out = cv2.warpAffine(
        source,
        forward,
        (w, h),
        flags=cv2.INTER_NEAREST,
        borderMode=cv2.BORDER_CONSTANT,
        borderValue=0,
    )
    kernel = np.ones((2, 2), np.uint8)
    return np.asarray(cv2.dilate(out, kernel, anchor=(1, 1)))


def silhouette_rigidity(
    mask0: NDArray[np.bool_],
    mask: NDArray[np.bool_],
    angles: Iterable[float] = ANGLES,
    *,
    exhaustive: bool = True,
) -> tuple[float, float]:
    """Best IoU of ``mask`` with ``mask0`` moved by the centroid/area similarity.

    Args:
        mask0: (H, W) bool, frame 0's foreground.
        mask: (H, W) bool, frame t's foreground.
        angles: rotations searched, degrees (evenly spaced).
        exhaustive: try every angle; ``False`` tries every third, then the neighbours of
            the best (the IoU is smooth in the angle: the same maximum in practice, a third
            of the work).

    Returns:
        ``(iou, angle)``: the best IoU in [0, 1] and its rotation in radians; ``(0, 0)``
        when either mask is empty.
    """
    a0, a1 = int(mask0.sum()), int(mask.sum())
    if a0 == 0 or a1 == 0:
        return 0.0, 0.0
    ys, xs = np.nonzero(mask0)
    c0 = np.array([xs.mean(), ys.mean()])
    ys, xs = np.nonzero(mask)
    c1 = np.array([xs.mean(), ys.mean()])
    scale = float(np.sqrt(a1 / a0))
    m0 = mask0.astype(np.uint8)
    m1 = mask.astype(np.uint8)
    grid = [float(a) for a in angles]
    scores: dict[int, float] = {}

    def score(k: int) -> float:
        if k not in scores:
            moved = _moved(m0, c0, c1, scale, float(np.deg2rad(grid[k])), mask.shape)
            inter = cv2.countNonZero(cv2.bitwise_and(moved, m1))
            scores[k] = inter / max(1, int(moved.astype(bool).sum()) + a1 - inter)
        return scores[k]

    if exhaustive:
        for k in range(len(grid)):
            score(k)
    else:
        for k in range(1, len(grid), 3):
            score(k)
        best = max(scores, key=lambda k: (scores[k], -k))
        for k in (best - 2, best - 1, best + 1, best + 2):
            if 0 <= k < len(grid):
                score(k)
    best = max(sorted(scores), key=lambda k: scores[k])
    return scores[best], float(np.deg2rad(grid[best]))


def interior_change(
    frame0: NDArray[np.uint8],
    mask0: NDArray[np.bool_],
    frame: NDArray[np.uint8],
    mask: NDArray[np.bool_],
    angle: float,
) -> float:
    """Share of pixels in both ``mask`` and moved ``mask0`` whose colour differs from the
    moved ``frame0`` by more than 60 in some channel (0 when they do not overlap)."""
    a0, a1 = int(mask0.sum()), int(mask.sum())
    if a0 == 0 or a1 == 0:
        return 0.0
    ys, xs = np.nonzero(mask0)
    c0 = np.array([xs.mean(), ys.mean()])
    ys, xs = np.nonzero(mask)
    c1 = np.array([xs.mean(), ys.mean()])
    scale = float(np.sqrt(a1 / a0))
    moved = _moved(mask0.astype(np.uint8), c0, c1, scale, angle, mask.shape).astype(bool)
    colours = _moved(
        np.ascontiguousarray(frame0[:, :, :3] * mask0[:, :, None]), c0, c1, scale, angle, mask.shape
    )
    both = moved & mask
    if not both.any():
        return 0.0
    diff = (
        np.abs(colours[both].astype(np.int16) - frame[:, :, :3][both].astype(np.int16)).max(axis=1)
        > 60
    )
    return float(diff.mean())


def structure_figures(
    frames: Sequence[NDArray[np.uint8]], every: int = 3, *, exhaustive: bool = True
) -> dict[str, float]:
    """Rigidity (median, p10) of the foreground and of the outline, in-frame share, palette
    fidelity and interior change p90.

    Args:
        frames: T (H, W, 3) uint8 RGB frames of a character over white; frame 0 first.
        every: score frames 1, 1 + every, 1 + 2 every, ...
        exhaustive: full rotation search for rigidity (see :func:`silhouette_rigidity`).

    Returns:
        ``{"rigidity_median", "rigidity_p10", "outline_rigidity_median",
        "outline_rigidity_p10", "in_frame", "palette", "interior_change_p90",
        "frames_scored"}``. A frame whose foreground has less than 5 % of frame 0's area
        scores both rigidities 0, out of frame and palette 0.
    """
    # Every figure is unchanged by cropping all frames to the union of their foregrounds
    # (border contact is counted on the full canvas first): a large empty canvas costs nothing.
    scored = [frames[0], *frames[1::every]]
    masks = [foreground_mask(f) for f in scored]
    h, w = frames[0].shape[:2]
    borders = [border_touch(m) for m in masks]
    union = np.logical_or.reduce(masks)
    if union.any():
        ys, xs = np.nonzero(union.any(axis=1))[0], np.nonzero(union.any(axis=0))[0]
        y0, y1 = max(int(ys[0]) - 2, 0), min(int(ys[-1]) + 3, h)
        x0, x1 = max(int(xs[0]) - 2, 0), min(int(xs[-1]) + 3, w)
        scored = [f[y0:y1, x0:x1] for f in scored]
        masks = [m[y0:y1, x0:x1] for m in masks]
    f0, m0 = scored[0], masks[0]
    a0 = int(m0.sum())
    b0 = borders[0]
    palette = kmeans_palette(_sample(f0, m0).astype(np.uint8)) if a0 >= 12 else np.zeros((1, 3))
    fid0 = palette_share(f0, m0, palette) if a0 else 1.0
    outline0 = silhouette_mask(f0)
    ious, outline_ious, inside, fids, changes = [], [], [], [], []
    for frame, m, touch in zip(scored[1:], masks[1:], borders[1:], strict=True):
        if m.sum() < 0.05 * a0 or a0 == 0:
            ious.append(0.0)
            outline_ious.append(0.0)
            inside.append(False)
            fids.append(0.0)
            continue
        iou, angle = silhouette_rigidity(m0, m, exhaustive=exhaustive)
        ious.append(iou)
        outline = silhouette_mask(frame)
        same = np.array_equal(outline0, m0) and np.array_equal(outline, m)
        outline_ious.append(
            iou if same else silhouette_rigidity(outline0, outline, exhaustive=exhaustive)[0]
        )
        inside.append(touch <= b0 + 0.01 * (2 * (h + w)))
        changes.append(interior_change(f0, m0, frame, m, angle))
        fids.append(palette_share(frame, m, palette))
    if not ious:
        return {
            "rigidity_median": 1.0,
            "rigidity_p10": 1.0,
            "outline_rigidity_median": 1.0,
            "outline_rigidity_p10": 1.0,
            "in_frame": 1.0,
            "palette": 1.0,
            "interior_change_p90": 0.0,
            "frames_scored": 0,
        }
    return {
        "rigidity_median": float(np.median(ious)),
        "rigidity_p10": float(np.percentile(ious, 10)),
        "outline_rigidity_median": float(np.median(outline_ious)),
        "outline_rigidity_p10": float(np.percentile(outline_ious, 10)),
        "in_frame": float(np.mean(inside)),
        "palette": float(np.mean(fids)) / max(fid0, 1e-9),
        "interior_change_p90": float(np.percentile(changes, 90)) if changes else 0.0,
        "frames_scored": len(ious),
    }


def mouth_opening(landmarks: NDArray[np.float64]) -> NDArray[np.float64]:
    """(T,) mean inner-lip gap (pairs 61/67, 62/66, 63/65) over the jaw chord |P16 - P0|.

    Args:
        landmarks: (T, 68, 2) or (68, 2) float64 pixel (x, y).
    """
    from faceshot_retarget import ibug68

    lm = np.asarray(landmarks, dtype=np.float64)
    if lm.ndim == 2:
        lm = lm[None]
    pairs = ibug68.INNER_LIP_PAIRS
    gap = np.linalg.norm(lm[:, pairs[:, 1]] - lm[:, pairs[:, 0]], axis=2).mean(axis=1)
    width = np.linalg.norm(lm[:, 16] - lm[:, 0], axis=1)
    return np.asarray(gap / np.maximum(width, 1e-9), dtype=np.float64)


def mouth_darkness(
    frame: NDArray[np.uint8],
    landmarks0: NDArray[np.float64],
    landmarks: NDArray[np.float64],
    threshold: float = 110.0,
) -> float:
    """Share of dark pixels (luma < ``threshold``) in the character's mouth window.

    The window is frame 0's outer-lip box padded by half the mouth width, moved by the
    head similarity (weighted fit of the stable landmarks) from ``landmarks0`` to
    ``landmarks`` (frame t). Independent of the renderer that drew ``frame``.
    """
    from faceshot_retarget import SimilarityTransform, ibug68

    from faceshot_animate._rig import HEAD_WEIGHTS

    lips = landmarks0[ibug68.OUTER_LIPS]
    lo, hi = lips.min(axis=0), lips.max(axis=0)
    pad = 0.5 * (hi[0] - lo[0])
    box = np.array(
        [
            [lo[0] - pad, lo[1] - pad],
            [hi[0] + pad, lo[1] - pad],
            [hi[0] + pad, hi[1] + pad],
            [lo[0] - pad, hi[1] + pad],
        ]
    )
    sim = SimilarityTransform.from_estimate(landmarks0, landmarks, HEAD_WEIGHTS)
    mask = np.zeros(frame.shape[:2], np.uint8)
    fill_polygon(mask, sim(box), 1)
    if not mask.any():
        return 0.0
    rgb = frame[:, :, :3][mask > 0].astype(np.float64)
    luma = rgb @ np.array([0.299, 0.587, 0.114])
    return float((luma < threshold).mean())


def pearson(
    a: Sequence[float] | NDArray[np.float64], b: Sequence[float] | NDArray[np.float64]
) -> float:
    """Pearson correlation of two equal-length series (0 when either is constant)."""
    x = np.asarray(a, dtype=np.float64)
    y = np.asarray(b, dtype=np.float64)
    x, y = x - x.mean(), y - y.mean()
    den = float(np.sqrt((x * x).sum() * (y * y).sum()))
    return float((x * y).sum() / den) if den > 1e-12 else 0.0


def far_from_head(
    size: tuple[int, int],
    landmarks0: NDArray[np.float64],
    landmarks: NDArray[np.float64],
    head0: NDArray[np.bool_] | None = None,
) -> NDArray[np.bool_]:
    """(H, W) bool: pixels farther than a quarter face width from the head in frames 0 and t.

    Args:
        size: (H, W) pixels.
        landmarks0, landmarks: (68, 2) float64, frames 0 and t.
        head0: (H, W) bool head region of frame 0, also moved to frame t by the head
            similarity (``None``: the landmarks' head ovals only).
    """
    h, w = size
    width = float(np.linalg.norm(landmarks0[16] - landmarks0[0]))
    head = np.zeros((h, w), np.uint8)
    fill_polygon(head, head_oval(landmarks0), 1)
    fill_polygon(head, head_oval(landmarks), 1)
    if head0 is not None:
        from faceshot_retarget import SimilarityTransform

        from faceshot_animate._rig import HEAD_WEIGHTS

        sim = SimilarityTransform.from_estimate(landmarks0, landmarks, HEAD_WEIGHTS)
        region = np.asarray(head0, np.uint8)
        moved = np.asarray(
            cv2.warpAffine(region, np.ascontiguousarray(sim.matrix[:2]), (w, h)), np.uint8
        )
        head |= region | moved
    dist = cv2.distanceTransform((1 - head).astype(np.uint8), cv2.DIST_L2, 5)
    out: NDArray[np.bool_] = dist > 0.25 * width
    return out


def background_change(
    frame0: NDArray[np.uint8],
    frame: NDArray[np.uint8],
    landmarks0: NDArray[np.float64],
    landmarks: NDArray[np.float64],
    head0: NDArray[np.bool_] | None = None,
) -> float:
    """Mean |grey_t - grey_0| over pixels farther than a quarter face width from the head.

    The head is the head oval of the landmarks in both frames (:func:`head_oval`), and with
    ``head0`` also that region (e.g. the hair) at frame 0 and moved to frame t by the head
    similarity of the landmarks (``HEAD_WEIGHTS``), so hair that moves with a turning head
    is not counted as background.

    Args:
        frame0, frame: (H, W, 3) uint8 RGB, frames 0 and t.
        landmarks0, landmarks: (68, 2) float64 their landmarks.
        head0: (H, W) bool, the head region of frame 0 (``None``: the ovals only).

    Returns:
        Grey levels (0-255); ``nan`` when no pixel is far enough from the head.
    """
    far = far_from_head(frame0.shape[:2], landmarks0, landmarks, head0)
    if not far.any():
        return float("nan")
    g0 = cv2.cvtColor(np.ascontiguousarray(frame0[:, :, :3]), cv2.COLOR_RGB2GRAY).astype(np.int16)
    g1 = cv2.cvtColor(np.ascontiguousarray(frame[:, :, :3]), cv2.COLOR_RGB2GRAY).astype(np.int16)
    return float(np.abs(g1 - g0)[far].mean())
