"""Rigid moving-least-squares deformation (Schaefer, McPhail & Warren, SIGGRAPH 2006).

For every evaluation point ``v`` the deformation is the rotation + translation that best
maps the control points ``p_i`` onto ``q_i`` with weights ``w_i = 1 / |p_i - v|^(2 a)``
(Schaefer et al. 2006, §2.3, "rigid deformations"):

    p* = Σ w_i p_i / Σ w_i,  q* = Σ w_i q_i / Σ w_i,  p̂_i = p_i - p*,  q̂_i = q_i - q*,
    f(v) = |v - p*| · f⃗(v) / |f⃗(v)| + q*,   f⃗(v) = Σ_i q̂_i A_i(v).

In complex numbers (x + iy) the optimal rotation is the unit complex number
``R(v) = S / |S|`` with ``S = Σ w_i q̂_i conj(p̂_i)``, and ``f(v) = R(v) (v - p*) + q*``.
``S`` expands to ``Σ w_i q_i conj(p_i) - W q* conj(p*)`` (``W = Σ w_i``), so one frame
costs a (G, N) weight matrix and three matrix-vector products, no per-point loop.

The map is C^∞ away from the control points and interpolates them
(``f(p_i) = q_i``): no triangle creases. faceshot uses it backwards: ``p`` are the
controls where they are *now* and ``q`` where they are in the character image, so
``f`` gives, for every output position, the source position to sample.
"""

from __future__ import annotations

import cv2
import numpy as np
from numpy.typing import NDArray

__all__ = ["mls_affine", "mls_rigid"]


def _weights(
    vc: NDArray[np.float32], pc: NDArray[np.float32], alpha: float, eps: float
) -> NDArray[np.float32]:
    """(G, N) float32 MLS weights 1 / (|v - p|^2 + eps)^alpha, from one small GEMM:
    [v, |v|^2 + eps, 1] . [-2 p, 1, |p|^2]^T (OpenCV's GEMM: OpenBLAS's threading thrashes
    on busy 2-core machines for these skinny products)."""
    a = np.empty((len(vc), 4), np.float32)
    a[:, :2] = vc
    a[:, 2] = (vc * vc).sum(axis=1) + np.float32(eps)
    a[:, 3] = 1.0
    b = np.empty((4, len(pc)), np.float32)
    b[:2] = -2.0 * pc.T
    b[2] = 1.0
    b[3] = (pc * pc).sum(axis=1)
    d2 = np.asarray(cv2.gemm(a, b, 1.0, None, 0.0), np.float32)  # type: ignore[call-overload]
    np.maximum(d2, np.float32(eps), out=d2)  # rounding can dip below eps, never below
    if alpha == 1.0:
        return np.reciprocal(d2, out=d2)
    return np.power(d2, np.float32(-alpha), out=d2)


def mls_rigid(
    points: NDArray[np.floating],
    src: NDArray[np.floating],
    dst: NDArray[np.floating],
    *,
    alpha: float = 1.0,
    eps: float = 1e-2,
) -> NDArray[np.float64]:
    """Rigid MLS deformation of ``points`` by control pairs ``src -> dst`` (Schaefer 2006, §2.3).

    Args:
        points: (G, 2) evaluation points (x, y), pixels.
        src: (N, 2) control points p_i (x, y), pixels, N >= 1.
        dst: (N, 2) their images q_i (x, y), pixels.
        alpha: weight falloff exponent a (w = 1 / d^(2a)); 1 is the paper's choice.
        eps: pixels² added to the squared distances, so a point on a control gets a
            finite weight (the result there is ``dst`` to within ``eps``-relative error).

    Returns:
        (G, 2) float64 deformed points f(v).

    Convention:
        Pure function; nothing is clamped. Where the weighted correlation ``S`` vanishes
        (e.g. all controls coincide) the rotation is the identity, i.e. a translation.
        Weights and sums in float32 about the controls' centroid (sub-millipixel at
        image scales), the rotation in float64.
    """
    v = np.asarray(points, dtype=np.float64)
    p = np.asarray(src, dtype=np.float64)
    q = np.asarray(dst, dtype=np.float64)
    if v.size == 0:
        return np.zeros((0, 2), dtype=np.float64)
    origin = p.mean(axis=0)
    pc = (p - origin).astype(np.float32)
    qc = (q - origin).astype(np.float32)
    vc = np.ascontiguousarray(v - origin, dtype=np.float32)
    w = _weights(vc, pc, alpha, eps)
    # Columns: 1, p, q, Re(q conj p), Im(q conj p).
    basis = np.empty((len(p), 7), dtype=np.float32)
    basis[:, 0] = 1.0
    basis[:, 1:3] = pc
    basis[:, 3:5] = qc
    basis[:, 5] = qc[:, 0] * pc[:, 0] + qc[:, 1] * pc[:, 1]
    basis[:, 6] = qc[:, 1] * pc[:, 0] - qc[:, 0] * pc[:, 1]
    w32 = np.ascontiguousarray(w, dtype=np.float32)
    sums = np.asarray(cv2.gemm(w32, basis, 1.0, None, 0.0), np.float64)  # type: ignore[call-overload]
    total = sums[:, 0]
    ps = sums[:, 1:3] / total[:, None]
    qs = sums[:, 3:5] / total[:, None]
    # S = sum w q conj(p) - W q* conj(p*)
    s_re = sums[:, 5] - total * (qs[:, 0] * ps[:, 0] + qs[:, 1] * ps[:, 1])
    s_im = sums[:, 6] - total * (qs[:, 1] * ps[:, 0] - qs[:, 0] * ps[:, 1])
    mag = np.hypot(s_re, s_im)
    ok = mag > 1e-12 * np.maximum(total, 1e-30)
    c = np.where(ok, s_re / np.where(ok, mag, 1.0), 1.0)
    sn = np.where(ok, s_im / np.where(ok, mag, 1.0), 0.0)
    dx = vc[:, 0] - ps[:, 0]
    dy = vc[:, 1] - ps[:, 1]
    out = np.empty((len(v), 2), dtype=np.float64)
    out[:, 0] = c * dx - sn * dy + qs[:, 0] + origin[0]
    out[:, 1] = sn * dx + c * dy + qs[:, 1] + origin[1]
    return out


def mls_affine(
    points: NDArray[np.floating],
    src: NDArray[np.floating],
    dst: NDArray[np.floating],
    *,
    alpha: float = 1.0,
    eps: float = 1e-2,
) -> NDArray[np.float64]:
    """Affine MLS deformation (Schaefer 2006, §2.1): per point the weighted least-squares
    affine map of ``src`` onto ``dst``; arguments and result as :func:`mls_rigid`.

    ``f(v) = (v - p*) M + q*`` with ``M = (Σ w p̂ᵀ p̂)^-1 Σ w p̂ᵀ q̂``; where the weighted
    controls are (nearly) collinear the normal matrix is regularised towards its trace.
    """
    v = np.asarray(points, dtype=np.float64)
    p = np.asarray(src, dtype=np.float64)
    q = np.asarray(dst, dtype=np.float64)
    if v.size == 0:
        return np.zeros((0, 2), dtype=np.float64)
    origin = p.mean(axis=0)
    pc = (p - origin).astype(np.float32)
    qc = (q - origin).astype(np.float32)
    vc = np.ascontiguousarray(v - origin, dtype=np.float32)
    w = _weights(vc, pc, alpha, eps)
    px, py, qx, qy = pc[:, 0], pc[:, 1], qc[:, 0], qc[:, 1]
    basis = np.stack(
        [
            np.ones_like(px),
            px,
            py,
            qx,
            qy,
            px * px,
            px * py,
            py * py,
            px * qx,
            px * qy,
            py * qx,
            py * qy,
        ],
        axis=1,
    )
    w32, b32 = np.ascontiguousarray(w, dtype=np.float32), np.ascontiguousarray(basis, np.float32)
    sums = np.asarray(cv2.gemm(w32, b32, 1.0, None, 0.0), np.float64)  # type: ignore[call-overload]
    total = sums[:, 0]
    ps = sums[:, 1:3] / total[:, None]
    qs = sums[:, 3:5] / total[:, None]
    # Centred second moments: Σ w p̂ p̂ᵀ and Σ w p̂ q̂ᵀ.
    sxx = sums[:, 5] - total * ps[:, 0] ** 2
    sxy = sums[:, 6] - total * ps[:, 0] * ps[:, 1]
    syy = sums[:, 7] - total * ps[:, 1] ** 2
    bxx = sums[:, 8] - total * ps[:, 0] * qs[:, 0]
    bxy = sums[:, 9] - total * ps[:, 0] * qs[:, 1]
    byx = sums[:, 10] - total * ps[:, 1] * qs[:, 0]
    byy = sums[:, 11] - total * ps[:, 1] * qs[:, 1]
    reg = 1e-5 * (sxx + syy) + 1e-9
    sxx, syy = sxx + reg, syy + reg
    det = sxx * syy - sxy * sxy
    i00, i01, i11 = syy / det, -sxy / det, sxx / det
    # M = S^-1 B (2x2), rows act on the row vector (v - p*).
    m00 = i00 * bxx + i01 * byx
    m01 = i00 * bxy + i01 * byy
    m10 = i01 * bxx + i11 * byx
    m11 = i01 * bxy + i11 * byy
    dx = vc[:, 0] - ps[:, 0]
    dy = vc[:, 1] - ps[:, 1]
    out = np.empty((len(v), 2), dtype=np.float64)
    out[:, 0] = dx * m00 + dy * m10 + qs[:, 0] + origin[0]
    out[:, 1] = dx * m01 + dy * m11 + qs[:, 1] + origin[1]
    return out
