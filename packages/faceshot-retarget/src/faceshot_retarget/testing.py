"""Hypothesis strategies for landmark sets (needs the ``[testing]`` extra: hypothesis).

Template + similarity + jitter gives realistic, rarely degenerate faces; explicit
degenerate variants collapse or flatten whole chains.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from hypothesis import strategies as st
from numpy.typing import NDArray

from faceshot_retarget._frames import rotate
from faceshot_retarget._template import TEMPLATE_68
from faceshot_retarget.ibug68 import CHAINS

__all__ = ["apply_similarity", "degenerate_faces", "faces", "landmark_sequences"]


def apply_similarity(
    points: NDArray[np.float64], scale: float, angle: float | NDArray[np.float64], shift: Any
) -> NDArray[np.float64]:
    """scale * Rot(angle) @ p + shift for (..., 2) points; returns a new array."""
    return scale * rotate(np.asarray(points, dtype=np.float64), angle) + np.asarray(shift, dtype=np.float64)


@st.composite
def faces(draw: st.DrawFn, jitter: float = 0.02) -> NDArray[np.float64]:
    """(68, 2) a template face under a random similarity (scale 20-400 px) plus jitter."""
    scale = draw(st.floats(20.0, 400.0, allow_nan=False, allow_infinity=False))
    angle = draw(st.floats(-0.6, 0.6, allow_nan=False, allow_infinity=False))
    shift = (draw(st.floats(-500, 500, allow_nan=False, allow_infinity=False)), draw(st.floats(-500, 500, allow_nan=False, allow_infinity=False)))
    stretch = draw(st.floats(0.7, 1.4, allow_nan=False, allow_infinity=False))
    # Bulk noise from a drawn seed: hypothesis-drawn per-element arrays are far slower.
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    noise = rng.uniform(-jitter, jitter, (68, 2))
    base = (TEMPLATE_68 + noise) * np.array([1.0, stretch])
    return apply_similarity(base, scale, angle, shift)


@st.composite
def landmark_sequences(draw: st.DrawFn, max_frames: int = 4, motion: float = 0.08) -> NDArray[np.float64]:
    """(T, 68, 2) a face followed by T - 1 frames of rigid motion plus expression jitter."""
    base = draw(faces())
    t = draw(st.integers(1, max_frames))
    width = float(np.linalg.norm(base[16] - base[0]))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    angles = rng.uniform(-0.4, 0.4, t)
    shifts = rng.uniform(-1.0, 1.0, (t, 2)) * width
    jitter = rng.uniform(-motion, motion, (t, 68, 2)) * width
    centre = base.mean(axis=0)
    seq = apply_similarity(base[None] - centre, 1.0, angles[:, None], centre + shifts[:, None]) + jitter
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
