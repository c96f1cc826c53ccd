"""The mouth read from the drawing: the gallery's annotation rule applied to a drawn mouth.

The gallery's character annotations (``scripts/derive_twemoji_landmarks.py``,
``scripts/annotate_keypoints.py``) place the 20 lip points (iBUG 48-67) on the drawn mouth:
the dark mark below the eyes, its holes (teeth, tongue) filled. The outer lips follow its
outline (:func:`contour_points`), the inner lips sit inside an open mouth or on a closed
mouth's centre line (:func:`mouth_from_mask`). The rule lives here so that the annotation
scripts and :func:`mouth_on_drawing`, which applies it to a matched face in an image, share
one definition.

On flat art the matcher's lips land near the mouth but not on its corners and edges: a
zigzag, a cat's Y-shaped mouth or a wide grin is unlike most of the gallery's mouths.
:func:`drawn_mouth` finds the mark around the matched lips (darker than the skin around it,
not running out of a window round them, its box overlapping theirs) and
:func:`mouth_on_drawing` re-places the lips on it by the rule; where no such mark is found the
matched lips stand.
"""

from __future__ import annotations

import attrs
import cv2
import numpy as np
from faceshot_retarget.ibug68 import INNER_LIPS, OUTER_LIPS
from numpy.typing import ArrayLike, NDArray
from scipy import ndimage

__all__ = [
    "INNER_CORNER_INSET",
    "INNER_LIP_COLUMNS",
    "INNER_LIP_INSET",
    "OPEN_MOUTH_THICKNESS",
    "MouthConfig",
    "column_scan",
    "contour_points",
    "drawn_mouth",
    "mouth_from_mask",
    "mouth_is_open",
    "mouth_on_drawing",
]

#: A mouth whose filled shape is thicker than this fraction of its width (median over its
#: middle 60 % of columns) is open; a stroke (line, arc) is closed lips, whose inner lips lie on
#: its centre line.
OPEN_MOUTH_THICKNESS = 0.22
#: Open mouth: inner lips this fraction of the mouth's height in from the outer lips, ...
INNER_LIP_INSET = 0.12
#: ... inner corners this fraction of the corner-to-corner line in from the outer corners, ...
INNER_CORNER_INSET = 0.08
#: ... upper and lower inner points at these fractions of the way between the outer corners.
INNER_LIP_COLUMNS = np.array([0.25, 0.5, 0.75])

#: Rec. 601 luma weights of R, G, B.
_LUMA = np.array([0.299, 0.587, 0.114])


def column_scan(
    mask: NDArray[np.bool_], xs: NDArray[np.float64]
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Top and bottom row of ``mask`` at (rounded) columns ``xs``; NaN where empty.

    Args:
        mask: (H, W) bool.
        xs: (n,) float64 column positions in pixels.

    Returns:
        top, bottom: (n,) float64 row indices (pixel centres).
    """
    h = mask.shape[0]
    cols = np.clip(np.rint(xs).astype(int), 0, mask.shape[1] - 1)
    sub = mask[:, cols]  # (H, n)
    any_ = sub.any(axis=0)
    top = np.where(any_, sub.argmax(axis=0), np.nan).astype(np.float64)
    bottom = np.where(any_, h - 1 - sub[::-1].argmax(axis=0), np.nan).astype(np.float64)
    return top, bottom


def _extreme_y(mask: NDArray[np.bool_], col: int) -> float:
    """Mean row of ``mask`` in column ``col`` (a corner's height)."""
    return float(np.nonzero(mask[:, col])[0].mean())


def contour_points(mask: NDArray[np.bool_], n: int = 6, samples: int = 9) -> NDArray[np.float64]:
    """Corner-to-corner outline of a blob, clockwise from its leftmost column.

    Args:
        mask: (H, W) bool blob, not empty.
        n: even number of points (6 for an eye, 12 for the outer lips).
        samples: neighbouring columns averaged per point, to damp pixel steps.

    Returns:
        (n, 2) float64 pixel (x, y): the left corner (leftmost column, mean row), ``k``
        upper points at columns evenly spaced between the corners (left to right), the right
        corner, then the ``k`` lower points right to left, ``k = (n - 2) // 2``; upper and
        lower points are the top and bottom of ``mask`` in their column.
    """
    xs = np.nonzero(mask.any(axis=0))[0]
    x0, x1 = xs.min(), xs.max()
    k = (n - 2) // 2
    fr = np.arange(1, k + 1) / (k + 1)
    cx = x0 + fr * (x1 - x0)
    half = max(1.0, (x1 - x0) / (6.0 * (k + 1)))
    offs = np.linspace(-half, half, samples)
    top, bot = column_scan(mask, (cx[:, None] + offs[None, :]).ravel())
    top = np.nanmean(top.reshape(k, samples), axis=1)
    bot = np.nanmean(bot.reshape(k, samples), axis=1)
    left = np.array([x0, _extreme_y(mask, int(x0))], dtype=np.float64)
    right = np.array([x1, _extreme_y(mask, int(x1))], dtype=np.float64)
    upper = np.stack([cx, top], axis=1)
    lower = np.stack([cx, bot], axis=1)[::-1]
    return np.concatenate([left[None], upper, right[None], lower], axis=0)


def mouth_is_open(filled: NDArray[np.bool_], x0: float, x1: float) -> bool:
    """Whether a mouth is drawn open: its filled (H, W) bool mask spanning columns ``x0..x1``
    (pixels) is thicker than :data:`OPEN_MOUTH_THICKNESS` of its width."""
    xs = x0 + np.linspace(0.2, 0.8, 9) * (x1 - x0)
    t, b = column_scan(filled, xs)
    return bool(np.nanmedian(b - t) > OPEN_MOUTH_THICKNESS * (x1 - x0 + 1))


def mouth_from_mask(
    mask: NDArray[np.bool_],
) -> tuple[NDArray[np.float64], NDArray[np.float64], bool]:
    """The gallery's lip points on a drawn mouth.

    Outer lips: :func:`contour_points` of the hole-filled mask (corners at its leftmost and
    rightmost columns). Inner lips at :data:`INNER_LIP_COLUMNS` of the way between the
    corners: an open mouth's (:func:`mouth_is_open`) :data:`INNER_LIP_INSET` of its height in
    from the outer lips, with corners :data:`INNER_CORNER_INSET` in; a closed mouth's on its
    centre line, with the outer corners.

    Args:
        mask: (H, W) bool mask of the mouth, not empty (holes are filled here).

    Returns:
        outer (12, 2) and inner (8, 2) float64 pixel (x, y) in iBUG order (48-59, 60-67), and
        whether the mouth is open.
    """
    m = ndimage.binary_fill_holes(mask)
    outer = contour_points(m, n=12)
    is_open = mouth_is_open(m, float(outer[0, 0]), float(outer[6, 0]))
    left, right = outer[0], outer[6]
    cxs = left[0] + INNER_LIP_COLUMNS * (right[0] - left[0])
    it, ib = column_scan(m, cxs)
    if is_open:
        inset = INNER_LIP_INSET * (ib - it)
        up, lo = it + inset, ib - inset
        lc = left + INNER_CORNER_INSET * (right - left)
        rc = right - INNER_CORNER_INSET * (right - left)
    else:
        mid = 0.5 * (it + ib)
        up, lo = mid, mid.copy()
        lc, rc = left.copy(), right.copy()
    inner = np.concatenate(
        [lc[None], np.stack([cxs, up], axis=1), rc[None], np.stack([cxs, lo], axis=1)[::-1]]
    )
    return outer, inner, is_open


def _fraction(instance: object, attribute: attrs.Attribute[float], value: float) -> None:
    if not 0.0 < value < 1.0:
        raise ValueError(
            f"{type(instance).__name__} `{attribute.name}` must be in (0, 1), got {value!r}"
        )


def _positive(instance: object, attribute: attrs.Attribute[float], value: float) -> None:
    if not value > 0:
        raise ValueError(f"{type(instance).__name__} `{attribute.name}` must be > 0, got {value!r}")


@attrs.frozen
class MouthConfig:
    """Settings of :func:`drawn_mouth`. Chosen on the smiley style's anchors and on the
    Twemoji gallery faces outside the benchmark's held-out styles (their lips displaced by up
    to a quarter of the mouth's width and scaled by 0.75-1.33).

    Attributes:
        margin: the window searched: the matched outer lips' box grown by this fraction of its
            width on each side. A mark that reaches the window's edge (the face's outline, hair,
            a tear) is not the mouth.
        dark: a pixel is ink where its luma is below this fraction of the skin's (the
            commonest colour inside the matched face, outside the mouth's neighbourhood): dark
            mouths on yellow, red, grey or brown skin, not pink tongues or blushes.
        near: a mark must come within this fraction of the mouth's width of the matched lips.
        min_iou: least overlap (intersection over union) of the mark's box with the matched
            lips' box for the mark to be taken as the mouth.
        merge: another mark that overlaps the chosen one's columns by this fraction of the
            wider of the two ...
        gap: ... and lies within this fraction of the chosen one's width above or below it
            joins it (a grin's lips split by a band of teeth).
    """

    margin: float = attrs.field(default=0.3, validator=_positive)
    dark: float = attrs.field(default=0.6, validator=_fraction)
    near: float = attrs.field(default=0.1, validator=_positive)
    min_iou: float = attrs.field(default=0.2, validator=_fraction)
    merge: float = attrs.field(default=0.5, validator=_fraction)
    gap: float = attrs.field(default=0.25, validator=_positive)


def _box_iou(a: tuple[int, int, int, int], b: tuple[int, int, int, int]) -> float:
    """Intersection over union of two (x0, y0, x1, y1) half-open pixel boxes."""
    ix = max(0, min(a[2], b[2]) - max(a[0], b[0]))
    iy = max(0, min(a[3], b[3]) - max(a[1], b[1]))
    inter = ix * iy
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
    return inter / union if union > 0 else 0.0


def _skin_luma(
    window: NDArray[np.float64], face: NDArray[np.bool_], exclude: NDArray[np.bool_]
) -> float | None:
    """Luma of the commonest colour (16 levels per channel) of ``window`` (h, w, 3) over
    ``face & ~exclude`` (h, w) bool; ``None`` when fewer than 10 pixels are left."""
    sel = face & ~exclude
    if sel.sum() < 10:
        return None
    q = (window[sel] // 16).astype(np.int64)
    key = (q[:, 0] * 16 + q[:, 1]) * 16 + q[:, 2]
    values, counts = np.unique(key, return_counts=True)
    colour = window[sel][key == values[counts.argmax()]].mean(axis=0)
    return float(colour @ _LUMA)


def drawn_mouth(
    image: ArrayLike, points: ArrayLike, config: MouthConfig | None = None
) -> NDArray[np.bool_] | None:
    """The drawn mouth around a face's matched lips, or ``None`` where none is found.

    In a window round the matched outer lips (``config.margin``), pixels darker than the skin
    (``config.dark``; the skin's colour is the commonest one inside the matched face's hull,
    points 0-26, away from the lips) form 8-connected marks. Marks that reach the window's edge
    are dropped; of those within ``config.near`` of the lips, the one whose box overlaps the
    lips' box most (at least ``config.min_iou``) is the mouth, joined by marks stacked on it
    (``merge``, ``gap``).

    Args:
        image: (H, W, 3) uint8 RGB (or (H, W) grey) frame the points are in.
        points: (68, 2) float pixel (x, y) iBUG landmarks.
        config: settings (default :class:`MouthConfig`).

    Returns:
        (H, W) bool mask of the mouth, holes not filled; ``None`` when no mark qualifies.
    """
    cfg = MouthConfig() if config is None else config
    img = np.asarray(image)
    rgb = np.repeat(img[..., None], 3, axis=2) if img.ndim == 2 else img[..., :3]
    p = np.asarray(points, dtype=np.float64).reshape(68, 2)
    lips = p[OUTER_LIPS]
    if not np.isfinite(p).all():
        return None
    h, w = rgb.shape[:2]
    (x0, y0), (x1, y1) = lips.min(axis=0), lips.max(axis=0)
    width = x1 - x0
    if width < 2.0:
        return None
    pad = cfg.margin * width
    wx0, wy0 = max(0, int(np.floor(x0 - pad))), max(0, int(np.floor(y0 - pad)))
    wx1, wy1 = min(w, int(np.ceil(x1 + pad)) + 1), min(h, int(np.ceil(y1 + pad)) + 1)
    if wx1 - wx0 < 3 or wy1 - wy0 < 3:
        return None
    window = rgb[wy0:wy1, wx0:wx1].astype(np.float64)
    shape = window.shape[:2]
    origin = np.array([wx0, wy0], dtype=np.float64)

    lip_area = np.zeros(shape, np.uint8)
    cv2.fillPoly(lip_area, [np.round(lips - origin).astype(np.int32)], 1)
    reach = max(1, round(cfg.near * width))
    near = ndimage.binary_dilation(lip_area.astype(bool), iterations=reach)
    face = np.zeros(shape, np.uint8)
    hull = cv2.convexHull(np.round(p[:27] - origin).astype(np.int32))
    cv2.fillPoly(face, [hull], 1)
    skin = _skin_luma(window, face.astype(bool), ndimage.binary_dilation(near, iterations=reach))
    if skin is None:
        return None
    ink = window @ _LUMA < cfg.dark * skin
    labels, _ = ndimage.label(ink, structure=np.ones((3, 3), dtype=bool))
    edge = np.concatenate([labels[0], labels[-1], labels[:, 0], labels[:, -1]])
    candidates = np.setdiff1d(np.unique(labels[near & ink]), np.append(edge, 0))
    if candidates.size == 0:
        return None
    boxes = ndimage.find_objects(labels)
    lip_box = (int(x0) - wx0, int(y0) - wy0, int(x1) - wx0 + 1, int(y1) - wy0 + 1)

    def box(label: int) -> tuple[int, int, int, int]:
        rows, cols = boxes[label - 1]
        return cols.start, rows.start, cols.stop, rows.stop

    ious = [_box_iou(box(int(c)), lip_box) for c in candidates]
    if max(ious) < cfg.min_iou:
        return None
    best = box(int(candidates[int(np.argmax(ious))]))
    chosen = []
    for c in candidates:
        b = box(int(c))
        overlap = min(b[2], best[2]) - max(b[0], best[0])
        wider = max(b[2] - b[0], best[2] - best[0])
        gap = max(b[1] - best[3], best[1] - b[3], 0)
        if overlap >= cfg.merge * wider and gap <= cfg.gap * (best[2] - best[0]):
            chosen.append(c)
    mask = np.zeros((h, w), dtype=bool)
    mask[wy0:wy1, wx0:wx1] = np.isin(labels, chosen)
    return mask


def mouth_on_drawing(
    image: ArrayLike, points: ArrayLike, config: MouthConfig | None = None
) -> NDArray[np.float64]:
    """The lips (points 48-67) re-placed on the drawn mouth by the gallery's rule.

    Finds the mouth with :func:`drawn_mouth` and places the lips on it with
    :func:`mouth_from_mask`; where no mouth is found the matched lips stand. Every other point
    is returned unchanged.

    Args:
        image: (H, W, 3) uint8 RGB (or (H, W) grey) frame the points are in.
        points: (68, 2) float pixel (x, y) iBUG landmarks.
        config: settings (default :class:`MouthConfig`).

    Returns:
        (68, 2) float64 pixel (x, y), a new array.
    """
    out = np.array(points, dtype=np.float64, copy=True).reshape(68, 2)
    mask = drawn_mouth(image, out, config)
    if mask is not None:
        outer, inner, _ = mouth_from_mask(mask)
        out[OUTER_LIPS], out[INNER_LIPS] = outer, inner
    return out
