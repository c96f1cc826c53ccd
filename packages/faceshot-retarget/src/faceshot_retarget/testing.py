"""Hypothesis strategies for landmark sets (needs the ``[testing]`` extra: hypothesis).

Template + similarity + jitter gives realistic, rarely degenerate faces; explicit
degenerate variants collapse or flatten whole chains.
"""

from __future__ import annotations

import os
from typing import Any

import numpy as np
from hypothesis import strategies as st
from numpy.typing import NDArray

from faceshot_retarget._frames import rotate
from faceshot_retarget._template import TEMPLATE_68
from faceshot_retarget.ibug68 import CHAINS

#: Examples per property in each Hypothesis profile: ``dev`` (the default: a local run and the
#: default ``pytest`` run stay fast) and ``ci`` (thorough, derandomised; ``.ci/run`` selects it
#: with ``HYPOTHESIS_PROFILE=ci``, or pass ``--hypothesis-profile ci``).
HYPOTHESIS_EXAMPLES = {"dev": 100, "ci": 2000}


def load_hypothesis_profile(name: str | None = None) -> str:
    """Register the ``dev`` and ``ci`` Hypothesis profiles and load one (for a conftest).

    Args:
        name: the profile to load; default ``$HYPOTHESIS_PROFILE``, else ``"dev"``.

    Returns:
        The name of the loaded profile.
    """
    from hypothesis import HealthCheck, settings

    settings.register_profile(
        "ci",
        max_examples=HYPOTHESIS_EXAMPLES["ci"],
        derandomize=True,
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
        print_blob=True,
    )
    settings.register_profile("dev", max_examples=HYPOTHESIS_EXAMPLES["dev"], deadline=None)
    chosen = name or os.environ.get("HYPOTHESIS_PROFILE") or "dev"
    settings.load_profile(chosen)
    return chosen


__all__ = [
    "apply_similarity",
    "characters",
    "degenerate_faces",
    "faces",
    "hard_drivers",
    "landmark_sequences",
    "load_hypothesis_profile",
    "open_mouth",
    "smooth_ramp",
]


def apply_similarity(
    points: NDArray[np.float64],
    scale: float | NDArray[np.float64],
    angle: float | NDArray[np.float64],
    shift: Any,
) -> NDArray[np.float64]:
    """scale * Rot(angle) @ p + shift for (..., 2) points; returns a new array."""
    return scale * rotate(np.asarray(points, dtype=np.float64), angle) + np.asarray(
        shift, dtype=np.float64
    )


@st.composite
def faces(draw: st.DrawFn, jitter: float = 0.02) -> NDArray[np.float64]:
    """(68, 2) a template face under a random similarity (scale 20-400 px) plus jitter."""
    scale = draw(st.floats(20.0, 400.0, allow_nan=False, allow_infinity=False))
    angle = draw(st.floats(-0.6, 0.6, allow_nan=False, allow_infinity=False))
    shift = (
        draw(st.floats(-500, 500, allow_nan=False, allow_infinity=False)),
        draw(st.floats(-500, 500, allow_nan=False, allow_infinity=False)),
    )
    stretch = draw(st.floats(0.7, 1.4, allow_nan=False, allow_infinity=False))
    # Bulk noise from a drawn seed: hypothesis-drawn per-element arrays are far slower.
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    noise = rng.uniform(-jitter, jitter, (68, 2))
    base = (TEMPLATE_68 + noise) * np.array([1.0, stretch])
    return apply_similarity(base, scale, angle, shift)


@st.composite
def landmark_sequences(
    draw: st.DrawFn, max_frames: int = 4, motion: float = 0.08
) -> NDArray[np.float64]:
    """(T, 68, 2) a face followed by T - 1 frames of rigid motion plus expression jitter."""
    base = draw(faces())
    t = draw(st.integers(1, max_frames))
    width = float(np.linalg.norm(base[16] - base[0]))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    angles = rng.uniform(-0.4, 0.4, t)
    shifts = rng.uniform(-1.0, 1.0, (t, 2)) * width
    jitter = rng.uniform(-motion, motion, (t, 68, 2)) * width
    centre = base.mean(axis=0)
    seq = (
        apply_similarity(base[None] - centre, 1.0, angles[:, None], centre + shifts[:, None])
        + jitter
    )
    seq[0] = base
    return seq


@st.composite
def degenerate_faces(draw: st.DrawFn) -> NDArray[np.float64]:
    """(68, 2) a face where some chains collapse to a point or onto a line."""
    face = draw(faces()).copy()
    names = draw(st.lists(st.sampled_from(sorted(CHAINS)), min_size=1, max_size=5, unique=True))
    for name in names:
        idx = CHAINS[name]
        mode = draw(st.sampled_from(["point", "line", "reverse"]))
        if mode == "point":
            face[idx] = face[idx[0]]
        elif mode == "line":
            a, b = face[idx[0]], face[idx[-1]]
            u = np.linspace(0.0, 1.0, len(idx))[:, None]
            face[idx] = a + u * (b - a)
        else:
            face[idx] = face[idx[::-1]]
    return face


def _scale_about(points: NDArray[np.float64], idx: Any, factor: float) -> None:
    """Scale ``points[idx]`` about their centroid, in place."""
    c = points[idx].mean(axis=0)
    points[idx] = c + factor * (points[idx] - c)


@st.composite
def characters(draw: st.DrawFn) -> NDArray[np.float64]:
    """(68, 2) a character that respects the part rules at rest, with unusual proportions.

    The template face with a mouth scaled 0.6-1.7x (open or closed inner lips), eyes
    scaled 0.7-2x, brows raised or lowered, the whole face stretched, under a random
    similarity. Rejected (``assume``) if the mouth would leave the face.
    """
    from hypothesis import assume

    from faceshot_retarget._metrics import violation_frames

    face = TEMPLATE_68.copy()
    _scale_about(face, slice(48, 68), draw(st.floats(0.6, 1.7)))
    if draw(st.booleans()):  # closed inner lips (an emoji smile)
        mid = 0.5 * (face[[61, 62, 63]] + face[[67, 66, 65]])
        face[[61, 62, 63]] = mid
        face[[67, 66, 65]] = mid
    for eye in (slice(36, 42), slice(42, 48)):
        _scale_about(face, eye, draw(st.floats(0.7, 2.0)))
    face[17:27, 1] += draw(st.floats(-0.05, 0.03))
    face *= np.array([1.0, draw(st.floats(0.8, 1.3))])
    scale = draw(st.floats(40.0, 400.0))
    angle = draw(st.floats(-0.5, 0.5))
    shift = (draw(st.floats(-300, 300)), draw(st.floats(-300, 300)))
    out = apply_similarity(face, scale, angle, shift)
    assume(not violation_frames(out)[0])
    return out


def open_mouth(
    face: NDArray[np.float64], amount: float | NDArray[np.float64]
) -> NDArray[np.float64]:
    """Drop the lower lips and chin of (..., 68, 2) faces by ``amount`` outer-mouth heights.

    The drop is along the face's own vertical (perpendicular to the jaw chord 0 -> 16).
    ``amount`` broadcasts over the leading dimensions. Returns a new array.
    """
    f = np.asarray(face, dtype=np.float64)
    v = f[..., 16, :] - f[..., 0, :]
    down = np.stack([-v[..., 1], v[..., 0]], axis=-1) / np.linalg.norm(v, axis=-1, keepdims=True)
    height = np.ptp((f[..., 48:60, :] * down[..., None, :]).sum(-1), axis=-1)
    out = f.copy()
    lower = [55, 56, 57, 58, 59, 65, 66, 67, 7, 8, 9]
    out[..., lower, :] += (np.asarray(amount) * height)[..., None, None] * down[..., None, :]
    return out


@st.composite
def hard_drivers(
    draw: st.DrawFn, max_frames: int = 40
) -> tuple[NDArray[np.float64], NDArray[np.bool_], tuple[int, ...]]:
    """A hard driving sequence: ``(points (T, 68, 2), visible (T, 68), cuts)``.

    A talking, nodding face whose mouth opens up to twice its height, with brows pulled
    down onto the eyes, lids squeezed past closed, detection jitter, and optionally: a
    zoom up to 2x (gradual, or a cut to a zoomed copy), a cut to a mirrored and shifted
    copy, and absent frames (visible all False, coordinates left at the last frame).
    """
    base = draw(faces(jitter=0.01))
    t = draw(st.integers(8, max_frames))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    width = float(np.linalg.norm(base[16] - base[0]))
    centre = base.mean(axis=0)
    k = np.arange(t)
    phase = rng.uniform(0, 2 * np.pi, 3)
    angle = 0.3 * np.sin(0.3 * k + phase[0])
    shift = (
        width * 0.3 * np.stack([np.sin(0.2 * k + phase[1]), np.cos(0.25 * k + phase[2])], axis=1)
    )
    zoom = np.ones(t)
    if draw(st.booleans()):  # lean in up to 2x
        zoom = 1.0 + draw(st.floats(0.0, 1.0)) * smooth_ramp(t, rng)
    seq = apply_similarity(
        base[None] - centre, zoom[:, None, None], angle[:, None], centre + shift[:, None]
    )
    mouth = np.clip(np.sin(0.5 * k + rng.uniform(0, 6)), 0, None) * draw(st.floats(0.0, 2.0))
    seq = open_mouth(seq, mouth)
    # brows pulled down onto the eyes, lids squeezed past closed, in some frames
    squeeze = rng.random(t) < 0.2
    seq[squeeze, 17:27] += 0.5 * (
        seq[squeeze, 36:48].mean(axis=1, keepdims=True) - seq[squeeze, 17:27]
    )
    up, lo = np.array([37, 38, 43, 44]), np.array([41, 40, 47, 46])
    mid = 0.5 * (seq[squeeze][:, up] + seq[squeeze][:, lo])
    seq[np.ix_(squeeze, up)] = mid + 0.3 * (seq[squeeze][:, lo] - mid)
    seq[np.ix_(squeeze, lo)] = mid - 0.3 * (seq[squeeze][:, lo] - mid)
    seq += rng.normal(0.0, 0.005 * width, seq.shape)
    cuts: list[int] = []
    if t >= 16 and draw(st.booleans()):  # a cut to a mirrored, shifted, rescaled copy
        c = draw(st.integers(6, t - 6))
        tail = seq[c:]
        flipped = tail.copy()
        flipped[..., 0] = 2 * centre[0] - tail[..., 0]
        from faceshot_retarget.ibug68 import MIRROR

        flipped = flipped[:, MIRROR]
        factor = draw(st.floats(0.5, 2.0))
        seq[c:] = (flipped - centre) * factor + centre + width * rng.uniform(-1, 1, 2)
        cuts.append(c)
    visible = np.ones((t, 68), dtype=bool)
    if draw(st.booleans()):  # an absence
        a = draw(st.integers(1, t - 2))
        b = draw(st.integers(a + 1, t - 1))
        visible[a:b] = False
        seq[a:b] = seq[a - 1]
    return seq, visible, tuple(cuts)


def smooth_ramp(t: int, rng: np.random.Generator) -> NDArray[np.float64]:
    """(t,) a smooth 0 -> 1 -> 0 bump at a random place (a gradual lean in and out)."""
    centre = rng.uniform(0.2, 0.8) * t
    return np.exp(-0.5 * ((np.arange(t) - centre) / max(1.0, 0.2 * t)) ** 2)  # type: ignore[no-any-return]
