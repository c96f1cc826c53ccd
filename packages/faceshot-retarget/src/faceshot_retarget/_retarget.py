"""Relative landmark motion transfer (FaceShot, ICLR 2025, Sec. 3.2, Eq. 5-6), kept intact.

Two modes (:attr:`RetargetConfig.mode`):

``"paper"`` -- Eq. 5-6 as published (the raw path), all vectorised over frames and points:

1. Global frames (face boundary, jaw 0-16): origin = midpoint of points 0 and 16,
   angle = atan2 of 0 -> 16. Faces are expressed in their own global frame, in units of
   the reference jaw-chord length ("face widths"), which removes rigid head motion and
   makes the character and the driver comparable.
2. Local motion (Eq. 6) per sub-chain (the 13 chains of :data:`ibug68.CHAINS`): each
   chain's origin follows the driver's chain-origin displacement clamped by
   s = min(b_tar / b_ref, 1) (:func:`boundary_clamp`), its angle follows the driver's chain
   rotation, and each point moves by the per-axis ratio of its current to its initial
   local coordinate (:func:`local_motion`), in a numerically stable form.
3. Global motion (Eq. 5, :func:`global_motion`): the character's face frame follows the
   driver's: O_tar(m) = O_tar(0) + s_t (O_ref(m) - O_ref(0)),
   theta_tar(m) = theta_tar(0) + (theta_ref(m) - theta_ref(0)).

``"constrained"`` (default) -- the same equations made safe for real driving videos:

* **Zoom-free expression.** Each driving frame is normalised by its own size (RMS radius of
  the expression-stable points, :data:`ibug68.STABLE_POINTS`), not by the reference width:
  a driver leaning in no longer makes every feature "move outwards". The driver's relative
  size becomes an explicit head scale, soft-limited to :attr:`RetargetConfig.scale_range`.
* **Amplitude in the character's own range.** Eq. 6's per-point ratio p'_0 / p_0 is kept
  for the eyelids only (a closed driver eye closes the character's eye exactly); the mouth,
  brows, nose and jaw move by the driver's displacement (in driver face widths) times the
  character/driver part-size ratio, capped to ``[1 / max_expression_gain,
  max_expression_gain]``. The per-point ratio is what gave the gain-of-4 failure (a nearly
  closed driver mouth at the reference and an open character smile).
* **Parts stay inside the face** (:class:`~faceshot_retarget._constraints.PartConstraints`):
  brows above eyes, mouth inside the jaw and above the chin, inner lips inside outer lips,
  lids and lips never cross. Soft limits, so motion near a limit is compressed, not frozen.
* **Shots and absences.** ``cuts`` split the driving sequence into shots; each shot's
  driver neutral is estimated robustly (:func:`neutral_reference`), and at each cut the
  character carries on from its current pose and expression and cross-fades (smoothstep
  over ``reanchor_frames``) into the new shot's mapping: no jump, no drift. Frames where the
  driving person is absent (``visible`` all False) hold the pose, then ease to the rest
  pose; when the person returns, the character eases back in the same way.
* **Canvas.** With ``canvas_size`` the face box is kept inside the canvas by a soft limit on
  the head translation (and a scale-down only for a face larger than the canvas). The head
  is placed by its rigid face box; an expression may push it by about ``canvas_push`` face
  widths, and beyond that is scaled down as a whole, except the jaw outline, which is
  clipped to the canvas point by point (a wide-open jaw against the canvas edge no longer
  lifts the whole head, and a chin on the edge does not stop the mouth).
* **Rate limit.** A frame may move at most the driver's own (pose + normalised expression)
  motion plus ``max_step`` face widths; faster moves are spread over the next frames.

The first frame equals the character by default in both modes, and pure rigid motion of
the driver is reproduced exactly (rotation, translation, and scale inside
``scale_range``) where the canvas allows.

Differences from the official code (deliberate, both modes): sub-chain scales and clamp
distances are measured in face widths (scale-invariant), rotation signs are consistent, the
clamp never divides 0 by 0, outputs stay float, and Eq. 6 is evaluated in a stable blended
form (see :func:`local_motion`) instead of special-casing zeros.
"""

from __future__ import annotations

import itertools
from typing import Any, Literal

import attrs
import numpy as np
from numpy.typing import ArrayLike, NDArray

from faceshot_retarget._constraints import (
    PartConstraints,
    check_extent,
    fit_canvas,
    rate_limit_c,
    soft_upper,
)
from faceshot_retarget._constraints import _check_canvas as check_canvas
from faceshot_retarget._frames import chord_frames, rotate, wrap_angle
from faceshot_retarget._landmarks import Landmarks, as_points, as_visible
from faceshot_retarget._motion import (
    face_pose,
    median_pose,
    neutral_shape,
    normalise,
    shot_bounds,
    smoothstep,
)
from faceshot_retarget._smoothing import OneEuroConfig, one_euro_filter
from faceshot_retarget.errors import DegenerateLandmarksError, LandmarkShapeError
from faceshot_retarget.ibug68 import (
    CHAIN_GROUP,
    CHAINS,
    EYEBROWS,
    EYES,
    JAW,
    MOUTH,
    NUM_POINTS,
    part_indices,
)

__all__ = [
    "MOTION_REGIONS",
    "RetargetConfig",
    "boundary_clamp",
    "global_frame",
    "global_motion",
    "local_motion",
    "ratio_weights",
    "retarget",
]

F64 = NDArray[np.float64]

#: Frames processed together by the per-frame stages (keeps temporaries in cache).
_CHUNK = 1024

#: ``motion`` regions -> the points whose expression moves (``None``: all 68). "pose" moves
#: the head only; every other region keeps the head still.
MOTION_REGIONS: dict[str, tuple[int, ...] | None] = {
    "all": None,
    "expression": None,
    "pose": (),
    "eyes": (*range(EYEBROWS.start, EYEBROWS.stop), *range(EYES.start, EYES.stop)),
    "lips": (*range(JAW.start, JAW.stop), *range(MOUTH.start, MOUTH.stop)),
}


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
    is_lid = np.array(["lid" in n for n in names])
    tables = {
        "chain_of_entry": chain_of_entry,
        "point_of_entry": point_of_entry,
        "first": first,
        "last": last,
        "group_pad": group_pad,
        "entry_a": entry_a,
        "entry_b": entry_b,
        "is_jaw": is_jaw,
        "lid_entry": is_lid[chain_of_entry][:, None],
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


def _check_non_negative(instance: Any, attribute: Any, value: Any) -> None:
    if (
        isinstance(value, bool)
        or not isinstance(value, int | float)
        or not (np.isfinite(value) and value >= 0)
    ):
        raise ValueError(f"`{attribute.name}` must be a non-negative number; got {value!r}")


def _check_frames_count(instance: Any, attribute: Any, value: Any) -> None:
    if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < 0:
        raise ValueError(
            f"`{attribute.name}` must be a non-negative integer (frames); got {value!r}"
        )


def _check_choice(choices: tuple[str, ...]) -> Any:
    def check(instance: Any, attribute: Any, value: Any) -> None:
        if value not in choices:
            raise ValueError(f"`{attribute.name}` must be one of {list(choices)}; got {value!r}")

    return check


def _check_translation_scale(instance: Any, attribute: Any, value: Any) -> None:
    if value == "face":
        return
    if (
        isinstance(value, bool)
        or not isinstance(value, int | float)
        or not np.isfinite(value)
        or value < 0
    ):
        raise ValueError(
            f"`translation_scale` must be a non-negative number or 'face'; got {value!r}"
        )


def _check_scale_range(instance: Any, attribute: Any, value: Any) -> None:
    try:
        lo, hi = (float(v) for v in value)
    except (TypeError, ValueError):
        raise ValueError(f"`scale_range` must be a (low, high) pair; got {value!r}") from None
    if not (np.isfinite(lo) and np.isfinite(hi) and 0 < lo <= 1.0 <= hi):
        raise ValueError(f"`scale_range` must satisfy 0 < low <= 1 <= high; got {value!r}")


def _to_pair(value: Any) -> Any:
    try:
        return tuple(float(v) for v in value)
    except (TypeError, ValueError):
        return value  # the validator names the problem


@attrs.frozen(kw_only=True)
class RetargetConfig:
    """Options of :func:`retarget`.

    Attributes:
        mode: ``"constrained"`` (default): Eq. 5-6 with the safeguards listed in the module
            docs (zoom-free expression, bounded scale and amplitude, parts kept inside the
            face, shots re-anchored, absences held, canvas and rate limits). ``"paper"``:
            the raw Eq. 5-6 (today's faceshot <= 0.1 behaviour, for comparison); it ignores
            ``cuts``, ``canvas_size``, the ``visible`` mask and every option below
            ``smoothing``/``fps`` except ``motion``.
        motion: which motion is transferred: ``"all"`` (default), ``"expression"`` (face
            parts only, the head stays still), ``"pose"`` (head only, the face keeps its
            rest expression), ``"eyes"`` (lids and brows only, head still) or ``"lips"``
            (mouth and jaw only, head still).
        translation_scale: factor s_t on the driver's global translation (Eq. 5).
            ``1.0`` (default) reproduces the driver's pixel translation exactly;
            ``"face"`` scales it by the ratio of face widths (character / driver), so a
            small character moves proportionally less than a big driver face.
        expression_scale: factor on all local (expression) motion: chain translations,
            chain rotations and point displacements (1 = the paper; < 1 tames
            exaggerated expressions; 0 = head motion only).
        clamp: apply the boundary clamp s = min(b_tar / b_ref, 1) to chain translations.
        ratio_low: below this |p_0| (in units of the part size on that axis) Eq. 6's
            per-point ratio is not used (displacement form only).
        ratio_high: above this |p_0| the ratio form is used fully; smooth in between.
        size_floor: part sizes per axis are at least this fraction of the part's larger
            axis (keeps flat parts such as brows or closed eyes from blowing up gains).
        smoothing: optional One-Euro temporal filter (``beta`` in 1 / pixel). In
            ``"constrained"`` mode it filters the head pose and the face shape before the
            constraints (so they still hold exactly); in ``"paper"`` mode the output.
        fps: frame rate of the driving sequence (used by the One-Euro filter).
        max_expression_gain: cap g >= 1 on the character/driver part-size ratio that scales
            mouth, brow, nose and jaw motion: a character whose mouth is 3x larger relative
            to its face moves its mouth at most 1.5x as far (in face widths) as the driver,
            then the part constraints fit it into the character's own room. Default 1.5.
        scale_range: (low, high) range of the character's head scale relative to its
            image, following the driver's relative size (a driver zooming in 2x makes the
            character at most 1.25x larger). Default (0.8, 1.25).
        scale_knee: soft-limit knee of ``scale_range``, in log-scale units. Default 0.1.
        part_constraints: enforce the part rules (brows above eyes, mouth inside the jaw,
            inner lips inside outer lips, no crossing lids or lips). Default True.
        mouth_margin: clearance of the mouth from the jaw line, face widths. Default 0.02.
        brow_margin: clearance of the brows above the upper lids, face widths. Default 0.02.
        constraint_knee: soft-limit knee of the brow and mouth rules, face widths: motion
            is compressed over this last stretch before a limit. Default 0.05.
        lip_knee: soft-limit knee of the inner-lip rule, face widths. Default 0.01.
        canvas_margin: pixels kept between the face box and the canvas edge. Default 0.
        canvas_knee: soft-limit knee of the canvas rule, in character face widths: the
            head slows down over this distance before the canvas edge. Default 0.15.
        canvas_push: how far an expression may push the head away from the canvas edge,
            in character face widths (soft limit, knee half of it). The head is placed by
            its rigid face box; an expression that would still leave the canvas (a jaw
            dropped against the bottom edge) pushes the head by up to about this much and
            is scaled down beyond (the jaw outline is clipped to the canvas instead). 0: expressions never move the head; large (10): the
            head is placed by the box of all 68 posed points. Default 0.1.
        rate_limit: limit per-frame motion: in a frame, no point of the character may
            move more than the larger of (a) the move the driver's head motion alone
            implies (so rigid motion is never slowed) and (b) ``max(max_step, step_gain *
            driver_step)`` character face widths, where ``driver_step`` is the largest
            move of a driver point in that frame, in driver face widths. Faster moves
            (an amplified expression, a long ease) are spread over the next frames; where
            the driver itself jumps, so may the character. Default True.
        max_step: face widths per frame, see ``rate_limit``. Default 0.05.
        step_gain: see ``rate_limit``. Default 1.0.
        reanchor_frames: frames over which the character eases from its pose at a cut (or
            a return after an absence, or, at the start, its rest shape) into the new
            mapping. Default 12 (about half a second).
        absence_hold_frames: frames an absent driver's last pose is held before easing to
            the rest pose. Default 12.
        absence_ease_frames: frames of that ease to the rest pose. Default 25.
        neutral_quantile: share of a shot's most-closed-mouth frames its neutral
            expression is estimated from (:func:`neutral_reference`). Default 0.3.
        neutral_min_frames: shots with fewer visible frames use their first frame as the
            neutral. Default 10.
    """

    mode: Literal["constrained", "paper"] = attrs.field(
        default="constrained", validator=_check_choice(("constrained", "paper"))
    )
    motion: Literal["all", "expression", "pose", "eyes", "lips"] = attrs.field(
        default="all", validator=_check_choice(tuple(MOTION_REGIONS))
    )
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
    max_expression_gain: float = attrs.field(default=1.5, validator=_check_non_negative)
    scale_range: tuple[float, float] = attrs.field(
        default=(0.8, 1.25), converter=_to_pair, validator=_check_scale_range
    )
    scale_knee: float = attrs.field(default=0.1, validator=_check_non_negative)
    part_constraints: bool = True
    mouth_margin: float = attrs.field(default=0.02, validator=_check_non_negative)
    brow_margin: float = attrs.field(default=0.02, validator=_check_non_negative)
    constraint_knee: float = attrs.field(default=0.05, validator=_check_non_negative)
    lip_knee: float = attrs.field(default=0.01, validator=_check_non_negative)
    canvas_margin: float = attrs.field(default=0.0, validator=_check_non_negative)
    canvas_knee: float = attrs.field(default=0.15, validator=_check_non_negative)
    canvas_push: float = attrs.field(default=0.1, validator=_check_non_negative)
    rate_limit: bool = True
    max_step: float = attrs.field(default=0.05, validator=_check_non_negative)
    step_gain: float = attrs.field(default=1.0, validator=_check_non_negative)
    reanchor_frames: int = attrs.field(default=12, validator=_check_frames_count)
    absence_hold_frames: int = attrs.field(default=12, validator=_check_frames_count)
    absence_ease_frames: int = attrs.field(default=25, validator=_check_frames_count)
    neutral_quantile: float = attrs.field(default=0.3)
    neutral_min_frames: int = attrs.field(default=10, validator=_check_frames_count)

    def __attrs_post_init__(self) -> None:
        if self.ratio_high <= self.ratio_low:
            raise ValueError(
                f"`ratio_high` must exceed `ratio_low`; got {self.ratio_high!r} <= {self.ratio_low!r}"
            )
        if not (np.isfinite(self.expression_scale) and self.expression_scale >= 0):
            raise ValueError(
                f"`expression_scale` must be a non-negative number; got {self.expression_scale!r}"
            )
        if not (np.isfinite(self.fps) and self.fps > 0):
            raise ValueError(f"`fps` must be a positive number; got {self.fps!r}")
        if self.max_expression_gain < 1.0:
            raise ValueError(
                f"`max_expression_gain` must be >= 1; got {self.max_expression_gain!r}"
            )
        if not (0.0 < self.neutral_quantile <= 1.0):
            raise ValueError(f"`neutral_quantile` must be in (0, 1]; got {self.neutral_quantile!r}")


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
    t = np.divide(
        np.einsum("mnk,nk->mn", ap, ab), denom, out=np.zeros((len(points), len(a))), where=denom > 0
    )
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


def ratio_weights(
    ref0: F64, tar0: F64, ref_size: F64, tar_size: F64, low: float, high: float
) -> F64:
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
    spread = np.sqrt(
        ((points - points.mean(axis=-2, keepdims=True)) ** 2).sum(axis=-1).mean(axis=-1)
    )
    scale = np.where(width > 1e-6 * np.maximum(spread, 1.0), width, spread)
    if np.any(scale <= 1e-12):
        raise DegenerateLandmarksError(
            f"`{name}` is degenerate: all 68 points coincide, so no face frame can be defined"
        )
    return scale


# ---------------------------------------------------------------------------------------
# Local motion of a whole sequence (Eq. 6 per chain)
# ---------------------------------------------------------------------------------------
class _LocalPlan:
    """Eq. 6 for every chain, prepared for one (driver reference, character) pair.

    Calling the plan on driver faces (T, 68) (complex, driver global frame, face widths)
    returns the character's faces (T, 68) in its own global frame (face widths).

    Args:
        g_ref0: (68,) the driver's reference face, same frame and unit.
        g_tar0: (68,) the character's rest face in its global frame, face widths.
        constrained: lids keep Eq. 6's stable ratio form; every other chain moves by the
            displacement times the part-size ratio capped to [1/g, g], g =
            ``cfg.max_expression_gain``.
    """

    def __init__(
        self, g_ref0: C128, g_tar0: C128, cfg: RetargetConfig, *, constrained: bool
    ) -> None:
        chain = _T["chain_of_entry"]
        pts = _T["point_of_entry"]
        self.c_ref0, self.u_ref0 = _chain_frames_c(g_ref0)  # (13,)
        c_tar0, self.u_tar0 = _chain_frames_c(g_tar0)
        self.q_ref0 = (g_ref0[pts] - self.c_ref0[chain]) * np.conj(self.u_ref0)[chain]  # (E,)
        q_tar0 = (g_tar0[pts] - c_tar0[chain]) * np.conj(self.u_tar0)[chain]
        size_ref = _chain_sizes(
            _real(g_ref0), _real(self.c_ref0), np.angle(self.u_ref0), cfg.size_floor
        )[chain]
        size_tar = _chain_sizes(
            _real(g_tar0), _real(c_tar0), np.angle(self.u_tar0), cfg.size_floor
        )[chain]
        w = ratio_weights(
            _real(self.q_ref0), _real(q_tar0), size_ref, size_tar, cfg.ratio_low, cfg.ratio_high
        )
        k = size_tar / size_ref
        if constrained:
            g = cfg.max_expression_gain
            w = np.where(_T["lid_entry"], w, 0.0)
            k = np.where(_T["lid_entry"], k, np.clip(k, 1.0 / g, g))
        self.w, self.k, self.q_tar0 = w, k, q_tar0
        self.alpha = float(cfg.expression_scale)
        # Chain origins follow the driver's (clamped translation), chain chords its rotation.
        if cfg.clamp:
            jaw = _T["jaw_points"]
            s = boundary_clamp(
                _real(self.c_ref0), _real(g_ref0[jaw]), _real(c_tar0), _real(g_tar0[jaw])
            )
            s = np.where(_T["is_jaw"], 1.0, s)
        else:
            s = np.ones(len(self.u_ref0))
        self.c_tar0, self.s = c_tar0, s

    def __call__(self, g_ref: C128) -> C128:
        chain = _T["chain_of_entry"]
        pts = _T["point_of_entry"]
        c_ref, u_ref = _chain_frames_c(g_ref)  # (T, 13)
        # Eq. 6 per entry (chain, point), in chain-local coordinates.
        q_ref = (g_ref[:, pts] - c_ref[:, chain]) * np.conj(u_ref)[:, chain]  # (T, E)
        alpha, q_ref0 = self.alpha, self.q_ref0
        q_ref_scaled = (
            _real(q_ref0 + alpha * (q_ref - q_ref0[None])) if alpha != 1.0 else _real(q_ref)
        )
        q_tar = local_motion(_real(q_ref0), q_ref_scaled, _real(self.q_tar0), self.w, self.k)
        c_tar = self.c_tar0 + (alpha * self.s) * (c_ref - self.c_ref0)  # (T, 13)
        turn = u_ref * np.conj(self.u_ref0)  # (T, 13) unit: exp(i (theta_ref(m) - theta_ref0))
        if alpha != 1.0:
            turn = np.exp(1j * alpha * np.angle(turn))
        u_tar = self.u_tar0 * turn  # theta_tar0 + alpha * (theta_ref(m) - theta_ref0)
        entries = c_tar[:, chain] + u_tar[:, chain] * _cplx(q_tar)  # (T, E)
        out: C128 = 0.5 * (entries[:, _T["entry_a"]] + entries[:, _T["entry_b"]])
        return out


def _region_mask(motion: str) -> NDArray[np.bool_] | None:
    """(68,) bool of the points whose expression moves for a ``motion`` region (None: all)."""
    points = MOTION_REGIONS[motion]
    if points is None:
        return None
    mask = np.zeros(NUM_POINTS, dtype=bool)
    mask[list(points)] = True
    return mask


# ---------------------------------------------------------------------------------------
# "paper" mode: Eq. 5-6 as published
# ---------------------------------------------------------------------------------------
def _retarget_paper(drv: F64, tar0: F64, ref0: F64, ref_name: str, cfg: RetargetConfig) -> F64:
    # Global frames (pixels) and scales; internally 2-D points are complex numbers, so
    # rotations are multiplications by unit complex numbers (no per-entry trigonometry).
    w_ref = float(_face_scale(ref0, ref_name))
    w_tar = float(_face_scale(tar0, "target"))
    o_ref, a_ref, width = global_frame(drv)
    _check_frames(drv, width)
    o_ref0, a_ref0, _ = global_frame(ref0)
    o_tar0, a_tar0, _ = global_frame(tar0)

    # Faces in their own global frame, in face widths.
    g_ref = (_cplx(drv) - _cplx(o_ref)[:, None]) * (np.exp(-1j * a_ref) / w_ref)[:, None]  # (T, 68)
    g_ref0 = (_cplx(ref0) - _cplx(o_ref0)) * (np.exp(-1j * a_ref0) / w_ref)  # (68,)
    g_tar0 = (_cplx(tar0) - _cplx(o_tar0)) * (np.exp(-1j * a_tar0) / w_tar)

    if cfg.motion == "pose":
        g_out = np.broadcast_to(g_tar0, g_ref.shape)
    else:
        g_out = _LocalPlan(g_ref0, g_tar0, cfg, constrained=False)(g_ref)
        mask = _region_mask(cfg.motion)
        if mask is not None:
            g_out = np.where(mask, g_out, g_tar0)

    # Eq. 5: the character's global frame follows the driver's.
    if cfg.motion in ("all", "pose"):
        t_scale = w_tar / w_ref if cfg.translation_scale == "face" else float(cfg.translation_scale)
        o_tar, a_tar = global_motion(
            o_ref, a_ref, o_ref0, a_ref0, o_tar0, a_tar0, translation_scale=t_scale
        )
    else:
        o_tar, a_tar = np.broadcast_to(o_tar0, o_ref.shape), np.full(len(drv), float(a_tar0))
    out_c = _cplx(o_tar)[:, None] + (w_tar * np.exp(1j * a_tar))[:, None] * g_out
    out = _real(out_c)  # a view of the fresh result array, no copy

    if cfg.smoothing is not None:
        out = one_euro_filter(out, fps=cfg.fps, config=cfg.smoothing)
    return out


# ---------------------------------------------------------------------------------------
# "constrained" mode
# ---------------------------------------------------------------------------------------
@attrs.frozen
class _State:
    """The character's motion state per frame: head pose and face shape (complex)."""

    origin: C128  # (T,) face-frame origin, pixels
    turn: C128  # (T,) unit rotation relative to the rest pose
    log_scale: F64  # (T,) log of the head scale relative to the rest pose
    shape: C128  # (T, 68) face in the rest face frame, rest face widths


def _fill_absent(points: F64, present: NDArray[np.bool_]) -> F64:
    """Absent frames take the nearest earlier present frame (the first present one at the start)."""
    if present.all():
        return points
    idx = np.where(present, np.arange(len(present)), -1)
    idx = np.maximum.accumulate(idx)
    idx = np.where(idx < 0, int(np.flatnonzero(present)[0]), idx)
    filled: F64 = points[idx]
    return filled


def _events(
    state: _State,
    present: NDArray[np.bool_],
    bounds: NDArray[np.intp],
    rest_origin: complex,
    rest_shape: C128,
    ease_in: bool,
    cfg: RetargetConfig,
) -> None:
    """Re-anchor at cuts, returns and the start; hold and ease absences to rest (in place).

    Sequential over runs of frames (a run = frames of one shot with the same presence),
    vectorised inside each run.
    """
    n = len(present)
    change = np.zeros(n, dtype=bool)
    change[0] = True
    change[bounds[1:-1]] = True
    change[1:] |= present[1:] != present[:-1]
    starts = np.flatnonzero(change)
    ends = np.append(starts[1:], n)
    o, turn, lam, g = state.origin, state.turn, state.log_scale, state.shape
    k_re = cfg.reanchor_frames
    for s, e in zip(starts.tolist(), ends.tolist(), strict=True):
        if s == 0:
            carry = (rest_origin, 1.0 + 0j, 0.0, rest_shape)
        else:
            carry = (o[s - 1], turn[s - 1], lam[s - 1], g[s - 1].copy())
        if present[s]:
            if (s == 0 and not ease_in) or k_re == 0:
                continue
            # cross-fade from the carried state into the new mapping: every frame is a blend
            # of two valid states, and the new motion fades in
            # (at the start the head pose already starts at rest: only the expression fades)
            m = min(e, s + k_re)
            wgt = 1.0 - smoothstep((np.arange(s, m) - s) / k_re)
            if s > 0:
                o[s:m] += wgt * (carry[0] - o[s:m])
                turn[s:m] *= np.exp(1j * wgt * np.angle(carry[1] * np.conj(turn[s:m])))
                lam[s:m] += wgt * (carry[2] - lam[s:m])
            g[s:m] += wgt[:, None] * (carry[3] - g[s:m])
        else:
            t = np.arange(e - s, dtype=np.float64)
            if cfg.absence_ease_frames > 0:
                b = smoothstep((t - cfg.absence_hold_frames) / cfg.absence_ease_frames)
            else:
                b = (t >= cfg.absence_hold_frames).astype(np.float64)
            o[s:e] = carry[0] + b * (rest_origin - carry[0])
            turn[s:e] = np.exp(1j * (1.0 - b) * np.angle(carry[1]))
            lam[s:e] = (1.0 - b) * carry[2]
            g[s:e] = carry[3] + b[:, None] * (rest_shape - carry[3])


def _smooth_state(
    state: _State, width: float, cfg: RetargetConfig, smoothing: OneEuroConfig
) -> _State:
    """One-Euro filter on head pose and face shape, in pixel-equivalent units of the character."""
    half = 0.5 * width
    angle = np.unwrap(np.angle(state.turn))
    flat = np.concatenate(
        [
            _real(state.origin),
            (angle * half)[:, None],
            (state.log_scale * half)[:, None],
            _real(state.shape * width).reshape(len(angle), -1),
        ],
        axis=1,
    )
    f = one_euro_filter(flat, fps=cfg.fps, config=smoothing)
    shape = np.ascontiguousarray(f[:, 4:]).view(np.complex128) / width
    return _State(
        origin=np.ascontiguousarray(f[:, :2]).view(np.complex128)[:, 0],
        turn=np.exp(1j * f[:, 2] / half),
        log_scale=f[:, 3] / half,
        shape=shape,
    )


def _retarget_constrained(
    drv: F64,
    present: NDArray[np.bool_],
    bounds: NDArray[np.intp],
    tar0: F64,
    reference: F64 | None,
    canvas: tuple[int, int] | None,
    cfg: RetargetConfig,
    extent: C128 | None = None,
) -> F64:
    n_frames = len(drv)
    # Driver: pose, size, and faces normalised by their own size (zoom-free).
    z = _cplx(_fill_absent(drv, present))
    o_d, u_d, w_d, s_d = face_pose(z)
    bad = np.flatnonzero(present & (w_d <= 0) & (s_d <= 0))
    if bad.size:
        raise DegenerateLandmarksError(
            f"`driving` frame {bad[0]} is degenerate: all 68 points coincide"
        )
    nz = normalise(z, o_d, u_d, s_d)

    # Character rest pose and shape.
    w_c = float(_face_scale(tar0, "target"))
    zt = _cplx(tar0)
    o_arr, u_arr, _, _ = face_pose(zt)
    o_t, u_t = complex(o_arr), complex(u_arr)
    g_rest = (zt - o_t) * (np.conj(u_t) / w_c)

    use_pose = cfg.motion in ("all", "pose")
    use_expr = cfg.motion != "pose"
    mask = _region_mask(cfg.motion)
    shape = np.repeat(g_rest[None], n_frames, axis=0)
    origin = np.full(n_frames, o_t, dtype=np.complex128)
    turn = np.ones(n_frames, dtype=np.complex128)
    log_scale = np.zeros(n_frames)
    ease_in = False
    for k, (a, b) in enumerate(itertools.pairwise(bounds.tolist())):
        idx = a + np.flatnonzero(present[a:b])
        if idx.size == 0:
            continue
        if k == 0 and reference is not None:
            zr = _cplx(reference)
            o_r, u_r, _, s_r = face_pose(zr)
            ref_shape = normalise(zr, o_r, u_r, s_r)
            pose = (complex(o_r), complex(u_r), float(s_r))
        else:
            ref_shape, used = neutral_shape(
                nz[idx], quantile=cfg.neutral_quantile, min_frames=cfg.neutral_min_frames
            )
            if k == 0:
                f0 = int(idx[0])
                pose = (complex(o_d[f0]), complex(u_d[f0]), float(s_d[f0]))
                ease_in = not (used[0] and used.sum() == 1)
            else:
                pose = median_pose(o_d[idx], u_d[idx], s_d[idx])
        chord = float(np.abs(ref_shape[16] - ref_shape[0]))
        chord = chord if chord > 1e-9 else 1.0
        if use_expr:
            plan = _LocalPlan(ref_shape / chord, g_rest, cfg, constrained=True)
            for c0 in range(a, b, _CHUNK):
                c1 = min(b, c0 + _CHUNK)
                shape[c0:c1] = plan(nz[c0:c1] * (1.0 / chord))
        if use_pose:
            t_scale = (
                w_c / (chord * pose[2])
                if cfg.translation_scale == "face"
                else float(cfg.translation_scale)
            )
            origin[a:b] = o_t + t_scale * (o_d[a:b] - pose[0])
            turn[a:b] = u_d[a:b] * np.conj(pose[1])
            log_scale[a:b] = np.log(s_d[a:b] / pose[2])
    if mask is not None and use_expr:
        shape[:, ~mask] = g_rest[~mask]
    # The driver's own per-frame motion in its face widths (what a frame may match).
    drv_step = np.zeros(n_frames)
    drv_step[1:] = np.abs(np.diff(z, axis=0)).max(axis=1) / np.maximum(w_d[1:], 1e-12)
    drv_step[~present] = 0.0
    drv_step[1:][~present[:-1]] = 0.0

    natural_origin, natural_head = origin.copy(), np.exp(log_scale) * turn
    state = _State(origin, turn, log_scale, shape)
    _events(state, present, bounds, o_t, g_rest, ease_in, cfg)
    if cfg.smoothing is not None:
        state = _smooth_state(state, w_c, cfg, cfg.smoothing)

    # Bounded head scale, intact parts.
    lo, hi = np.log(cfg.scale_range[0]), np.log(cfg.scale_range[1])
    lam = soft_upper(state.log_scale, hi, min(cfg.scale_knee, hi))
    lam = -soft_upper(-lam, -lo, min(cfg.scale_knee, -lo))
    rules = (
        PartConstraints(
            g_rest,
            mouth_margin=cfg.mouth_margin,
            brow_margin=cfg.brow_margin,
            knee=cfg.constraint_knee,
            lip_knee=cfg.lip_knee,
        )
        if cfg.part_constraints and use_expr
        else None
    )

    # Compose, keep in the canvas (chunk by chunk: temporaries stay in cache).
    head = (w_c * u_t) * np.exp(lam) * state.turn  # (T,) complex scale-rotation
    o = state.origin.copy()
    g = state.shape
    out = np.empty((n_frames, NUM_POINTS), dtype=np.complex128)
    reach = np.empty(n_frames)
    rest_offsets = zt - o_t
    rest_extent = None if extent is None else extent - o_t
    g_extent = None if rest_extent is None else rest_extent * (np.conj(u_t) / w_c)
    for c0 in range(0, n_frames, _CHUNK):
        sl = slice(c0, min(n_frames, c0 + _CHUNK))
        gc = g[sl]
        if rules is not None:
            rules.apply_inplace(gc)
        offsets = head[sl, None] * gc  # pixels relative to the origin
        if canvas is not None:
            o[sl], offsets, factor = fit_canvas(
                o[sl],
                head[sl, None] * g_rest,
                offsets,
                o_t,
                rest_offsets,
                canvas,
                margin=cfg.canvas_margin,
                knee=cfg.canvas_knee * w_c,
                push=cfg.canvas_push * w_c,
                outline=JAW,
                extent=None if g_extent is None else head[sl, None] * g_extent,
                rest_extent=rest_extent,
            )
            head[sl] *= factor
        np.add(o[sl, None], offsets, out=out[sl])
        reach[sl] = np.abs(gc).max(axis=1)  # farthest point from the origin, face widths
    if cfg.rate_limit and n_frames > 1:
        pose_step = np.zeros(n_frames)
        pose_step[1:] = (
            np.abs(np.diff(natural_origin)) + w_c * np.abs(np.diff(natural_head)) * reach[1:]
        )
        # the driver's jump at a cut or a return is not the character's: it carries on there
        events = np.zeros(n_frames, dtype=bool)
        events[bounds[1:-1]] = True
        events[1:] |= present[1:] != present[:-1]
        pose_step[events] = 0.0
        drv_step[events] = 0.0
        allowed = np.maximum(
            pose_step, np.abs(head) * np.maximum(cfg.max_step, cfg.step_gain * drv_step)
        )
        out = rate_limit_c(out, allowed)
    return _real(out)


# ---------------------------------------------------------------------------------------
# The public entry point
# ---------------------------------------------------------------------------------------
def retarget(
    driving: Landmarks | ArrayLike,
    target: Landmarks | ArrayLike,
    *,
    reference: Landmarks | ArrayLike | None = None,
    cuts: ArrayLike = (),
    canvas_size: tuple[int, int] | None = None,
    extent: ArrayLike | None = None,
    config: RetargetConfig | None = None,
    **options: Any,
) -> F64:
    """Transfer the motion of a driving landmark sequence onto a character's landmarks.

    Args:
        driving: (T, 68, 2) or (68, 2) float64, driving-video pixels (x, y), iBUG order; a
            :class:`Landmarks` whose ``visible`` (T, 68) mask marks frames where the driving
            person is absent (no point visible): the character holds its pose there and,
            after ``absence_hold_frames``, eases to its rest pose.
        target: (68, 2) or (1, 68, 2) float64, the character's landmarks in its image's pixels.
        reference: (68, 2) driver landmarks in the pose/expression that corresponds to the
            character's ``target``; default: ``driving[0]`` in ``"paper"`` mode; in
            ``"constrained"`` mode the first frame's pose and the first shot's robust neutral
            expression (:func:`neutral_reference`), eased in from ``target`` so that frame 0
            still equals ``target``. An explicit reference applies to the first shot.
        cuts: sorted frame indices where a new shot starts (scene cuts, joined clips): the
            relative motion is re-anchored there so the character carries on from its
            current pose with no jump, then follows the new shot relative to the new shot's
            own neutral (median pose, robust neutral expression).
        canvas_size: (H, W) of the canvas the character is drawn on: the face box is kept
            inside it (soft limit). ``None``: no canvas limit.
        extent: (K, 2) pixel (x, y) points of the character beyond its landmarks, in
            ``target``'s pixels, that move rigidly with its head and must stay in the
            canvas too: the corners of its silhouette's box (horns, ears, hair; what
            ``faceshot_animate.head_extent`` returns). A side of it that already reaches
            the canvas edge at rest is left to the landmarks (it would pin the head).
            Needs ``canvas_size``. ``None``: the landmarks alone are kept in.
        config: a :class:`RetargetConfig`; ``options`` override its fields by name
            (e.g. ``retarget(d, t, translation_scale="face")``, ``mode="paper"``).

    Returns:
        (T, 68, 2) float64, character-image pixels (x, y); float, never rounded. Frame 0
        equals ``target`` unless an explicit ``reference`` differs from frame 0.

    Raises:
        LandmarkShapeError: wrong shapes, T = 0, non-numeric input, a multi-frame target.
        NonFiniteLandmarksError: NaN/inf in any input (names the frame and point).
        DegenerateLandmarksError: a face whose 68 points all coincide.
        ValueError / TypeError: unknown or invalid options, bad ``cuts`` or ``canvas_size``.

    Convention:
        Pure: inputs are never modified. Deterministic. Vectorised over frames and points
        (loops run only over shots, cuts and absences, and over frames the rate limit
        actually slows down).
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
        raise LandmarkShapeError(
            f"`target` must be a single frame (68, 2); got {tar.shape[0]} frames"
        )
    tar0 = tar[0]
    ref0 = None if reference is None else as_points(reference, "reference")
    if ref0 is not None:
        if ref0.shape[0] != 1:
            raise LandmarkShapeError(
                f"`reference` must be a single frame (68, 2); got {ref0.shape[0]} frames"
            )
        ref0 = ref0[0]
    bounds = shot_bounds(cuts, len(drv))
    canvas = None if canvas_size is None else check_canvas(canvas_size)
    if extent is not None and canvas is None:
        raise ValueError("`extent` needs `canvas_size`: it is kept inside the canvas")
    ext = None if extent is None else check_extent(extent)

    if cfg.mode == "paper":
        ref_name = "reference" if ref0 is not None else "driving[0]"
        return _retarget_paper(drv, tar0, drv[0] if ref0 is None else ref0, ref_name, cfg)

    visible = driving.visible if isinstance(driving, Landmarks) else None
    vis = as_visible(visible, len(drv), "driving.visible")
    present: NDArray[np.bool_] = (
        np.ones(len(drv), dtype=bool) if vis is None else np.asarray(vis.any(axis=1))
    )
    if ref0 is not None:
        _face_scale(ref0, "reference")
    if not present.any():
        return np.repeat(tar0[None], len(drv), axis=0)
    return _retarget_constrained(drv, present, bounds, tar0, ref0, canvas, cfg, ext)
