"""The control mesh of :class:`~faceshot_animate.WarpAnimator`: points, triangles, dense maps.

Control points, in working-image pixels (x, y):

* the 68 landmarks, plus *Steiner points* inserted on facial contours (eye and lip loops,
  jaw, brows, nose) until every contour segment is an edge of the triangulation
  (a conforming Delaunay triangulation). Every such point is a fixed linear combination
  of landmarks, so the whole set is ``weights @ landmarks``;
* a *ring* of anchors on the face hull scaled about its centroid, which follows the
  global similarity motion of the face (head translation/rotation/scale), so hair and
  head outline move with the face;
* *border* anchors on the image frame, fixed, so the background stays pinned.

The triangulation is built once from frame 0 (in a regularised copy of the points in
which closed eyes/mouths are opened a little, so coincident lids or lips still give a
valid topology); geometry always uses the true positions.

Per frame, :meth:`Mesh.backward_map` rasterises the *target* triangles into a coarse
triangle-index map, evaluates each pixel's target→source affine there, and returns the
coarse displacement field; positively oriented triangles only, so folds (lids closing
past each other) never tear the image: every pixel stays covered by the unfolded
neighbours.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import cv2
import numpy as np
from faceshot_retarget import ibug68
from numpy.typing import NDArray
from scipy.spatial import Delaunay

__all__ = ["Mesh", "build_mesh", "estimate_similarity"]


def _chain(part: slice) -> tuple[int, ...]:
    return tuple(range(part.start, part.stop))


#: Facial contours forced into the triangulation: (indices, closed), from the iBUG layout
#: of :mod:`faceshot_retarget.ibug68`.
_CONTOURS: tuple[tuple[tuple[int, ...], bool], ...] = (
    (_chain(ibug68.JAW), False),
    (_chain(ibug68.RIGHT_BROW), False),
    (_chain(ibug68.LEFT_BROW), False),
    (_chain(ibug68.NOSE_BRIDGE), False),
    (_chain(ibug68.NOSE_BASE), False),
    (_chain(ibug68.RIGHT_EYE), True),
    (_chain(ibug68.LEFT_EYE), True),
    (_chain(ibug68.OUTER_LIPS), True),
    (_chain(ibug68.INNER_LIPS), True),
    # mouth corners, outer to inner (the ends of the outer- and inner-lip upper chains)
    *(
        ((int(o), int(i)), False)
        for o, i in zip(
            ibug68.CHAINS["upper_outer_lip"][[0, -1]],
            ibug68.CHAINS["upper_inner_lip"][[0, -1]],
            strict=True,
        )
    ),
)

#: Landmarks whose motion defines the global (head) similarity: the four outermost jaw
#: points at each end, brows, nose, eye corners. The mouth and lids are left out so
#: expressions do not move the head.
STABLE_POINTS: NDArray[np.intp] = np.array(
    [
        *_chain(ibug68.JAW)[:4],
        *_chain(ibug68.JAW)[-4:],
        *_chain(ibug68.EYEBROWS),
        *_chain(ibug68.NOSE),
        *(int(i) for i in ibug68.CHAINS["right_upper_lid"][[0, -1]]),
        *(int(i) for i in ibug68.CHAINS["left_upper_lid"][[0, -1]]),
    ],
    dtype=np.intp,
)

#: Landmark groups whose neighbourhood gets an exact (step 1) map: eyes and mouth.
_DETAIL_PARTS = (ibug68.RIGHT_EYE, ibug68.LEFT_EYE, ibug68.MOUTH)
#: Non-rigid motion (pixels) of a detail part below which its coarse map is kept.
_DETAIL_TOLERANCE = 0.25

#: Vertical point pairs (upper, lower) of the eyes and inner lips, opened in the
#: topology copy when they (nearly) coincide.
_EYE_PAIRS = ibug68.EYE_LID_PAIRS
_LIP_PAIRS = ibug68.INNER_LIP_PAIRS


def estimate_similarity(src: NDArray[np.float64], dst: NDArray[np.float64]) -> NDArray[np.float64]:
    """Least-squares similarity (Umeyama, no reflection) mapping ``src`` onto ``dst``.

    A thin adapter over :meth:`faceshot_retarget.SimilarityTransform.from_estimate` (the
    one Umeyama fit) returning the (2, 3) matrix form the mesh composes with.

    Args:
        src: (N, 2) float64 points (x, y).
        dst: (N, 2) float64 points (x, y).

    Returns:
        (2, 3) float64 matrix ``M`` with ``dst ≈ src @ M[:, :2].T + M[:, 2]``. A pure
        translation (centroid onto centroid) when ``src`` is degenerate (all points equal).
    """
    from faceshot_retarget import DegenerateLandmarksError, SimilarityTransform

    try:
        return SimilarityTransform.from_estimate(src, dst).params
    except DegenerateLandmarksError:
        shift = np.mean(dst, axis=0) - np.mean(src, axis=0)
        return np.array([[1.0, 0.0, shift[0]], [0.0, 1.0, shift[1]]])


def _apply(m: NDArray[np.float64], pts: NDArray[np.float64]) -> NDArray[np.float64]:
    return np.asarray(pts @ m[:, :2].T + m[:, 2], dtype=np.float64)


#: (corner a, corner b, pair rows) of the eyes and the inner lips, for :func:`unfold_lids`.
_LID_GROUPS = tuple(
    (int(ibug68.CHAINS[chain][0]), int(ibug68.CHAINS[chain][-1]), pairs)
    for chain, pairs in (
        ("right_upper_lid", _EYE_PAIRS[:2]),
        ("left_upper_lid", _EYE_PAIRS[2:]),
        ("upper_inner_lip", _LIP_PAIRS),
    )
)


def _crossing(landmarks: NDArray[np.float64]) -> list[NDArray[np.float64]]:
    """Per lid group, (pairs,) signed overlap of upper over lower along the group normal."""
    out = []
    for a, b, pairs in _LID_GROUPS:
        axis = landmarks[b] - landmarks[a]
        norm = float(np.hypot(axis[0], axis[1]))
        if norm <= 1e-9:
            out.append(np.full(len(pairs), -np.inf))
            continue
        n = np.array([-axis[1], axis[0]]) / norm  # points down for a left-to-right axis
        out.append((landmarks[pairs[:, 0]] - landmarks[pairs[:, 1]]) @ n)
    return out


def unfold_lids(
    landmarks: NDArray[np.float64], reference: NDArray[np.float64] | None = None
) -> NDArray[np.float64]:
    """Close crossed eyelids and lips instead of folding the mesh over.

    For each eye (and the inner lips), an upper point that lies below its lower partner
    (measured along the normal of the corner-to-corner axis) by more than it does in
    ``reference`` (or by more than 0) is moved, with its partner, to their common mean:
    the part renders closed, with no overlapping triangles.

    Args:
        landmarks: (68, 2) float64 pixel (x, y). Not modified.
        reference: (68, 2) float64 frame-0 landmarks, or ``None``; pairs already crossed
            there are allowed to stay crossed by as much (so frame 0 is never changed).

    Returns:
        (68, 2) float64, a new array (equal to the input when nothing crosses).
    """
    out = np.array(landmarks, dtype=np.float64, copy=True)
    now = _crossing(out)
    base = (
        _crossing(reference)
        if reference is not None
        else [np.zeros(len(p)) for *_, p in _LID_GROUPS]
    )
    for (_, _, pairs), over, allowed in zip(_LID_GROUPS, now, base, strict=True):
        crossed = over > np.maximum(allowed, 0.0) + 1e-9
        if crossed.any():
            mid = 0.5 * (out[pairs[crossed, 0]] + out[pairs[crossed, 1]])
            out[pairs[crossed, 0]] = mid
            out[pairs[crossed, 1]] = mid
    return out


def _open_pairs(
    pts: NDArray[np.float64], pairs: NDArray[np.intp], width: float, frac: float
) -> None:
    """Push (upper, lower) pairs apart in place to a vertical gap of at least frac*width."""
    gap_min = frac * width
    up, lo = pts[pairs[:, 0]], pts[pairs[:, 1]]
    gap = lo[:, 1] - up[:, 1]
    need = np.maximum(gap_min - gap, 0.0) * 0.5
    pts[pairs[:, 0], 1] -= need
    pts[pairs[:, 1], 1] += need


def _topology_landmarks(lm: NDArray[np.float64]) -> NDArray[np.float64]:
    """A copy of (68, 2) landmarks with nearly closed eyes and mouth opened a little."""
    out = lm.copy()
    for (a, b, pairs), share in zip(_LID_GROUPS, (0.12, 0.12, 0.06), strict=True):
        _open_pairs(out, pairs, float(np.linalg.norm(lm[b] - lm[a])), share)
    return out


def _conforming_weights(
    topo: NDArray[np.float64], fixed: NDArray[np.float64], max_rounds: int = 6
) -> tuple[NDArray[np.float64], NDArray[np.intp]]:
    """Steiner-point weights (P, 68) and the Delaunay triangles over [weights@topo; fixed]."""
    n = topo.shape[0]
    weights = np.eye(n)
    segments: list[tuple[int, int]] = []
    for idx, closed in _CONTOURS:
        chain = list(idx) + ([idx[0]] if closed else [])
        segments.extend(itertools.pairwise(chain))
    tri = None
    for attempt in range(max_rounds + 1):
        pts = np.concatenate([weights @ topo, fixed])
        tri = Delaunay(pts).simplices
        edges = np.sort(np.concatenate([tri[:, [0, 1]], tri[:, [1, 2]], tri[:, [2, 0]]]), axis=1)
        have = {(int(a), int(b)) for a, b in edges}
        missing = [(a, b) for a, b in segments if (min(a, b), max(a, b)) not in have]
        if not missing or attempt == max_rounds:
            break  # (a segment still missing after max_rounds only costs local accuracy)
        new_rows: list[NDArray[np.float64]] = []
        new_segments: list[tuple[int, int]] = []
        keep = [s for s in segments if s not in set(missing)]
        for a, b in missing:
            m = weights.shape[0] + len(new_rows)
            new_rows.append(0.5 * (weights[a] + weights[b]))
            new_segments += [(a, m), (m, b)]
        weights = np.concatenate([weights, np.asarray(new_rows)])
        segments = keep + new_segments
        # Fixed anchors keep their indices after the landmark-derived rows.
    assert tri is not None
    pts = np.concatenate([weights @ topo, fixed])
    t = pts[tri]
    cross = (t[:, 1, 0] - t[:, 0, 0]) * (t[:, 2, 1] - t[:, 0, 1]) - (t[:, 1, 1] - t[:, 0, 1]) * (
        t[:, 2, 0] - t[:, 0, 0]
    )
    tri = np.where((cross < 0)[:, None], tri[:, [0, 2, 1]], tri)
    return weights, tri


@dataclass(frozen=True, eq=False)
class Mesh:
    """A triangulated control mesh over a working image (see the module docstring).

    Attributes:
        size: (W, H) working image size in pixels.
        weights: (P, 68) float64, landmark-derived control points = ``weights @ landmarks``.
        ring: (R, 2) float64, ring anchors at frame 0 (moved by the head similarity).
        border: (B, 2) float64, fixed border anchors.
        triangles: (K, 3) intp vertex indices into ``[weights@L; ring; border]``.
        source: (N, 2) float64, control points at frame 0 (true positions).
        reference: (68, 2) float64, frame-0 landmarks.
        step: coarse grid step in working pixels.
    """

    size: tuple[int, int]
    weights: NDArray[np.float64]
    ring: NDArray[np.float64]
    border: NDArray[np.float64]
    triangles: NDArray[np.intp]
    source: NDArray[np.float64]
    reference: NDArray[np.float64]
    step: int

    @property
    def coarse_shape(self) -> tuple[int, int]:
        """(hc, wc) of the coarse grid."""
        w, h = self.size
        return -(-h // self.step), -(-w // self.step)

    def head_pose(
        self, landmarks: NDArray[np.float64]
    ) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
        """``(unfolded landmarks (68, 2), head similarity (2, 3))`` of one frame: lids and
        lips un-crossed (:func:`unfold_lids`), and the similarity mapping the frame-0
        :data:`STABLE_POINTS` onto this frame's."""
        unfolded = unfold_lids(landmarks, self.reference)
        sim = estimate_similarity(self.reference[STABLE_POINTS], unfolded[STABLE_POINTS])
        return unfolded, sim

    def control_points(
        self,
        landmarks: NDArray[np.float64],
        pose: tuple[NDArray[np.float64], NDArray[np.float64]] | None = None,
    ) -> NDArray[np.float64]:
        """(N, 2) control points for one frame's (68, 2) working-pixel landmarks."""
        unfolded, sim = pose if pose is not None else self.head_pose(landmarks)
        return np.concatenate([self.weights @ unfolded, _apply(sim, self.ring), self.border])

    def frame_affines(
        self,
        landmarks: NDArray[np.float64],
        pose: tuple[NDArray[np.float64], NDArray[np.float64]] | None = None,
    ) -> tuple[NDArray[np.float64], NDArray[np.bool_], NDArray[np.float32]]:
        """Per-triangle target→source affines for one frame.

        Args:
            landmarks: (68, 2) float64, the frame's landmarks in working pixels.

        Returns:
            ``(targets, good, coef)``: (K, 3, 2) float64 target triangle vertices; (K,)
            bool, triangles that are not folded (positively oriented, non-degenerate);
            (6, K + 1) float32 coefficients of the displacement ``source - target``:
            ``dx = c0 x + c2 y + c4``, ``dy = c1 x + c3 y + c5``; column K is all zero
            (no displacement, for pixels no triangle covers).
        """
        dst = self.control_points(landmarks, pose)
        tri = self.triangles
        td, ts = dst[tri], self.source[tri]  # (K, 3, 2)
        e1, e2 = td[:, 1] - td[:, 0], td[:, 2] - td[:, 0]
        area2 = e1[:, 0] * e2[:, 1] - e1[:, 1] * e2[:, 0]
        # Triangles are stored with a positive cross product (in the y-down image frame)
        # in the topology; a target triangle that is flipped or flat is a fold and is left
        # out, its pixels stay covered by the unfolded neighbours.
        good = area2 > 1e-6
        a = np.concatenate([td, np.ones((len(tri), 3, 1))], axis=2)
        a[~good] = np.eye(3)
        m = np.linalg.solve(a, ts - td)  # (K, 3, 2): [x, y, 1] @ m = source - target
        coef = np.zeros((6, len(tri) + 1), dtype=np.float32)
        coef[:, :-1] = m.reshape(len(tri), 6).T
        return td, good, coef

    def sample(
        self,
        affines: tuple[NDArray[np.float64], NDArray[np.bool_], NDArray[np.float32]],
        origin: tuple[int, int],
        shape: tuple[int, int],
        step: int,
        absolute: bool = False,
    ) -> NDArray[np.float32]:
        """Evaluate the displacement (or the absolute source position) on a regular grid.

        Args:
            affines: :meth:`frame_affines` of the frame.
            origin: (x0, y0) working pixel of the grid's corner.
            shape: (h, w) grid points.
            step: grid step in working pixels; point (i, j) lies at
                ``(x0 + (j + 0.5) * step - 0.5, y0 + (i + 0.5) * step - 0.5)``, the
                centres ``cv2.resize`` assumes, so a bilinear resize by ``step`` aligns.
            absolute: return source positions (x + dx, y + dy) instead of displacements.

        Returns:
            (h, w, 2) float32 displacement (dx, dy), or source position, in working pixels.
        """
        td, good, coef = affines
        h, w = shape
        x0, y0 = origin
        k_none = coef.shape[1] - 1
        index = np.full((h, w), k_none, dtype=np.int32)
        grid_v = (td - (x0, y0) + 0.5) / step - 0.5  # triangle vertices in grid units
        lo, hi = grid_v.min(axis=1), grid_v.max(axis=1)
        hit = good & (hi[:, 0] >= -1) & (hi[:, 1] >= -1) & (lo[:, 0] <= w) & (lo[:, 1] <= h)
        fixed = np.round(grid_v * 16.0).astype(np.int32)
        for k in np.flatnonzero(hit).tolist():
            cv2.fillConvexPoly(index, fixed[k], k, cv2.LINE_8, 4)
        xs = (x0 + (np.arange(w) + 0.5) * step - 0.5).astype(np.float32)[None, :]
        ys = (y0 + (np.arange(h) + 0.5) * step - 0.5).astype(np.float32)[:, None]
        c = [np.take(coef[j], index) for j in range(6)]
        disp = np.empty((h, w, 2), dtype=np.float32)
        if absolute:
            disp[:, :, 0] = (c[0] + 1.0) * xs + c[2] * ys + c[4]
            disp[:, :, 1] = c[1] * xs + (c[3] + 1.0) * ys + c[5]
        else:
            disp[:, :, 0] = c[0] * xs + c[2] * ys + c[4]
            disp[:, :, 1] = c[1] * xs + c[3] * ys + c[5]
        return disp

    def backward_map(
        self, landmarks: NDArray[np.float64], *, absolute: bool = False
    ) -> NDArray[np.float32]:
        """Dense displacement field (output pixel → source pixel) for one frame.

        Evaluated on the coarse grid, upsampled bilinearly, then recomputed exactly (step
        1) in boxes around the eyes and mouth when they move non-rigidly (beyond the head
        similarity), where thin triangles fold and unfold and a bilinear upsample would
        blur the lid and lip lines.

        Args:
            landmarks: (68, 2) float64, the frame's landmarks in working pixels.
            absolute: return the source positions (x + dx, y + dy) (a ``cv2.remap`` map)
                instead of the displacements; saves a full-size addition.

        Returns:
            (H, W, 2) float32 displacement (dx, dy) in working pixels: output pixel (x, y)
            samples the source image at (x + dx, y + dy); or those positions.
        """
        pose = self.head_pose(landmarks)
        aff = self.frame_affines(landmarks, pose)
        w, h = self.size
        step = self.step
        coarse = self.sample(aff, (0, 0), self.coarse_shape, step, absolute)
        if step == 1:
            return coarse
        hc, wc = coarse.shape[:2]
        disp = np.asarray(
            cv2.resize(coarse, (wc * step, hc * step), interpolation=cv2.INTER_LINEAR),
            dtype=np.float32,
        )
        if absolute:
            # cv2.resize holds the outermost half-cells constant (edge replication); the
            # identity part x (resp. y) is linear, so restore it there.
            first, last_x, last_y = (
                0.5 * (step - 1),
                (wc - 0.5) * step - 0.5,
                (hc - 0.5) * step - 0.5,
            )
            for axis, n, last in ((0, wc * step, last_x), (1, hc * step, last_y)):
                pos = np.arange(n, dtype=np.float32)
                fix = pos - np.clip(pos, first, last)
                idx = np.flatnonzero(fix)
                if axis == 0:
                    disp[:, idx, 0] += fix[idx]
                else:
                    disp[idx, :, 1] += fix[idx, None]
        if disp.shape[:2] != (h, w):
            disp = np.ascontiguousarray(disp[:h, :w])
        pad = 2 * step + 2
        unfolded, sim = pose
        for part in _DETAIL_PARTS:
            pts = unfolded[part]
            # Where the part only follows the head motion the map is one similarity
            # there, which the bilinear upsample reproduces exactly: no detail needed.
            rigid = _apply(sim, self.reference[part])
            if np.abs(pts - rigid).max() < _DETAIL_TOLERANCE:
                continue
            x0, y0 = np.floor(pts.min(axis=0)).astype(int) - pad
            x1, y1 = np.ceil(pts.max(axis=0)).astype(int) + pad + 1
            x0, y0, x1, y1 = max(x0, 0), max(y0, 0), min(x1, w), min(y1, h)
            if x1 > x0 and y1 > y0:
                disp[y0:y1, x0:x1] = self.sample(aff, (x0, y0), (y1 - y0, x1 - x0), 1, absolute)
        return disp


def _hull_ring(
    lm: NDArray[np.float64], scale: float, count: int, size: tuple[int, int], margin: float
) -> NDArray[np.float64]:
    """``count`` points evenly spaced along the landmark hull scaled about its centroid,
    keeping only those inside the image by ``margin`` pixels."""
    hull = cv2.convexHull(lm.astype(np.float32)).reshape(-1, 2).astype(np.float64)
    centre = lm.mean(axis=0)
    poly = centre + scale * (hull - centre)
    closed = np.concatenate([poly, poly[:1]])
    seg = np.linalg.norm(np.diff(closed, axis=0), axis=1)
    cum = np.concatenate([[0.0], np.cumsum(seg)])
    t = np.linspace(0.0, cum[-1], count, endpoint=False)
    ring = np.stack([np.interp(t, cum, closed[:, 0]), np.interp(t, cum, closed[:, 1])], axis=1)
    w, h = size
    inside = (
        (ring[:, 0] >= margin)
        & (ring[:, 0] <= w - 1 - margin)
        & (ring[:, 1] >= margin)
        & (ring[:, 1] <= h - 1 - margin)
    )
    return ring[inside]


def _border(size: tuple[int, int], per_edge: int) -> NDArray[np.float64]:
    """Fixed anchors on a frame one pixel outside the image, ``per_edge`` per side."""
    w, h = size
    xs = np.linspace(-1.0, float(w), per_edge + 1)
    ys = np.linspace(-1.0, float(h), per_edge + 1)
    top = np.stack([xs[:-1], np.full(per_edge, -1.0)], axis=1)
    right = np.stack([np.full(per_edge, float(w)), ys[:-1]], axis=1)
    bottom = np.stack([xs[::-1][:-1], np.full(per_edge, float(h))], axis=1)
    left = np.stack([np.full(per_edge, -1.0), ys[::-1][:-1]], axis=1)
    return np.concatenate([top, right, bottom, left])


def build_mesh(
    reference: NDArray[np.float64],
    size: tuple[int, int],
    *,
    step: int = 4,
    ring_scale: float = 1.4,
    ring_points: int = 24,
    border_points: int = 4,
) -> Mesh:
    """Triangulate the control mesh of a working image from its frame-0 landmarks.

    Args:
        reference: (68, 2) float64, frame-0 landmarks in working pixels (x, y).
        size: (W, H) working image size in pixels.
        step: coarse grid step in working pixels (the dense map is a bilinear upsample).
        ring_scale: the face hull is scaled by this about the landmark centroid to place
            the ring anchors (> 1).
        ring_points: ring anchors before dropping those outside the image.
        border_points: border anchors per image side.

    Returns:
        The :class:`Mesh`.
    """
    ref = np.asarray(reference, dtype=np.float64)
    face = float(np.ptp(ref, axis=0).max())
    ring = _hull_ring(ref, ring_scale, ring_points, size, margin=2.0)
    if len(ring):
        # Drop ring anchors crowding a landmark (a face touching the image border).
        dmin = np.linalg.norm(ring[:, None] - ref[None], axis=2).min(axis=1)
        ring = ring[dmin > 0.05 * max(face, 1.0)]
    border = _border(size, border_points)
    topo = _topology_landmarks(ref)
    fixed = np.concatenate([ring, border])
    # Deterministic separation of exactly coincident landmarks, for the topology only.
    spread = max(face, 1.0) * 1e-4
    jitter = spread * np.stack([np.cos(np.arange(68) * 2.4), np.sin(np.arange(68) * 2.4)], axis=1)
    weights, triangles = _conforming_weights(topo + jitter, fixed)
    source = np.concatenate([weights @ ref, ring, border])
    return Mesh(
        size=(int(size[0]), int(size[1])),
        weights=weights,
        ring=ring,
        border=border,
        triangles=np.asarray(triangles, dtype=np.intp),
        source=source,
        reference=ref.copy(),
        step=int(step),
    )
