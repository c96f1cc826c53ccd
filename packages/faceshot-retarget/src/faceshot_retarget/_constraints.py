"""Constraints that keep a retargeted character intact: parts inside the face, face in the canvas.

Every rule is written as "a scalar u stays below a bound B" and enforced with one soft limit,
:func:`soft_upper`: identity well inside the bound, a smooth exponential compression in a
*knee* just below it, never past it. Soft limits keep the motion monotone (a mouth that
opens further still opens a little further, so driver and character stay correlated) and
continuous (no snapping).

Every rule is relative to the character's own rest shape: where the rest shape itself
breaks a rule (a matcher put a lip point outside the other lip, say) the bound is relaxed
to the rest value, and the knee never reaches past the rest value, so **the rest shape is
always a fixed point** (frame 0 of a retargeted sequence stays equal to the character).

Shapes are handled as complex numbers ``x + i y`` in the character's face frame (origin at
the jaw-chord midpoint, x along the chord 0 -> 16, +y down, unit = the rest chord length,
"face widths"); canvas work is in pixels. All functions are vectorised over frames.

Rules (:func:`constrain_parts`):
    * brows stay above the eyes (each brow point above the top of its eye's upper lid, by
      ``brow_margin``), soft;
    * lids never cross (each upper/lower pair of :data:`~faceshot_retarget.ibug68.EYE_LID_PAIRS`
      keeps a non-negative vertical gap; crossing pairs meet at their midpoint), hard: a
      blink closes completely;
    * the lips stay in order: in each of the three middle columns (upper outer, upper
      inner, lower inner, lower outer lip) the points keep that vertical order, each lip
      keeping at least half its rest thickness and the inner lips allowed to meet (a
      least-squares projection, :func:`isotonic_stack`); likewise near each corner (upper
      outer lip, inner corner, lower outer lip); the inner corners stay inside the outer
      corners;
    * the mouth stays inside the jaw: for the mouth corners and the lower outer lip (the
      points that meet the jaw first) the room along the ray from the nose base (point 33
      at rest) to the jaw line, less ``mouth_margin``, is soft-limited, and the whole mouth
      is scaled towards that point by the smallest resulting factor (so its shape and the
      lip order are kept): inside the face outline and above the chin. Then the same rule
      towards the point between the eyes, for what a ray from the nose base cannot see (a
      corner raised above it). Scaling towards the nose base first keeps a mouth held back
      by the chin from lifting its upper lip towards the nose (0.030 rather than 0.056 face
      widths on a wide-open template mouth);
    * the inner lips stay inside the outer-lip polygon (radially towards the mouth centre,
      soft; a safety net once the lips are in order).

Radial distances to a polygon use the lines of a few candidate edges per point (chosen on
the rest shape: the edge the point's ray crosses at rest and its neighbours); for a convex
outline the smallest positive ray-line distance is the exact distance to the outline.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from faceshot_retarget._landmarks import as_points
from faceshot_retarget.errors import LandmarkShapeError
from faceshot_retarget.ibug68 import (
    BROW_LID_TOPS,
    EYE_LID_PAIRS,
    EYEBROWS,
    INNER_LIP_PAIRS,
    INNER_LIPS,
    JAW,
    LIP_COLUMNS,
    LIP_SIDE_COLUMNS,
    MOUTH,
    MOUTH_CORNER_WEDGES,
    OUTER_LIP_PAIRS,
    OUTER_LIPS,
)

__all__ = ["constrain_parts", "isotonic_stack", "keep_in_canvas", "rate_limit", "soft_upper"]

F64 = NDArray[np.float64]
C128 = NDArray[np.complex128]


def _range(part: slice) -> NDArray[np.intp]:
    out = np.arange(part.start, part.stop)
    out.setflags(write=False)
    return out


_MOUTH = _range(MOUTH)
_OUTER = _range(OUTER_LIPS)
_INNER = _range(INNER_LIPS)
_JAW = _range(JAW)
_BROWS = _range(EYEBROWS)
_PAIRS = np.concatenate([EYE_LID_PAIRS, INNER_LIP_PAIRS, OUTER_LIP_PAIRS])
_PAIRS.setflags(write=False)
#: The mouth points that meet the jaw first: the corners and the lower outer lip (the other
#: mouth points lie inside the outer lips, which are kept in order).
_MOUTH_HULL = np.concatenate([MOUTH_CORNER_WEDGES[:, 0], np.arange(55, 60)])
_MOUTH_HULL.setflags(write=False)


def soft_upper(u: ArrayLike, bound: ArrayLike, knee: ArrayLike) -> F64:
    """Soft upper limit: ``u`` below ``bound - knee``, compressed smoothly into ``bound`` above.

    ``f(u) = u`` for ``u <= b - k`` and ``f(u) = b - k exp(-(u - (b - k)) / k)`` above: C1,
    strictly increasing, and ``f(u) < b`` always. ``k = 0`` is the hard limit ``min(u, b)``.
    Broadcasts; lower limits are ``-soft_upper(-u, -bound, knee)``.

    Args:
        u: values (any unit).
        bound: the limit, same unit (``inf`` = no limit).
        knee: width of the compression zone, >= 0, same unit.

    Returns:
        float64 array of the broadcast shape.

    Examples:
        >>> soft_upper([0.0, 1.0, 10.0], 2.0, 1.0).round(3).tolist()
        [0.0, 1.0, 2.0]
    """
    u_ = np.asarray(u, dtype=np.float64)
    b = np.asarray(bound, dtype=np.float64)
    k = np.asarray(knee, dtype=np.float64)
    over = u_ - (b - k)
    with np.errstate(over="ignore", invalid="ignore"):
        soft = b - k * np.exp(-np.maximum(over, 0.0) / np.where(k > 0, k, 1.0))
    limited = np.where(k > 0, soft, b)
    out: F64 = np.where(over > 0, limited, u_)
    return out


def _rest_limits(u0: F64, bound0: F64, knee: float) -> tuple[F64, F64]:
    """Relaxation and knee that make the rest value ``u0`` a fixed point of the limit.

    Returns ``(relax, k)``: the bound at time t is ``bound(t) + relax`` and the knee ``k``
    (``relax = max(u0 - bound0, 0)``; ``k = clip(bound0 - u0, 0, knee)``).
    """
    slack = bound0 - u0
    relax = np.where(np.isfinite(slack), np.maximum(-slack, 0.0), 0.0)
    k = np.where(np.isfinite(slack), np.clip(slack, 0.0, knee), knee)
    return relax, k


def _cross(a: Any, b: Any) -> Any:
    """z-component of the 2-D cross product of complex numbers (broadcasts)."""
    return a.real * b.imag - a.imag * b.real


def _ray_line(centre: Any, point: Any, a: Any, b: Any) -> Any:
    """Ray parameter s > 0 where ``centre + s (point - centre)`` meets line a-b (else inf).

    s is the ratio (distance to the line along the ray) / |point - centre|.
    """
    d = point - centre
    e = b - a
    den = _cross(d, e)
    num = _cross(a - centre, e)
    with np.errstate(divide="ignore", invalid="ignore"):
        s = num / den
    return np.where(np.isfinite(s) & (s > 0), s, np.inf)


def _first_hits(centre: complex, points: C128, vertices: C128, closed: bool) -> NDArray[np.intp]:
    """Index of the polygon edge each ray centre -> point crosses first (rest shape, exact).

    Edges are ``vertices[j] -> vertices[j + 1]`` (and the closing edge when ``closed``).
    Points whose ray crosses no edge get the edge nearest to them.
    """
    a = vertices if closed else vertices[:-1]
    b = np.roll(vertices, -1) if closed else vertices[1:]
    d = points[:, None] - centre
    e = (b - a)[None]
    den = _cross(d, e)
    with np.errstate(divide="ignore", invalid="ignore"):
        s = _cross(a[None] - centre, e) / den
        t = _cross(a[None] - centre, d) / den
    ok = np.isfinite(s) & (s > 0) & (t >= 0) & (t <= 1)
    s_ok = np.where(ok, s, np.inf)
    first = np.argmin(s_ok, axis=1)
    # fallback: nearest edge (distance from point to segment)
    ab = b - a
    den2 = np.maximum((ab * ab.conj()).real, 1e-300)
    tt = np.clip(((points[:, None] - a[None]) * ab.conj()[None]).real / den2[None], 0.0, 1.0)
    dist = np.abs(points[:, None] - (a[None] + tt * ab[None]))
    nearest = np.argmin(dist, axis=1)
    hits: NDArray[np.intp] = np.where(ok.any(axis=1), first, nearest).astype(np.intp)
    return hits


class _RadialRule:
    """Keep ``points`` inside a polygon, radially towards a centre (precomputed on the rest shape)."""

    def __init__(
        self,
        rest: C128,
        points: NDArray[np.intp],
        polygon: NDArray[np.intp],
        closed: bool,
        centre: complex | None,
        margin: float,
        knee: float,
        window: int,
        uniform: NDArray[np.intp] | None = None,
    ) -> None:
        self.uniform = uniform is not None
        self.group = points if uniform is None else uniform
        self.points = points
        self.polygon = polygon
        self.closed = closed
        self.fixed_centre = centre
        self.margin = margin
        verts = rest[polygon]
        c0 = centre if centre is not None else complex(verts.mean())
        n_edges = len(polygon) if closed else len(polygon) - 1
        self.n_edges = n_edges
        hit = _first_hits(c0, rest[points], verts, closed)
        offsets = np.arange(-window, window + 1)
        cand = hit[:, None] + offsets[None]
        self.cand = (
            np.mod(cand, n_edges) if closed else np.clip(cand, 0, n_edges - 1)
        )  # (P, C) edges
        r0, big_r0 = self._radii(rest[None], np.asarray([c0]))
        self.relax, self.knee = _rest_limits(r0[0], big_r0[0] - margin, knee)
        self.start = self.relax - self.knee - margin  # soft zone starts at R + start

    def _centres(self, g: C128) -> C128:
        if self.fixed_centre is not None:
            return np.full(len(g), self.fixed_centre, dtype=np.complex128)
        return g[:, self.polygon].mean(axis=1)  # type: ignore[no-any-return]

    def _radii(self, g: C128, centre: C128) -> tuple[F64, F64]:
        """Distances r (T, P) of the points from the centre and R (T, P) of the outline."""
        verts = g[:, self.polygon]  # (T, V)
        a = verts[:, : self.n_edges]
        e = (np.roll(verts, -1, axis=1) if self.closed else verts[:, 1:])[:, : self.n_edges] - a
        c = centre[:, None]
        num = (np.conj(a - c) * e).imag  # (T, E) cross(a - c, e)
        d = g[:, self.points] - c  # (T, P)
        den = (np.conj(d)[:, :, None] * e[:, self.cand]).imag  # (T, P, C) cross(d, e)
        with np.errstate(divide="ignore", invalid="ignore"):
            s = num[:, self.cand] / den
        s = np.where(s > 0, s, np.inf).min(axis=-1)  # nan and negatives out
        r = np.abs(d)
        return r, s * r

    def apply(self, g: C128) -> None:
        """Enforce in place on (T, 68) complex shapes."""
        centre = self._centres(g)
        r, big_r = self._radii(g, centre)
        zone = r > big_r + self.start
        if not zone.any():
            return
        new_r = soft_upper(r, big_r - self.margin + self.relax, self.knee)
        c = centre[:, None]
        with np.errstate(divide="ignore", invalid="ignore"):
            factor = np.where(zone & (r > 0), new_r / r, 1.0)
        factor = np.where(np.isfinite(factor), factor, 1.0)
        if self.uniform:  # one scale for the whole group: its layout is kept
            factor = factor.min(axis=1, keepdims=True)
            g[:, self.group] = c + (g[:, self.group] - c) * factor
            return
        g[:, self.points] = c + (g[:, self.points] - c) * factor


def isotonic_stack(y: F64, floors: F64) -> F64:
    """Least-squares projection of stacked coordinates onto ``y[k+1] - y[k] >= floors[k]``.

    Subtracting the cumulative floors turns the gaps into a non-decreasing sequence, whose
    least-squares fit is the isotonic regression ``max_{j<=i} min_{k>=i} mean(z[j..k])``
    (evaluated in closed form: stacks are short).

    Args:
        y: (..., n) float64 coordinates, top to bottom.
        floors: (..., n - 1) minimum gaps (broadcast against ``y``'s leading dimensions).

    Returns:
        (..., n) float64.
    """
    n = y.shape[-1]
    f = np.asarray(floors, dtype=np.float64)
    shift = np.concatenate([np.zeros((*f.shape[:-1], 1)), np.cumsum(f, axis=-1)], axis=-1)
    z = y - shift
    csum = np.concatenate([np.zeros((*z.shape[:-1], 1)), np.cumsum(z, axis=-1)], axis=-1)
    fit = np.empty_like(z)
    for i in range(n):
        best = np.full(z.shape[:-1], -np.inf)
        for j in range(i + 1):
            worst = np.full(z.shape[:-1], np.inf)
            for k in range(i, n):
                worst = np.minimum(worst, (csum[..., k + 1] - csum[..., j]) / (k + 1 - j))
            best = np.maximum(best, worst)
        fit[..., i] = best
    out: F64 = fit + shift
    return out


_LIP_STACKS, _SIDE_STACKS, _WEDGES = LIP_COLUMNS, LIP_SIDE_COLUMNS, MOUTH_CORNER_WEDGES
#: Mouth corners, left to right in the face frame: (outer, inner) and (inner, outer).
_CORNERS = np.stack([MOUTH_CORNER_WEDGES[:, [0, 3]][0], MOUTH_CORNER_WEDGES[:, [3, 0]][1]])
_CORNERS.setflags(write=False)


def _floors(rest_gaps: F64, keep: float) -> F64:
    """Minimum gaps: ``keep`` of a positive rest gap, the rest gap itself if it is negative."""
    out: F64 = np.where(rest_gaps > 0, keep * rest_gaps, rest_gaps)
    return out


class PartConstraints:
    """The part rules of :func:`constrain_parts`, precomputed for one character rest shape.

    Args:
        rest: (68,) complex rest shape in the face frame (face widths).
        mouth_margin: clearance of the mouth from the jaw line, face widths.
        brow_margin: clearance of each brow point above its eye's upper lid, face widths.
        knee: soft-limit knee of the brow and mouth rules, face widths.
        lip_knee: soft-limit knee of the inner-lip rule, face widths.
        lip_keep: lips keep at least this share of their rest thickness (and the inner
            corners of their rest distance from the outer corners) when squeezed.
    """

    def __init__(
        self,
        rest: C128,
        *,
        mouth_margin: float,
        brow_margin: float,
        knee: float,
        lip_knee: float,
        lip_keep: float = 0.5,
    ) -> None:
        self.rest = rest
        eyes_mid = 0.5 * (rest[36:42].mean() + rest[42:48].mean())
        # The mouth is scaled towards the nose base, so a mouth held back by the chin keeps
        # its upper lip where it is rather than lifting it towards the eyes; the same rule
        # towards the point between the eyes then catches what a ray from the nose base
        # cannot see (a mouth corner raised above the nose base).
        self.mouth_in_face = tuple(
            _RadialRule(
                rest,
                _MOUTH_HULL,
                _JAW,
                False,
                complex(centre),
                mouth_margin,
                knee,
                window=2,
                uniform=_MOUTH,
            )
            for centre in (rest[33], eyes_mid)
        )
        self.inner_in_outer = _RadialRule(rest, _INNER, _OUTER, True, None, 0.0, lip_knee, window=1)
        top0 = rest[BROW_LID_TOPS].imag.min(axis=1)
        self.brow_margin = brow_margin
        self.brow_relax, self.brow_knee = _rest_limits(rest[_BROWS].imag, top0 - brow_margin, knee)
        gap0 = rest[_PAIRS[:, 1]].imag - rest[_PAIRS[:, 0]].imag
        self.pair_floor = np.minimum(gap0, 0.0)
        stack0 = np.diff(rest[_LIP_STACKS].imag, axis=-1)  # (3, 3) rest gaps per column
        self.stack_floor = _floors(stack0, lip_keep)
        self.stack_floor[:, 1] = np.minimum(stack0[:, 1], 0.0)  # inner lips may meet
        self.side_floor = _floors(np.diff(rest[_SIDE_STACKS].imag, axis=-1), lip_keep)
        self.corner_floor = _floors(np.diff(rest[_CORNERS].real, axis=-1)[:, 0], lip_keep)
        d0, convex = self._wedge_distances(rest[None])
        self.wedge_floor = np.minimum(d0[0], 0.0)  # (2, 2): inside both edges, as at rest
        self.wedge_on = convex[0]  # (2,) corners whose outer angle is convex at rest

    @staticmethod
    def _wedge_distances(g: C128) -> tuple[F64, NDArray[np.bool_]]:
        """Signed distances (T, 2, 2) of each inner corner from the two outer-lip edges at its
        outer corner (positive inside), and (T, 2) whether that corner is convex."""
        c, a, b, p = (g[:, _WEDGES[:, i]] for i in range(4))
        turn = _cross(a - c, b - c)
        side = np.where(turn >= 0, 1.0, -1.0)
        ea, eb = a - c, b - c
        na = np.where(np.abs(ea) > 0, np.abs(ea), 1.0)
        nb = np.where(np.abs(eb) > 0, np.abs(eb), 1.0)
        da = side * _cross(ea, p - c) / na  # inside of edge c->a is where b lies
        db = -side * _cross(eb, p - c) / nb
        return np.stack([da, db], axis=-1), np.abs(turn) > 0

    def apply(self, g: C128) -> C128:
        """The constrained copy of (T, 68) complex shapes."""
        out = np.array(g, dtype=np.complex128, copy=True)
        self.apply_inplace(out)
        return out

    def apply_inplace(self, out: C128) -> None:
        """Constrain (T, 68) complex shapes in place."""
        n_lids = len(EYE_LID_PAIRS)
        self._pairs(out, slice(0, n_lids))  # lids first: the brow rule measures the eye top
        # brows above the eyes
        top = out[:, BROW_LID_TOPS].imag.min(axis=2)
        y = out[:, _BROWS].imag
        bound = top - self.brow_margin + self.brow_relax
        if np.any(y > bound - self.brow_knee):
            new_y = soft_upper(y, bound, self.brow_knee)
            out[:, _BROWS] += 1j * (new_y - y)
        # lips in order (outer, inner, inner, outer lip in each column; corners inside),
        # then the whole mouth inside the jaw (a uniform scale keeps that order)
        self._lips(out)
        for rule in self.mouth_in_face:
            rule.apply(out)
        self.inner_in_outer.apply(out)
        self._pairs(out, slice(n_lids, n_lids + len(INNER_LIP_PAIRS)))

    def _lips(self, out: C128) -> None:
        for stacks, floor in ((_LIP_STACKS, self.stack_floor), (_SIDE_STACKS, self.side_floor)):
            y = out[:, stacks].imag  # (T, columns, points)
            if np.any(np.diff(y, axis=-1) < floor):
                out[:, stacks] += 1j * (isotonic_stack(y, floor) - y)
        x = out[:, _CORNERS].real  # (T, 2, 2)
        deficit = np.maximum(self.corner_floor - (x[..., 1] - x[..., 0]), 0.0)
        if deficit.any():
            out[:, _CORNERS[:, 0]] -= 0.5 * deficit
            out[:, _CORNERS[:, 1]] += 0.5 * deficit
        # inner corners inside the wedge of the two outer-lip edges at the outer corner
        for _ in range(2):  # alternating projections onto the two half-planes
            d, _convex = self._wedge_distances(out)
            short = np.maximum(self.wedge_floor - d, 0.0) * self.wedge_on[:, None]  # (T, 2, 2)
            if not short.any():
                break
            c, a, b = (out[:, _WEDGES[:, i]] for i in range(3))
            inward_a = (b - c) - (a - c) * ((b - c) * np.conj(a - c)).real / np.maximum(
                np.abs(a - c) ** 2, 1e-300
            )
            inward_b = (a - c) - (b - c) * ((a - c) * np.conj(b - c)).real / np.maximum(
                np.abs(b - c) ** 2, 1e-300
            )
            ua = inward_a / np.where(np.abs(inward_a) > 0, np.abs(inward_a), 1.0)
            ub = inward_b / np.where(np.abs(inward_b) > 0, np.abs(inward_b), 1.0)
            out[:, _WEDGES[:, 3]] += short[..., 0] * ua + short[..., 1] * ub

    def _pairs(self, out: C128, which: slice) -> None:
        """No crossing (upper, lower) pairs: a hard limit, so a blink closes completely."""
        up, lo = _PAIRS[which, 0], _PAIRS[which, 1]
        gap = out[:, lo].imag - out[:, up].imag
        deficit = np.maximum(self.pair_floor[which] - gap, 0.0)
        if deficit.any():
            out[:, up] -= 0.5j * deficit
            out[:, lo] += 0.5j * deficit


def _face_frame(z: C128) -> tuple[C128, C128]:
    """Origin (...,) and complex scale-rotation (...,) of the jaw chord of (..., 68) shapes."""
    origin = 0.5 * (z[..., 0] + z[..., 16])
    chord = z[..., 16] - z[..., 0]
    chord = np.where(np.abs(chord) > 0, chord, 1.0)
    return origin, chord


def _as_complex(points: F64) -> C128:
    return np.ascontiguousarray(points, dtype=np.float64).view(np.complex128)[..., 0]


def _as_real(z: C128) -> F64:
    arr = np.ascontiguousarray(z, dtype=np.complex128)
    return arr.view(np.float64).reshape(*arr.shape, 2)


def constrain_parts(
    points: ArrayLike,
    rest: ArrayLike,
    *,
    mouth_margin: float = 0.02,
    brow_margin: float = 0.02,
    knee: float = 0.05,
    lip_knee: float = 0.01,
) -> F64:
    """Keep the parts of a character's landmark frames intact (see the module docs).

    Each frame is expressed in its own face frame (jaw chord 0 -> 16 along +x, unit length),
    constrained, and mapped back, so the rules are invariant to position, rotation and scale.

    Args:
        points: (T, 68, 2) or (68, 2) float64 pixel (x, y), the character's frames.
        rest: (68, 2) float64 pixel (x, y), the character's rest landmarks (a fixed point).
        mouth_margin: clearance of the mouth from the jaw line, face widths.
        brow_margin: clearance of the brows above the upper lids, face widths.
        knee: soft-limit knee of the brow and mouth rules, face widths.
        lip_knee: soft-limit knee of the inner-lip rule, face widths.

    Returns:
        (T, 68, 2) float64, a new array.

    Raises:
        LandmarkShapeError: wrong shapes.
    """
    pts = as_points(points, "points")
    ref = as_points(rest, "rest")
    if ref.shape[0] != 1:
        raise LandmarkShapeError(
            f"`rest` must be a single frame (68, 2); got {ref.shape[0]} frames"
        )
    z, z0 = _as_complex(pts), _as_complex(ref)[0]
    o0, c0 = _face_frame(z0)
    o, c = _face_frame(z)
    rules = PartConstraints(
        (z0 - o0) / c0,
        mouth_margin=mouth_margin,
        brow_margin=brow_margin,
        knee=knee,
        lip_knee=lip_knee,
    )
    g = rules.apply((z - o[:, None]) / c[:, None])
    return _as_real(o[:, None] + c[:, None] * g)


# ---------------------------------------------------------------------------------------
# Canvas
# ---------------------------------------------------------------------------------------
def _lower(u: F64, bound: F64 | float, relax: F64 | float, knee: F64 | float) -> F64:
    """Soft lower limit (mirror of :func:`soft_upper`)."""
    return -soft_upper(-u, -(np.asarray(bound) - relax), knee)


def _boxes(shapes: C128) -> F64:
    """(T, 4) boxes ``(x_min, x_max, y_min, y_max)`` of (T, N) complex shapes."""
    return np.stack(
        [
            shapes.real.min(axis=1),
            shapes.real.max(axis=1),
            shapes.imag.min(axis=1),
            shapes.imag.max(axis=1),
        ],
        axis=1,
    )


def _union_boxes(a: F64, b: F64) -> F64:
    """The box holding both boxes ``a`` and ``b`` ((..., 4) ``(x_min, x_max, y_min, y_max)``)."""
    lower = np.array([True, False, True, False])  # the columns that are minima
    out: F64 = np.where(lower, np.minimum(a, b), np.maximum(a, b))
    return out


def _fit_boxes(
    origin: C128,
    boxes: F64,
    rest_origin: complex,
    rest_box: F64,
    canvas_size: tuple[int, int],
    *,
    margin: float,
    knee: float,
) -> tuple[C128, F64]:
    """Translation (and, for oversized faces, scale) that keeps face boxes inside a canvas.

    Frame t's box is ``origin[t] + boxes[t]`` (``boxes``: (T, 4) ``(x_min, x_max, y_min,
    y_max)`` relative to the origins, pixels). It is kept within ``[margin, W - 1 - margin] x
    [margin, H - 1 - margin]``: a box wider or taller than that is first scaled down about
    its origin (never below the rest box's size), then the translation is soft-limited per
    side with ``knee`` pixels (:func:`soft_upper`). The rest placement (``rest_origin +
    rest_box``, (4,)) is a fixed point.

    Returns:
        origin: (T,) complex new origins; factor: (T,) scale factors in (0, 1] on the boxes.
    """
    h, w = canvas_size
    eps = 1e-6  # pixels: keep clear of float round-off at the edges
    xlo, xhi, ylo, yhi = boxes.T
    rx0, rx1, ry0, ry1 = (float(v) for v in rest_box)
    avail_x = max(w - 1 - 2 * (margin + eps), rx1 - rx0)
    avail_y = max(h - 1 - 2 * (margin + eps), ry1 - ry0)
    with np.errstate(divide="ignore", invalid="ignore"):
        fx = np.where(xhi - xlo > avail_x, avail_x / (xhi - xlo), 1.0)
        fy = np.where(yhi - ylo > avail_y, avail_y / (yhi - ylo), 1.0)
    factor = np.minimum(fx, fy)
    xlo, xhi, ylo, yhi = xlo * factor, xhi * factor, ylo * factor, yhi * factor

    def axis(
        pos: F64, lo: F64, hi: F64, rest_pos: float, rest_lo: float, rest_hi: float, size: int
    ) -> F64:
        low_bound, high_bound = margin, size - 1 - margin
        relax_lo, k_lo = _rest_limits(
            np.asarray(-(rest_pos + rest_lo)), np.asarray(-low_bound), knee
        )
        relax_hi, k_hi = _rest_limits(np.asarray(rest_pos + rest_hi), np.asarray(high_bound), knee)
        left, right = pos + lo, pos + hi
        new_left = _lower(left, low_bound, relax_lo, k_lo)
        new_right = soft_upper(right, high_bound + relax_hi, k_hi)
        moved = pos + (new_left - left) + (new_right - right)
        # Where both soft zones act at once (a box almost as large as the canvas) their
        # shifts can overshoot: a final hard limit keeps the box inside.
        first, last = (low_bound - relax_lo + eps) - lo, (high_bound + relax_hi - eps) - hi
        placed: F64 = np.where(
            first <= last, np.clip(moved, first, np.maximum(first, last)), 0.5 * (first + last)
        )
        return placed

    x = axis(origin.real, xlo, xhi, rest_origin.real, rx0, rx1, w)
    y = axis(origin.imag, ylo, yhi, rest_origin.imag, ry0, ry1, h)
    return x + 1j * y, factor


def limit_push(placed: C128, pushed: C128, cap: F64 | float, knee: F64 | float) -> C128:
    """Move from ``placed`` towards ``pushed`` by at most ``cap`` pixels (soft limit).

    The canvas rule places the head twice: by its rigid face box (``placed``) and by the
    box of the posed face, expression included (``pushed``). The expression may push the
    head by ``|pushed - placed|`` up to about ``cap``, compressed smoothly beyond
    ``cap - knee`` (:func:`soft_upper`), so an extreme expression (a jaw dropped by half a
    face width against the canvas edge) no longer lifts the whole head by as much. The
    result lies on the segment between the two placements, so whatever convex condition
    both satisfy (the rigid box inside the canvas) holds for it too.

    Args:
        placed: (T,) complex origins of the rigid placement, pixels.
        pushed: (T,) complex origins of the posed placement, pixels.
        cap: largest push, pixels (scalar or (T,)).
        knee: soft-limit knee, pixels (scalar or (T,)).

    Returns:
        (T,) complex origins, pixels.

    Examples:
        >>> limit_push(np.array([0j, 0j]), np.array([3 + 4j, 1j]), 2.0, 0.0).round(6).tolist()
        [(1.2+1.6j), 1j]
    """
    push = pushed - placed
    size = np.abs(push)
    kept = soft_upper(size, cap, knee)
    with np.errstate(divide="ignore", invalid="ignore"):
        share = np.where(size > 0.0, kept / size, 1.0)
    out: C128 = placed + np.minimum(share, 1.0) * push
    return out


def expression_share(
    origin: C128,
    rigid: C128,
    expression: C128,
    canvas_size: tuple[int, int],
    *,
    margin: float = 0.0,
) -> F64:
    """Largest share in [0, 1] of each frame's expression that keeps its points on the canvas.

    Frame t's points are ``origin[t] + rigid[t] + a[t] * expression[t]`` (pixels): the rest
    shape moved with the head, plus a share of the expression. ``a = 1`` where the whole
    expression fits inside ``[margin, W - 1 - margin] x [margin, H - 1 - margin]``; else the
    largest share that does (the bounds widened to the rigid points where those already lie
    beyond them, so ``a = 0`` always fits). Scaling the whole expression by one share keeps
    it a blend of two shapes that both satisfy the part rules, so none is broken.

    Args:
        origin: (T,) complex pixels.
        rigid: (T, N) complex pixels relative to ``origin``.
        expression: (T, N) complex pixels, the posed shape minus ``rigid``.
        canvas_size: (H, W) pixels.
        margin: pixels kept from the canvas edge.

    Returns:
        (T,) float64 shares in [0, 1].

    Examples:
        >>> expression_share(
        ...     np.array([5 + 5j]), np.array([[0j]]), np.array([[10j]]), (11, 11)
        ... ).round(6).tolist()
        [0.5]
    """
    h, w = canvas_size
    base = origin[:, None] + rigid
    share = np.ones(len(origin))
    for pos, d, size in ((base.real, expression.real, w), (base.imag, expression.imag, h)):
        lo, hi = _frame_bounds(pos.min(axis=1), pos.max(axis=1), size, margin)
        with np.errstate(divide="ignore", invalid="ignore"):
            limit = np.where(d > 0, (hi - pos) / d, np.where(d < 0, (lo - pos) / d, np.inf))
        share = np.minimum(share, limit.min(axis=1))
    out: F64 = np.clip(share, 0.0, 1.0)
    return out


def fit_canvas(
    origin: C128,
    rigid: C128,
    posed: C128,
    rest_origin: complex,
    rest_offsets: C128,
    canvas_size: tuple[int, int],
    *,
    margin: float,
    knee: float,
    push: float,
    outline: slice | None = None,
    extent: C128 | None = None,
    rest_extent: C128 | None = None,
) -> tuple[C128, C128, F64]:
    """Place frames in a canvas: the head by its rigid box, the expression pushing it a little.

    1. The rigid face (the rest shape moved with the head, ``rigid``) is placed by
       :func:`_fit_boxes` (soft translation limit; scaled down only when larger than the
       canvas), and so is the union of rigid and posed points.
    2. The expression may push the head from the first placement towards the second by
       about ``push`` pixels (:func:`limit_push`, knee half of it).
    3. What still leaves the canvas is taken from the expression as a whole
       (:func:`expression_share`), measured on the points other than ``outline``; the
       ``outline`` points (the jaw) are clipped to the canvas one by one instead, so a chin
       already at the canvas edge (a character filling its image) does not stop the mouth
       from opening.

    So a jaw dropped by half a face width against the canvas edge no longer lifts the whole
    head by as much (a flat character drawn with a rigid outline would jump), while small
    expressions near the edge move the head exactly as a box of all points would.

    Args:
        origin: (T,) complex pixels.
        rigid: (T, N) complex pixels relative to ``origin``.
        posed: (T, N) complex pixels relative to ``origin``, expression included.
        rest_origin: the rest placement's origin (a fixed point), complex pixels.
        rest_offsets: (N,) the rest shape relative to ``rest_origin``, complex pixels.
        canvas_size: (H, W) pixels.
        margin: pixels kept from the canvas edge.
        knee: soft-limit knee of the translation, pixels.
        push: largest push of the head by the expression, pixels (0: none).
        outline: points clipped to the canvas one by one rather than limiting the share
            (``None``: none).
        extent: (T, K) complex pixels relative to ``origin``: what is drawn of the
            character beyond its landmarks (horns, ears, hair: e.g. its silhouette box's
            corners) moved rigidly with the head. The head is placed so that these stay in
            the canvas too (steps 1 and 2) on each side where they have room at rest (a
            side already on the canvas edge is left to the landmarks); the expression rule
            (step 3) looks at the landmarks only. ``None``: the landmarks alone.
        rest_extent: (K,) the same points at rest, relative to ``rest_origin`` (needed
            with ``extent``).

    Returns:
        origin: (T,) complex; offsets: (T, N) complex relative to it; factor: (T,) scale
        applied to the head (1 unless the face was larger than the canvas).
    """
    rest_box = _boxes(rest_offsets[None])[0]
    rigid_box, posed_box = _boxes(rigid), _boxes(posed)
    head_box = rigid_box
    if extent is not None and rest_extent is not None:
        # Only the sides where the rest extent has room: where it already reaches the canvas
        # edge (a character filling its image) it would pin the head, and the expression
        # with it, for no gain (that side touches the edge from frame 0 on).
        h, w = canvas_size
        ext_rest = _boxes(rest_extent[None])[0]
        at = np.array([rest_origin.real, rest_origin.real, rest_origin.imag, rest_origin.imag])
        pos = at + ext_rest
        far = np.array([w, w, h, h]) - 1.0 - margin
        room = np.array(
            [
                pos[0] > margin + 1.0,
                pos[1] < far[1] - 1.0,
                pos[2] > margin + 1.0,
                pos[3] < far[3] - 1.0,
            ]
        )
        rest_box = np.where(room, _union_boxes(rest_box, ext_rest), rest_box)
        head_box = np.where(room, _union_boxes(rigid_box, _boxes(extent)), rigid_box)
    placed, factor = _fit_boxes(
        origin, head_box, rest_origin, rest_box, canvas_size, margin=margin, knee=knee
    )
    if np.any(factor < 1.0):
        rigid = rigid * factor[:, None]
        posed = posed * factor[:, None]
        rigid_box = rigid_box * factor[:, None]
        posed_box = posed_box * factor[:, None]
        head_box = head_box * factor[:, None]
    both_box = _union_boxes(head_box, posed_box)
    pushed, _ = _fit_boxes(
        origin, both_box, rest_origin, rest_box, canvas_size, margin=margin, knee=knee
    )
    cap = push * factor
    new_origin = limit_push(placed, pushed, cap, 0.5 * cap)
    # Frames whose posed points all lie inside the canvas (the bounds widened to the rigid
    # points, as below) keep their whole expression: only the others are scaled and clipped.
    h, w = canvas_size
    out_of = np.zeros(len(origin), dtype=bool)
    for at, col, size in ((new_origin.real, 0, w), (new_origin.imag, 2, h)):
        lo, hi = _frame_bounds(rigid_box[:, col] + at, rigid_box[:, col + 1] + at, size, margin)
        out_of |= (posed_box[:, col] + at < lo[:, 0]) | (posed_box[:, col + 1] + at > hi[:, 0])
    offsets = posed.copy()
    rows = np.flatnonzero(out_of)
    if rows.size:
        o, r = new_origin[rows], rigid[rows]
        expression = posed[rows] - r
        inner = np.ones(rigid.shape[1], dtype=bool)
        if outline is not None:
            inner[outline] = False
        share = expression_share(o, r[:, inner], expression[:, inner], canvas_size, margin=margin)
        fitted = r + share[:, None] * expression
        if outline is not None:
            fitted[:, outline] = _clip_to_canvas(o, fitted[:, outline], r, canvas_size, margin)
        offsets[rows] = fitted
    return new_origin, offsets, factor


def _clip_to_canvas(
    origin: C128, offsets: C128, rigid: C128, canvas_size: tuple[int, int], margin: float
) -> C128:
    """Offsets (T, K) clipped so ``origin + offsets`` lies in the canvas less ``margin``,
    the bounds widened to each frame's rigid points where those lie beyond them."""
    h, w = canvas_size
    base = origin[:, None] + rigid
    pos = origin[:, None] + offsets
    axes = []
    for p, b, size in ((pos.real, base.real, w), (pos.imag, base.imag, h)):
        lo, hi = _frame_bounds(b.min(axis=1), b.max(axis=1), size, margin)
        axes.append(np.clip(p, lo, hi))
    out: C128 = axes[0] + 1j * axes[1] - origin[:, None]
    return out


def _frame_bounds(low: F64, high: F64, size: int, margin: float) -> tuple[F64, F64]:
    """(T, 1) lower and upper bounds along one axis: ``[margin, size - 1 - margin]`` widened
    to each frame's rigid extent ``low``/``high`` (T,) where it already lies beyond that."""
    eps = 1e-6  # pixels: keep clear of float round-off at the edges
    lo = np.minimum(margin + eps, low)[:, None]
    hi = np.maximum(size - 1 - margin - eps, high)[:, None]
    return lo, hi


def keep_in_canvas(
    points: ArrayLike,
    rest: ArrayLike,
    canvas_size: tuple[int, int],
    *,
    margin: float = 0.0,
    knee: float = 0.15,
    push: float = 0.1,
    extent: ArrayLike | None = None,
) -> F64:
    """Keep each frame's face inside a canvas by a soft translation limit (pixels).

    The rule of ``retarget(..., canvas_size=...)`` (:func:`fit_canvas`) on landmark frames:
    each frame's head is the rest shape moved by the frame's jaw-chord similarity, and its
    expression is the rest of the frame's shape.

    Args:
        points: (T, 68, 2) or (68, 2) float64 pixel (x, y).
        rest: (68, 2) the character's rest landmarks (left unchanged if it is one of the frames).
        canvas_size: (H, W) pixels.
        margin: pixels kept between the face box and the canvas edge.
        knee: soft-limit knee in rest face widths (jaw chord).
        push: how far an expression may push the head from the edge, rest face widths.
        extent: (K, 2) pixel (x, y) points of the rest character beyond its landmarks that
            move rigidly with the head and must stay in the canvas too (the corners of its
            silhouette's box: horns, ears, hair), on the sides where they have room at rest.
            ``None``: the landmarks alone.

    Returns:
        (T, 68, 2) float64, a new array: each frame translated (and scaled about its
        jaw-chord midpoint only when its box is larger than the canvas), its expression
        scaled down where it would still leave the canvas, its jaw clipped to it.
    """
    pts = as_points(points, "points")
    ref = as_points(rest, "rest")[0]
    _check_canvas(canvas_size)
    z, z0 = _as_complex(pts), _as_complex(ref)
    o, c = _face_frame(z)
    o0, c0 = _face_frame(z0)
    width = float(np.abs(c0))
    rigid = (c / c0)[:, None] * (z0 - o0)[None]
    ext = None if extent is None else check_extent(extent) - o0
    new_o, offsets, _ = fit_canvas(
        o,
        rigid,
        z - o[:, None],
        complex(o0),
        z0 - o0,
        canvas_size,
        margin=margin,
        knee=knee * width,
        push=push * width,
        outline=JAW,
        extent=None if ext is None else (c / c0)[:, None] * ext[None],
        rest_extent=ext,
    )
    return _as_real(new_o[:, None] + offsets)


def check_extent(extent: ArrayLike) -> C128:
    """Validate a canvas ``extent``: (K, 2) finite real pixel points (x, y), K >= 1.

    Returns:
        (K,) complex128 ``x + iy``, a new array.

    Raises:
        ValueError: another shape, non-numbers, NaN or inf (the message names ``extent``).
    """
    try:
        arr = np.array(extent, dtype=np.float64, copy=True)
    except (TypeError, ValueError):
        raise ValueError(
            f"`extent` must be (K, 2) real pixel points (x, y); got {type(extent).__name__}"
        ) from None
    if arr.ndim != 2 or arr.shape[1] != 2 or arr.shape[0] < 1:
        raise ValueError(f"`extent` must be (K, 2) pixel points (x, y), K >= 1; got {arr.shape}")
    if not np.isfinite(arr).all():
        k = int(np.flatnonzero(~np.isfinite(arr).all(axis=1))[0])
        raise ValueError(f"`extent` point {k} is not finite: {arr[k].tolist()}")
    out: C128 = arr[:, 0] + 1j * arr[:, 1]
    return out


def _check_canvas(canvas_size: Any) -> tuple[int, int]:
    try:
        h, w = (int(v) for v in canvas_size)
        ok = len(tuple(canvas_size)) == 2 and h > 0 and w > 0
    except (TypeError, ValueError):
        ok = False
    if not ok:
        raise ValueError(f"`canvas_size` must be (H, W) with positive ints; got {canvas_size!r}")
    return h, w


# ---------------------------------------------------------------------------------------
# Rate limit
# ---------------------------------------------------------------------------------------
def rate_limit_c(z: C128, allowed: F64) -> C128:
    """Complex form of :func:`rate_limit` on (T, N) points; returns ``z`` itself when untouched."""
    if len(z) < 2:
        return z
    step = np.abs(np.diff(z, axis=0)).max(axis=1)
    limit = allowed[1:] * (1.0 + 1e-9) + 1e-9
    bad = np.flatnonzero(step > limit) + 1
    if bad.size == 0:
        return z
    out = z.copy()
    i, t, n = 0, int(bad[0]), len(z)
    while t < n:
        d = z[t] - out[t - 1]
        m = float(np.abs(d).max())
        if m > allowed[t] * (1.0 + 1e-9) + 1e-9:
            out[t] = out[t - 1] + d * (allowed[t] / m)
            t += 1
            continue
        out[t] = z[t]  # caught up: skip to the next frame whose own step is too large
        while i < bad.size and bad[i] <= t:
            i += 1
        if i == bad.size:
            break
        t = int(bad[i])
    return out


def rate_limit(points: ArrayLike, allowed: ArrayLike) -> F64:
    """Limit the per-frame motion of a landmark sequence, catching up smoothly.

    Frame t may move at most ``allowed[t]`` pixels (the largest displacement of any point
    from the output frame t - 1). A frame that would move more is replaced by the blend
    ``out[t-1] + (x[t] - out[t-1]) * allowed[t] / step`` (the whole shape moves together,
    so shapes stay blends of valid shapes); later frames catch up at the same rate. Frames
    that already respect the limit are returned unchanged, so the cost is one vectorised
    pass plus a loop over the limited frames only.

    Args:
        points: (T, 68, 2) float64 pixel (x, y).
        allowed: (T,) float64 pixels per frame (entry 0 is unused), >= 0.

    Returns:
        (T, 68, 2) float64, a new array.
    """
    pts = as_points(points, "points")
    lim = np.asarray(allowed, dtype=np.float64)
    if lim.shape != (len(pts),) or not np.all(lim >= 0):
        raise ValueError(
            f"`allowed` must be {len(pts)} non-negative numbers; got shape {lim.shape}"
        )
    return _as_real(rate_limit_c(_as_complex(pts), lim))
