"""2-D similarity transforms and pixel-grid rescaling: the one implementation of each.

Convention (as everywhere in faceshot): points are (..., 2) float64 pixel ``(x, y)`` with
the origin at the centre of the top-left pixel, +y down. Image sizes are ``(H, W)``.

:class:`SimilarityTransform` follows scikit-image's transform API: build it with
:meth:`SimilarityTransform.from_estimate` (weighted Umeyama least squares, never a
reflection), call it on points, take ``.inverse`` and ``.residuals``; instances are
immutable.
"""

from __future__ import annotations

from typing import Any

import attrs
import numpy as np
from numpy.typing import ArrayLike, NDArray

from faceshot_retarget.errors import DegenerateLandmarksError, LandmarkShapeError

__all__ = ["SimilarityTransform", "mirror_landmarks", "rescale_points"]

F64 = NDArray[np.float64]


def rescale_points(points: ArrayLike, from_size: tuple[int, int], to_size: tuple[int, int]) -> F64:
    """Map pixel coordinates between two resolutions of the same image.

    ``x' = (x + 0.5) * W' / W - 0.5`` and ``y' = (y + 0.5) * H' / H - 0.5``: pixel
    centres map onto pixel centres, so the image's outer edges map onto each other.

    Args:
        points: (..., 2) float64 pixel (x, y) in an image of ``from_size``.
        from_size: (H, W) of the image the points belong to, pixels (> 0).
        to_size: (H', W') of the target image, pixels (> 0).

    Returns:
        (..., 2) float64 pixel (x, y) in the ``to_size`` image (a new array).

    Raises:
        LandmarkShapeError: ``points`` is not (..., 2).
        ValueError: a size is not two positive numbers.
    """
    p = np.asarray(points, dtype=np.float64)
    if p.ndim == 0 or p.shape[-1] != 2:
        raise LandmarkShapeError(f"`points` must have shape (..., 2); got {p.shape}")
    for name, size in (("from_size", from_size), ("to_size", to_size)):
        if len(size) != 2 or not all(np.isfinite(v) and v > 0 for v in size):
            raise ValueError(f"`{name}` must be (H, W) with positive entries; got {size!r}")
    factor = np.array([to_size[1] / from_size[1], to_size[0] / from_size[0]], dtype=np.float64)
    return (p + 0.5) * factor - 0.5


def mirror_landmarks(points: ArrayLike, width: int) -> F64:
    """Landmarks of the left-right mirrored image: ``x -> W - 1 - x``, then iBUG indices
    swapped by :data:`faceshot_retarget.ibug68.MIRROR` (the subject's right eye stays the
    right eye of the mirrored face).

    Args:
        points: (..., 68, 2) float64 pixel (x, y) in an image ``width`` pixels wide.
        width: W of that image, pixels (> 0).

    Returns:
        (..., 68, 2) float64 pixel (x, y) in the mirrored image ``image[:, ::-1]`` (a new
        array); mirroring twice gives the input back.

    Raises:
        LandmarkShapeError: ``points`` is not (..., 68, 2).
        ValueError: ``width`` is not positive.
    """
    from faceshot_retarget.ibug68 import MIRROR, NUM_POINTS

    p = np.asarray(points, dtype=np.float64)
    if p.ndim < 2 or p.shape[-2:] != (NUM_POINTS, 2):
        raise LandmarkShapeError(f"`points` must have shape (..., {NUM_POINTS}, 2); got {p.shape}")
    if not (np.isfinite(width) and width > 0):
        raise ValueError(f"`width` must be a positive number of pixels; got {width!r}")
    out = p[..., MIRROR, :].copy()
    out[..., 0] = width - 1 - out[..., 0]
    return out


def _as_matrix(value: ArrayLike) -> F64:
    m = np.array(value, dtype=np.float64)
    if m.shape != (3, 3):
        raise ValueError(f"`matrix` must have shape (3, 3); got {m.shape}")
    if not np.all(np.isfinite(m)):
        raise ValueError("`matrix` must be finite")
    m.setflags(write=False)
    return m


@attrs.frozen
class SimilarityTransform:
    """A 2-D similarity ``x -> s R x + t`` (no reflection), as a read-only 3x3 matrix.

    Attributes:
        matrix: (3, 3) float64 homogeneous matrix ``[[s R, t], [0, 0, 1]]`` acting on
            column vectors ``(x, y, 1)``.

    Examples:
        >>> tf = SimilarityTransform.from_params(scale=2.0, rotation=0.0, translation=(1, 0))
        >>> tf([[1.0, 1.0]]).tolist()
        [[3.0, 2.0]]
        >>> tf.inverse(tf([[1.0, 1.0]])).tolist()
        [[1.0, 1.0]]
    """

    matrix: F64 = attrs.field(converter=_as_matrix, eq=attrs.cmp_using(eq=np.array_equal))

    # ----------------------------------------------------------------- constructors
    @classmethod
    def identity(cls) -> SimilarityTransform:
        """The identity transform."""
        return cls(np.eye(3))

    @classmethod
    def from_params(
        cls, *, scale: float = 1.0, rotation: float = 0.0, translation: ArrayLike = (0.0, 0.0)
    ) -> SimilarityTransform:
        """Build from scale (> 0), rotation (radians, counter-clockwise in (x, y) axes with
        +y down, i.e. clockwise on screen) and translation (2,) pixels."""
        if not (np.isfinite(scale) and scale > 0):
            raise ValueError(f"`scale` must be a positive number; got {scale!r}")
        t = np.asarray(translation, dtype=np.float64)
        if t.shape != (2,):
            raise ValueError(f"`translation` must have shape (2,); got {t.shape}")
        c, s = scale * np.cos(rotation), scale * np.sin(rotation)
        return cls(np.array([[c, -s, t[0]], [s, c, t[1]], [0.0, 0.0, 1.0]]))

    @classmethod
    def from_estimate(
        cls, src: ArrayLike, dst: ArrayLike, weights: ArrayLike | None = None
    ) -> SimilarityTransform:
        """Weighted least-squares similarity mapping ``src`` onto ``dst`` (Umeyama 1991).

        Minimises ``sum_i w_i |s R src_i + t - dst_i|^2`` over scale, rotation (no
        reflection) and translation.

        Args:
            src: (N, 2) float64 points (x, y), N >= 2.
            dst: (N, 2) float64 points (x, y).
            weights: (N,) non-negative weights, or ``None`` for uniform.

        Returns:
            The fitted transform.

        Raises:
            LandmarkShapeError: mismatched or wrong shapes.
            DegenerateLandmarksError: zero total weight, or the weighted ``src`` points all
                coincide (no scale or rotation is defined).
        """
        a = np.asarray(src, dtype=np.float64)
        b = np.asarray(dst, dtype=np.float64)
        if a.ndim != 2 or a.shape[1] != 2 or a.shape != b.shape:
            raise LandmarkShapeError(
                f"`src` and `dst` must both have shape (N, 2); got {a.shape} and {b.shape}"
            )
        w = np.ones(len(a)) if weights is None else np.asarray(weights, dtype=np.float64)
        if w.shape != (len(a),) or np.any(w < 0) or not np.all(np.isfinite(w)):
            raise ValueError(f"`weights` must be {len(a)} finite non-negative numbers")
        total = float(w.sum())
        if total <= 0:
            raise DegenerateLandmarksError("`weights` sum to zero: no similarity can be fitted")
        w = w / total
        mu_a, mu_b = w @ a, w @ b
        ac, bc = a - mu_a, b - mu_b
        var = float(w @ (ac * ac).sum(axis=1))
        if var <= 1e-24:
            raise DegenerateLandmarksError(
                "`src` points coincide (zero spread): no similarity can be fitted"
            )
        cov = (bc * w[:, None]).T @ ac
        u, sv, vt = np.linalg.svd(cov)
        d = np.sign(np.linalg.det(u @ vt)) or 1.0
        fix = np.array([1.0, d])
        rot = (u * fix) @ vt
        scale = float((sv * fix).sum()) / var
        m = np.eye(3)
        m[:2, :2] = scale * rot
        m[:2, 2] = mu_b - scale * rot @ mu_a
        return cls(m)

    # ----------------------------------------------------------------- parameters
    @property
    def scale(self) -> float:
        """Isotropic scale factor (> 0)."""
        return float(np.hypot(self.matrix[0, 0], self.matrix[1, 0]))

    @property
    def rotation(self) -> float:
        """Rotation angle, radians in (-pi, pi]."""
        return float(np.arctan2(self.matrix[1, 0], self.matrix[0, 0]))

    @property
    def translation(self) -> F64:
        """(2,) translation, pixels."""
        return self.matrix[:2, 2].copy()

    @property
    def params(self) -> F64:
        """(2, 3) affine matrix ``[s R | t]`` (the form OpenCV's ``warpAffine`` takes)."""
        return self.matrix[:2].copy()

    # ----------------------------------------------------------------- application
    def __call__(self, points: ArrayLike) -> F64:
        """Apply to (..., 2) float64 points (x, y); returns a new (..., 2) array."""
        p = np.asarray(points, dtype=np.float64)
        if p.ndim == 0 or p.shape[-1] != 2:
            raise LandmarkShapeError(f"`points` must have shape (..., 2); got {p.shape}")
        return p @ self.matrix[:2, :2].T + self.matrix[:2, 2]

    @property
    def inverse(self) -> SimilarityTransform:
        """The inverse transform."""
        return SimilarityTransform(np.linalg.inv(self.matrix))

    def __matmul__(self, other: Any) -> SimilarityTransform:
        """Composition: ``(a @ b)(x) == a(b(x))``."""
        if not isinstance(other, SimilarityTransform):
            return NotImplemented
        return SimilarityTransform(self.matrix @ other.matrix)

    def residuals(self, src: ArrayLike, dst: ArrayLike) -> F64:
        """(N,) Euclidean distances ``|self(src_i) - dst_i|``, pixels."""
        b = np.asarray(dst, dtype=np.float64)
        out: F64 = np.linalg.norm(self(src) - b, axis=-1)
        return out
