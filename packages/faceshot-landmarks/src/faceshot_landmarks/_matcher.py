"""Landmark matching by semantic correspondence (FaceShot Eq. 3-4), vectorised NumPy.

Pipeline of :func:`match`:

1. choose a gallery domain per part (:meth:`Gallery.retrieve`, FAISS) and gather the 68
   reference vectors (Eq. 4: k-averaged, L2-normalised features at the landmarks);
2. :func:`similarity_map`: cosine of each reference with every cell of the target map,
   (68, h, w), at the map's own resolution;
3. :func:`cosine_argmax`: the best cell per landmark and a confidence (similarity margin:
   peak minus the best score outside a small exclusion window around the peak);
4. :func:`refine_subpixel`: the exact cosine of the bilinearly interpolated, per-cell normalised
   feature field, evaluated on an ``upsample``-times finer grid in a ``(2 radius + 1)``-cell
   window around each peak only (never the whole map), using precomputed neighbour dot products;
5. optional geometric regularisation by the gallery's :class:`ShapePrior` (robust fit).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import attrs
import numpy as np
from faceshot_retarget import as_points
from faceshot_retarget.ibug68 import MIRROR, NUM_POINTS, PARTS
from numpy.typing import ArrayLike, NDArray

from faceshot_landmarks._arrays import readonly_copy
from faceshot_landmarks._features import (
    cells_to_pixels,
    check_feature_map,
    normalize_features,
    pixels_to_cells,
    sample_features,
)
from faceshot_landmarks._shape import PriorFit, ShapePrior
from faceshot_landmarks.errors import FeatureMapError

__all__ = [
    "CHARACTER_MATCHER",
    "CHECKED_PARTS",
    "WEAK_PART_MARGIN",
    "MatchResult",
    "MatcherConfig",
    "cosine_argmax",
    "match",
    "match_flip_consistent",
    "match_references",
    "reference_vectors",
    "refine_peaks",
    "refine_subpixel",
    "shape_hypotheses",
    "shape_search",
    "similarity_map",
    "standardise",
]


#: Parts whose matching confidence is checked by :meth:`MatchResult.weak_parts` (brows and
#: the jaw are often not drawn on characters, so their margins say little).
CHECKED_PARTS = ("eyes", "nose", "mouth")
#: A checked part whose mean similarity margin (``MatchResult.confidence`` over its points) is
#: below this is reported as weak. Calibrated on the leave-one-style-out benchmark
#: (``bench/matching.py``, see the package README): parts below it were wrong by more than
#: 0.10 inter-ocular distances several times as often as parts above it.
WEAK_PART_MARGIN = 0.02


def _positive_int(instance: Any, attribute: Any, value: Any) -> None:
    if not (isinstance(value, int) and value >= 1):
        raise ValueError(f"MatcherConfig `{attribute.name}` must be an int >= 1; got {value!r}")


def _non_negative(instance: Any, attribute: Any, value: Any) -> None:
    if not value >= 0:
        raise ValueError(f"MatcherConfig `{attribute.name}` must be >= 0; got {value!r}")


@attrs.frozen
class MatcherConfig:
    """Matcher settings.

    Attributes:
        refine_radius: half-size in cells of the sub-pixel refinement window (0: no refinement).
        upsample: refinement samples per cell.
        exclusion: Chebyshev radius in cells around the peak ignored when computing the
            similarity margin (confidence).
        use_prior: regularise with the gallery's shape prior.
        prior_clamp: largest distance of a final point from the fitted shape model, as a
            fraction of the face size (see :meth:`ShapePrior.fit`). The still-image character
            path uses 0.25 (:data:`~faceshot_landmarks.CHARACTER_MATCHER`).
        prior_iterations: IRLS iterations of the prior fit.
        search_iterations: rounds of constrained local search after the first prior fit
            (each landmark is re-matched within ``search_radius`` of the fitted model point,
            the radius halving every round, then the prior is refitted); 0 disables it.
        search_radius: local search radius as a fraction of the face size (the RMS distance
            of the model points from their centroid).
        global_search: place the whole shape first (:func:`shape_search`: the prior's mean
            and leading modes at every size, angle and position, scored by the standardised
            evidence of all 68 landmarks together) instead of fitting the prior to the 68
            independent peaks; the local search then starts from that placement. Measured on
            the leave-one-style-out benchmark (``bench/matching.py``).
        use_prototypes: match against the gallery's per-landmark prototypes when it stores
            them (the best prototype's cosine per cell), else the Eq. 4 mean references.
        face_sizes: (smallest, largest, count) face sizes tried by the global search, as
            fractions of the feature map's longer side (RMS point distance from the centroid;
            a face filling a localised crop is ~0.2), geometrically spaced.
        angles_deg: in-plane rotations tried by the global search (degrees).
        mode_sd: coefficients (in standard deviations) tried on each varied shape mode.
        search_modes: leading shape modes varied by the global search (one at a time).
        global_radius: local search radius after the global search (fraction of face size).
            The still-image character path uses 0.35
            (:data:`~faceshot_landmarks.CHARACTER_MATCHER`).
        evidence_floor: standardised similarities are clipped below at this many standard
            deviations (:func:`standardise`): one landmark's bad spot cannot veto a shape.
        part_weights: weight of each paper part's landmarks in the global search (``PARTS``
            order); equal weights measured best.
        search_stride: the global search tries shape centroids on every ``search_stride``-th
            cell, then every cell next to its best placements (2: a quarter of the work).
    """

    refine_radius: int = attrs.field(default=1, validator=_non_negative)
    upsample: int = attrs.field(default=4, validator=_positive_int)
    exclusion: int = attrs.field(default=2, validator=_non_negative)
    use_prior: bool = True
    prior_clamp: float = attrs.field(default=0.15, validator=_non_negative)
    prior_iterations: int = attrs.field(default=12, validator=_positive_int)
    search_iterations: int = attrs.field(default=2, validator=_non_negative)
    search_radius: float = attrs.field(default=0.5, validator=_non_negative)
    global_search: bool = True
    use_prototypes: bool = True
    face_sizes: tuple[float, float, int] = (0.07, 0.4, 16)
    angles_deg: tuple[float, ...] = (-20.0, -10.0, 0.0, 10.0, 20.0)
    mode_sd: tuple[float, ...] = (-1.5, 1.5)
    search_modes: int = attrs.field(default=2, validator=_non_negative)
    global_radius: float = attrs.field(default=0.25, validator=_non_negative)
    evidence_floor: float = -1.0
    part_weights: tuple[float, ...] = (1.0, 1.0, 1.0, 1.0, 1.0)
    search_stride: int = attrs.field(default=2, validator=_positive_int)


@attrs.frozen
class MatchResult:
    """Matched landmarks on a target image.

    Attributes:
        points: (68, 2) float64 pixel (x, y) of the target image (after the shape prior if used).
        confidence: (68,) float64 similarity margin in [0, 2] (higher = more distinctive).
        domains: per paper part (``faceshot_retarget.ibug68.PARTS`` order) the gallery
            domain whose references were used.
        raw_points: (68, 2) float64 the refined matches before the shape prior.
        scores: (68,) float64 peak cosine similarity of each match.
        prior: the :class:`PriorFit`, or ``None`` when no prior was applied.
        image_size: (H, W) of the target image.
        path: how the points were found: ``"matcher"`` (semantic matching) or ``"dlib"``
            (dlib's 68-point predictor on a human photo; ``confidence`` and ``scores`` are then
            1.0, not similarity margins).
        face_box: (left, top, right, bottom) pixels of the face region the points were
            found in, or ``None`` (the whole map was matched).
        num_faces: how many candidate faces/regions there were to choose from (1 when no
            localisation ran).
    """

    points: NDArray[np.float64] = attrs.field(converter=readonly_copy, eq=False)
    confidence: NDArray[np.float64] = attrs.field(converter=readonly_copy, eq=False)
    domains: tuple[str, ...]
    raw_points: NDArray[np.float64] = attrs.field(converter=readonly_copy, eq=False)
    scores: NDArray[np.float64] = attrs.field(converter=readonly_copy, eq=False)
    prior: PriorFit | None
    image_size: tuple[int, int]
    path: str = "matcher"
    face_box: tuple[float, float, float, float] | None = None
    num_faces: int = 1

    @property
    def domain_of_part(self) -> dict[str, str]:
        """``{part name: domain}``."""
        return dict(zip(PARTS, self.domains, strict=True))

    def part_confidence(self) -> dict[str, float]:
        """``{part name: mean confidence of its points}`` (``PARTS`` order)."""
        c = np.asarray(self.confidence, dtype=np.float64)
        return {name: float(c[sl].mean()) for name, sl in PARTS.items()}

    def weak_parts(self, threshold: float = WEAK_PART_MARGIN) -> tuple[str, ...]:
        """Checked parts (:data:`CHECKED_PARTS`) whose mean confidence is below ``threshold``,
        weakest first; always empty on the dlib path."""
        if self.path != "matcher":
            return ()
        conf = self.part_confidence()
        weak = [p for p in CHECKED_PARTS if conf[p] < threshold]
        return tuple(sorted(weak, key=lambda p: conf[p]))

    def warning(self, threshold: float = WEAK_PART_MARGIN) -> str | None:
        """One line naming the weak parts and their confidences, or ``None`` when none is weak."""
        weak = self.weak_parts(threshold)
        if not weak:
            return None
        conf = self.part_confidence()
        parts = ", ".join(f"{p} {conf[p]:.3f}" for p in weak)
        return (
            f"low matching confidence for {parts} (below {threshold:.3f}): check these points "
            "(--plot) or pass corrected landmarks"
        )


#: Matcher settings of the still-image character path (:func:`~faceshot_landmarks.locate_and_match` when no
#: ``matcher`` is given): the :class:`MatcherConfig` defaults with a wider local search after
#: the global one (``global_radius`` 0.25 -> 0.35) and a looser prior clamp (``prior_clamp``
#: 0.15 -> 0.25). On the leave-one-style-out benchmark (``bench/matching.py``, settings
#: ``radius`` and ``clamp``, chosen by the figures pooled over the five styles) they took the
#: held-out mean from 0.067 to 0.062 to 0.060, PCK@0.10 from 0.825 to 0.845 to 0.855 and the
#: animals' mean from 0.103 to 0.100 to 0.099: the placed shape is a coarse guess and emoji
#: mouths and eyes are often wider or further apart than any shape the prior holds. The
#: held-out faces' median similarity stays >= 0.70 and face-free images' <= 0.44, either side
#: of :data:`~faceshot_landmarks._locate.MIN_FACE_SCORE`. The video path's full-frame search
#: keeps the :class:`MatcherConfig` defaults (its frame-0 no-face threshold was calibrated
#: with them: a plain box on a grey video moves from 0.50 to above its 0.50 with the wider
#: search); its anchor's crop match uses these (``VideoMatchConfig.anchor_matcher``).
CHARACTER_MATCHER = MatcherConfig(global_radius=0.35, prior_clamp=0.25)


def reference_vectors(features: Sequence[Any], points: ArrayLike) -> NDArray[np.float32]:
    """Eq. 4: per landmark, the re-normalised mean of the k normalised gallery features.

    Args:
        features: k feature-like objects (``.array`` (C, h, w), ``.image_size`` (H, W)), one
            per gallery image; C must agree.
        points: (k, 68, 2) (or (68, 2) when k == 1) float pixel landmarks of each image.

    Returns:
        (68, C) float32, each row L2-normalised.

    Raises:
        FeatureMapError: bad feature maps, channel counts differ, or k mismatch.
    """
    pts = as_points(points, "points")
    if len(features) != len(pts):
        raise FeatureMapError(
            f"`features` has {len(features)} maps but `points` has {len(pts)} shapes"
        )
    acc: NDArray[np.float32] | None = None
    for n, feat in enumerate(features):
        arr, size = check_feature_map(feat, f"features[{n}]")
        if acc is not None and arr.shape[0] != acc.shape[1]:
            raise FeatureMapError(
                f"`features[{n}]` has {arr.shape[0]} channels; expected {acc.shape[1]} like features[0]"
            )
        cells = pixels_to_cells(pts[n], size, arr.shape[1:])
        v = normalize_features(sample_features(normalize_features(arr, axis=0), cells), axis=-1)
        acc = v if acc is None else acc + v
    assert acc is not None
    return normalize_features(acc, axis=-1)


def similarity_map(references: ArrayLike, normalized: ArrayLike) -> NDArray[np.float32]:
    """Cosine similarity of each reference with every cell.

    Args:
        references: (N, C) float32 L2-normalised reference vectors.
        normalized: (C, h, w) float32 per-cell L2-normalised feature map.

    Returns:
        (N, h, w) float32 cosine similarities.
    """
    r = np.asarray(references, dtype=np.float32)
    f = np.asarray(normalized, dtype=np.float32)
    c, h, w = f.shape
    if r.ndim != 2 or r.shape[1] != c:
        raise FeatureMapError(f"`references` must have shape (N, {c}); got {r.shape}")
    return (r @ f.reshape(c, h * w)).reshape(-1, h, w)


def cosine_argmax(
    similarity: ArrayLike, *, exclusion: int = 2
) -> tuple[NDArray[np.intp], NDArray[np.float64], NDArray[np.float64]]:
    """Best cell per reference and its similarity margin.

    Args:
        similarity: (N, h, w) float cosine similarities.
        exclusion: Chebyshev radius in cells around the peak excluded from the runner-up.

    Returns:
        ``(peaks, scores, margins)``: (N, 2) intp cell (j, i) = (col, row) of the maxima,
        (N,) float64 peak similarity, (N,) float64 peak minus the best similarity outside the
        exclusion window (0 when every cell is inside it).
    """
    s = np.asarray(similarity, dtype=np.float32)
    n, h, w = s.shape
    flat = s.reshape(n, -1)
    idx = np.argmax(flat, axis=1)
    pi, pj = np.divmod(idx, w)
    scores = flat[np.arange(n), idx].astype(np.float64)
    ii, jj = np.indices((h, w))
    near = (np.abs(ii[None] - pi[:, None, None]) <= exclusion) & (
        np.abs(jj[None] - pj[:, None, None]) <= exclusion
    )
    outside = np.where(near, -np.inf, s).reshape(n, -1).max(axis=1).astype(np.float64)
    # Masked maps (constrained search) may hold -inf: no runner-up (or no peak) => margin 0.
    valid = np.isfinite(outside) & np.isfinite(scores)
    margins = np.where(valid, scores - np.where(valid, outside, 0.0), 0.0)
    return np.stack([pj, pi], axis=1).astype(np.intp), scores, margins


def refine_subpixel(
    normalized: ArrayLike,
    references: ArrayLike,
    peaks: ArrayLike,
    *,
    radius: int = 1,
    upsample: int = 4,
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Sub-cell maximum of the cosine in a small upsampled window around each peak.

    The feature field between cell centres is the bilinear interpolation ``q`` of the per-cell
    normalised features; ``cos(ref, q) = sum_k w_k (ref . f_k) / ||sum_k w_k f_k||`` is evaluated
    exactly from the four corner similarities and the six corner dot products (precomputed as
    neighbour maps), on a grid of ``2 * radius * upsample + 1`` samples per axis around each peak.
    Nothing is upsampled beyond those windows. Vectorised over all references.

    Args:
        normalized: (C, h, w) float32 per-cell L2-normalised feature map.
        references: (N, C) float32 L2-normalised reference vectors.
        peaks: (N, 2) int cell (j, i) of the coarse maxima.
        radius: window half-size in cells (0 returns the peaks unchanged).
        upsample: samples per cell.

    Returns:
        ``(cells, scores)``: (N, 2) float64 refined cell (j, i) and (N,) float64 cosine there.
    """
    f = np.asarray(normalized, dtype=np.float32)
    r = np.asarray(references, dtype=np.float32)
    return _refine(f, similarity_map(r, f), _neighbour_dots(f), peaks, radius, upsample)


def _neighbour_dots(f: NDArray[np.float32]) -> tuple[NDArray[np.float32], ...]:
    """Squared norms and the dot products of each cell with its right, lower and diagonal neighbours."""
    if f.shape[1] < 2 or f.shape[2] < 2:
        return ()
    norm2 = np.sum(f * f, axis=0)
    gx = np.sum(f[:, :, :-1] * f[:, :, 1:], axis=0)  # (h, w-1): (i,j).(i,j+1)
    gy = np.sum(f[:, :-1, :] * f[:, 1:, :], axis=0)  # (h-1, w): (i,j).(i+1,j)
    gd = np.sum(f[:, :-1, :-1] * f[:, 1:, 1:], axis=0)  # (i,j).(i+1,j+1)
    ga = np.sum(f[:, :-1, 1:] * f[:, 1:, :-1], axis=0)  # (i,j+1).(i+1,j)
    return norm2, gx, gy, gd, ga


def _refine(
    f: NDArray[np.float32],
    sim: NDArray[np.float32],
    dots: tuple[NDArray[np.float32], ...],
    peaks: ArrayLike,
    radius: int,
    upsample: int,
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    pk = np.asarray(peaks, dtype=np.float64).reshape(-1, 2)
    _, h, w = f.shape
    n = len(pk)
    pidx = pk.astype(np.intp)
    if radius <= 0 or not dots:
        return pk.copy(), sim[np.arange(n), pidx[:, 1], pidx[:, 0]].astype(np.float64)
    norm2, gx, gy, gd, ga = dots
    t = np.linspace(-radius, radius, 2 * radius * upsample + 1)
    xs = np.clip(pk[:, 0, None, None] + t[None, None, :], 0.0, w - 1.0)  # (N, 1, S)
    ys = np.clip(pk[:, 1, None, None] + t[None, :, None], 0.0, h - 1.0)  # (N, S, 1)
    xs, ys = np.broadcast_arrays(xs, ys)  # (N, S, S)
    x0 = np.minimum(np.floor(xs).astype(np.intp), w - 2)
    y0 = np.minimum(np.floor(ys).astype(np.intp), h - 2)
    ax, ay = xs - x0, ys - y0
    x1, y1 = x0 + 1, y0 + 1
    w00, w01, w10, w11 = (1 - ax) * (1 - ay), ax * (1 - ay), (1 - ax) * ay, ax * ay
    k = np.arange(n)[:, None, None]
    num = w00 * sim[k, y0, x0] + w01 * sim[k, y0, x1] + w10 * sim[k, y1, x0] + w11 * sim[k, y1, x1]
    q2 = (
        w00**2 * norm2[y0, x0]
        + w01**2 * norm2[y0, x1]
        + w10**2 * norm2[y1, x0]
        + w11**2 * norm2[y1, x1]
        + 2
        * (
            w00 * w01 * gx[y0, x0]
            + w10 * w11 * gx[y1, x0]
            + w00 * w10 * gy[y0, x0]
            + w01 * w11 * gy[y0, x1]
            + w00 * w11 * gd[y0, x0]
            + w01 * w10 * ga[y0, x0]
        )
    )
    cos = num / np.sqrt(np.maximum(q2, 1e-12))
    flat = cos.reshape(n, -1)
    best = np.argmax(flat, axis=1)
    rows = np.arange(n)
    cells = np.stack([xs.reshape(n, -1)[rows, best], ys.reshape(n, -1)[rows, best]], axis=1)
    return cells.astype(np.float64), flat[rows, best].astype(np.float64)


def shape_hypotheses(
    prior: ShapePrior,
    *,
    face_sizes: ArrayLike,
    angles_deg: ArrayLike = (0.0,),
    mode_sd: ArrayLike = (0.0,),
    modes: int = 2,
) -> NDArray[np.float64]:
    """Candidate face shapes around the origin: the prior's mean and its first ``modes``
    modes at ``mode_sd`` standard deviations (one mode at a time), each rotated by every angle
    and scaled to every face size.

    Args:
        prior: the shape model.
        face_sizes: (S,) RMS distance of the points from their centroid (any unit).
        angles_deg: (A,) in-plane rotations in degrees (image axes, +y down).
        mode_sd: (M,) coefficients in standard deviations tried on each mode (0 = the mean).
        modes: how many leading modes are varied.

    Returns:
        (K, 68, 2) float64 centred shapes, K = S * A * (1 + modes * nonzero(M)).
    """
    shapes = [prior.shape()]
    sd = np.sqrt(np.maximum(prior.variances, 0.0))
    for m in range(min(modes, prior.num_modes)):
        for c in np.asarray(mode_sd, np.float64):
            if c != 0:
                b = np.zeros(prior.num_modes)
                b[m] = c * sd[m]
                shapes.append(prior.shape(b))
    base = np.stack([s - s.mean(axis=0) for s in shapes])
    base /= np.sqrt(np.mean(np.sum(base**2, axis=2), axis=1))[:, None, None]
    out = []
    for size in np.asarray(face_sizes, np.float64):
        for a in np.deg2rad(np.asarray(angles_deg, np.float64)):
            rot = np.array([[np.cos(a), -np.sin(a)], [np.sin(a), np.cos(a)]])
            out.append(size * base @ rot.T)
    return np.concatenate(out)


def shape_search(
    evidence: ArrayLike,
    hypotheses: ArrayLike,
    *,
    weights: ArrayLike | None = None,
    stride: int = 1,
    keep: int = 8,
) -> tuple[NDArray[np.float64], float]:
    """Part structure as one search: the placed shape whose 68 points collect the most evidence.

    Every hypothesis (a centred shape in cells) is tried at every cell of the map as its
    centroid; its score is the weighted sum over landmarks of ``evidence[i]`` at the shape's
    point i (nearest cell; cells outside the map score the evidence's minimum). The two eyes
    come as a pair, the nose between the eyes and the mouth, the mouth below the nose — every
    part relation the shape model holds — so one strong false peak (a mouth corner on a
    whisker, an eye on a cheek) cannot pull a part away.

    Args:
        evidence: (68, h, w) float per-landmark scores (e.g. standardised similarities).
        hypotheses: (K, 68, 2) float centred shapes in cells (:func:`shape_hypotheses`).
        weights: (68,) non-negative landmark weights (``None``: uniform).
        stride: centroids are first tried on every ``stride``-th cell only; the ``keep`` best
            (hypothesis, centroid) pairs are then tried at every cell within ``stride - 1`` of
            their centroid (1: every cell at once, exhaustive).
        keep: placements refined when ``stride`` > 1.

    Returns:
        ``(cells, score)``: (68, 2) float64 cell (j, i) of the best placed shape and its score.
    """
    ev = np.asarray(evidence, np.float32)
    n, h, w = ev.shape
    hyp = np.rint(np.asarray(hypotheses, np.float64)).astype(np.intp)
    wt = np.ones(n, np.float32) if weights is None else np.asarray(weights, np.float32).reshape(n)
    stride = max(1, int(stride))
    pad = int(np.abs(hyp).max()) + stride + 1
    hp, wp = h + 2 * pad, w + 2 * pad
    padded = np.full((n, hp, wp), float(ev.min()), np.float32)
    padded[:, pad : pad + h, pad : pad + w] = ev
    flat1 = (padded * wt[:, None, None]).reshape(-1)
    rows = np.arange(n)[:, None] * (hp * wp)
    ii, jj = np.arange(0, h, stride), np.arange(0, w, stride)
    cells_i = np.repeat(ii, len(jj))
    cells_j = np.tile(jj, len(ii))
    base = (cells_i + pad) * wp + cells_j + pad  # (c,)
    offs = hyp[:, :, 1] * wp + hyp[:, :, 0]  # (K, 68)
    best = np.full(len(hyp), -np.inf)
    where = np.zeros(len(hyp), np.intp)
    for k in range(len(hyp)):
        score = flat1[rows + offs[k][:, None] + base[None, :]].sum(axis=0)
        c = int(np.argmax(score))
        best[k], where[k] = float(score[c]), c
    if stride == 1:
        k = int(np.argmax(best))
        ci, cj = int(cells_i[where[k]]), int(cells_j[where[k]])
        top = float(best[k])
    else:
        top, k, ci, cj = -np.inf, 0, 0, 0
        d = np.arange(-(stride - 1), stride)
        di, dj = np.repeat(d, len(d)), np.tile(d, len(d))
        for kk in np.argsort(-best, kind="stable")[:keep]:
            ni = np.clip(cells_i[where[kk]] + di, 0, h - 1)
            nj = np.clip(cells_j[where[kk]] + dj, 0, w - 1)
            score = flat1[rows + offs[kk][:, None] + ((ni + pad) * wp + nj + pad)[None, :]].sum(
                axis=0
            )
            c = int(np.argmax(score))
            if score[c] > top:
                top, k, ci, cj = float(score[c]), int(kk), int(ni[c]), int(nj[c])
    cells = np.asarray(hypotheses, np.float64)[k] + np.array([cj, ci], np.float64)
    return cells, top


def standardise(similarity: ArrayLike, floor: float = -1.0) -> NDArray[np.float32]:
    """Per-landmark z-scores of a (N, h, w) similarity stack, clipped below at ``floor``:
    comparable evidence across landmarks and styles (a style whose similarities are all low
    still has its peaks)."""
    s = np.asarray(similarity, np.float32)
    mu = s.mean(axis=(1, 2), keepdims=True)
    sd = s.std(axis=(1, 2), keepdims=True)
    out: NDArray[np.float32] = np.maximum((s - mu) / np.maximum(sd, 1e-6), floor).astype(np.float32)
    return out


def match_references(
    features: Any,
    references: ArrayLike,
    *,
    config: MatcherConfig = MatcherConfig(),
    prior: ShapePrior | None = None,
    domains: Sequence[str] = ("",) * len(PARTS),
) -> MatchResult:
    """Match 68 given reference vectors onto a target feature map (no gallery needed).

    Args:
        features: feature-like target map (``.array`` (C, h, w), ``.image_size`` (H, W)).
        references: (68, C) float L2-normalised reference vectors (Eq. 4).
        config: matcher settings.
        prior: shape prior used when ``config.use_prior`` (``None``: no regularisation).
        domains: recorded in the result, one per paper part.

    Returns:
        :class:`MatchResult` in target-image pixels.
    """
    arr, size = check_feature_map(features, "features")
    refs = normalize_features(np.asarray(references, dtype=np.float32), axis=-1)
    if refs.shape[-2:] != (NUM_POINTS, arr.shape[0]) or refs.ndim not in (2, 3):
        raise FeatureMapError(
            f"`references` must have shape (68, {arr.shape[0]}) or (M, 68, {arr.shape[0]}); got {refs.shape}"
        )
    f = normalize_features(arr, axis=0)
    if refs.ndim == 2:
        sim = similarity_map(refs, f)
    else:
        # Several prototypes per landmark: the evidence is the best of them at each cell.
        m = refs.shape[0]
        sim = (
            similarity_map(refs.reshape(-1, refs.shape[-1]), f)
            .reshape(m, NUM_POINTS, *f.shape[1:])
            .max(axis=0)
        )
    dots = _neighbour_dots(f) if config.refine_radius > 0 else ()
    peaks, scores, margins = cosine_argmax(sim, exclusion=config.exclusion)
    cells, scores = _refine(f, sim, dots, peaks, config.refine_radius, config.upsample)
    raw = cells_to_pixels(cells, size, arr.shape[1:])
    fit = None
    points = raw
    if config.use_prior and prior is not None:
        h, w = arr.shape[1:]
        start_radius = config.search_radius
        if config.global_search:
            lo, hi, num = config.face_sizes
            hyps = shape_hypotheses(
                prior,
                face_sizes=np.geomspace(lo, hi, int(num)) * max(h, w),
                angles_deg=config.angles_deg,
                mode_sd=config.mode_sd,
                modes=config.search_modes,
            )
            wts = np.concatenate(
                [
                    np.full(sl.stop - sl.start, wt)
                    for sl, wt in zip(PARTS.values(), config.part_weights, strict=True)
                ]
            )
            model_cells, _ = shape_search(
                standardise(sim, config.evidence_floor),
                hyps,
                weights=wts,
                stride=config.search_stride,
            )
            fit = prior.fit(cells_to_pixels(model_cells, size, (h, w)), iterations=1, clamp=0.0)
            start_radius = config.global_radius
        else:
            fit = prior.fit(
                raw,
                np.maximum(margins, 0.0) + 1e-3,
                iterations=config.prior_iterations,
                clamp=config.prior_clamp,
            )
        ii, jj = np.indices((h, w))
        for step in range(config.search_iterations):
            # Constrained local search: re-match each landmark near the fitted model's point.
            radius_px = start_radius * fit.scale * (0.5**step)
            centre = pixels_to_cells(fit.model, size, (h, w))
            rad = radius_px * np.array([w / size[1], h / size[0]])
            inside = ((jj[None] - centre[:, 0, None, None]) / max(rad[0], 1.0)) ** 2 + (
                (ii[None] - centre[:, 1, None, None]) / max(rad[1], 1.0)
            ) ** 2 <= 1.0
            local = np.where(inside, sim, -np.inf)
            peaks, scores, _ = cosine_argmax(local, exclusion=config.exclusion)
            cells, scores = _refine(f, sim, dots, peaks, config.refine_radius, config.upsample)
            raw = cells_to_pixels(cells, size, arr.shape[1:])
            fit = prior.fit(
                raw,
                np.maximum(margins, 0.0) + 1e-3,
                iterations=config.prior_iterations,
                clamp=config.prior_clamp,
            )
        points = fit.points
    return MatchResult(points, margins, tuple(domains), raw, scores, fit, size)


def match(features: Any, gallery: Any, *, config: MatcherConfig = MatcherConfig()) -> MatchResult:
    """Find the 68 iBUG landmarks on a target image from its dense features and a gallery.

    Args:
        features: feature-like target map: ``.array`` (C, h, w) float32, ``.image_size`` (H, W),
            ``.backbone`` and ``.config`` (checked against the gallery).
        gallery: a loaded :class:`~faceshot_landmarks.Gallery`.
        config: matcher settings.

    Returns:
        :class:`MatchResult`: ``points`` (68, 2) float64 target pixels, ``confidence`` (68,),
        ``domains`` per part.

    Raises:
        GalleryError: the gallery's backbone/config/channels differ from the features'.
        FeatureMapError: malformed features.
    """
    gallery.check_compatible(features)
    arr, _ = check_feature_map(features, "features")
    f = normalize_features(arr, axis=0)
    domains = gallery.retrieve(f)
    use_protos = config.use_prototypes and getattr(gallery, "has_prototypes", False)
    refs = gallery.prototypes_for(domains) if use_protos else gallery.references_for(domains)
    prior = gallery.shape_prior(sorted(set(domains))) if config.use_prior else None
    return match_references(features, refs, config=config, prior=prior, domains=domains)


def match_flip_consistent(
    features: Any, mirrored: Any, gallery: Any, *, config: MatcherConfig = MatcherConfig()
) -> MatchResult:
    """:func:`match` on an image and on its left-right mirror, made to agree.

    The mirror's points are mapped back (``x -> W - 1 - x``, indices swapped by
    ``faceshot_retarget.ibug68.MIRROR``) and averaged with the direct ones, each point weighted
    by its confidence (similarity margin); the shape prior is refitted to the average. A match
    that only one of the two views finds (a left eye taken for a right eye, a mouth corner on a
    whisker) is pulled towards the other view's answer, and the result is symmetric under
    mirroring the input.

    Args:
        features: feature-like map of the image (``.array`` (C, h, w), ``.image_size`` (H, W)).
        mirrored: feature-like map of the same image mirrored left-right (same size).
        gallery: a loaded :class:`~faceshot_landmarks.Gallery`.
        config: matcher settings (used for both views and the final prior fit).

    Returns:
        :class:`MatchResult` in the (unmirrored) image's pixels; ``raw_points`` and ``scores``
        are the confidence-weighted averages of the two views before the final prior fit.
    """
    a = match(features, gallery, config=config)
    b = match(mirrored, gallery, config=config)
    if tuple(b.image_size) != tuple(a.image_size):
        raise FeatureMapError(
            f"`mirrored` has image_size {b.image_size}; expected {a.image_size} like `features`"
        )
    w = a.image_size[1]

    def unmirror(p: NDArray[np.float64]) -> NDArray[np.float64]:
        q = np.asarray(p, dtype=np.float64)[MIRROR]
        return np.stack([w - 1.0 - q[:, 0], q[:, 1]], axis=1)

    ca = np.maximum(a.confidence, 0.0) + 1e-3
    cb = np.maximum(np.asarray(b.confidence)[MIRROR], 0.0) + 1e-3
    wsum = (ca + cb)[:, None]
    points = (ca[:, None] * a.points + cb[:, None] * unmirror(b.points)) / wsum
    raw = (ca[:, None] * a.raw_points + cb[:, None] * unmirror(b.raw_points)) / wsum
    confidence = 0.5 * (np.asarray(a.confidence) + np.asarray(b.confidence)[MIRROR])
    scores = 0.5 * (np.asarray(a.scores) + np.asarray(b.scores)[MIRROR])
    fit = None
    if config.use_prior:
        prior = gallery.shape_prior(sorted(set(a.domains)))
        fit = prior.fit(
            points, confidence + 1e-3, iterations=config.prior_iterations, clamp=config.prior_clamp
        )
        points = fit.points
    return MatchResult(points, confidence, a.domains, raw, scores, fit, a.image_size)


def refine_peaks(
    normalized: ArrayLike,
    similarity: ArrayLike,
    peaks: ArrayLike,
    *,
    radius: int = 1,
    upsample: int = 4,
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """:func:`refine_subpixel` for a caller that already holds the similarity map.

    Saves the (N, C) x (C, h w) product that :func:`refine_subpixel` recomputes (half its cost
    on a 32 x 32 map); used by the per-frame matching of ``match_video``.

    Args:
        normalized: (C, h, w) float32 per-cell L2-normalised feature map.
        similarity: (N, h, w) float32 :func:`similarity_map` of the references with it.
        peaks: (N, 2) int cell (j, i) of the coarse maxima.
        radius: window half-size in cells (0 returns the peaks unchanged).
        upsample: samples per cell.

    Returns:
        ``(cells, scores)``: (N, 2) float64 refined cell (j, i) and (N,) float64 cosine there.
    """
    f = np.asarray(normalized, dtype=np.float32)
    sim = np.asarray(similarity, dtype=np.float32)
    return _refine(f, sim, _neighbour_dots(f) if radius > 0 else (), peaks, radius, upsample)
