"""RigAnimator: the part-aware CPU renderer (faceshot's default animator).

Per character, a :class:`~faceshot_animate._rig.Rig` (head region, feature layers, the
character's own colours). Per frame t, with landmarks ``L_t`` (68, 2):

1. **Head**: the similarity ``H_t`` from frame 0's landmarks to ``L_t``, a weighted
   Umeyama fit (:class:`faceshot_retarget.SimilarityTransform`,
   :data:`~faceshot_animate._rig.HEAD_WEIGHTS`: the jaw-chord ends of the retargeted
   face frame first, expression points not at all). The whole head moves by ``H_t``, so
   a flat character's outline stays exactly its own shape.
2. **Features**: inside the head, a rigid moving-least-squares deformation
   (Schaefer et al. 2006, :func:`~faceshot_animate._mls.mls_rigid`) anchored to the
   landmark motion in the head's own frame (``H_t^-1 L_t``) and to pins along the outline
   (and the jaw, for silhouettes), faded to zero at the outline by the rig's deformation
   weight: smooth (no triangle creases) and clipped to the head. Eyes move rigidly with
   their corners (their drawn shape is kept) and open wider by stretching.
3. **Blinks**: a closing lid is painted over the eye in the character's own skin colour
   (flat art; photos slide the skin above the eye down), with a lid line in the eye's
   darkest colour, before the warp, so the lid moves with the eye.
4. **Mouth**: an opening beyond frame 0's draws a cavity shaped like the inner-lip polygon:
   flat art in the mouth's darkest colour with crisp anti-aliased edges and the lip line
   redrawn around it, photos a shaded dark interior. A mouth drawn open (teeth, tongue)
   stretches with its interior instead, and closing squeezes it to the lip line.
5. **Compositing**: silhouettes are warped with their alpha (uncovered pixels get the
   background colour or transparency); scenes warp the head layer over a static
   background plate whose head area was inpainted.

The backward map is ``src(y) = r + w(r) (MLS(r) - r)`` with ``r = H_t^-1(y)``, evaluated
on a coarse grid inside the head and upsampled bilinearly; one ``cv2.remap`` per frame.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Final, Literal

import cv2
import numpy as np
from faceshot_retarget import ibug68
from numpy.typing import NDArray

from faceshot_animate._geometry import SHIFT
from faceshot_animate._image import as_uint8_image
from faceshot_animate._mls import mls_affine, mls_rigid
from faceshot_animate._rig import HEAD_WEIGHTS, EyeRig, Rig, build_rig
from faceshot_animate._warp import (
    _scale_points,
    premultiply,
    resample_character,
    resize_frame,
    unpremultiply,
)
from faceshot_animate.errors import AnimateInputError

__all__ = ["RigAnimator", "RigConfig", "head_similarities", "lip_curve"]

_ONE = 1 << SHIFT
#: Landmarks that drive the feature deformation (brows, nose, eyes, lips).
_FEATURE_POINTS = np.arange(ibug68.EYEBROWS.start, ibug68.NUM_POINTS)
_JAW = ibug68.part_indices("jaw")
#: Grid points per MLS evaluation: the (chunk, controls) float32 weights stay under ~10 MB.
_CHUNK = 8192


@dataclass(frozen=True)
class RigConfig:
    """Settings of :class:`RigAnimator`.

    Attributes:
        max_side: frames are rendered with their long side at most this many pixels (then
            resized to the output size); bounds time and memory for huge inputs.
        grid_step: step, in working pixels, of the coarse grid on which the smooth feature
            deformation is evaluated before bilinear upsampling; 0 (default) = 2.5 % of the
            face width for silhouettes (their outline stays exact one step inside it), 4 %
            for scenes, within [4, 32] (the deformation is smooth on the scale of
            ``smoothness``, 8 % of the face width, so this is sub-pixel accurate).
        background: ``"auto"`` (transparent / plain border colour / scene, from the image)
            or one of them forced.
        style: ``"auto"`` (flat art vs photo from the face's texture) or forced.
        band: width, in face widths, over which the feature deformation fades out towards
            the head's outline (flat characters' outlines never move).
        deformation: the moving-least-squares flavour (Schaefer 2006): ``"rigid"``
            (default; most stable) or ``"affine"``.
        smoothness: MLS weight regulariser s, in face widths (w = 1 / (d² + s²)): larger is
            smoother, smaller follows the landmarks more tightly (0.08 keeps lip lines free
            of ripples between landmarks).
        mouth_cavity: draw a cavity when the mouth opens beyond frame 0.
        blinks: paint closing lids.
        max_head_scale: a frame whose head is scaled by more than this (or less than its
            inverse) relative to frame 0 is refused (absurd landmarks).
        threads: ``cv2.setNumThreads`` while frames are produced (restored after each
            frame); ``None`` leaves OpenCV's setting alone.
    """

    max_side: int = 1024
    grid_step: int = 0
    background: Literal["auto", "transparent", "plain", "scene"] = "auto"
    style: Literal["auto", "flat", "photo"] = "auto"
    band: float = 0.06
    mouth_cavity: bool = True
    blinks: bool = True
    max_head_scale: float = 8.0
    deformation: Literal["affine", "rigid"] = "rigid"
    smoothness: float = 0.08
    threads: int | None = None

    def __post_init__(self) -> None:
        if self.max_side < 16:
            raise AnimateInputError(f"`max_side` must be >= 16; got {self.max_side}")
        if not 0 <= self.grid_step <= 64:
            raise AnimateInputError(
                f"`grid_step` must be 0 (auto) or in [1, 64]; got {self.grid_step}"
            )
        if self.background not in ("auto", "transparent", "plain", "scene"):
            raise AnimateInputError(
                f"`background` must be 'auto', 'transparent', 'plain' or 'scene'; got {self.background!r}"
            )
        if self.style not in ("auto", "flat", "photo"):
            raise AnimateInputError(
                f"`style` must be 'auto', 'flat' or 'photo'; got {self.style!r}"
            )
        if not 0.0 < self.band <= 1.0:
            raise AnimateInputError(f"`band` must be in (0, 1]; got {self.band}")
        if not self.max_head_scale > 1.0:
            raise AnimateInputError(f"`max_head_scale` must be > 1; got {self.max_head_scale}")


def head_similarities(landmarks: NDArray[np.float64]) -> NDArray[np.float64]:
    """(T, 3, 3) float64 head similarities mapping frame 0's landmarks onto each frame's.

    Weighted Umeyama fits (:meth:`faceshot_retarget.SimilarityTransform.from_estimate`
    with :data:`~faceshot_animate._rig.HEAD_WEIGHTS`).

    Args:
        landmarks: (T, 68, 2) float64 pixel (x, y).

    Raises:
        AnimateInputError: a frame whose weighted points coincide (no similarity).
    """
    from faceshot_retarget import DegenerateLandmarksError, SimilarityTransform

    out = np.empty((landmarks.shape[0], 3, 3))
    ref = landmarks[0]
    for t in range(landmarks.shape[0]):
        try:
            out[t] = SimilarityTransform.from_estimate(ref, landmarks[t], HEAD_WEIGHTS).matrix
        except DegenerateLandmarksError as exc:
            raise AnimateInputError(f"`landmarks` frame {t}: {exc}") from None
    return out


def _check_bounds(
    pts: NDArray[np.float64], size: tuple[int, int], sims: NDArray[np.float64], limit: float
) -> None:
    """Refuse landmarks far outside the canvas or heads scaled absurdly (one-line errors)."""
    w, h = size
    reach = 2.0 * max(w, h)
    bad = (
        (pts[..., 0] < -reach)
        | (pts[..., 0] > w + reach)
        | (pts[..., 1] < -reach)
        | (pts[..., 1] > h + reach)
    )
    if bad.any():
        t, i = (int(v) for v in np.argwhere(bad)[0])
        x, y = pts[t, i]
        raise AnimateInputError(
            f"`landmarks` frame {t}, point {i} at ({x:.4g}, {y:.4g}) lies far outside the {w}x{h} "
            f"image (the renderer accepts points up to 2 image sizes beyond its edges)"
        )
    scale = np.sqrt(np.abs(np.linalg.det(sims[:, :2, :2])))
    off = (scale > limit) | (scale < 1.0 / limit)
    if off.any():
        t = int(np.argmax(off))
        raise AnimateInputError(
            f"`landmarks` frame {t} scales the head by {scale[t]:.3g} relative to frame 0; "
            f"expected within [1/{limit:g}, {limit:g}]"
        )


class RigAnimator:
    """Part-aware CPU animator: rigid head, smooth features, the character's own mouth and lids.

    Follows the :class:`~faceshot_animate.Animator` protocol; stateless between calls and
    deterministic. See the module docstring for the method.

    Args:
        config: renderer settings.
        output_size: (W, H) of the produced frames, or ``None`` for the input's size.

    Example:
        >>> frames = RigAnimator().animate(image, landmarks, fps=25)  # doctest: +SKIP
        >>> first = next(frames)  # equals image (uint8, C = 3 or 4)  # doctest: +SKIP
    """

    def __init__(
        self, config: RigConfig | None = None, *, output_size: tuple[int, int] | None = None
    ) -> None:
        from faceshot_animate._warp import _check_size

        self.config = config if config is not None else RigConfig()
        self.output_size = _check_size(output_size, "output_size")

    def __repr__(self) -> str:
        return f"RigAnimator(config={self.config!r}, output_size={self.output_size!r})"

    def rig(self, image: NDArray[np.generic], landmarks: NDArray[np.float64]) -> Rig:
        """The rig this animator builds for ``image`` with frame-0 ``landmarks`` (68, 2),
        at the input's size (for inspection)."""
        from faceshot_retarget import as_points

        img = as_uint8_image(image, "image")
        pts = as_points(landmarks, "landmarks")[0]
        return build_rig(
            img,
            pts,
            background=self.config.background,
            style=self.config.style,
            band=self.config.band,
        )

    def animate(
        self, image: NDArray[np.generic], landmarks: NDArray[np.float64], *, fps: float = 25.0
    ) -> Iterator[NDArray[np.uint8]]:
        """Animate ``image`` along ``landmarks``; frames are produced lazily, one at a time.

        Args:
            image: (H, W), (H, W, 1), (H, W, 3) or (H, W, 4); uint8, uint16, bool or float in
                [0, 1]. The character, whose landmarks are ``landmarks[0]``. Grey becomes
                RGB; alpha is kept.
            landmarks: (T, 68, 2) or (68, 2) float64 pixel (x, y) in ``image``'s pixels,
                iBUG order; frame 0 is the character's own.
            fps: frames per second (> 0); the renderer does not depend on it.

        Returns:
            An iterator of T frames, (H', W', C) uint8, (W', H') = ``output_size`` (default
            the input's), C = 4 when the input has alpha else 3. Frame 0 reproduces the
            input (exactly, up to the output resize).

        Raises:
            AnimateInputError: bad image, ``fps``, output size, landmarks more than two
                image sizes outside the image, or a head scaled by more than
                ``max_head_scale`` (all at call time, before any frame).
            faceshot_retarget.LandmarkShapeError: bad landmark shape (at call time).
        """
        from faceshot_retarget import as_points

        img = as_uint8_image(image, "image")
        pts = as_points(landmarks, "landmarks")
        if not np.isfinite(fps) or fps <= 0:
            raise AnimateInputError(f"`fps` must be a positive number; got {fps!r}")
        h, w = img.shape[:2]
        sims = head_similarities(pts)
        _check_bounds(pts, (w, h), sims, self.config.max_head_scale)
        out_size = self.output_size or (w, h)
        factor = min(1.0, self.config.max_side / max(out_size))
        work = (max(2, round(out_size[0] * factor)), max(2, round(out_size[1] * factor)))
        return self._frames(img, pts, (w, h), work, out_size)

    def _frames(
        self,
        img: NDArray[np.uint8],
        pts: NDArray[np.float64],
        in_size: tuple[int, int],
        work: tuple[int, int],
        out_size: tuple[int, int],
    ) -> Iterator[NDArray[np.uint8]]:
        cfg = self.config
        src = resample_character(img, work)
        lms = _scale_points(pts, in_size, work)
        rig = build_rig(src, lms[0], background=cfg.background, style=cfg.style, band=cfg.band)
        renderer = _Renderer(src, rig, cfg)
        for t in range(lms.shape[0]):
            previous = cv2.getNumThreads()
            if cfg.threads is not None:
                cv2.setNumThreads(cfg.threads)
            try:
                frame = renderer.render(lms[t])
            finally:
                if cfg.threads is not None:
                    cv2.setNumThreads(previous)
            yield resize_frame(frame, out_size)


def _blend(
    region: NDArray[np.uint8], colour: NDArray[np.floating], cover: NDArray[np.float32]
) -> None:
    """``region[..., :3] = region (1 - cover) + colour cover`` in place (alpha raised to
    cover); ``colour`` is (3,) or (h, w, 3), ``cover`` (h, w) in [0, 1]. Only the bounding
    box of ``cover > 0`` is touched."""
    found = cv2.findNonZero((cover > 0).view(np.uint8))
    if found is None:
        return
    x, y, bw, bh = cv2.boundingRect(found)
    sub = region[y : y + bh, x : x + bw]
    a = cover[y : y + bh, x : x + bw, None]
    c = np.asarray(colour, np.float32)
    c = c[None, None, :] if c.ndim == 1 else c[y : y + bh, x : x + bw]
    rgb = sub[:, :, :3].astype(np.float32)
    rgb += (c - rgb) * a
    sub[:, :, :3] = np.clip(rgb + 0.5, 0, 255).astype(np.uint8)
    if sub.shape[2] == 4:
        sub[:, :, 3] = np.maximum(sub[:, :, 3], np.round(a[:, :, 0] * 255.0).astype(np.uint8))


def _catmull_rom(points: NDArray[np.float64], per_segment: int) -> NDArray[np.float64]:
    """Centripetal Catmull-Rom curve through (n, 2) ``points`` (ends kept), (k, 2) samples:
    all n - 1 segments at once (Barry-Goldman pyramid, vectorised over segments)."""
    n = len(points)
    if n < 3:
        return points.copy()
    ext = np.concatenate([2 * points[:1] - points[1:2], points, 2 * points[-1:] - points[-2:-1]])
    p0, p1, p2, p3 = (ext[k : k + n - 1][:, None, :] for k in range(4))  # (n-1, 1, 2)
    knots = np.maximum(np.hypot(*np.diff(ext, axis=0).T) ** 0.5, 1e-6)  # (n+1,)
    t0 = np.zeros((n - 1, 1, 1))
    t1 = t0 + knots[:-2, None, None]
    t2 = t1 + knots[1:-1, None, None]
    t3 = t2 + knots[2:, None, None]
    u = np.linspace(0.0, 1.0, per_segment + 1)[1:]
    t = t1 + (t2 - t1) * u[None, :, None]  # (n-1, per_segment, 1)
    a1 = ((t1 - t) * p0 + (t - t0) * p1) / (t1 - t0)
    a2 = ((t2 - t) * p1 + (t - t1) * p2) / (t2 - t1)
    a3 = ((t3 - t) * p2 + (t - t2) * p3) / (t3 - t2)
    b1 = ((t2 - t) * a1 + (t - t0) * a2) / (t2 - t0)
    b2 = ((t3 - t) * a2 + (t - t1) * a3) / (t3 - t1)
    curve = ((t2 - t) * b1 + (t - t1) * b2) / (t2 - t1)
    return np.concatenate([points[:1], curve.reshape(-1, 2)])


def lip_curve(inner: NDArray[np.float64], per_segment: int = 6) -> NDArray[np.float64]:
    """The inner-lip opening as a smooth closed outline.

    Args:
        inner: (8, 2) float64 inner-lip landmarks 60-67, pixels.
        per_segment: samples per landmark interval.

    Returns:
        (k, 2) float64 polygon: the upper lip 60-64 and the lower lip 64-67, 60 as two
        centripetal Catmull-Rom curves, meeting at sharp mouth corners.
    """
    upper = _catmull_rom(inner[[0, 1, 2, 3, 4]], per_segment)
    lower = _catmull_rom(inner[[4, 5, 6, 7, 0]], per_segment)
    return np.concatenate([upper, lower[1:-1]])


def _similarity_of(
    a0: NDArray[np.float64],
    b0: NDArray[np.float64],
    a1: NDArray[np.float64],
    b1: NDArray[np.float64],
    max_angle: float = np.pi,
    scale_range: tuple[float, float] = (0.0, np.inf),
) -> NDArray[np.float64]:
    """(2, 3) similarity mapping segment (a0, b0) onto (a1, b1), its rotation clamped to
    ``±max_angle`` radians and its scale to ``scale_range``, about the segment midpoints
    (a pure translation if either segment is degenerate)."""
    d0 = complex(*(b0 - a0))
    d1 = complex(*(b1 - a1))
    m0, m1 = (a0 + b0) / 2, (a1 + b1) / 2
    if abs(d0) < 1e-9 or abs(d1) < 1e-9:
        z = complex(1.0, 0.0)
    else:
        z = d1 / d0
        angle = float(np.clip(np.angle(z), -max_angle, max_angle))
        scale = float(np.clip(abs(z), *scale_range))
        z = scale * complex(np.cos(angle), np.sin(angle))
    rot = np.array([[z.real, -z.imag], [z.imag, z.real]])
    return np.concatenate([rot, (m1 - rot @ m0)[:, None]], axis=1)


def _clamped(
    sim: NDArray[np.float64],
    centre: NDArray[np.float64],
    max_angle: float,
    scale_range: tuple[float, float],
) -> NDArray[np.float64]:
    """(2, 3) ``sim`` (a (3, 3) similarity) with rotation and scale clamped, keeping where
    it sends ``centre``."""
    scale = float(np.hypot(sim[0, 0], sim[1, 0]))
    angle = float(np.arctan2(sim[1, 0], sim[0, 0]))
    scale = float(np.clip(scale, *scale_range))
    angle = float(np.clip(angle, -max_angle, max_angle))
    rot = scale * np.array([[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]])
    target = sim[:2, :2] @ centre + sim[:2, 2]
    return np.concatenate([rot, (target - rot @ centre)[:, None]], axis=1)


#: Per feature layer: largest rotation (radians) and scale range of its own motion in the
#: head's frame. Drawn eyes and noses do not spin or swell with noisy landmarks; brows may
#: tilt (expression).
_PART_LIMITS: dict[str, tuple[float, tuple[float, float]]] = {
    "eye": (np.deg2rad(6.0), (0.85, 1.2)),
    "right_brow": (np.deg2rad(15.0), (0.8, 1.25)),
    "left_brow": (np.deg2rad(15.0), (0.8, 1.25)),
    "nose": (np.deg2rad(5.0), (0.9, 1.1)),
}


#: Lip landmarks stay where the deformation weight is at least this (0.6: about half-way
#: through the band where the deformation fades out towards a flat character's outline).
#: With the lower lip held back as a whole, 0.9 gave the same shapes but less opening
#: (mouth-darkness correlation on carphone, in-sample 1f603 0.49 at 0.6 against 0.39 at 0.9);
#: 0.3 brought back a bump under wide-open mouths.
_LIP_ROOM: Final = 0.6
#: The lower lip's landmarks (outer 55-59, inner 65-67): scaled as one in ``_inside_head``.
_LOWER_LIP: Final = np.array([55, 56, 57, 58, 59, 65, 66, 67])


@dataclass
class _Source:
    """The image the frame samples from: straight RGBA and (when alpha edges matter) its
    premultiplied 16-bit copy, copied on the first write of a frame."""

    layer: NDArray[np.uint8]
    pre: NDArray[np.uint16] | None
    owned: bool = False

    def writable(self) -> _Source:
        if self.owned:
            return self
        return _Source(self.layer.copy(), None if self.pre is None else self.pre.copy(), True)

    def refresh(self, y0: int, y1: int, x0: int, x1: int) -> None:
        """Recompute the premultiplied copy of a region after painting into ``layer``."""
        if self.pre is not None:
            self.pre[y0:y1, x0:x1] = premultiply(self.layer[y0:y1, x0:x1])


@dataclass
class _EyeState:
    affine: NDArray[np.float64]  # (2, 3) rest -> now, head frame
    closure: float
    c_up: float
    c_low: float


class _Renderer:
    """Per-call state: working image, rig, layers, grids and rest control points."""

    def __init__(self, src: NDArray[np.uint8], rig: Rig, cfg: RigConfig) -> None:
        from faceshot_animate._parts import build_layers

        self.rig = rig
        self.cfg = cfg
        self.channels = src.shape[2]
        self.src_in = src
        w, h = rig.size
        self.scene = rig.background == "scene"
        if self.scene:
            layer = np.empty((h, w, 4), np.uint8)
            layer[:, :, :3] = src[:, :, :3]
            layer[:, :, 3] = np.round(rig.head * 255.0).astype(np.uint8)
            assert rig.plate is not None and rig.follow is not None
            self.plate: NDArray[np.uint8] | None = np.ascontiguousarray(
                cv2.cvtColor(np.ascontiguousarray(rig.plate[:, :, :3]), cv2.COLOR_RGB2RGBA)
            )
            self.follow: NDArray[np.float32] = rig.follow
            ys, xs = np.nonzero(rig.follow > 0)
            bx0, by0, bx1, by1 = float(xs.min()), float(ys.min()), float(xs.max()), float(ys.max())
            self.scene_box: NDArray[np.float64] | None = np.array(
                [[bx0, by0], [bx1, by0], [bx1, by1], [bx0, by1]]
            )
            # The output outside the head's region: the input, alpha kept (or opaque).
            self.opaque: NDArray[np.uint8] = (
                src
                if self.channels == 4
                else np.asarray(cv2.cvtColor(src, cv2.COLOR_RGB2RGBA), np.uint8)
            )
            self.border: tuple[int, int, int, int] = (0, 0, 0, 0)
        else:
            layer = (
                src
                if self.channels == 4
                else np.asarray(cv2.cvtColor(src, cv2.COLOR_RGB2RGBA), np.uint8)
            )
            self.plate = None
            self.scene_box = None
            f = [int(v) for v in rig.fill]
            self.border = (f[0], f[1], f[2], f[3] if len(f) == 4 else 255)
        # Alpha edges need premultiplied resampling where transparent pixels hide colour
        # (transparent silhouettes); a scene's head layer has its true colours under alpha.
        edges = not self.scene and rig.background == "transparent" and layer.shape[2] == 4
        self.source = _Source(np.ascontiguousarray(layer), premultiply(layer) if edges else None)
        share = 0.04 if self.scene else 0.025
        s = cfg.grid_step or int(np.clip(round(share * rig.face_width), 4, 32))
        self.step = s
        self.hc, self.wc = -(-h // s), -(-w // s)
        # Coarse grid with one extra cell on each side: the bilinear upsample then only
        # interpolates (never clamps) over the image, so the affine part is exact.
        cx = (np.arange(-1, self.wc + 1) + 0.5) * s - 0.5
        cy = (np.arange(-1, self.hc + 1) + 0.5) * s - 0.5
        cgx, cgy = np.meshgrid(cx, cy)
        self.coarse = np.stack([cgx.ravel(), cgy.ravel()], axis=1)
        self.cshape = (self.hc + 2, self.wc + 2)
        ref = rig.reference
        self.ref = ref
        fw = rig.face_width
        self.layers = build_layers(dict(rig.features), 0.05 * fw)
        pinned = [rig.anchors] if self.scene else [rig.anchors, ref[_JAW]]
        rest = [*pinned]
        for layer_ in self.layers:
            rest += [layer_.samples, ref[list(layer_.landmarks)]]
        if self.scene:
            rest.append(ref[_JAW])
        self.q = np.concatenate(rest)
        self.n_pinned = sum(len(b) for b in pinned)
        # The coarse grid samples an eroded weight, so no displacement reaches within one
        # grid step of the outline and the bilinear upsample keeps the outline exact.
        k = 2 * s + 1
        self.deform = (
            cv2.erode(rig.deform, np.ones((k, k), np.uint8)) if not self.scene else rig.deform
        )
        mouth = next(lay for lay in self.layers if lay.kind == "mouth")
        outer = ref[ibug68.OUTER_LIPS]
        d2 = ((mouth.samples[:, None] - outer[None]) ** 2).sum(axis=2) + (0.01 * fw) ** 2
        wts = 1.0 / d2**2
        self.mouth_idw = wts / wts.sum(axis=1, keepdims=True)  # (m, 12)
        self.inner_area0 = rig.mouth.area

    # -------------------------------------------------------------- per frame
    def render(self, lm: NDArray[np.float64]) -> NDArray[np.uint8]:
        if np.array_equal(lm, self.ref):
            return self.src_in.copy()
        from faceshot_retarget import SimilarityTransform

        head = SimilarityTransform.from_estimate(self.ref, lm, HEAD_WEIGHTS)
        inv = head.inverse
        local = inv(lm)  # landmarks in the head's own (frame-0) frame
        from faceshot_animate._parts import smooth_lip_chains

        lips = self._inside_head(smooth_lip_chains(self.ref, local))
        eyes = [self._eye_state(eye, local) for eye in self.rig.eyes]
        p = self._controls(local, lips, eyes)
        source = self.source
        if self.cfg.blinks:
            for eye, state in zip(self.rig.eyes, eyes, strict=True):
                if eye.closable and state.closure > 0.02:
                    source = source.writable()
                    self._paint_lid(source, eye, state)
        roi = self._region(head.params)
        mapping, plate_map = self._map(inv.params, p, roi)
        warped = cv2.remap(
            source.layer,
            mapping,
            None,
            cv2.INTER_LINEAR,
            borderMode=cv2.BORDER_CONSTANT,
            borderValue=self.border,
        )  # type: ignore[call-overload]
        layer = np.asarray(warped, np.uint8)
        if source.pre is not None:
            self._fix_edges(layer, source.pre, mapping)
        x0, y0, x1, y1 = roi
        if self.plate is not None and plate_map is not None:
            frame = self.opaque.copy()
            frame[y0:y1, x0:x1] = self._composite(layer, plate_map, roi)
        else:
            frame = layer
        if self.cfg.mouth_cavity:
            self._cavity(frame, head.params, lips, mapping, roi)
        if self.channels == 3 and frame.shape[2] == 4:
            frame = np.asarray(cv2.cvtColor(frame, cv2.COLOR_RGBA2RGB), np.uint8)
        return frame

    def _region(self, head: NDArray[np.float64]) -> tuple[int, int, int, int]:
        """(x0, y0, x1, y1) of the output that can differ from the input: everything for
        silhouettes (the whole character moves); for scenes the head, its band and the
        place it left (the rest of the image is the untouched plate)."""
        w, h = self.rig.size
        if self.scene_box is None:
            return 0, 0, w, h
        moved = self.scene_box @ head[:, :2].T + head[:, 2]
        pts = np.concatenate([self.scene_box, moved])
        pad = 0.15 * self.rig.face_width + 2 * self.step
        x0, y0 = np.floor(pts.min(axis=0) - pad).astype(int)
        x1, y1 = np.ceil(pts.max(axis=0) + pad).astype(int)
        x0, y0, x1, y1 = max(int(x0), 0), max(int(y0), 0), min(int(x1), w), min(int(y1), h)
        if x1 - x0 < 2 or y1 - y0 < 2:
            return 0, 0, w, h
        return x0, y0, x1, y1

    def _inside_head(self, lips: NDArray[np.float64]) -> NDArray[np.float64]:
        """Lip landmarks kept in the part of the head that deforms freely (deformation
        weight >= :data:`_LIP_ROOM`), so a mouth opened wider than the face stays inside it
        (flat characters; scenes are not clamped).

        The lower lip (outer 55-59, inner 65-67) keeps its shape: its displacement from
        rest is scaled down as a whole by the largest share that keeps all of it inside
        (bisection), so a dropping lip stops short of the rigid chin as the same curve
        instead of being flattened point by point against the outline (which drew a
        narrow, flat-bottomed lobe under the mouth). Any other lip point still outside is
        pulled back towards the rest mouth centre on its own.
        """
        if self.scene:
            return lips
        h, w = self.deform.shape
        ref = self.ref

        def ok(p: NDArray[np.float64]) -> NDArray[np.bool_]:
            xi = np.clip(np.round(p[..., 0]).astype(int), 0, w - 1)
            yi = np.clip(np.round(p[..., 1]).astype(int), 0, h - 1)
            inside = (
                (p[..., 0] >= 0) & (p[..., 0] <= w - 1) & (p[..., 1] >= 0) & (p[..., 1] <= h - 1)
            )
            return np.asarray(inside & (self.rig.deform[yi, xi] >= _LIP_ROOM))

        out = lips.copy()
        lower = _LOWER_LIP
        if not ok(out[lower]).all():
            d = out[lower] - ref[lower]
            lo, hi = 0.0, 1.0
            for _ in range(10):  # bisection on the share of the lower lip's displacement
                mid = 0.5 * (lo + hi)
                if ok(ref[lower] + mid * d).all():
                    lo = mid
                else:
                    hi = mid
            out[lower] = ref[lower] + lo * d
        pts = out[ibug68.MOUTH]
        bad = ~ok(pts)
        if not bad.any():
            return out
        centre = ref[ibug68.MOUTH].mean(axis=0)
        lo_b = np.zeros(int(bad.sum()))
        hi_b = np.ones(int(bad.sum()))
        d = pts[bad] - centre
        for _ in range(10):  # bisection on the segment centre -> point
            mid_b = 0.5 * (lo_b + hi_b)
            good = ok(centre + mid_b[:, None] * d)
            lo_b = np.where(good, mid_b, lo_b)
            hi_b = np.where(good, hi_b, mid_b)
        out[ibug68.MOUTH.start + np.flatnonzero(bad)] = centre + lo_b[:, None] * d
        return out

    def _eye_state(self, eye: EyeRig, local: NDArray[np.float64]) -> _EyeState:
        """The eye's rigid motion (corners), its stretch when wider open, and lid closure."""
        ref = self.ref
        ia, ib = eye.corners
        limit, scales = _PART_LIMITS["eye"]
        sim = _similarity_of(ref[ia], ref[ib], local[ia], local[ib], limit, scales)
        axis1 = local[ib] - local[ia]
        n1 = np.array([-axis1[1], axis1[0]]) / max(float(np.hypot(*axis1)), 1e-9)
        up_t = float(np.mean((local[list(eye.upper)] - local[ia]) @ n1))
        lo_t = float(np.mean((local[list(eye.lower)] - local[ia]) @ n1))
        up_0 = float(np.mean((ref[list(eye.upper)] - ref[ia]) @ eye.normal))
        lo_0 = float(np.mean((ref[list(eye.lower)] - ref[ia]) @ eye.normal))
        gap0, gap_t = lo_0 - up_0, lo_t - up_t
        affine = sim
        if gap0 > 1e-6 and gap_t > gap0:
            stretch = min(gap_t / gap0, 1.5)
            centre = ref[[ia, ib, *eye.upper, *eye.lower]].mean(axis=0)
            nn = np.outer(eye.normal, eye.normal)
            lin = np.eye(2) + (stretch - 1.0) * nn  # stretch across the eye axis
            pre = np.concatenate([lin, (centre - lin @ centre)[:, None]], axis=1)
            affine = np.concatenate(
                [sim[:, :2] @ pre[:, :2], (sim[:, :2] @ pre[:, 2] + sim[:, 2])[:, None]], axis=1
            )
        # Small lid jitter (landmark noise) does not paint lids: a dead zone of 20 %.
        closure = float(np.clip((1.0 - gap_t / gap0 - 0.2) / 0.8, 0.0, 1.0)) if gap0 > 1e-6 else 0.0
        drop = max(up_t - up_0, 0.0)
        rise = max(lo_0 - lo_t, 0.0)
        share = drop / (drop + rise) if drop + rise > 1e-9 else 1.0
        return _EyeState(affine, closure, closure * share, closure * (1.0 - share))

    def _controls(
        self, local: NDArray[np.float64], lips: NDArray[np.float64], eyes: list[_EyeState]
    ) -> NDArray[np.float64]:
        """(N, 2) current control positions, in the order of ``self.q``."""
        from faceshot_retarget import DegenerateLandmarksError, SimilarityTransform

        ref = self.ref
        blocks = [self.q[: self.n_pinned]]
        eye_of = {"right_eye": eyes[0], "left_eye": eyes[1]}
        for layer in self.layers:
            idx = list(layer.landmarks)
            if layer.kind == "eye":
                a = eye_of[layer.name].affine
                blocks += [layer.samples @ a[:, :2].T + a[:, 2], ref[idx] @ a[:, :2].T + a[:, 2]]
            elif layer.kind == "mouth":
                disp = lips[ibug68.OUTER_LIPS] - ref[ibug68.OUTER_LIPS]
                blocks += [layer.samples + self.mouth_idw @ disp, lips[idx]]
            else:
                try:
                    fit = SimilarityTransform.from_estimate(ref[idx], local[idx])
                except DegenerateLandmarksError:
                    blocks += [layer.samples, ref[idx]]
                    continue
                limit, scales = _PART_LIMITS[layer.name]
                sim = _clamped(fit.matrix, ref[idx].mean(axis=0), limit, scales)
                blocks += [
                    layer.samples @ sim[:, :2].T + sim[:, 2],
                    ref[idx] @ sim[:, :2].T + sim[:, 2],
                ]
        if self.scene:
            blocks.append(local[_JAW])
        return np.concatenate(blocks)

    def _map(
        self,
        inv_params: NDArray[np.float64],
        p: NDArray[np.float64],
        roi: tuple[int, int, int, int],
    ) -> tuple[NDArray[np.float32], NDArray[np.float32] | None]:
        """(h, w, 2) float32 backward maps (output pixel -> source position) over ``roi``
        of the head layer and, for scenes, of the background plate (which follows the head
        by the rig's ``follow`` weight, carried along with the head)."""
        rig = self.rig
        a = inv_params
        r = self.coarse @ a[:, :2].T + a[:, 2]
        absolute = r.copy()
        moving = slice(self.n_pinned, None)
        rmap = r.astype(np.float32).reshape(*self.cshape, 2)
        if not np.allclose(p[moving], self.q[moving], atol=1e-3):
            weight = cv2.remap(
                self.deform,
                rmap,
                None,
                cv2.INTER_LINEAR,
                borderMode=cv2.BORDER_CONSTANT,
                borderValue=0,
            ).ravel()  # type: ignore[call-overload]
            sel = np.flatnonzero(weight > 1e-3)
            if len(sel):
                mls = mls_affine if self.cfg.deformation == "affine" else mls_rigid
                eps = (self.cfg.smoothness * rig.face_width) ** 2
                for k in range(0, len(sel), _CHUNK):  # bounded memory: (chunk, N) weights
                    part = sel[k : k + _CHUNK]
                    f = mls(r[part], p, self.q, eps=eps)
                    absolute[part] += (f - r[part]) * weight[part, None]
        plate = None
        if self.plate is not None:
            follow = cv2.remap(
                self.follow,
                rmap,
                None,
                cv2.INTER_LINEAR,
                borderMode=cv2.BORDER_CONSTANT,
                borderValue=0,
            ).ravel()  # type: ignore[call-overload]
            plate = self.coarse + follow[:, None] * (absolute - self.coarse)
        mapping = self._upsample(r, roi)  # the head's similarity: exact
        self._add_smooth(mapping, absolute - r, roi)  # the features' deformation: no kinks
        return mapping, (None if plate is None else self._upsample(plate, roi))

    def _add_smooth(
        self,
        mapping: NDArray[np.float32],
        residual: NDArray[np.float64],
        roi: tuple[int, int, int, int],
    ) -> None:
        """Add the bicubic upsample of the coarse ``residual`` (the deformation beyond the
        head's similarity, zero outside the features' region) to ``mapping`` over ``roi``,
        in place. Bicubic, so a strongly stretched feature has no kinks at the coarse grid
        lines (bilinear pieces would show them); only the box where the residual is
        non-zero is upsampled."""
        hc2, wc2 = self.cshape
        grid = residual.astype(np.float32).reshape(hc2, wc2, 2)
        rows = np.flatnonzero(np.abs(grid).max(axis=(1, 2)) > 1e-6)
        if not len(rows):
            return
        cols = np.flatnonzero(np.abs(grid).max(axis=(0, 2)) > 1e-6)
        s = self.step
        x0, y0, x1, y1 = roi
        # Output pixels whose bicubic support touches a non-zero cell (2 cells each side).
        ox0 = max(x0, int(np.ceil((cols[0] - 2.5) * s - 0.5)))
        ox1 = min(x1, int(np.floor((cols[-1] + 1.5) * s - 0.5)) + 1)
        oy0 = max(y0, int(np.ceil((rows[0] - 2.5) * s - 0.5)))
        oy1 = min(y1, int(np.floor((rows[-1] + 1.5) * s - 0.5)) + 1)
        if ox1 <= ox0 or oy1 <= oy0:
            return
        smooth = self._upsample(grid, (ox0, oy0, ox1, oy1), cv2.INTER_CUBIC, margin=2)
        mapping[oy0 - y0 : oy1 - y0, ox0 - x0 : ox1 - x0] += smooth

    def _upsample(
        self,
        coarse_points: NDArray[np.floating],
        roi: tuple[int, int, int, int],
        interpolation: int = cv2.INTER_LINEAR,
        margin: int = 1,
    ) -> NDArray[np.float32]:
        """Upsample of the padded coarse grid ((hc + 2) * (wc + 2) points, 2 values each)
        to (h, w, 2) float32 over ``roi`` = (x0, y0, x1, y1): output pixel x sits at padded
        coarse index u = (x + 0.5) / s + 0.5. Done by ``cv2.resize`` by exactly ``s`` of
        the sub-grid the roi needs (``margin`` cells beyond it: 1 for bilinear, 2 for
        bicubic), which maps resized pixel X to index (X + 0.5) / s - 0.5 of the sub-grid
        starting at j0, i.e. X = x - (j0 - 1) s: integer-aligned, no resampling tables."""
        s = self.step
        hc2, wc2 = self.cshape
        coarse = np.asarray(coarse_points, np.float32).reshape(hc2, wc2, 2)
        x0, y0, x1, y1 = roi
        j0 = max(int(np.floor((x0 + 0.5) / s + 0.5)) - margin, 0)
        j1 = min(int(np.floor((x1 - 0.5) / s + 0.5)) + margin + 1, wc2 - 1)
        i0 = max(int(np.floor((y0 + 0.5) / s + 0.5)) - margin, 0)
        i1 = min(int(np.floor((y1 - 0.5) / s + 0.5)) + margin + 1, hc2 - 1)
        sub = np.ascontiguousarray(coarse[i0 : i1 + 1, j0 : j1 + 1])
        big = cv2.resize(sub, ((j1 - j0 + 1) * s, (i1 - i0 + 1) * s), interpolation=interpolation)
        bx, by = x0 - (j0 - 1) * s, y0 - (i0 - 1) * s
        return np.asarray(big[by : by + (y1 - y0), bx : bx + (x1 - x0)], np.float32)

    def _fix_edges(
        self, frame: NDArray[np.uint8], pre: NDArray[np.uint16], mapping: NDArray[np.float32]
    ) -> None:
        """Redo semi-transparent output pixels from premultiplied colour (no dark fringes)."""
        found = cv2.findNonZero(cv2.inRange(frame[:, :, 3], 1, 254))
        if found is None:
            return
        found = found.reshape(-1, 2)
        xs, ys = found[:, 0], found[:, 1]
        n = len(ys)
        cols = 1024
        rows = -(-n // cols)
        pts = np.zeros((rows * cols, 2), np.float32)
        pts[:n] = mapping[ys, xs]
        w16 = cv2.remap(
            pre,
            pts.reshape(rows, cols, 2),
            None,
            cv2.INTER_LINEAR,
            borderMode=cv2.BORDER_CONSTANT,
            borderValue=(0, 0, 0, 0),
        )  # type: ignore[call-overload]
        frame[ys, xs] = unpremultiply(np.asarray(w16, np.uint16)).reshape(-1, 4)[:n]

    def _composite(
        self,
        layer: NDArray[np.uint8],
        plate_map: NDArray[np.float32],
        roi: tuple[int, int, int, int],
    ) -> NDArray[np.uint8]:
        """The warped head layer over the background plate warped by ``plate_map`` (both
        over ``roi``); (h, w, 4) uint8 with the input's alpha."""
        assert self.plate is not None
        plate = cv2.remap(
            self.plate, plate_map, None, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE
        )  # type: ignore[call-overload]
        a = layer[:, :, 3].astype(np.float32) * np.float32(1.0 / 255.0)
        blended = cv2.blendLinear(layer, plate, a, 1.0 - a)
        x0, y0, x1, y1 = roi
        out: NDArray[np.uint8] = self.opaque[y0:y1, x0:x1].copy()
        out[:, :, :3] = np.asarray(blended)[:, :, :3]
        return out

    # -------------------------------------------------------------- eyes
    def _paint_lid(self, source: _Source, eye: EyeRig, state: _EyeState) -> None:
        """Paint the closed part of ``eye`` (rest frame) and the lid line into ``source``.

        The leading lid closes by the fraction ``closure`` (the other one joins over the
        last 40 %) towards a gentle meeting arc ``M(u)``
        across the eye, 30 % of the way from the eye's centre down to its bottom in the
        middle (upper lid leading: a closed eye is a shallow "u") or up to its top (lower
        lid leading), rising by a third of that towards the ends. Lid edges are smooth curves between the eye's top
        (bottom) line and ``M``; the covered part takes the skin colour (flat art) or the
        skin above the eye slid down (photos), and the leading lid's edge gets a line in
        the eye's darkest colour, clipped to the drawn eye.
        """
        rig = self.rig
        x0, y0 = eye.origin
        hh, ww = eye.inside.shape
        region = source.layer[y0 : y0 + hh, x0 : x0 + ww]
        c = state.closure
        u_lo, u_hi, v_lo, v_hi = eye.extent
        upper_leads = state.c_up >= state.c_low
        mid_u, half = 0.5 * (u_lo + u_hi), max(0.5 * (u_hi - u_lo), 1e-6)
        v_meet = eye.centre + 0.3 * ((v_hi if upper_leads else v_lo) - eye.centre)

        def meeting(u: NDArray[np.floating]) -> NDArray[np.floating]:
            t = np.clip((u - mid_u) / half, -1.0, 1.0)
            return np.asarray(v_meet + 0.35 * (eye.centre - v_meet) * t * t)

        m = meeting(eye.u)
        # The leading lid does the closing; the other joins only over the last 40 %.
        c_lead, c_other = c, max(0.0, (c - 0.6) / 0.4)
        c_top, c_bottom = (c_lead, c_other) if upper_leads else (c_other, c_lead)
        upper_edge = v_lo + c_top * (m - v_lo)
        lower_edge = v_hi + c_bottom * (m - v_hi)
        cover = np.clip(upper_edge - eye.v + 0.5, 0.0, 1.0) + np.clip(
            eye.v - lower_edge + 0.5, 0.0, 1.0
        )
        cover = (np.clip(cover, 0.0, 1.0) * eye.inside).astype(np.float32)
        if rig.style == "photo":
            # The skin above the eye slides down as the lid.
            drop = np.maximum(upper_edge - v_lo, 0.0).astype(np.float32)
            gy, gx = np.mgrid[y0 : y0 + hh, x0 : x0 + ww].astype(np.float32)
            sx = gx - drop * np.float32(eye.normal[0])
            sy = gy - drop * np.float32(eye.normal[1])
            slid = cv2.remap(
                self.source.layer, sx, sy, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT
            )
            _blend(region, slid[:, :, :3].astype(np.float32), cover)
        else:
            _blend(region, eye.skin, cover)
        width = min(rig.line_width, 0.35 * (u_hi - u_lo)) * float(np.clip(c / 0.35, 0.0, 1.0))
        if width >= 0.5:
            us = np.linspace(u_lo, u_hi, 24)
            mu = meeting(us)
            # Under the lid's edge while it closes (the line is the lid's rim), centred on
            # the meeting arc once closed.
            tuck = 0.5 * width * (1.0 - c)
            line_v = (
                v_lo + c_top * (mu - v_lo) + tuck
                if upper_leads
                else v_hi + c_bottom * (mu - v_hi) - tuck
            )
            pts = eye.frame_origin + us[:, None] * eye.axis + line_v[:, None] * eye.normal
            line = np.zeros((hh, ww), np.uint8)
            fixed = np.round((pts - (x0, y0)) * _ONE).astype(np.int32)
            cv2.polylines(line, [fixed], False, 255, max(1, round(width)), cv2.LINE_AA, SHIFT)
            # Clipped to the drawn eye (a half-closed eye gets a flat lid, no overhang); the
            # clip grows with the closure so a closed eye's line keeps its round ends.
            grow = round(max(c - 0.85, 0.0) / 0.15 * 0.5 * width)
            clip = (
                eye.coverage
                if grow < 1
                else cv2.dilate(
                    eye.coverage,
                    cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * grow + 1, 2 * grow + 1)),
                )
            )
            _blend(region, eye.line, line.astype(np.float32) / 255.0 * clip)
        source.refresh(y0, y0 + hh, x0, x0 + ww)

    # -------------------------------------------------------------- mouth
    def _cavity(
        self,
        frame: NDArray[np.uint8],
        head: NDArray[np.float64],
        lips: NDArray[np.float64],
        mapping: NDArray[np.float32],
        roi: tuple[int, int, int, int],
    ) -> None:
        """Draw the mouth cavity when the mouth opens beyond frame 0.

        Args:
            frame: (H, W, 4) uint8 output frame, drawn into.
            head: (2, 3) head similarity (head frame -> output pixels).
            lips: (68, 2) smoothed landmarks in the head frame (lips 48-67 used).
            mapping: the frame's backward map over ``roi`` (clips the cavity to the head).
            roi: (x0, y0, x1, y1) of ``mapping`` in the frame.

        A flat, one-colour mouth interior gets the whole inner-lip opening filled with the
        mouth's darkest colour and the lip line redrawn around it. A drawn-open mouth
        (teeth, tongue) keeps its drawn teeth under the upper lip (their rest height) and
        the opening below them becomes the darkest colour; photos get only the *new*
        opening, below the upper lip moved down by its rest gap, as a dark interior shaded
        from the top.
        """
        rig = self.rig
        mouth = rig.mouth
        inner = lips[ibug68.INNER_LIPS]
        area = abs(_shoelace(inner))
        if area <= self.inner_area0 + 0.5:
            return
        if mouth.flat_interior and rig.style == "flat":
            shape = inner
            strength = 1.0
        else:
            ref = self.ref
            axis = inner[4] - inner[0]
            normal = np.array([-axis[1], axis[0]]) / max(float(np.hypot(*axis)), 1e-9)
            pairs = ibug68.INNER_LIP_PAIRS - ibug68.INNER_LIPS.start  # rows of `inner`
            gap0 = np.maximum(
                (ref[ibug68.INNER_LIP_PAIRS[:, 1]] - ref[ibug68.INNER_LIP_PAIRS[:, 0]]) @ normal,
                0.0,
            )
            gap_t = (inner[pairs[:, 1]] - inner[pairs[:, 0]]) @ normal
            keep = np.minimum(gap0, mouth.teeth)  # drawn teeth stay their height
            shape = inner.copy()
            shape[pairs[:, 0]] += np.minimum(keep, np.maximum(gap_t, 0.0))[:, None] * normal
            extra = float(np.mean(gap_t - gap0))
            strength = float(np.clip(extra / max(0.06 * mouth.width, 1.0), 0.0, 1.0))
            if strength <= 0.0:
                return
        poly = lip_curve(shape) @ head[:, :2].T + head[:, 2]
        rx0, ry0, rx1, ry1 = roi
        pad = int(np.ceil(rig.line_width)) + 3
        x0, y0 = np.floor(poly.min(axis=0)).astype(int) - pad
        x1, y1 = np.ceil(poly.max(axis=0)).astype(int) + pad + 1
        x0, y0, x1, y1 = max(int(x0), rx0), max(int(y0), ry0), min(int(x1), rx1), min(int(y1), ry1)
        if x1 <= x0 or y1 <= y0:
            return
        region = frame[y0:y1, x0:x1]
        fixed = np.round((poly - (x0, y0)) * _ONE).astype(np.int32)
        fill = np.zeros((y1 - y0, x1 - x0), np.uint8)
        cv2.fillPoly(fill, [fixed], 255, cv2.LINE_AA, SHIFT)
        # Clip to the head: the rig's head region where these pixels come from.
        inside = cv2.remap(
            rig.head,
            np.ascontiguousarray(mapping[y0 - ry0 : y1 - ry0, x0 - rx0 : x1 - rx0]),
            None,
            cv2.INTER_LINEAR,
            borderMode=cv2.BORDER_CONSTANT,
            borderValue=0,
        )  # type: ignore[call-overload]
        cover = fill.astype(np.float32) / 255.0 * inside
        if mouth.drawn is not None:
            # A drawn-open mouth: the cavity stays on the stretched drawing and never
            # covers its teeth or tongue, wherever the deformation takes them.
            keep, drawn, dx, dy = mouth.drawn
            src = np.ascontiguousarray(
                mapping[y0 - ry0 : y1 - ry0, x0 - rx0 : x1 - rx0] - np.array([dx, dy], np.float32)
            )
            hidden, allowed = (
                cv2.remap(
                    m, src, None, cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT, borderValue=0
                )  # type: ignore[call-overload]
                for m in (keep, drawn)
            )
            cover *= allowed * (1.0 - hidden)
        if rig.style == "flat":
            _blend(region, mouth.cavity, cover)
            if mouth.flat_interior:
                # The lip line around the opening, crisp, in the mouth's line colour.
                lw = min(rig.line_width, 0.25 * mouth.width + 1.0)
                stroke = np.zeros_like(fill)
                cv2.polylines(
                    stroke, [fixed], True, 255, max(1, round(lw * 0.5)), cv2.LINE_AA, SHIFT
                )
                _blend(region, mouth.line, stroke.astype(np.float32) / 255.0 * inside)
        else:
            top, bottom = float(poly[:, 1].min()), float(poly[:, 1].max())
            ys = (np.arange(y0, y1, dtype=np.float32) - top) / max(bottom - top, 1.0)
            # The lips' own hue, darkest under the upper lip, lighter towards the tongue.
            shade = np.clip(0.15 + 0.35 * ys, 0.15, 0.5)[:, None, None]
            colour = np.broadcast_to(mouth.line[None, None, :] * shade, (y1 - y0, x1 - x0, 3))
            soft = cv2.GaussianBlur(cover, (0, 0), 0.8) * np.float32(0.95 * strength)
            _blend(region, np.ascontiguousarray(colour, np.float32), soft)


def _shoelace(poly: NDArray[np.float64]) -> float:
    """Signed area of a polygon (n, 2), pixels² (positive clockwise on screen)."""
    x, y = poly[:, 0], poly[:, 1]
    return 0.5 * float(np.dot(x, np.roll(y, -1)) - np.dot(y, np.roll(x, -1)))
