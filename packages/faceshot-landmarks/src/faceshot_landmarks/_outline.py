"""Points the drawing fixes better than the matcher: the jaw and undrawn brows.

The matcher places points by appearance, but on flat art the skin around the jaw and the brows
looks the same everywhere. The gallery's character annotations (``scripts/derive_twemoji_
landmarks.py``, ``scripts/annotate_keypoints.py``) follow two rules for these points, applied
here to an image:

* the jaw (iBUG 0-16): 17 points evenly spaced along the face's outline, from eye level on one
  side, round the chin, to eye level on the other (:func:`jaw_on_outline`, which takes which
  outline it is, face and not ear, hair or whisker, from the matched jaw);
* a brow that is not drawn (iBUG 17-21, 22-26): an arc spanning its eye, a tenth of the eye
  distance above it (:func:`undrawn_brows`); :func:`brows_where_undrawn` keeps matched brows
  that lie on a drawn stroke (:func:`brow_stroke`) and places the others by the rule.
"""

from __future__ import annotations

import attrs
import numpy as np
from faceshot_retarget.ibug68 import JAW, LEFT_BROW, LEFT_EYE, RIGHT_BROW, RIGHT_EYE
from numpy.typing import ArrayLike, NDArray

from faceshot_landmarks._shape_fit import sample_image

__all__ = [
    "BrowConfig",
    "OutlineConfig",
    "brow_stroke",
    "brows_where_undrawn",
    "jaw_on_outline",
    "resample_polyline",
    "undrawn_brows",
]


def _positive(instance: object, attribute: attrs.Attribute[float], value: float) -> None:
    if not value > 0:
        raise ValueError(f"{type(instance).__name__} `{attribute.name}` must be > 0, got {value!r}")


@attrs.frozen
class OutlineConfig:
    """Settings of :func:`jaw_on_outline`.

    Attributes:
        window: half-width, in face widths, of the band around the matched jaw searched for the
            outline along each ray.
        edge: least colour step (sum over R, G, B of the absolute difference, 0-765, across
            ``2 * step`` pixels), after the ``prefer`` weighting, that counts as an outline;
            where no step reaches it the matched jaw is kept on that ray.
        prefer: standard deviation, in units of ``window``, of the Gaussian that prefers
            steps near the matched jaw (the face's own outline over an ear or hair farther out).
        rays: rays cast from the eyes' midpoint over the half-plane below the eye line.
        step: pixels on each side of a ray sample over which the colour step is measured.
    """

    window: float = attrs.field(default=0.1, validator=_positive)
    edge: float = attrs.field(default=40.0, validator=_positive)
    prefer: float = attrs.field(default=0.5, validator=_positive)
    rays: int = attrs.field(default=181, validator=attrs.validators.ge(17))
    step: float = attrs.field(default=1.5, validator=_positive)


def resample_polyline(points: ArrayLike, n: int) -> NDArray[np.float64]:
    """``n`` points evenly spaced by arc length along an open polyline, ends kept.

    Args:
        points: (K, 2) pixel (x, y) polyline, K >= 2.
        n: number of output points, >= 2.

    Returns:
        (n, 2) float64 pixel (x, y).
    """
    p = np.asarray(points, dtype=np.float64).reshape(-1, 2)
    s = np.concatenate([[0.0], np.cumsum(np.linalg.norm(np.diff(p, axis=0), axis=1))])
    if s[-1] <= 0.0:
        return np.repeat(p[:1], n, axis=0)
    t = np.linspace(0.0, s[-1], n)
    return np.stack([np.interp(t, s, p[:, 0]), np.interp(t, s, p[:, 1])], axis=1)


def _sample_rgb(image: ArrayLike, points: NDArray[np.float64]) -> NDArray[np.float64]:
    """Bilinear (..., C) samples of an (H, W, C) image, or (..., 1) of an (H, W) one, at
    (..., 2) pixel points."""
    img = np.asarray(image)
    if img.ndim == 2:
        img = img[..., None]
    flat = points.reshape(-1, 2)
    out = np.stack([sample_image(img[..., c], flat) for c in range(img.shape[2])], axis=1)
    return out.reshape(*points.shape[:-1], img.shape[2])


def jaw_on_outline(
    image: ArrayLike, points: ArrayLike, config: OutlineConfig | None = None
) -> NDArray[np.float64]:
    """The jaw (points 0-16) moved onto the outline the matched jaw lies along.

    From the midpoint ``c`` of the two eye centres, ``config.rays`` rays sweep the half-plane
    below the eye line (image left to right). The matched jaw, read in polar coordinates about
    ``c``, gives each ray an expected radius (its ends extended at the end radii); along the
    ray, within ``window`` face widths of it, the strongest colour step weighted by
    ``exp(-d^2 / (2 (prefer * window)^2))`` is the outline if it reaches ``edge``, else the
    expected radius stands. The 17 jaw points are then spaced evenly along that rim (the
    gallery's annotation rule). Every other point is returned unchanged.

    Args:
        image: (H, W, 3) or (H, W) uint8 frame the points are in.
        points: (68, 2) float pixel (x, y) iBUG landmarks.
        config: settings (default :class:`OutlineConfig`).

    Returns:
        (68, 2) float64 pixel (x, y), a new array.
    """
    cfg = OutlineConfig() if config is None else config
    out = np.array(points, dtype=np.float64, copy=True).reshape(68, 2)
    jaw = out[JAW]
    width = float(np.linalg.norm(jaw[-1] - jaw[0]))
    if not np.isfinite(out).all() or width < 4.0:
        return out
    centre = 0.5 * (out[RIGHT_EYE].mean(axis=0) + out[LEFT_EYE].mean(axis=0))
    d = jaw - centre
    theta = np.arctan2(d[:, 1], d[:, 0])  # image convention: +y down, image left = pi
    theta = np.where(theta < -0.5 * np.pi, theta + 2.0 * np.pi, theta)
    radius = np.linalg.norm(d, axis=1)
    order = np.argsort(theta)
    angles = np.linspace(np.pi, 0.0, cfg.rays)
    expected = np.interp(angles, theta[order], radius[order])  # (R,)
    band = cfg.window * width
    offsets = np.arange(-band, band, 0.5)  # (M,)
    radii = np.maximum(expected[:, None] + offsets[None], 0.0)  # (R, M)
    direction = np.stack([np.cos(angles), np.sin(angles)], axis=1)  # (R, 2)

    def along(r: NDArray[np.float64]) -> NDArray[np.float64]:
        return np.asarray(centre + r[..., None] * direction[:, None, :], dtype=np.float64)

    inner = _sample_rgb(image, along(radii - cfg.step))
    outer = _sample_rgb(image, along(radii + cfg.step))
    strength = np.abs(inner - outer).sum(axis=-1)
    strength *= np.exp(-0.5 * (offsets / (cfg.prefer * band)) ** 2)[None]
    best = np.argmax(strength, axis=1)
    rows = np.arange(cfg.rays)
    found = strength[rows, best] >= cfg.edge
    rim_radius = np.where(found, radii[rows, best], expected)
    rim = centre + rim_radius[:, None] * direction
    out[JAW] = resample_polyline(rim, JAW.stop - JAW.start)
    return out


@attrs.frozen
class BrowConfig:
    """Settings of :func:`brows_where_undrawn`.

    Attributes:
        stroke: least :func:`brow_stroke` (0-765) at which matched brows count as lying on a
            drawn brow and are kept. Chosen on the Twemoji gallery faces outside the
            benchmark's styles: at their annotated brows, drawn brows score 228-483 and the
            rule's arcs over undrawn ones 0-133.
        offset: distance, in eye distances, above and below each brow point at which the
            stroke's sides are sampled (more than half a drawn brow's thickness).
    """

    stroke: float = attrs.field(default=180.0, validator=_positive)
    offset: float = attrs.field(default=0.15, validator=_positive)


def undrawn_brows(eye: ArrayLike, iod: float) -> NDArray[np.float64]:
    """The gallery's rule for a brow that is not drawn: 5 points over one eye.

    The arc spans the eye's width plus 0.08 eye distances on each side, its ends 0.1 eye
    distances above the eye's top and its middle 0.06 higher (a parabola).

    Args:
        eye: (6, 2) pixel (x, y) points of one eye (iBUG 36-41 or 42-47).
        iod: distance between the eye centres, pixels.

    Returns:
        (5, 2) float64 pixel (x, y), image left to right.
    """
    e = np.asarray(eye, dtype=np.float64).reshape(-1, 2)
    x0, x1 = e[:, 0].min(), e[:, 0].max()
    top = e[:, 1].min()
    c, half = 0.5 * (x0 + x1), 0.5 * (x1 - x0) + 0.08 * iod
    u = np.linspace(-1.0, 1.0, 5)
    xs = c + u * half
    ys = top - 0.1 * iod - 0.06 * iod * (1.0 - u**2)
    return np.stack([xs, ys], axis=1)


def brow_stroke(image: ArrayLike, brow: ArrayLike, iod: float, offset: float = 0.15) -> float:
    """How much a brow's points lie on a drawn stroke: 0 on flat skin, up to 765.

    At each point, the colour step (sum over channels of absolute differences) to the samples
    ``offset`` eye distances above and below it; the smaller of the two, so that an edge (a
    step on one side only, as the top of an eye) scores low; averaged over the points.

    Args:
        image: (H, W, 3) or (H, W) uint8.
        brow: (K, 2) pixel (x, y) points.
        iod: distance between the eye centres (means of each eye's 6 points), pixels.
        offset: see :class:`BrowConfig`.

    Returns:
        The mean step, in grey levels summed over channels.
    """
    b = np.asarray(brow, dtype=np.float64).reshape(-1, 2)
    shift = np.array([0.0, offset * iod])
    centre = _sample_rgb(image, b)
    above = np.abs(centre - _sample_rgb(image, b - shift)).sum(axis=-1)
    below = np.abs(centre - _sample_rgb(image, b + shift)).sum(axis=-1)
    return float(np.minimum(above, below).mean())


def brows_where_undrawn(
    image: ArrayLike, points: ArrayLike, config: BrowConfig | None = None
) -> NDArray[np.float64]:
    """Each matched brow kept where it lies on a drawn stroke, else placed by the rule.

    A brow whose :func:`brow_stroke` reaches ``config.stroke`` stays; the other is replaced by
    :func:`undrawn_brows` over its eye (right brow 17-21 over eye 36-41, left 22-26 over
    42-47). Every other point is returned unchanged.

    Args:
        image: (H, W, 3) or (H, W) uint8 frame the points are in.
        points: (68, 2) float pixel (x, y) iBUG landmarks.
        config: settings (default :class:`BrowConfig`).

    Returns:
        (68, 2) float64 pixel (x, y), a new array.
    """
    cfg = BrowConfig() if config is None else config
    out = np.array(points, dtype=np.float64, copy=True).reshape(68, 2)
    iod = float(np.linalg.norm(out[LEFT_EYE].mean(axis=0) - out[RIGHT_EYE].mean(axis=0)))
    if not np.isfinite(out).all() or iod < 2.0:
        return out
    for brow, eye in ((RIGHT_BROW, RIGHT_EYE), (LEFT_BROW, LEFT_EYE)):
        if brow_stroke(image, out[brow], iod, cfg.offset) < cfg.stroke:
            out[brow] = undrawn_brows(out[eye], iod)
    return out
