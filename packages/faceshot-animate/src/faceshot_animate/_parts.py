"""Feature layers as control points of the smooth deformation, and their per-frame motion.

Each feature layer of the rig (eyes, brows, nose, mouth) becomes a set of *rest samples*:
points every few pixels along the layer polygon's outline, plus the layer's landmarks.
Per frame each layer moves by its own low-order motion model, evaluated at its samples:

* eyes: the similarity of the two eye corners (the drawn eye keeps its shape; lids are
  painted, :mod:`faceshot_animate._rig_animator`), stretched across when wider open;
* brows and nose: the weighted least-squares similarity of their landmarks;
* mouth: the lip landmarks themselves, denoised per lip chain (:func:`smooth_lip_chains`),
  while the samples around the mouth follow the nearest outer-lip landmarks
  (inverse-distance weights), so lips stretch and never fold over their outline.

The deformation (:func:`faceshot_animate._mls.mls_affine`) then interpolates between the
layers and the pinned head outline. All points are in the head's own (frame-0) frame.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

import numpy as np
import shapely
from faceshot_retarget import ibug68
from numpy.typing import NDArray

from faceshot_animate._geometry import polygon_rings

__all__ = ["LIP_CHAINS", "PartLayer", "build_layers", "sample_outline", "smooth_lip_chains"]

#: The four lip chains (ordered), corners shared: upper/lower outer, upper/lower inner.
LIP_CHAINS: Final = (
    (48, 49, 50, 51, 52, 53, 54),
    (54, 55, 56, 57, 58, 59, 48),
    (60, 61, 62, 63, 64),
    (64, 65, 66, 67, 60),
)


@dataclass(frozen=True, eq=False)
class PartLayer:
    """One feature layer's control points.

    Attributes:
        name: layer name (a key of :data:`faceshot_animate._rig.FEATURES`).
        kind: ``"eye"``, ``"rigid"`` (brows, nose) or ``"mouth"``.
        landmarks: (n,) iBUG indices of the layer's landmarks.
        samples: (m, 2) float64 rest points along the layer's outline, pixels.
    """

    name: str
    kind: str
    landmarks: tuple[int, ...]
    samples: NDArray[np.float64]


def sample_outline(geom: shapely.Geometry, spacing: float) -> NDArray[np.float64]:
    """(m, 2) points every ~``spacing`` pixels along the exterior rings of ``geom``."""
    outer, _ = polygon_rings(geom)
    out = []
    for ring in outer:
        seg = np.linalg.norm(np.diff(ring, axis=0), axis=1)
        cum = np.concatenate([[0.0], np.cumsum(seg)])
        if cum[-1] <= 0:
            continue
        n = max(6, int(cum[-1] / max(spacing, 1.0)))
        t = np.linspace(0.0, cum[-1], n, endpoint=False)
        out.append(np.stack([np.interp(t, cum, ring[:, 0]), np.interp(t, cum, ring[:, 1])], axis=1))
    return np.concatenate(out) if out else np.zeros((0, 2))


def build_layers(
    features: dict[str, shapely.Geometry] | object, spacing: float
) -> tuple[PartLayer, ...]:
    """The part layers of a rig's ``features`` (name -> polygon), outline samples every
    ``spacing`` pixels."""
    from faceshot_animate._rig import FEATURES

    kinds = {"right_eye": "eye", "left_eye": "eye", "mouth": "mouth"}
    layers = []
    for name, idx in FEATURES.items():
        geom = features[name]  # type: ignore[index]
        layers.append(
            PartLayer(name, kinds.get(name, "rigid"), tuple(idx), sample_outline(geom, spacing))
        )
    return tuple(layers)


def smooth_lip_chains(
    rest: NDArray[np.float64], now: NDArray[np.float64], degree: int = 2
) -> NDArray[np.float64]:
    """Lip landmarks 48-67 with per-point noise removed, per lip chain.

    Each chain's displacement (now - rest) is fitted by a polynomial of ``degree`` in the
    chain's rest arc-length parameter (least squares); corners shared by two chains get the
    mean of both fits.

    Args:
        rest: (68, 2) float64 frame-0 landmarks.
        now: (68, 2) float64 current landmarks (same frame as ``rest``).

    Returns:
        (68, 2) float64: ``now`` with points 48-67 replaced by the smoothed fits.
    """
    out = np.array(now, dtype=np.float64, copy=True)
    acc = np.zeros((68, 2))
    cnt = np.zeros(68)
    for chain in LIP_CHAINS:
        idx = np.asarray(chain)
        r = rest[idx]
        seg = np.linalg.norm(np.diff(r, axis=0), axis=1)
        s = np.concatenate([[0.0], np.cumsum(seg)])
        if s[-1] <= 1e-9:
            s = np.linspace(0.0, 1.0, len(idx))
        else:
            s = s / s[-1]
        basis = np.stack([s**k for k in range(degree + 1)], axis=1)
        disp = now[idx] - r
        coef, *_ = np.linalg.lstsq(basis, disp, rcond=None)
        acc[idx] += r + basis @ coef
        cnt[idx] += 1
    lips = ibug68.part_indices("mouth")
    out[lips] = acc[lips] / cnt[lips, None]
    return out
