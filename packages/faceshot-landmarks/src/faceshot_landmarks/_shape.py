"""A robust point-distribution shape prior (Procrustes-aligned PCA), replacing the official
ellipse refit as geometric regularisation of matched landmarks.

Model: a canonical shape ``s(b) = mean + b @ components`` (68 x 2, unit Frobenius norm mean,
centred) placed in the image by a similarity ``T`` (scale, rotation, translation). Fitting to
observed points ``y`` with per-point confidences alternates a weighted similarity estimate
(Umeyama) and a ridge-regularised, variance-clamped coefficient solve; robust weights come from
the residuals by IRLS (Huber for the first iterations, then Tukey's biweight, with the scale
estimated by the weighted median absolute residual), so a few wrong matches get ~zero weight.

The corrected points keep each observation within ``clamp`` (a fraction of the face size,
the RMS distance of the model points from their centroid) of the fitted model: inliers are
unchanged, outliers are pulled back onto the model (a Huber-style shrink of the residual).
"""

from __future__ import annotations

import attrs
import numpy as np
from faceshot_retarget import DegenerateLandmarksError, SimilarityTransform, as_points
from faceshot_retarget.ibug68 import NUM_POINTS
from numpy.typing import ArrayLike, NDArray

from faceshot_landmarks._arrays import readonly_copy
from faceshot_landmarks.errors import MatchingError

__all__ = ["PriorFit", "ShapePrior", "procrustes_align", "similarity_fit"]


def similarity_fit(
    src: NDArray[np.float64], dst: NDArray[np.float64], weights: NDArray[np.float64] | None = None
) -> tuple[float, NDArray[np.float64], NDArray[np.float64]]:
    """Weighted least-squares similarity (Umeyama) mapping ``src`` onto ``dst``.

    The ``(scale, R, t)`` form of :meth:`faceshot_retarget.SimilarityTransform.from_estimate`
    (the one Umeyama fit), for the shape-model loops that apply the parts separately.

    Args:
        src: (N, 2) float64 points.
        dst: (N, 2) float64 points.
        weights: (N,) float64 non-negative, or ``None`` for uniform.

    Returns:
        ``(scale, R, t)``: float, (2, 2) rotation, (2,) translation with ``dst ~ scale * src @ R.T + t``.
        When the weighted ``src`` points coincide: scale 1, no rotation, and the weighted
        centroid of ``src`` moved onto that of ``dst``.

    Raises:
        MatchingError: the weights sum to zero.
    """
    w = None if weights is None else np.asarray(weights, dtype=np.float64)
    if w is not None and float(w.sum()) <= 0:
        raise MatchingError("similarity fit needs positive total weight; all weights are zero")
    try:
        tf = SimilarityTransform.from_estimate(src, dst, w)
    except DegenerateLandmarksError:
        wn = np.full(len(src), 1.0 / len(src)) if w is None else w / float(w.sum())
        return 1.0, np.eye(2), np.asarray(wn @ dst - wn @ src, dtype=np.float64)
    scale = tf.scale
    return scale, tf.matrix[:2, :2] / scale, tf.translation


def procrustes_align(
    shapes: ArrayLike, *, iterations: int = 10
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Generalised Procrustes analysis.

    Args:
        shapes: (N, 68, 2) float64 pixel shapes (any scale/pose).

    Returns:
        ``(aligned, mean)``: (N, 68, 2) shapes aligned to the mean by similarities, and the
        (68, 2) mean, centred with unit Frobenius norm.
    """
    x = np.asarray(shapes, dtype=np.float64)
    mean = _normalise(x[0])
    aligned = x.copy()
    for _ in range(iterations):
        for n in range(len(x)):
            s, r, t = similarity_fit(x[n], mean)
            aligned[n] = s * x[n] @ r.T + t
        new_mean = aligned.mean(axis=0)
        s, r, t = similarity_fit(new_mean, mean)  # keep the mean's orientation fixed
        new_mean = _normalise(s * new_mean @ r.T + t)
        if np.max(np.abs(new_mean - mean)) < 1e-10:
            mean = new_mean
            break
        mean = new_mean
    return aligned, mean


def _normalise(shape: NDArray[np.float64]) -> NDArray[np.float64]:
    c = shape - shape.mean(axis=0)
    n = float(np.linalg.norm(c))
    if n <= 0:
        raise MatchingError("shape prior: an annotation has all 68 points at one location")
    return np.asarray(c / n, dtype=np.float64)


@attrs.frozen
class PriorFit:
    """Result of :meth:`ShapePrior.fit`.

    Attributes:
        points: (68, 2) float64 corrected points (observations, outliers pulled back), pixels.
        model: (68, 2) float64 the fitted model shape, pixels.
        weights: (68,) float64 final robust weights in [0, 1] (0 = rejected as outlier).
        coefficients: (m,) float64 shape coefficients.
        scale: float, face size in pixels (RMS distance of model points from their centroid).
    """

    points: NDArray[np.float64] = attrs.field(converter=readonly_copy, eq=False)
    model: NDArray[np.float64] = attrs.field(converter=readonly_copy, eq=False)
    weights: NDArray[np.float64] = attrs.field(converter=readonly_copy, eq=False)
    coefficients: NDArray[np.float64] = attrs.field(converter=readonly_copy, eq=False)
    scale: float


def _svd_flip(components: NDArray[np.float64]) -> NDArray[np.float64]:
    """Deterministic signs: the largest-magnitude entry of each component is positive."""
    signs = np.sign(components[np.arange(len(components)), np.argmax(np.abs(components), axis=1)])
    signs[signs == 0] = 1.0
    return components * signs[:, None]  # type: ignore[no-any-return]


@attrs.frozen
class ShapePrior:
    """Procrustes-aligned PCA point distribution model of 68-point shapes.

    Attributes:
        mean: (68, 2) float64 canonical mean shape (centred, unit Frobenius norm).
        components: (m, 136) float64 orthonormal shape modes (m may be 0).
        variances: (m,) float64 variance of each mode.
    """

    mean: NDArray[np.float64] = attrs.field(converter=readonly_copy, eq=False)
    components: NDArray[np.float64] = attrs.field(converter=readonly_copy, eq=False)
    variances: NDArray[np.float64] = attrs.field(converter=readonly_copy, eq=False)

    @classmethod
    def from_annotations(
        cls, shapes: ArrayLike, *, variance: float = 0.95, max_components: int | None = None
    ) -> ShapePrior:
        """Build the model from annotated shapes (PCA on Procrustes-aligned shapes).

        Args:
            shapes: (N, 68, 2) or (68, 2) float pixel landmarks, N >= 1 (N == 1 gives a rigid
                model with no modes).
            variance: fraction of the aligned-shape variance the kept modes explain, in (0, 1].
            max_components: upper bound on the number of modes.

        Raises:
            ValueError: bad ``variance``; LandmarkShapeError on bad shapes.
        """
        pts = as_points(shapes, "shapes")
        if not 0 < variance <= 1:
            raise ValueError(f"`variance` must be in (0, 1]; got {variance}")
        aligned, mean = procrustes_align(pts)
        n = len(pts)
        limit = n - 1 if max_components is None else min(n - 1, int(max_components))
        if limit <= 0:
            return cls(mean, np.zeros((0, 2 * NUM_POINTS)), np.zeros(0))
        # PCA by SVD of the centred data (what scikit-learn's PCA(svd_solver="full") computes,
        # tested against it) without importing scikit-learn at match time (~2 s start-up).
        data = aligned.reshape(n, -1)
        centred = data - data.mean(axis=0)
        _, sing, vt = np.linalg.svd(centred, full_matrices=False)
        explained = sing**2 / (n - 1)
        total = explained.sum()
        if total <= 0:
            return cls(mean, np.zeros((0, 2 * NUM_POINTS)), np.zeros(0))
        components = _svd_flip(vt[:limit])
        ratio = np.cumsum(explained[:limit] / total)
        keep = min(limit, int(np.searchsorted(ratio, variance - 1e-12)) + 1)
        return cls(mean, components[:keep], explained[:keep])

    @property
    def num_modes(self) -> int:
        """m, the number of shape modes."""
        return int(self.components.shape[0])

    def shape(self, coefficients: ArrayLike | None = None) -> NDArray[np.float64]:
        """The canonical (68, 2) float64 shape for (m,) ``coefficients`` (``None``: the mean)."""
        if coefficients is None or self.num_modes == 0:
            return np.array(self.mean)
        b = np.asarray(coefficients, dtype=np.float64)
        return self.mean + (b @ self.components).reshape(NUM_POINTS, 2)

    def fit(
        self,
        points: ArrayLike,
        weights: ArrayLike | None = None,
        *,
        iterations: int = 12,
        clamp: float = 0.08,
        max_sd: float = 3.0,
        ridge: float = 1e-3,
    ) -> PriorFit:
        """Robustly fit the model to observed points and pull outliers back.

        Args:
            points: (68, 2) float pixel observations (e.g. raw matches).
            weights: (68,) float non-negative confidences (``None``: uniform).
            iterations: IRLS iterations (the first third use Huber weights, the rest Tukey's).
            clamp: largest allowed distance of a corrected point from the model, as a fraction
                of the face size; 0 returns the model itself.
            max_sd: coefficients are clamped to +-max_sd standard deviations per mode.
            ridge: Tikhonov weight on coefficients (in units of mode variance).

        Returns:
            :class:`PriorFit` (pixels of the observed image).
        """
        y = as_points(points, "points")[0]
        c = (
            np.ones(NUM_POINTS)
            if weights is None
            else np.asarray(weights, dtype=np.float64).reshape(-1)
        )
        if c.shape != (NUM_POINTS,) or not np.all(np.isfinite(c)) or np.any(c < 0):
            raise ValueError(f"`weights` must be (68,) finite and >= 0; got shape {c.shape}")
        c = c / c.max() if c.max() > 0 else np.ones(NUM_POINTS)
        c = np.maximum(c, 1e-3)
        robust = np.ones(NUM_POINTS)
        b = np.zeros(self.num_modes)
        sd = np.sqrt(np.maximum(self.variances, 1e-12))
        scale_px = 1.0
        model = y
        for it in range(max(1, iterations)):
            w = c * robust
            s = self.shape(b)
            k, r, t = similarity_fit(s, y, w)
            scale_px = k * _rms(s)
            if self.num_modes:
                # Solve b in the canonical frame: (y - t) R / k ~ mean + b P.
                yc = ((y - t) @ r) / k
                a = self.components.T  # (136, m)
                wv = np.repeat(w, 2)
                lhs = (a.T * wv) @ a + ridge * np.diag(1.0 / sd**2)
                rhs = (a.T * wv) @ (yc - self.mean).reshape(-1)
                b = np.clip(np.linalg.solve(lhs, rhs), -max_sd * sd, max_sd * sd)
                s = self.shape(b)
                k, r, t = similarity_fit(s, y, w)
                scale_px = k * _rms(s)
            model = k * s @ r.T + t
            e = np.linalg.norm(y - model, axis=1)
            sigma = max(1.4826 * _weighted_median(e, c), 1e-3 * scale_px)
            if it < max(1, iterations // 3):
                kh = 1.345 * sigma
                robust = np.minimum(1.0, kh / np.maximum(e, 1e-12))
            else:
                kt = 4.685 * sigma
                robust = np.where(e < kt, (1 - (e / kt) ** 2) ** 2, 0.0)
        resid = y - model
        e = np.linalg.norm(resid, axis=1)
        tau = clamp * scale_px
        shrink = np.minimum(1.0, tau / np.maximum(e, 1e-12)) if tau > 0 else np.zeros(NUM_POINTS)
        return PriorFit(model + resid * shrink[:, None], model, robust, b, float(scale_px))


def _rms(shape: NDArray[np.float64]) -> float:
    c = shape - shape.mean(axis=0)
    return float(np.sqrt(np.mean(np.sum(c * c, axis=1))))


def _weighted_median(values: NDArray[np.float64], weights: NDArray[np.float64]) -> float:
    order = np.argsort(values)
    cw = np.cumsum(weights[order])
    return float(values[order][np.searchsorted(cw, 0.5 * cw[-1])])
