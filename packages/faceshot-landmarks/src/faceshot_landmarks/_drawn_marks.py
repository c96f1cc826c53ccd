"""The mouth and eyes read from the drawing: the gallery's annotation rules on drawn marks.

The gallery's character annotations (``scripts/derive_twemoji_landmarks.py``,
``scripts/annotate_keypoints.py``) place the lips and the eyes on the drawn marks:

* the 20 lip points (iBUG 48-67) on the mouth, the dark mark below the eyes with its holes
  (teeth, tongue) filled: the outer lips follow its outline (:func:`contour_points`), the
  inner lips sit inside an open mouth or on a closed mouth's centre line
  (:func:`mouth_from_mask`);
* the 6 points of each eye (36-41, 42-47) on the eye's outline: the dark mark with the whites
  that touch it, its holes filled, a brow stroke fused to it cut off (:func:`contour_points`
  with ``n=6``);
* the 5 points of each drawn brow (17-21, 22-26) along its centre line
  (:func:`brow_from_mask`), where a pair of wide marks sits just above the eyes
  (:func:`brow_over_eye`); brows not drawn are placed by :func:`undrawn_brows`.

The rules live here so that the annotation scripts and the steps that apply them to a matched
face in an image share one definition.

On flat art the matcher's lips and eyes land near the marks but not on their corners and
edges: a zigzag, a cat's Y-shaped mouth, a wide grin, an alien's slanted eyes are unlike most
of the gallery's. :func:`drawn_mouth` and :func:`drawn_eye` find the mark round the matched
points (darker than the skin around it, not running out of a window round them, its box
overlapping theirs), and :func:`mouth_on_drawing` and :func:`eyes_on_drawing` re-place the
points on it by the rule; where no such mark is found the matched points stand.
"""

from __future__ import annotations

import attrs
import cv2
import numpy as np
from faceshot_retarget.ibug68 import (
    INNER_LIPS,
    LEFT_BROW,
    LEFT_EYE,
    NUM_POINTS,
    OUTER_LIPS,
    RIGHT_BROW,
    RIGHT_EYE,
)
from numpy.typing import ArrayLike, NDArray
from scipy import ndimage

from faceshot_landmarks._outline import (
    BrowConfig,
    _commonest_bin,
    _positive,
    _rgb,
    brows_where_undrawn,
)

__all__ = [
    "BROW_COLUMNS",
    "INNER_CORNER_INSET",
    "INNER_LIP_COLUMNS",
    "INNER_LIP_INSET",
    "OPEN_MOUTH_THICKNESS",
    "EyeConfig",
    "MouthConfig",
    "brow_from_mask",
    "brow_over_eye",
    "brows_on_drawing",
    "column_scan",
    "contour_points",
    "drawn_brows",
    "drawn_eye",
    "drawn_mouth",
    "eyes_on_drawing",
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

#: A drawn brow's 5 points lie on its centre line at these fractions of its width.
BROW_COLUMNS = np.array([0.06, 0.28, 0.5, 0.72, 0.94])

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
        carry_closed_inner: on a closed mouth, :func:`mouth_on_drawing` carries the matched
            inner lips along with the outer lips (the least-squares affine map of the matched
            outer lips onto the drawn ones) instead of placing them on the mouth's centre line
            by the rule: a tracker cannot tell coincident upper and lower inner lips apart
            when the mouth opens. On the smiley style's clips (``bench/nonhuman_ablation.py``,
            40 frames) mouth-opening correlation 0.945 -> 0.963 for an error of 0.0168 ->
            0.0169 face widths.
    """

    margin: float = attrs.field(default=0.3, validator=_positive)
    dark: float = attrs.field(default=0.6, validator=_fraction)
    near: float = attrs.field(default=0.1, validator=_positive)
    min_iou: float = attrs.field(default=0.2, validator=_fraction)
    merge: float = attrs.field(default=0.5, validator=_fraction)
    gap: float = attrs.field(default=0.25, validator=_positive)
    carry_closed_inner: bool = True


@attrs.frozen
class EyeConfig:
    """Settings of :func:`drawn_eye`. Chosen on the smiley style's anchors and on the Twemoji
    gallery faces outside the benchmark's held-out styles (their eyes displaced by up to a
    quarter of the eye's width and scaled by 0.75-1.33).

    Attributes:
        margin: the window searched: the matched eye's box grown by this fraction of its width
            on each side. A mark that reaches the window's edge is not the eye.
        dark: a pixel is ink where its luma is below this fraction of the skin's (as
            :class:`MouthConfig` ``dark``).
        near: a mark must come within this fraction of the eye's width of the matched eye.
        min_iou: least overlap (intersection over union) of the best mark's box with the
            matched eye's box. Of marks stacked in the same columns the lowest is the eye (a
            brow or a lid line sits above it, whichever the matched eye overlaps more).
        white: an eye white is brighter than the skin and above this grey level in every
            channel; whites touching the eye's mark join it ...
        white_margin: ... when they lie within the matched eye's box grown by this fraction of
            its width (a white wider than the window, round a pupil the matcher took for the
            eye).
        cut: a brow stroke fused to the eye is cut off by a morphological opening with a disk
            of this radius, in face widths (jaw 0 to 16), when the opening keeps 25-85 % of
            the mark and at least a fifth of what it removes lies above what it keeps (the
            annotation script's test).
    """

    margin: float = attrs.field(default=0.5, validator=_positive)
    dark: float = attrs.field(default=0.6, validator=_fraction)
    near: float = attrs.field(default=0.15, validator=_positive)
    min_iou: float = attrs.field(default=0.2, validator=_fraction)
    white: float = attrs.field(default=200.0, validator=_positive)
    white_margin: float = attrs.field(default=1.0, validator=_positive)
    cut: float = attrs.field(default=0.04, validator=_positive)


#: A pixel box (x0, y0, x1, y1), half-open.
_Box = tuple[int, int, int, int]


def _span_overlap(a: _Box, b: _Box, axis: int) -> int:
    """How far two boxes' column (``axis`` 0) or row (``axis`` 1) spans overlap, pixels;
    negative: the gap between them."""
    return min(a[axis + 2], b[axis + 2]) - max(a[axis], b[axis])


def _box_iou(a: _Box, b: _Box) -> float:
    """Intersection over union of two (x0, y0, x1, y1) half-open pixel boxes."""
    ix = max(0, _span_overlap(a, b, 0))
    iy = max(0, _span_overlap(a, b, 1))
    inter = ix * iy
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
    return inter / union if union > 0 else 0.0


def _window(part: NDArray[np.float64], margin: float, shape: tuple[int, ...]) -> _Box | None:
    """The box of ``part`` (K, 2) grown by ``margin`` of its width on each side, clipped to an
    image of ``shape`` (H, W, ...); ``None`` when the part is narrower than 2 px or the
    window under 3 px."""
    (x0, y0), (x1, y1) = part.min(axis=0), part.max(axis=0)
    if x1 - x0 < 2.0:
        return None
    pad = margin * (x1 - x0)
    box = (
        max(0, int(np.floor(x0 - pad))),
        max(0, int(np.floor(y0 - pad))),
        min(shape[1], int(np.ceil(x1 + pad)) + 1),
        min(shape[0], int(np.ceil(y1 + pad)) + 1),
    )
    return box if box[2] - box[0] >= 3 and box[3] - box[1] >= 3 else None


def _skin_luma(
    window: NDArray[np.float64], face: NDArray[np.bool_], exclude: NDArray[np.bool_]
) -> float | None:
    """Luma of the commonest colour (16 levels per channel) of ``window`` (h, w, 3) over
    ``face & ~exclude`` (h, w) bool; ``None`` when fewer than 10 pixels are left."""
    sel = face & ~exclude
    if sel.sum() < 10:
        return None
    pixels = window[sel]
    colour = pixels[_commonest_bin(pixels)].mean(axis=0)
    return float(colour @ _LUMA)


def _hull_skin_luma(
    window: NDArray[np.float64],
    points: NDArray[np.float64],
    origin: NDArray[np.float64],
    exclude: NDArray[np.bool_],
) -> float | None:
    """:func:`_skin_luma` of ``window`` (h, w, 3), whose top-left pixel is ``origin`` (x, y) in
    the frame, inside the convex hull of ``points`` 0-26 (the jaw and brows, frame pixels) and
    outside ``exclude`` (h, w) bool."""
    face = np.zeros(window.shape[:2], np.uint8)
    cv2.fillPoly(face, [cv2.convexHull(np.round(points[:27] - origin).astype(np.int32))], 1)
    return _skin_luma(window, face.astype(bool), exclude)


def _grow(mask: NDArray[np.bool_], pixels: int) -> NDArray[np.bool_]:
    """``mask`` (h, w) bool dilated by ``pixels`` in the city-block metric (what ``pixels``
    iterations of the 4-neighbour cross give)."""
    if not mask.any():
        return mask.copy()
    distance = cv2.distanceTransform((~mask).astype(np.uint8), cv2.DIST_L1, 3)
    return np.asarray(distance <= pixels)


def _edge_labels(labels: NDArray[np.int32]) -> NDArray[np.int32]:
    """Labels on the border of a label image, 0 included."""
    return np.concatenate([labels[0], labels[-1], labels[:, 0], labels[:, -1], [0]])


@attrs.frozen
class _Marks:
    """Dark marks round one part's matched points (:func:`_dark_marks`); window pixels."""

    window: _Box  # in the frame
    labels: NDArray[np.int32]  # (h, w) 8-connected marks
    candidates: list[int]  # labels near the part, not on the window's edge
    boxes: dict[int, _Box]  # each candidate's box
    part: _Box  # the matched part's box
    skin: float  # the skin's luma

    def box(self, label: int) -> _Box:
        return self.boxes[label]

    def best(self, min_iou: float) -> int | None:
        """The candidate whose box overlaps the part's most, if at least ``min_iou``."""
        ious = [_box_iou(self.box(c), self.part) for c in self.candidates]
        return self.candidates[int(np.argmax(ious))] if ious and max(ious) >= min_iou else None


def _dark_marks(
    rgb: NDArray[np.uint8],
    points: NDArray[np.float64],
    part: slice,
    margin: float,
    dark: float,
    near: float,
) -> _Marks | None:
    """Marks darker than ``dark`` times the skin's luma in the window round ``points[part]``
    (``margin``), and which of them come within ``near`` part widths of the part's polygon
    without reaching the window's edge. The skin is the commonest colour inside the hull of
    points 0-26 away from the part. ``None`` when the window or the skin cannot be had."""
    pts = points[part]
    window = _window(pts, margin, rgb.shape)
    if window is None:
        return None
    wx0, wy0, wx1, wy1 = window
    crop = rgb[wy0:wy1, wx0:wx1].astype(np.float64)
    shape = crop.shape[:2]
    origin = np.array([wx0, wy0], dtype=np.float64)
    area = np.zeros(shape, np.uint8)
    polygon = np.round(pts - origin).astype(np.int32)
    cv2.fillPoly(area, [polygon], 1)
    cv2.polylines(area, [polygon], True, 1)  # a flat part (closed lips, a closed eye)
    (x0, y0), (x1, y1) = pts.min(axis=0), pts.max(axis=0)
    reach = max(1, round(near * (x1 - x0)))
    close = _grow(area.astype(bool), reach)
    skin = _hull_skin_luma(crop, points, origin, _grow(close, reach))
    if skin is None:
        return None
    ink = crop @ _LUMA < dark * skin
    labels, _ = ndimage.label(ink, structure=np.ones((3, 3), dtype=bool))
    candidates = [
        int(c) for c in np.setdiff1d(np.unique(labels[close & ink]), _edge_labels(labels))
    ]
    objects = ndimage.find_objects(labels)
    boxes = {}
    for c in candidates:
        rows, cols = objects[c - 1]
        boxes[c] = (int(cols.start), int(rows.start), int(cols.stop), int(rows.stop))
    part_box = (int(x0) - wx0, int(y0) - wy0, int(x1) - wx0 + 1, int(y1) - wy0 + 1)
    return _Marks(window, labels, candidates, boxes, part_box, skin)


def _points(points: ArrayLike) -> NDArray[np.float64] | None:
    """(68, 2) float64 copy of ``points``; ``None`` when any is not finite."""
    p = np.array(points, dtype=np.float64, copy=True).reshape(NUM_POINTS, 2)
    return p if np.isfinite(p).all() else None


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
    p = _points(points)
    rgb = _rgb(image)
    marks = None if p is None else _dark_marks(rgb, p, OUTER_LIPS, cfg.margin, cfg.dark, cfg.near)
    best = None if marks is None else marks.best(cfg.min_iou)
    if marks is None or best is None:
        return None
    b = marks.box(best)
    chosen = []
    for c in marks.candidates:
        o = marks.box(c)
        wider = max(o[2] - o[0], b[2] - b[0])
        gap = max(0, -_span_overlap(o, b, 1))
        if _span_overlap(o, b, 0) >= cfg.merge * wider and gap <= cfg.gap * (b[2] - b[0]):
            chosen.append(c)
    wx0, wy0, wx1, wy1 = marks.window
    mask = np.zeros(rgb.shape[:2], dtype=bool)
    mask[wy0:wy1, wx0:wx1] = np.isin(marks.labels, chosen)
    return mask


def mouth_on_drawing(
    image: ArrayLike, points: ArrayLike, config: MouthConfig | None = None
) -> NDArray[np.float64]:
    """The lips (points 48-67) re-placed on the drawn mouth by the gallery's rule.

    Finds the mouth with :func:`drawn_mouth` and places the lips on it with
    :func:`mouth_from_mask`, a closed mouth's inner lips carried along with the outer ones
    instead (``config.carry_closed_inner``); where no mouth is found the matched lips stand.
    Every other point is returned unchanged.

    Args:
        image: (H, W, 3) uint8 RGB (or (H, W) grey) frame the points are in.
        points: (68, 2) float pixel (x, y) iBUG landmarks.
        config: settings (default :class:`MouthConfig`).

    Returns:
        (68, 2) float64 pixel (x, y), a new array.
    """
    cfg = MouthConfig() if config is None else config
    out = np.array(points, dtype=np.float64, copy=True).reshape(NUM_POINTS, 2)
    mask = drawn_mouth(image, out, cfg)
    if mask is None:
        return out
    outer, inner, is_open = mouth_from_mask(mask)
    if cfg.carry_closed_inner and not is_open:
        inner = _affine_carry(out[OUTER_LIPS], outer, out[INNER_LIPS])
    out[OUTER_LIPS], out[INNER_LIPS] = outer, inner
    return out


def _affine_carry(
    source: NDArray[np.float64], target: NDArray[np.float64], points: NDArray[np.float64]
) -> NDArray[np.float64]:
    """``points`` (K, 2) moved by the least-squares affine map of ``source`` onto ``target``
    (N, 2 each, N >= 3), pixels."""
    design = np.column_stack([source, np.ones(len(source))])
    matrix = np.linalg.lstsq(design, target, rcond=None)[0]  # (3, 2)
    return np.asarray(np.column_stack([points, np.ones(len(points))]) @ matrix, dtype=np.float64)


def _lowest_in_column(marks: _Marks, best: int) -> int:
    """Of the candidates whose centre lies below ``best``'s box and whose columns overlap it
    by half the narrower's width, the last found going down (else ``best``): an eye under a
    brow or lid line."""
    b = marks.box(best)
    for c in marks.candidates:
        o = marks.box(c)
        overlap = _span_overlap(o, b, 0)
        if 0.5 * (o[1] + o[3]) > b[3] and overlap >= 0.5 * min(o[2] - o[0], b[2] - b[0]):
            best, b = c, o
    return best


def _cut_fused_stroke(mask: NDArray[np.bool_], radius: int) -> NDArray[np.bool_]:
    """``mask`` less a stroke fused to it above (a brow drawn as one shape with the eye), by
    the annotation script's test (see :class:`EyeConfig` ``cut``)."""
    rows, cols = np.nonzero(mask)
    if rows.size == 0:
        return mask
    pad = radius + 1
    box = (slice(rows.min(), rows.max() + 1), slice(cols.min(), cols.max() + 1))
    yy, xx = np.mgrid[-radius : radius + 1, -radius : radius + 1]
    disk = ((xx**2 + yy**2) <= radius**2).astype(np.uint8)
    padded = np.pad(mask[box], pad).astype(np.uint8)  # the zero border: as on the whole frame
    opened_box = cv2.morphologyEx(padded, cv2.MORPH_OPEN, disk)[pad:-pad, pad:-pad] > 0
    opened = np.zeros_like(mask)
    opened[box] = opened_box
    kept = opened.sum() / mask.sum()
    if not 0.25 <= kept <= 0.85:
        return mask
    labels, n = ndimage.label(opened)
    sizes = ndimage.sum(opened, labels, index=np.arange(1, n + 1))
    solid = labels == (1 + int(np.argmax(sizes)))
    stroke_rows = np.nonzero(mask & ~solid)[0]
    solid_top = int(np.nonzero(solid.any(axis=1))[0][0])
    return solid if (stroke_rows < solid_top).mean() >= 0.2 else mask


def drawn_eye(
    image: ArrayLike, points: ArrayLike, eye: slice, config: EyeConfig | None = None
) -> NDArray[np.bool_] | None:
    """The drawn eye around one of a face's matched eyes, or ``None`` where none is found.

    The dark mark is found as the mouth's (:func:`drawn_mouth`, with the :class:`EyeConfig`
    settings), the lowest of a column of marks preferred; whites touching it join it, its holes
    are filled, and a brow stroke fused to it is cut off.

    Args:
        image: (H, W, 3) uint8 RGB (or (H, W) grey) frame the points are in.
        points: (68, 2) float pixel (x, y) iBUG landmarks.
        eye: which eye, ``slice(36, 42)`` (right, image left) or ``slice(42, 48)``.
        config: settings (default :class:`EyeConfig`).

    Returns:
        (H, W) bool mask of the eye, holes filled; ``None`` when no mark qualifies.
    """
    cfg = EyeConfig() if config is None else config
    p = _points(points)
    rgb = _rgb(image)
    marks = None if p is None else _dark_marks(rgb, p, eye, cfg.margin, cfg.dark, cfg.near)
    best = None if marks is None else marks.best(cfg.min_iou)
    if p is None or marks is None or best is None:
        return None
    mask = np.zeros(rgb.shape[:2], dtype=bool)
    wx0, wy0, wx1, wy1 = marks.window
    mask[wy0:wy1, wx0:wx1] = marks.labels == _lowest_in_column(marks, best)
    grown = _window(p[eye], cfg.white_margin, rgb.shape)
    if grown is not None:
        gx0, gy0, gx1, gy1 = grown
        crop = rgb[gy0:gy1, gx0:gx1]
        whites = (crop.min(axis=-1) > cfg.white) & (crop.astype(np.float64) @ _LUMA > marks.skin)
        labels, _ = ndimage.label(whites, structure=np.ones((3, 3), dtype=bool))
        touching = ndimage.binary_dilation(mask[gy0:gy1, gx0:gx1], iterations=2) & whites
        joined = np.setdiff1d(np.unique(labels[touching]), _edge_labels(labels))
        mask[gy0:gy1, gx0:gx1] |= np.isin(labels, joined)
    mask = ndimage.binary_fill_holes(mask)
    width = float(np.linalg.norm(p[16] - p[0]))
    return _cut_fused_stroke(mask, max(1, round(cfg.cut * width)))


def eyes_on_drawing(
    image: ArrayLike, points: ArrayLike, config: EyeConfig | None = None
) -> NDArray[np.float64]:
    """Each eye (points 36-41, 42-47) re-placed on its drawn mark by the gallery's rule.

    Finds each eye with :func:`drawn_eye` and places its 6 points on it with
    :func:`contour_points` (``n=6``); an eye whose mark is not found stands. Every other point
    is returned unchanged.

    Args:
        image: (H, W, 3) uint8 RGB (or (H, W) grey) frame the points are in.
        points: (68, 2) float pixel (x, y) iBUG landmarks.
        config: settings (default :class:`EyeConfig`).

    Returns:
        (68, 2) float64 pixel (x, y), a new array.
    """
    out = np.array(points, dtype=np.float64, copy=True).reshape(NUM_POINTS, 2)
    found = [(eye, drawn_eye(image, out, eye, config)) for eye in (RIGHT_EYE, LEFT_EYE)]
    for eye, mask in found:
        if mask is not None:
            out[eye] = contour_points(mask, n=6)
    return out


def brow_over_eye(
    eye: tuple[float, float, float, float], brow: tuple[float, float, float, float], span: float
) -> bool:
    """The gallery's test that a mark is the brow over an eye (the Twemoji annotations).

    The mark is wider than tall by 1.3 times, its bottom at most 0.1 ``span`` below the eye's
    top, its box centre above the eye's top by less than 0.6 ``span`` and within 0.35 ``span``
    of the eye's box centre across.

    Args:
        eye: the eye's box (x0, y0, x1, y1), pixels, inclusive (the last pixel, or the
            extreme points).
        brow: the mark's box, the same way.
        span: distance across between the two eyes' box centres, pixels.

    Returns:
        Whether the mark passes.
    """
    ex0, ey0, ex1, _ = eye
    bx0, by0, bx1, by1 = brow
    bcx, bcy = 0.5 * (bx0 + bx1), 0.5 * (by0 + by1)
    return bool(
        by1 <= ey0 + 0.1 * span
        and bcy < ey0
        and ey0 - bcy < 0.6 * span
        and abs(bcx - 0.5 * (ex0 + ex1)) < 0.35 * span
        and bx1 - bx0 + 1 > 1.3 * (by1 - by0 + 1)
    )


def brow_from_mask(mask: NDArray[np.bool_]) -> NDArray[np.float64]:
    """The gallery's rule for a drawn brow: 5 points along the mark's centre line.

    Args:
        mask: (H, W) bool mark, not empty.

    Returns:
        (5, 2) float64 pixel (x, y), image left to right: at :data:`BROW_COLUMNS` of the way
        across the mark's columns, midway between its top and bottom there.
    """
    cols = np.nonzero(mask.any(axis=0))[0]
    x0, x1 = cols.min(), cols.max()
    xs = x0 + BROW_COLUMNS * (x1 - x0)
    top, bottom = column_scan(mask, xs)
    return np.stack([xs, 0.5 * (top + bottom)], axis=1)


def _inclusive_box(points: NDArray[np.float64]) -> tuple[float, float, float, float]:
    (x0, y0), (x1, y1) = points.min(axis=0), points.max(axis=0)
    return float(x0), float(y0), float(x1), float(y1)


def drawn_brows(
    image: ArrayLike, points: ArrayLike, config: BrowConfig | None = None
) -> tuple[NDArray[np.bool_], NDArray[np.bool_]] | None:
    """The pair of drawn brows over a face's eyes, or ``None`` where there is none.

    In a window round the eyes (0.9 eye distances beside and 1.0 above them), pixels darker
    than ``config.dark`` times the skin's luma (the commonest colour inside the hull of points
    0-26, away from the eyes) form 8-connected marks; marks that reach the window's edge (hair,
    the outline) or are smaller than 0.0025 squared eye distances are dropped. A mark over each
    eye must pass :func:`brow_over_eye`; the two must not share a column, their centres lie
    within a quarter of their distance across in height, and their areas within 8 times.
    Of such pairs the lowest is the brows (the gallery's rule: a mark above a brow is hair).

    Args:
        image: (H, W, 3) uint8 RGB (or (H, W) grey) frame the points are in.
        points: (68, 2) float pixel (x, y) iBUG landmarks, eyes (36-47) on the drawn eyes.
        config: settings (default :class:`BrowConfig`).

    Returns:
        (H, W) bool masks of the right brow (over 36-41, image left) and the left brow.
    """
    cfg = BrowConfig() if config is None else config
    p = _points(points)
    if p is None:
        return None
    rgb = _rgb(image)
    right, left = _inclusive_box(p[RIGHT_EYE]), _inclusive_box(p[LEFT_EYE])
    rcx, lcx = 0.5 * (right[0] + right[2]), 0.5 * (left[0] + left[2])
    span = lcx - rcx
    if span < 4.0:
        return None
    top = min(right[1], left[1])
    window = (
        max(0, int(np.floor(rcx - 0.9 * span))),
        max(0, int(np.floor(top - 1.0 * span))),
        min(rgb.shape[1], int(np.ceil(lcx + 0.9 * span)) + 1),
        min(rgb.shape[0], int(np.ceil(max(right[3], left[3]))) + 1),
    )
    wx0, wy0, wx1, wy1 = window
    if wx1 - wx0 < 3 or wy1 - wy0 < 3:
        return None
    crop = rgb[wy0:wy1, wx0:wx1].astype(np.float64)
    origin = np.array([wx0, wy0], dtype=np.float64)
    eyes = np.zeros(crop.shape[:2], np.uint8)
    for eye in (RIGHT_EYE, LEFT_EYE):
        cv2.fillPoly(eyes, [np.round(p[eye] - origin).astype(np.int32)], 1)
    skin = _hull_skin_luma(crop, p, origin, _grow(eyes.astype(bool), max(1, round(0.1 * span))))
    if skin is None:
        return None
    labels, n = ndimage.label(crop @ _LUMA < cfg.dark * skin, structure=np.ones((3, 3), bool))
    areas = ndimage.sum(np.ones_like(labels), labels, index=np.arange(1, n + 1))
    edge = set(_edge_labels(labels).tolist())
    boxes: dict[int, tuple[float, float, float, float]] = {}
    for c, found in enumerate(ndimage.find_objects(labels), start=1):
        if found is None or c in edge or areas[c - 1] < 0.0025 * span**2:
            continue
        rows, cols = found
        boxes[c] = (cols.start + wx0, rows.start + wy0, cols.stop - 1 + wx0, rows.stop - 1 + wy0)
    over_right = [c for c, b in boxes.items() if brow_over_eye(right, b, span)]
    over_left = [c for c, b in boxes.items() if brow_over_eye(left, b, span)]
    pairs = []
    for a in over_right:
        for b in over_left:
            ba, bb = boxes[a], boxes[b]
            across = 0.5 * (bb[0] + bb[2] - ba[0] - ba[2])
            if (
                a != b
                and ba[2] < bb[0]
                and abs(ba[1] + ba[3] - bb[1] - bb[3]) <= 0.5 * across
                and max(areas[a - 1], areas[b - 1]) <= 8 * min(areas[a - 1], areas[b - 1])
            ):
                pairs.append((a, b))
    if not pairs:
        return None
    a, b = max(
        pairs, key=lambda ab: boxes[ab[0]][1] + boxes[ab[0]][3] + boxes[ab[1]][1] + boxes[ab[1]][3]
    )
    masks = []
    for c in (a, b):
        mask = np.zeros(rgb.shape[:2], dtype=bool)
        mask[wy0:wy1, wx0:wx1] = labels == c
        masks.append(mask)
    return masks[0], masks[1]


def brows_on_drawing(
    image: ArrayLike, points: ArrayLike, config: BrowConfig | None = None
) -> NDArray[np.float64]:
    """The brows (points 17-26) placed by the gallery's rules on a drawing.

    With ``config.drawn`` and a pair of drawn brows over the eyes (:func:`drawn_brows`), each
    brow's 5 points go on its mark (:func:`brow_from_mask`); otherwise matched brows that lie on
    a stroke stay and the others are placed by the rule for undrawn brows
    (:func:`brows_where_undrawn`). Every other point is returned unchanged.

    Args:
        image: (H, W, 3) uint8 RGB (or (H, W) grey) frame the points are in.
        points: (68, 2) float pixel (x, y) iBUG landmarks, eyes on the drawn eyes.
        config: settings (default :class:`BrowConfig`).

    Returns:
        (68, 2) float64 pixel (x, y), a new array.
    """
    cfg = BrowConfig() if config is None else config
    found = drawn_brows(image, points, cfg) if cfg.drawn else None
    if found is None:
        return brows_where_undrawn(image, points, cfg)
    out = np.array(points, dtype=np.float64, copy=True).reshape(NUM_POINTS, 2)
    out[RIGHT_BROW] = brow_from_mask(found[0])
    out[LEFT_BROW] = brow_from_mask(found[1])
    return out
