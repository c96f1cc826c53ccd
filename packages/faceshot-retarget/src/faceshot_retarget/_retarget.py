"""Relative landmark motion transfer (FaceShot, ICLR 2025, Sec. 3.2, Eq. 5-6).

Pipeline, all vectorised over frames and points:

1. Global frames (face boundary, jaw 0-16): origin = midpoint of points 0 and 16,
   angle = atan2 of 0 -> 16. Faces are expressed in their own global frame, in units of
   the frame-0 jaw-chord length ("face widths"), which removes rigid head motion and
   makes the character and the driver comparable.
2. Local motion (Eq. 6) per sub-chain (the 13 chains of :data:`ibug68.CHAINS`): each
   chain's origin follows the driver's chain-origin displacement clamped by
   s = min(b_tar / b_ref, 1) (:func:`boundary_clamp`), its angle follows the driver's chain
   rotation, and each point moves by the per-axis ratio of its current to its initial
   local coordinate (:func:`local_motion`), in a numerically stable form.
3. Global motion (Eq. 5, :func:`global_motion`): the character's face frame follows the
   driver's: O_tar(m) = O_tar(0) + s_t (O_ref(m) - O_ref(0)),
   theta_tar(m) = theta_tar(0) + (theta_ref(m) - theta_ref(0)).

Differences from the official code (deliberate): sub-chain scales and clamp distances
are measured in face widths (scale-invariant), rotation signs are consistent, the clamp
never divides 0 by 0, outputs stay float, and Eq. 6 is evaluated in a stable blended
form (see :func:`local_motion`) instead of special-casing zeros.
"""

from __future__ import annotations

from typing import Any, Literal

import attrs
import numpy as np
from numpy.typing import ArrayLike, NDArray

from faceshot_retarget._frames import chord_frames, rotate, wrap_angle
from faceshot_retarget._landmarks import Landmarks, as_points
from faceshot_retarget._smoothing import OneEuroConfig, one_euro_filter
from faceshot_retarget.errors import DegenerateLandmarksError, LandmarkShapeError
from faceshot_retarget.ibug68 import CHAIN_GROUP, CHAINS, JAW, NUM_POINTS, part_indices

__all__ = [
    "RetargetConfig",
    "boundary_clamp",
    "global_frame",
    "global_motion",
    "local_motion",
    "ratio_weights",
    "retarget",
]

F64 = NDArray[np.float64]

# ---------------------------------------------------------------------------------------
# Static chain tables (read-only, derived once from ibug68).
# ---------------------------------------------------------------------------------------
def _tables() -> dict[str, NDArray[Any]]:
    names = list(CHAINS)
    chain_of_entry = np.concatenate([np.full(len(CHAINS[n]), i) for i, n in enumerate(names)])
    point_of_entry = np.concatenate([CHAINS[n] for n in names])
    first = np.array([CHAINS[n][0] for n in names])
    last = np.array([CHAINS[n][-1] for n in names])
    groups = [part_indices(CHAIN_GROUP[n]) for n in names]
    gmax = max(len(g) for g in groups)
    # Pad with repeats of the first member: repeats do not change a min/max extent.
    group_pad = np.stack([np.concatenate([g, np.full(gmax - len(g), g[0])]) for g in groups])
    # Every point is in one or two chains: average the (up to) two estimates.
    entry_a = np.array([np.flatnonzero(point_of_entry == p)[0] for p in range(NUM_POINTS)])
    entry_b = np.array([np.flatnonzero(point_of_entry == p)[-1] for p in range(NUM_POINTS)])
    is_jaw = np.array([n == "jaw" for n in names])
    tables = {
        "chain_of_entry": chain_of_entry,
        "point_of_entry": point_of_entry,
        "first": first,
        "last": last,
        "group_pad": group_pad,
        "entry_a": entry_a,
        "entry_b": entry_b,
        "is_jaw": is_jaw,
        "jaw_points": np.arange(JAW.start, JAW.stop),
    }
    for v in tables.values():
        v.setflags(write=False)
    return tables


_T = _tables()


# ---------------------------------------------------------------------------------------
# Configuration
# ---------------------------------------------------------------------------------------
def _check_unit(instance: Any, attribute: Any, value: float) -> None:
    if not (np.isfinite(value) and 0.0 <= value <= 1.0):
        raise ValueError(f"`{attribute.name}` must be in [0, 1]; got {value!r}")


def _check_translation_scale(instance: Any, attribute: Any, value: Any) -> None:
    if value == "face":
        return
    if isinstance(value, bool) or not isinstance(value, int | float) or not np.isfinite(value) or value < 0:
        raise ValueError(
            f"`translation_scale` must be a non-negative number or 'face'; got {value!r}"
        )


@attrs.frozen(kw_only=True)
class RetargetConfig:
    """Options of :func:`retarget`.

    Attributes:
        translation_scale: factor s_t on the driver's global translation (Eq. 5).
            ``1.0`` (default) reproduces the driver's pixel translation exactly;
            ``"face"`` scales it by the ratio of face widths (character / driver), so a
            small character moves proportionally less than a big driver face.
        expression_scale: factor on all local (expression) motion: chain translations,
            chain rotations and point displacements (1 = the paper; < 1 tames
            exaggerated expressions, e.g. on characters with very large eyes or mouths;
            0 = head motion only).
        clamp: apply the boundary clamp s = min(b_tar / b_ref, 1) to chain translations.
        ratio_low: below this |p_0| (in units of the part size on that axis) Eq. 6's
            per-point ratio is not used (displacement form only).
        ratio_high: above this |p_0| the ratio form is used fully; smooth in between.
        size_floor: part sizes per axis are at least this fraction of the part's larger
            axis (keeps flat parts such as brows or closed eyes from blowing up gains).
        smoothing: optional One-Euro temporal filter applied to the output.
        fps: frame rate of the driving sequence (used by the One-Euro filter).
    """

    translation_scale: float | Literal["face"] = attrs.field(
        default=1.0, validator=_check_translation_scale
    )
    expression_scale: float = attrs.field(default=1.0)
    clamp: bool = True
    ratio_low: float = attrs.field(default=0.05, validator=_check_unit)
    ratio_high: float = attrs.field(default=0.20, validator=_check_unit)
    size_floor: float = attrs.field(default=0.25, validator=_check_unit)
    smoothing: OneEuroConfig | None = None
    fps: float = attrs.field(default=25.0)

    def __attrs_post_init__(self) -> None:
        if self.ratio_high <= self.ratio_low:
            raise ValueError(
                f"`ratio_high` must exceed `ratio_low`; got {self.ratio_high!r} <= {self.ratio_low!r}"
            )
        if not (np.isfinite(self.expression_scale) and self.expression_scale >= 0):
            raise ValueError(f"`expression_scale` must be a non-negative number; got {self.expression_scale!r}")
        if not (np.isfinite(self.fps) and self.fps > 0):
            raise ValueError(f"`fps` must be a positive number; got {self.fps!r}")


# ---------------------------------------------------------------------------------------
# Pure building blocks
# ---------------------------------------------------------------------------------------
def global_frame(points: F64) -> tuple[F64, F64, F64]:
    """The face-boundary frame of landmark sets (the paper's global part).

    Args:
        points: (..., 68, 2) float64 pixel (x, y).

    Returns:
        origin: (..., 2) midpoint of jaw points 0 and 16, pixels.
        angle: (...,) radians, atan2 of the chord 0 -> 16.
        width: (...,) jaw chord length |P_16 - P_0|, pixels.
    """
    origin, angle = chord_frames(points, np.array([0]), np.array([16]))
    width = np.linalg.norm(points[..., 16, :] - points[..., 0, :], axis=-1)
    return origin[..., 0, :], angle[..., 0], width


def global_motion(
    ref_origin: F64,
    ref_angle: F64,
    ref_origin0: F64,
    ref_angle0: F64 | float,
    tar_origin0: F64,
    tar_angle0: F64 | float,
    *,
    translation_scale: float = 1.0,
) -> tuple[F64, F64]:
    """Paper Eq. 5: global motion of the character's face-boundary frame.

    O_tar(m) = O_tar(0) + s_t * (O_ref(m) - O_ref(0)),
    theta_tar(m) = theta_tar(0) + wrap(theta_ref(m) - theta_ref(0)).

    Args:
        ref_origin: (T, 2) driver frame origins O_ref(m), pixels.
        ref_angle: (T,) driver frame angles theta_ref(m), radians.
        ref_origin0: (2,) driver reference origin O_ref(0) (usually ``ref_origin[0]``).
        ref_angle0: driver reference angle theta_ref(0), radians.
        tar_origin0: (2,) character frame origin at frame 0, pixels.
        tar_angle0: character frame angle at frame 0, radians.
        translation_scale: s_t (1 = the driver's pixel translation exactly).

    Returns:
        origin: (T, 2) character frame origins, pixels.
        angle: (T,) character frame angles, radians.
    """
    origin = tar_origin0 + translation_scale * (ref_origin - ref_origin0)
    angle = tar_angle0 + wrap_angle(ref_angle - ref_angle0)
    return origin, angle


def _point_polyline_distance(points: F64, polyline: F64) -> F64:
    """Distance from points (K, 2) to an open polyline (N, 2); returns (K,)."""
    a, b = polyline[:-1], polyline[1:]
    ab = b - a
    denom = np.einsum("nk,nk->n", ab, ab)
    ap = points[:, None, :] - a[None]
    t = np.divide(np.einsum("mnk,nk->mn", ap, ab), denom, out=np.zeros((len(points), len(a))), where=denom > 0)
    t = np.clip(t, 0.0, 1.0)
    closest = a[None] + t[..., None] * ab[None]
    return np.linalg.norm(points[:, None, :] - closest, axis=-1).min(axis=1)  # type: ignore[no-any-return]


def boundary_clamp(ref_origins: F64, ref_boundary: F64, tar_origins: F64, tar_boundary: F64) -> F64:
    """The chain-translation clamp s = min(b_tar / b_ref, 1) of paper Sec. 3.2.

    b is the distance from a chain's origin to the face boundary (jaw polyline 0-16),
    measured at frame 0 in face widths. s = 1 where b_ref is ~0 (no 0/0).

    Args:
        ref_origins: (K, 2) driver chain origins (normalised global frame).
        ref_boundary: (17, 2) driver jaw points (same frame).
        tar_origins: (K, 2) character chain origins.
        tar_boundary: (17, 2) character jaw points.

    Returns:
        (K,) float64 in [0, 1].
    """
    b_ref = _point_polyline_distance(ref_origins, ref_boundary)
    b_tar = _point_polyline_distance(tar_origins, tar_boundary)
    ratio = np.divide(b_tar, b_ref, out=np.ones_like(b_ref), where=b_ref > 1e-9)
    return np.clip(ratio, 0.0, 1.0)


def _smoothstep(x: F64) -> F64:
    x = np.clip(x, 0.0, 1.0)
    return x * x * (3.0 - 2.0 * x)


def ratio_weights(ref0: F64, tar0: F64, ref_size: F64, tar_size: F64, low: float, high: float) -> F64:
    """Weight of Eq. 6's ratio form per point and axis (the rest uses displacement form).

    The ratio p_m / p_0 is only well conditioned when |p_0| is large relative to the
    part; it is used fully when both the driver's and the character's initial local
    coordinate exceed ``high`` part sizes, not at all below ``low``, smoothly in between,
    and never when their signs differ (the ratio would mirror the motion).

    Args:
        ref0: (E, 2) driver initial local coordinates.
        tar0: (E, 2) character initial local coordinates.
        ref_size: (E, 2) driver part size per axis (same units, > 0).
        tar_size: (E, 2) character part size per axis (> 0).
        low, high: thresholds in part sizes, 0 <= low < high.

    Returns:
        (E, 2) float64 weights in [0, 1].
    """
    span = high - low
    w_ref = _smoothstep((np.abs(ref0) / ref_size - low) / span)
    w_tar = _smoothstep((np.abs(tar0) / tar_size - low) / span)
    same_sign = (np.sign(ref0) * np.sign(tar0)) > 0
    return w_ref * w_tar * same_sign


def local_motion(ref0: F64, ref: F64, tar0: F64, gain_ratio_weight: F64, size_ratio: F64) -> F64:
    """Paper Eq. 6 in a stable form: p'_m = p'_0 + g * (p_m - p_0), per axis.

    The paper's ratio form p'_m = (p_m / p_0) * p'_0 equals the displacement form with
    gain g = p'_0 / p_0. That gain explodes as p_0 -> 0 (points on the chord: eye corners,
    closed lids, a closed mouth), so the gain is blended with the part-size ratio
    k = size_tar / size_ref (a pure displacement transfer scaled to the character's part):
    g = w * p'_0 / p_0 + (1 - w) * k, where w = :func:`ratio_weights` vanishes (at least
    quadratically) as p_0 -> 0. The result is continuous in all inputs, finite, exact
    Eq. 6 where the ratio is well conditioned, and p'_m = p'_0 whenever p_m = p_0.

    Args:
        ref0: (E, 2) driver initial local coordinates p_0.
        ref: (T, E, 2) driver local coordinates p_m.
        tar0: (E, 2) character initial local coordinates p'_0.
        gain_ratio_weight: (E, 2) w in [0, 1].
        size_ratio: (E, 2) k > 0.

    Returns:
        (T, E, 2) character local coordinates p'_m.
    """
    ratio = np.divide(tar0, ref0, out=np.zeros_like(tar0), where=gain_ratio_weight > 0)
    gain = gain_ratio_weight * ratio + (1.0 - gain_ratio_weight) * size_ratio
    return tar0 + gain * (ref - ref0)


def _chain_sizes(points: F64, origin: F64, angle: F64, floor: float) -> F64:
    """Per-chain, per-axis size of the chain's group measured in the chain frame.

    Args:
        points: (68, 2) normalised global coordinates; origin (13, 2); angle (13,).

    Returns:
        (13, 2) extents (max - min) of the group along the chain's local axes, floored.
    """
    grp = points[_T["group_pad"]]  # (13, G, 2)
    local = rotate(grp - origin[:, None, :], -angle[:, None])
    extent = local.max(axis=1) - local.min(axis=1)
    big = extent.max(axis=1, keepdims=True)
    return np.maximum(extent, np.maximum(floor * big, 1e-6))  # type: ignore[no-any-return]


C128 = NDArray[np.complex128]


def _cplx(points: F64) -> C128:
    """(..., 2) float64 (x, y) -> (...) complex128 x + iy (a copy)."""
    return np.ascontiguousarray(points, dtype=np.float64).view(np.complex128)[..., 0]


def _real(z: C128 | np.complexfloating[Any, Any]) -> F64:
    """(...) complex128 -> (..., 2) float64 (x, y) view (no copy for contiguous input)."""
    arr = np.ascontiguousarray(z, dtype=np.complex128)
    return arr.view(np.float64).reshape(*arr.shape, 2)


def _chain_frames_c(g: C128) -> tuple[C128, C128]:
    """Chain origins (..., 13) and unit chord directions (..., 13) of complex faces (..., 68).

    A zero-length chord gets direction 1 (angle 0), as atan2(0, 0) would.
    """
    first, last = g[..., _T["first"]], g[..., _T["last"]]
    d = last - first
    mag = np.abs(d)
    u = np.divide(d, mag, out=np.ones_like(d), where=mag > 0)
    return 0.5 * (first + last), u


def _check_frames(points: F64, width: F64) -> None:
    """Raise if any frame of (T, 68, 2) is fully degenerate (all points coincide).

    ``width`` is the (T,) jaw-chord length from :func:`global_frame`; only frames where it
    is 0 need the full check.
    """
    if (width <= 0).any():
        spread = np.ptp(points, axis=-2).max(axis=-1)
        frames = np.flatnonzero(spread <= 0)
        if len(frames):
            raise DegenerateLandmarksError(
                f"`driving` frame {frames[0]} is degenerate: all 68 points coincide"
            )


def _face_scale(points: F64, name: str) -> F64:
    """Jaw width of frame(s), falling back to the point spread; raises if degenerate."""
    _, _, width = global_frame(points)
    spread = np.sqrt(((points - points.mean(axis=-2, keepdims=True)) ** 2).sum(axis=-1).mean(axis=-1))
    scale = np.where(width > 1e-6 * np.maximum(spread, 1.0), width, spread)
    if np.any(scale <= 1e-12):
        raise DegenerateLandmarksError(
            f"`{name}` is degenerate: all 68 points coincide, so no face frame can be defined"
        )
    return scale


# ---------------------------------------------------------------------------------------
# The public entry point
# ---------------------------------------------------------------------------------------
def retarget(
    driving: Landmarks | ArrayLike,
    target: Landmarks | ArrayLike,
    *,
    reference: Landmarks | ArrayLike | None = None,
    config: RetargetConfig | None = None,
    **options: Any,
) -> F64:
    """Transfer the motion of a driving landmark sequence onto a character's landmarks.

    Args:
        driving: (T, 68, 2) or (68, 2) float64, driving-video pixels (x, y), iBUG order.
        target: (68, 2) or (1, 68, 2) float64, the character's landmarks in its image's pixels.
        reference: (68, 2) driver landmarks in the pose/expression that corresponds to the
            character's ``target`` (the "neutral" driver frame); default ``driving[0]``.
        config: a :class:`RetargetConfig`; ``options`` override its fields by name
            (e.g. ``retarget(d, t, translation_scale="face")``).

    Returns:
        (T, 68, 2) float64, character-image pixels (x, y); float, never rounded, not
        clamped to the image. With ``reference = driving[0]`` frame 0 equals ``target``.

    Raises:
        LandmarkShapeError: wrong shapes, T = 0, non-numeric input, a multi-frame target.
        NonFiniteLandmarksError: NaN/inf in any input (names the frame and point).
        DegenerateLandmarksError: a face whose 68 points all coincide.
        ValueError / TypeError: unknown or invalid options.

    Convention:
        Pure: inputs are never modified. Deterministic. Vectorised over frames and points.
    """
    cfg = config if config is not None else RetargetConfig()
    if options:
        try:
            cfg = attrs.evolve(cfg, **options)
        except TypeError:
            known = [a.name for a in attrs.fields(RetargetConfig)]
            bad = sorted(set(options) - set(known))
            raise TypeError(f"unknown retarget option(s) {bad}; expected some of {known}") from None

    drv = as_points(driving, "driving")
    tar = as_points(target, "target")
    if tar.shape[0] != 1:
        raise LandmarkShapeError(f"`target` must be a single frame (68, 2); got {tar.shape[0]} frames")
    tar0 = tar[0]
    ref0 = drv[0] if reference is None else as_points(reference, "reference")
    if ref0.ndim == 3:
        if ref0.shape[0] != 1:
            raise LandmarkShapeError(
                f"`reference` must be a single frame (68, 2); got {ref0.shape[0]} frames"
            )
        ref0 = ref0[0]

    # Global frames (pixels) and scales; internally 2-D points are complex numbers, so
    # rotations are multiplications by unit complex numbers (no per-entry trigonometry).
    w_ref = float(_face_scale(ref0, "reference" if reference is not None else "driving[0]"))
    w_tar = float(_face_scale(tar0, "target"))
    o_ref, a_ref, width = global_frame(drv)
    _check_frames(drv, width)
    o_ref0, a_ref0, _ = global_frame(ref0)
    o_tar0, a_tar0, _ = global_frame(tar0)

    # Faces in their own global frame, in face widths.
    g_ref = (_cplx(drv) - _cplx(o_ref)[:, None]) * (np.exp(-1j * a_ref) / w_ref)[:, None]  # (T, 68)
    g_ref0 = (_cplx(ref0) - _cplx(o_ref0)) * (np.exp(-1j * a_ref0) / w_ref)  # (68,)
    g_tar0 = (_cplx(tar0) - _cplx(o_tar0)) * (np.exp(-1j * a_tar0) / w_tar)

    # Chain frames: origins c and unit chord directions u.
    chain = _T["chain_of_entry"]
    c_ref, u_ref = _chain_frames_c(g_ref)  # (T, 13)
    c_ref0, u_ref0 = _chain_frames_c(g_ref0)  # (13,)
    c_tar0, u_tar0 = _chain_frames_c(g_tar0)

    # Eq. 6 per entry (chain, point), in chain-local coordinates.
    pts = _T["point_of_entry"]
    q_ref = (g_ref[:, pts] - c_ref[:, chain]) * np.conj(u_ref)[:, chain]  # (T, E)
    q_ref0 = (g_ref0[pts] - c_ref0[chain]) * np.conj(u_ref0)[chain]  # (E,)
    q_tar0 = (g_tar0[pts] - c_tar0[chain]) * np.conj(u_tar0)[chain]
    size_ref = _chain_sizes(_real(g_ref0), _real(c_ref0), np.angle(u_ref0), cfg.size_floor)[chain]
    size_tar = _chain_sizes(_real(g_tar0), _real(c_tar0), np.angle(u_tar0), cfg.size_floor)[chain]
    w = ratio_weights(_real(q_ref0), _real(q_tar0), size_ref, size_tar, cfg.ratio_low, cfg.ratio_high)
    alpha = float(cfg.expression_scale)
    q_ref_scaled = _real(q_ref0 + alpha * (q_ref - q_ref0[None])) if alpha != 1.0 else _real(q_ref)
    q_tar = local_motion(_real(q_ref0), q_ref_scaled, _real(q_tar0), w, size_tar / size_ref)

    # Chain origins follow the driver's (clamped translation), chain chords its rotation.
    if cfg.clamp:
        jaw = _T["jaw_points"]
        s = boundary_clamp(_real(c_ref0), _real(g_ref0[jaw]), _real(c_tar0), _real(g_tar0[jaw]))
        s = np.where(_T["is_jaw"], 1.0, s)
    else:
        s = np.ones(len(u_ref0))
    c_tar = c_tar0 + (alpha * s) * (c_ref - c_ref0)  # (T, 13)
    turn = u_ref * np.conj(u_ref0)  # (T, 13) unit: exp(i (theta_ref(m) - theta_ref0))
    if alpha != 1.0:
        turn = np.exp(1j * alpha * np.angle(turn))
    u_tar = u_tar0 * turn  # theta_tar0 + alpha * (theta_ref(m) - theta_ref0)
    entries = c_tar[:, chain] + u_tar[:, chain] * _cplx(q_tar)  # (T, E)
    g_out = 0.5 * (entries[:, _T["entry_a"]] + entries[:, _T["entry_b"]])  # (T, 68)

    # Eq. 5: the character's global frame follows the driver's.
    t_scale = w_tar / w_ref if cfg.translation_scale == "face" else float(cfg.translation_scale)
    o_tar, a_tar = global_motion(o_ref, a_ref, o_ref0, a_ref0, o_tar0, a_tar0, translation_scale=t_scale)
    out_c = _cplx(o_tar)[:, None] + (w_tar * np.exp(1j * a_tar))[:, None] * g_out
    out = _real(out_c)  # a view of the fresh result array, no copy

    if cfg.smoothing is not None:
        out = one_euro_filter(out, fps=cfg.fps, config=cfg.smoothing)
    return out
