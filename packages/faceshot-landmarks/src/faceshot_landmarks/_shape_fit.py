"""Shape-constrained fusion of per-point measurements with anisotropic confidence.

Used by :func:`~faceshot_landmarks.match_video` on every frame. A tracked point is measured
with a precision that depends on the image around it: on a corner (an eye corner, the end of a
mouth) both coordinates are known, on an edge (a jaw outline against the background) only the
component across the edge is, and in a flat region (the nose of a flat emoji) neither is. Each
measurement therefore carries a 2x2 *information matrix* ``G`` (inverse covariance, pixels^-2):
:func:`structure_information` derives it from the image's gradient structure tensor.

:func:`fit_shape_model` fits a point-distribution model -- the character's own shape plus
linear deformation modes, placed by a similarity -- to the measurements by generalised
(Mahalanobis) least squares with robust (Huber) re-weighting, so a well-measured point pins the
model in the directions it is known and a flat point does not pull at all.
:func:`fuse_with_model` then combines each measurement with the fitted model point as two
Gaussians (the model is an isotropic prior), so points keep their measured position where the
image determines it and follow the model elsewhere.

:class:`ConditionalShape` places points the image cannot locate (a nose that a flat emoji does
not draw) from the ones it can (eyes, lips), by the Gaussian conditional of annotated shapes.

Convention: points are (N, 2) float64 pixel (x, y); information matrices are (N, 2, 2)
symmetric positive semi-definite, in pixels^-2.
"""

from __future__ import annotations

import math
from typing import Any

import attrs
import numpy as np
from numpy.typing import ArrayLike, NDArray

from faceshot_landmarks._arrays import readonly_copy
from faceshot_landmarks._shape import ShapePrior, procrustes_align, similarity_fit
from faceshot_landmarks.errors import MatchingError

__all__ = [
    "FACE_DEPTH",
    "ConditionalShape",
    "ShapeModel",
    "fit_shape_model",
    "fuse_with_model",
    "sample_image",
    "structure_information",
]


#: Rough depth of each iBUG point in front of the plane of the jaw's ends (points 0 and 16), in
#: face widths: the jaw's ends 0 and its chin 0.3, brows and eyes 0.2-0.36 (outer corners
#: deepest), the nose from 0.35 at its root to 0.6 at its tip, the lips 0.35 at the corners to
#: 0.5 in the middle. Coarse human anatomy (the order of the standard head-pose models: nose tip
#: ahead of the lips, the lips ahead of the eye corners), not fitted to any data: it only has to
#: say which points move most when a head turns.
FACE_DEPTH = np.concatenate(
    [
        0.3 * np.sin(np.pi * np.arange(17) / 16),  # jaw 0-16
        [0.2, 0.27, 0.32, 0.35, 0.36, 0.36, 0.35, 0.32, 0.27, 0.2],  # brows 17-26
        [0.35, 0.42, 0.5, 0.6, 0.45, 0.5, 0.55, 0.5, 0.45],  # nose 27-35
        [0.2, 0.27, 0.28, 0.3, 0.28, 0.27, 0.3, 0.28, 0.27, 0.2, 0.27, 0.28],  # eyes 36-47
        [0.35, 0.42, 0.48, 0.5, 0.48, 0.42, 0.35, 0.42, 0.47, 0.48, 0.47, 0.42],  # lips 48-59
        [0.37, 0.46, 0.48, 0.46, 0.37, 0.45, 0.46, 0.45],  # inner lips 60-67
    ]
)
FACE_DEPTH.setflags(write=False)

#: Width of the maps :func:`sample_image` hands to ``cv2.remap`` (which takes under 32767).
_REMAP_COLUMNS = 4096


def sample_image(image: ArrayLike, points: ArrayLike) -> NDArray[np.float64]:
    """Bilinear samples of a one-channel image at sub-pixel points (border replicated).

    Args:
        image: (H, W) array.
        points: (N, 2) float pixel (x, y).

    Returns:
        (N,) float64.
    """
    import cv2

    p = np.asarray(points, dtype=np.float64).reshape(-1, 2)
    n = p.shape[0]
    # cv2.remap's maps must be under 32767 wide: lay the points out in rows.
    cols = min(max(n, 1), _REMAP_COLUMNS)
    rows = -(-n // cols) if n else 1
    grid = np.zeros((rows * cols, 2), dtype=np.float32)
    grid[:n] = p
    x = np.ascontiguousarray(grid[:, 0].reshape(rows, cols))
    y = np.ascontiguousarray(grid[:, 1].reshape(rows, cols))
    img: Any = np.asarray(image)
    if img.dtype not in (np.uint8, np.float32):
        img = img.astype(np.float32)
    out = cv2.remap(img, x, y, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
    return np.asarray(out, dtype=np.float64).reshape(-1)[:n]


def structure_information(
    grey: ArrayLike, points: ArrayLike, sigma: float, *, coherence: float = 0.0
) -> NDArray[np.float64]:
    """Gradient structure tensor of an image at points, normalised to [0, 1] eigenvalues.

    ``J = G_sigma * (grad I grad I^T)`` (Sobel gradients, Gaussian window of standard deviation
    ``sigma`` pixels) is sampled at each point, divided by the 75th percentile of its trace over
    the points, and its eigenvalues are clipped to [0, 1]: 1 marks a direction in which the
    point is as well determined as a typical textured point of this face, 0 a direction with no
    image evidence (along an edge, or in a flat region).

    With ``coherence`` > 0 the weaker eigenvalue is further multiplied by ``(l2 / l1) **
    coherence`` (``l1 >= l2`` the raw eigenvalues): on a curved or anti-aliased outline the
    window sees some gradient along the edge, but a displacement along it is still
    unobservable (the aperture problem); a corner (``l2 ~ l1``) keeps both directions.

    Args:
        grey: (H, W) uint8 or float image.
        points: (N, 2) float pixel (x, y).
        sigma: window standard deviation in pixels (> 0).
        coherence: exponent of the along-edge damping (>= 0; 0: none).

    Returns:
        (N, 2, 2) float64 symmetric PSD, dimensionless.
    """
    import cv2

    if not sigma > 0:
        raise ValueError(f"`sigma` must be > 0; got {sigma!r}")
    if not coherence >= 0:
        raise ValueError(f"`coherence` must be >= 0; got {coherence!r}")
    g = np.asarray(grey, dtype=np.float32)
    gx: Any = np.asarray(cv2.Sobel(g, cv2.CV_32F, 1, 0, ksize=3), dtype=np.float32) / 8.0
    gy: Any = np.asarray(cv2.Sobel(g, cv2.CV_32F, 0, 1, ksize=3), dtype=np.float32) / 8.0
    jxx = sample_image(cv2.GaussianBlur(gx * gx, (0, 0), sigma), points)
    jxy = sample_image(cv2.GaussianBlur(gx * gy, (0, 0), sigma), points)
    jyy = sample_image(cv2.GaussianBlur(gy * gy, (0, 0), sigma), points)
    tensor = np.stack([np.stack([jxx, jxy], -1), np.stack([jxy, jyy], -1)], -2)
    ref = float(np.percentile(jxx + jyy, 75))
    if ref <= 1e-12:
        return np.zeros_like(tensor)
    vals, vecs = np.linalg.eigh(tensor / ref)  # ascending
    vals = np.maximum(vals, 0.0)
    if coherence > 0:
        ratio = vals[:, 0] / np.maximum(vals[:, 1], 1e-12)
        vals[:, 0] *= ratio**coherence
    vals = np.clip(vals, 0.0, 1.0)
    return np.asarray(np.einsum("nij,nj,nkj->nik", vecs, vals, vecs), dtype=np.float64)


@attrs.frozen
class ShapeModel:
    """A point-distribution model centred on one character's shape.

    ``shape(c) = mean + sum_k c_k modes[k]`` in a canonical frame (centred, unit Frobenius
    norm), placed in the image by a similarity.

    Attributes:
        mean: (N, 2) float64 canonical mean shape.
        modes: (m, N, 2) float64 deformation modes (canonical units), m >= 0.
        variances: (m,) float64 variance of each mode's coefficient.
    """

    mean: NDArray[np.float64] = attrs.field(converter=readonly_copy, eq=False)
    modes: NDArray[np.float64] = attrs.field(converter=readonly_copy, eq=False)
    variances: NDArray[np.float64] = attrs.field(converter=readonly_copy, eq=False)

    @classmethod
    def around(cls, shape: ArrayLike, prior: ShapePrior | None = None) -> ShapeModel:
        """The model whose mean is ``shape`` and whose modes are ``prior``'s.

        The prior's modes live in the frame of its own mean; they are carried into the frame
        of ``shape`` by the similarity that maps the prior's mean onto it (so "open the mouth"
        stays "open the mouth" for a rotated or scaled character).

        Args:
            shape: (N, 2) float pixel points (e.g. the character's matched landmarks).
            prior: a gallery :class:`ShapePrior` with N points (``None``: no modes, rigid).
        """
        p = np.asarray(shape, dtype=np.float64)
        centred = p - p.mean(axis=0)
        norm = float(np.linalg.norm(centred))
        if norm <= 0:
            raise MatchingError("shape model: all points of the shape coincide")
        mean = centred / norm
        if prior is None or prior.num_modes == 0:
            return cls(mean, np.zeros((0, *mean.shape)), np.zeros(0))
        s, r, _ = similarity_fit(np.asarray(prior.mean), mean)
        modes = s * np.asarray(prior.components).reshape(-1, *mean.shape) @ r.T
        return cls(mean, modes, np.asarray(prior.variances) * s * s)

    @property
    def num_modes(self) -> int:
        """m."""
        return int(self.modes.shape[0])

    def with_parallax(self, turn_sd: float, depth: ArrayLike = FACE_DEPTH) -> ShapeModel:
        """This model with two more modes: the head turning sideways and nodding.

        A small turn by ``theta`` radians moves each point across the face (along jaw point 0
        to 16; nodding: at right angles to that) by its depth times ``theta``, relative to the
        others: points ahead of the face (a nose tip) move more than its outline. On flat art
        the nose and the jaw along its outline show no motion of their own, and without these
        modes the fit moves them with the face's similarity alone.

        Args:
            turn_sd: standard deviation of the turn and of the nod, radians (> 0).
            depth: (N,) depth of each point in face widths (jaw points 0 to 16 of the mean;
                default :data:`FACE_DEPTH`, 68 points); its mean over the points is removed
                (the similarity carries a uniform shift).

        Returns:
            A new :class:`ShapeModel` with ``m + 2`` modes, variances ``turn_sd**2``.
        """
        z = np.asarray(depth, dtype=np.float64)
        if z.shape != (len(self.mean),) or not np.isfinite(z).all():
            raise ValueError(f"`depth` must be ({len(self.mean)},) finite; got shape {z.shape}")
        if not (math.isfinite(turn_sd) and turn_sd > 0):
            raise ValueError(f"`turn_sd` must be a positive number; got {turn_sd!r}")
        axis = self.mean[16] - self.mean[0]  # across the face, whatever its roll
        width = float(np.linalg.norm(axis))
        if width <= 0:
            raise MatchingError("shape model: jaw points 0 and 16 coincide; no face width")
        across = axis / width
        down = np.array([-across[1], across[0]])
        shift = (z - z.mean()) * width
        turn = np.stack([shift[:, None] * across, shift[:, None] * down])
        return ShapeModel(
            self.mean,
            np.concatenate([self.modes, turn]),
            np.concatenate([self.variances, [turn_sd**2, turn_sd**2]]),
        )


@attrs.frozen
class ModelFit:
    """Result of :func:`fit_shape_model`.

    Attributes:
        points: (N, 2) float64 model points in the image (pixels).
        weights: (N,) float64 robust weights in (0, 1] (small = outlying measurement).
        coefficients: (m,) float64 mode coefficients.
        scale: float, pixels per canonical unit (the similarity's scale).
    """

    points: NDArray[np.float64] = attrs.field(converter=readonly_copy, eq=False)
    weights: NDArray[np.float64] = attrs.field(converter=readonly_copy, eq=False)
    coefficients: NDArray[np.float64] = attrs.field(converter=readonly_copy, eq=False)
    scale: float


def _similarity_jacobian(shape: NDArray[np.float64]) -> NDArray[np.float64]:
    """(N, 2, 4) d(point)/d(a, b, tx, ty) of ``x = [[a, -b], [b, a]] shape + t``."""
    n = len(shape)
    jac = np.zeros((n, 2, 4))
    jac[:, 0, 0] = shape[:, 0]
    jac[:, 0, 1] = -shape[:, 1]
    jac[:, 0, 2] = 1.0
    jac[:, 1, 0] = shape[:, 1]
    jac[:, 1, 1] = shape[:, 0]
    jac[:, 1, 3] = 1.0
    return jac


def fit_shape_model(
    observations: ArrayLike,
    information: ArrayLike,
    model: ShapeModel,
    *,
    ridge: float = 1.0,
    max_sd: float = 3.0,
    iterations: int = 4,
    huber: float = 2.0,
) -> ModelFit:
    """Fit a :class:`ShapeModel` to points measured with anisotropic confidence.

    Minimises ``sum_i w_i r_i^T G_i r_i + ridge * sum_k c_k^2 / var_k`` over the similarity
    ``(a, b, t)`` and the mode coefficients ``c``, with ``r_i = x_i(a, b, t, c) - y_i``, by
    alternating two linear solves (the similarity for fixed ``c``, then ``c`` for a fixed
    similarity); ``w_i`` are Huber weights of the Mahalanobis residuals (threshold ``huber``),
    recomputed every iteration, and coefficients are clamped to +-``max_sd`` standard deviations.

    Args:
        observations: (N, 2) float pixel measurements ``y``.
        information: (N, 2, 2) float PSD information matrices ``G`` (pixels^-2); the similarity
            must be determined by them (at least two points with information in some direction).
        model: the shape model (N points).
        ridge: weight of the coefficient prior, in units of the mode variances.
        max_sd: coefficient clamp in standard deviations.
        iterations: alternations (each with re-weighting).
        huber: Huber threshold on the Mahalanobis residual (in standard deviations).

    Returns:
        :class:`ModelFit` in image pixels.

    Raises:
        MatchingError: the information does not determine a similarity.
    """
    y = np.asarray(observations, dtype=np.float64)
    info = np.asarray(information, dtype=np.float64)
    n = len(model.mean)
    if y.shape != (n, 2) or info.shape != (n, 2, 2):
        raise ValueError(
            f"`observations` must be ({n}, 2) and `information` ({n}, 2, 2); got {y.shape} and {info.shape}"
        )
    m = model.num_modes
    coeffs = np.zeros(m)
    weights = np.ones(n)
    sd = np.sqrt(np.maximum(model.variances, 1e-12))
    a_mat = np.eye(2)
    t = np.zeros(2)
    for _ in range(max(1, iterations)):
        shape = model.mean + np.tensordot(coeffs, model.modes, 1) if m else model.mean
        gw = info * weights[:, None, None]
        jac = _similarity_jacobian(shape)
        lhs = np.einsum("nai,nab,nbj->ij", jac, gw, jac)
        rhs = np.einsum("nai,nab,nb->i", jac, gw, y)
        if np.linalg.cond(lhs) > 1e12:
            raise MatchingError(
                "shape fit: the measurements do not determine the face's position, scale and rotation"
            )
        theta = np.linalg.solve(lhs, rhs)
        a_mat = np.array([[theta[0], -theta[1]], [theta[1], theta[0]]])
        t = theta[2:]
        if m:
            jm = np.einsum("ab,knb->nak", a_mat, model.modes)
            resid = y - (model.mean @ a_mat.T + t)
            lhs_m = np.einsum("nak,nab,nbl->kl", jm, gw, jm) + ridge * np.diag(1.0 / sd**2)
            rhs_m = np.einsum("nak,nab,nb->k", jm, gw, resid)
            coeffs = np.clip(np.linalg.solve(lhs_m, rhs_m), -max_sd * sd, max_sd * sd)
            shape = model.mean + np.tensordot(coeffs, model.modes, 1)
        x = shape @ a_mat.T + t
        r = y - x
        dist = np.sqrt(np.maximum(np.einsum("na,nab,nb->n", r, info, r), 0.0))
        weights = np.where(dist > huber, huber / np.maximum(dist, 1e-12), 1.0)
    scale = float(np.sqrt(abs(np.linalg.det(a_mat))))
    return ModelFit(shape @ a_mat.T + t, weights, coeffs, scale)


def fuse_with_model(
    observations: ArrayLike,
    information: ArrayLike,
    model_points: ArrayLike,
    model_information: float,
) -> NDArray[np.float64]:
    """Posterior mean of two Gaussian estimates of each point: a measurement and the model.

    ``p_i = (G_i + lambda I)^-1 (G_i y_i + lambda x_i)``.

    Args:
        observations: (N, 2) float pixel measurements ``y``.
        information: (N, 2, 2) float PSD information ``G`` of the measurements (pixels^-2).
        model_points: (N, 2) float pixel model points ``x``.
        model_information: ``lambda`` > 0, isotropic information of the model (pixels^-2).

    Returns:
        (N, 2) float64 pixels.
    """
    if not model_information > 0:
        raise ValueError(f"`model_information` must be > 0; got {model_information!r}")
    y = np.asarray(observations, dtype=np.float64)
    g = np.asarray(information, dtype=np.float64)
    x = np.asarray(model_points, dtype=np.float64)
    lhs = g + model_information * np.eye(2)[None]
    rhs = np.einsum("nab,nb->na", g, y) + model_information * x
    return np.asarray(np.linalg.solve(lhs, rhs[..., None])[..., 0], dtype=np.float64)


def _indices(values: ArrayLike, name: str, n: int) -> NDArray[np.intp]:
    idx = np.asarray(values, dtype=np.intp).reshape(-1)
    if idx.size == 0 or np.any(idx < 0) or np.any(idx >= n) or len(np.unique(idx)) != idx.size:
        raise ValueError(
            f"`{name}` must be distinct point indices in [0, {n}); got {np.asarray(values).tolist()}"
        )
    return idx


@attrs.frozen
class ConditionalShape:
    """Some points of a shape predicted from others: the Gaussian conditional of annotated shapes.

    The annotated shapes are aligned on the ``known`` points alone (generalised Procrustes,
    :func:`~faceshot_landmarks._shape.procrustes_align`, canonical frame: the known points'
    mean centred with unit Frobenius norm), and the aligned coordinates are modelled as one
    Gaussian (mean ``mu``, covariance ``C``). A shape's known points ``y_k``, carried into
    the canonical frame by the similarity that best maps them onto the known mean, give the
    unknown ones as ``mu_u + C_uk (C_kk + noise I)^-1 (y_k - mu_k)``, carried back. ``noise``
    is the variance (canonical units) of a known point's measurement: it keeps the solve well
    posed with few shapes and shrinks the prediction toward the mean layout.

    Attributes:
        known: (k,) intp indices of the points the prediction uses.
        unknown: (u,) intp indices of the predicted points (disjoint from ``known``).
        reference: (k, 2) float64 canonical mean of the known points.
        mean_known: (2k,) float64 ``mu_k`` (x, y interleaved).
        mean_unknown: (u, 2) float64 ``mu_u``.
        gain: (2u, 2k) float64 ``C_uk (C_kk + noise I)^-1``.
    """

    known: NDArray[np.intp] = attrs.field(converter=readonly_copy, eq=False)
    unknown: NDArray[np.intp] = attrs.field(converter=readonly_copy, eq=False)
    reference: NDArray[np.float64] = attrs.field(converter=readonly_copy, eq=False)
    mean_known: NDArray[np.float64] = attrs.field(converter=readonly_copy, eq=False)
    mean_unknown: NDArray[np.float64] = attrs.field(converter=readonly_copy, eq=False)
    gain: NDArray[np.float64] = attrs.field(converter=readonly_copy, eq=False)

    @classmethod
    def from_shapes(
        cls, shapes: ArrayLike, known: ArrayLike, unknown: ArrayLike, *, noise: float
    ) -> ConditionalShape:
        """Learn the conditional from annotated shapes.

        Args:
            shapes: (S, N, 2) float pixel annotations (any poses and scales), S >= 1 (with one
                shape the prediction is that shape's layout, moved with the known points).
            known: indices of the points the prediction uses (at least 2).
            unknown: indices of the points to predict (disjoint from ``known``).
            noise: variance of a known point's measurement, canonical units (> 0).

        Raises:
            ValueError: bad shapes, indices or ``noise``.
        """
        x = np.asarray(shapes, dtype=np.float64)
        if x.ndim != 3 or x.shape[2] != 2 or len(x) == 0:
            raise ValueError(f"`shapes` must be (S, N, 2) with S >= 1; got {x.shape}")
        kn = _indices(known, "known", x.shape[1])
        un = _indices(unknown, "unknown", x.shape[1])
        if len(kn) < 2 or np.intersect1d(kn, un).size:
            raise ValueError("`known` needs at least 2 points and must not overlap `unknown`")
        if not noise > 0:
            raise ValueError(f"`noise` must be > 0; got {noise!r}")
        # a canonical frame only: 3 rounds settle it (10 cost 0.7 s on the 221 default shapes)
        _, reference = procrustes_align(x[:, kn], iterations=3)
        rows = []
        for shape in x:
            s, r, t = similarity_fit(shape[kn], reference)
            rows.append((s * shape @ r.T + t)[np.concatenate([kn, un])].reshape(-1))
        data = np.asarray(rows)
        mu = data.mean(axis=0)
        centred = data - mu
        cov = centred.T @ centred / max(len(data) - 1, 1)
        nk = 2 * len(kn)
        gain = np.linalg.solve(cov[:nk, :nk] + noise * np.eye(nk), cov[:nk, nk:]).T
        return cls(kn, un, reference, mu[:nk], mu[nk:].reshape(-1, 2), gain)

    def predict(self, points: ArrayLike) -> NDArray[np.float64]:
        """``points`` with the unknown ones replaced by their conditional mean.

        Args:
            points: (N, 2) float pixel points (the known ones are used; others are kept).

        Returns:
            (N, 2) float64 pixels (a new array).
        """
        p = np.array(points, dtype=np.float64)
        s, r, t = similarity_fit(p[self.known], self.reference)
        y = (s * p[self.known] @ r.T + t).reshape(-1)
        canon = self.mean_unknown + (self.gain @ (y - self.mean_known)).reshape(-1, 2)
        p[self.unknown] = ((canon - t) @ r) / s
        return p
