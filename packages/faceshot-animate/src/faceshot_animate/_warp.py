"""WarpAnimator: the CPU, weight-free, landmark-driven animator (faceshot's embedded default).

A piecewise-affine warp over a conforming Delaunay mesh of the landmarks, a ring of
anchors following the head's similarity motion and fixed border anchors
(:mod:`faceshot_animate._mesh`). The backward map is evaluated on a coarse grid, upsampled
bilinearly (the map is continuous, so this is accurate away from triangle creases) and
applied with one ``cv2.remap``. When the inner lips open wider than at frame 0 a dark
mouth cavity with soft edges is painted inside the inner-lip polygon.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import cv2
import numpy as np
import shapely
from faceshot_retarget import ibug68, rescale_points
from numpy.typing import NDArray

from faceshot_animate._image import as_uint8_image
from faceshot_animate._mesh import Mesh, build_mesh
from faceshot_animate.errors import AnimateInputError

__all__ = ["WarpAnimator", "WarpConfig", "inner_mouth_area"]

_INNER_LIPS = ibug68.INNER_LIPS


@dataclass(frozen=True)
class WarpConfig:
    """Settings of :class:`WarpAnimator`.

    Attributes:
        max_side: the warp runs on the output image shrunk so its long side is at most this
            many pixels (then resized back to the output size); bounds time for huge inputs.
        grid_step: step in working pixels of the coarse grid on which the piecewise-affine
            map is evaluated before bilinear upsampling; 1 = exact per pixel (slow),
            2 = near exact, 4 = fastest (default; sub-pixel error except at creases).
        ring_scale: ring anchors lie on the landmark hull scaled by this about its centroid;
            they follow the head's similarity motion (hair and head outline move with the
            face), and the band between ring and image border absorbs the motion.
        ring_points: number of ring anchors (those outside the image are dropped).
        border_points: fixed anchors per image side (the background there stays pinned).
        mouth_cavity: paint a dark cavity when the inner lips open beyond frame 0.
        cavity_color: RGB uint8 colour of the cavity, or ``None`` (default) for the mean
            colour of the character's lips (outer-lip polygon at frame 0) darkened to 22 %,
            so grey images get a grey cavity and cartoon mouths keep their hue.
        cavity_start: inner-lip area gain over frame 0, in units of the squared mouth width
            (corner 60 to corner 64), at which the cavity starts to show.
        cavity_full: gain at which the cavity is fully opaque (> ``cavity_start``).
        threads: ``cv2.setNumThreads`` while frames are produced (restored after each frame);
            ``None`` leaves OpenCV's setting alone.
        max_outside: landmarks may lie outside the image by at most this many image sizes
            (1.0: a point may be one image width left of the left edge, ...); farther points
            (e.g. a lip point moved 1e6 px) are refused at call time with the frame and point
            named, since nothing of them could be drawn and the mesh and mouth cavity would
            grow with them (time and memory).
        max_blur_fraction: the mouth cavity's edge blur (0.12 of the mean lip gap) is
            capped at this fraction of the working image's long side, so a huge opening
            costs no more than a normal one.
    """

    max_side: int = 1024
    grid_step: int = 4
    ring_scale: float = 1.4
    ring_points: int = 24
    border_points: int = 4
    mouth_cavity: bool = True
    cavity_color: tuple[int, int, int] | None = None
    cavity_start: float = 0.01
    cavity_full: float = 0.05
    threads: int | None = None
    max_outside: float = 1.0
    max_blur_fraction: float = 1.0 / 32.0

    def __post_init__(self) -> None:
        if not 0.0 <= self.max_outside <= 10.0:
            raise AnimateInputError(
                f"`max_outside` must be in [0, 10] image sizes; got {self.max_outside}"
            )
        if not 0.0 < self.max_blur_fraction <= 1.0:
            raise AnimateInputError(
                f"`max_blur_fraction` must be in (0, 1]; got {self.max_blur_fraction}"
            )
        if self.max_side < 16:
            raise AnimateInputError(f"`max_side` must be >= 16; got {self.max_side}")
        if not 1 <= self.grid_step <= 32:
            raise AnimateInputError(f"`grid_step` must be in [1, 32]; got {self.grid_step}")
        if self.ring_scale <= 1.0:
            raise AnimateInputError(f"`ring_scale` must be > 1; got {self.ring_scale}")
        if self.ring_points < 0 or self.border_points < 1:
            raise AnimateInputError(
                "`ring_points` must be >= 0 and `border_points` >= 1; "
                f"got {self.ring_points} and {self.border_points}"
            )
        if not 0.0 <= self.cavity_start < self.cavity_full:
            raise AnimateInputError(
                "need 0 <= `cavity_start` < `cavity_full`; "
                f"got {self.cavity_start} and {self.cavity_full}"
            )
        if self.cavity_color is not None and (
            len(self.cavity_color) != 3 or not all(0 <= int(c) <= 255 for c in self.cavity_color)
        ):
            raise AnimateInputError(
                f"`cavity_color` must be 3 ints in [0, 255]; got {self.cavity_color!r}"
            )


def inner_mouth_area(landmarks: NDArray[np.float64]) -> float:
    """Area in pixels² of the inner-lip polygon (points 60-67) of one (68, 2) frame.

    Self-intersecting polygons (crossed lips) are repaired with :func:`shapely.make_valid`
    first; a closed mouth gives 0.
    """
    poly = shapely.Polygon(np.asarray(landmarks, dtype=np.float64)[_INNER_LIPS])
    if not poly.is_valid:
        poly = shapely.make_valid(poly)
    return float(poly.area)


def _check_size(value: tuple[int, int] | None, name: str) -> tuple[int, int] | None:
    if value is None:
        return None
    try:
        w, h = (int(v) for v in value)
    except (TypeError, ValueError):
        raise AnimateInputError(f"`{name}` must be a (width, height) pair; got {value!r}") from None
    if w < 2 or h < 2:
        raise AnimateInputError(f"`{name}` must be at least (2, 2); got {(w, h)}")
    return w, h


def _check_inside(pts: NDArray[np.float64], size: tuple[int, int], max_outside: float) -> None:
    """Refuse landmarks more than ``max_outside`` image sizes beyond the image edges.

    Args:
        pts: (T, 68, 2) float64 pixel (x, y).
        size: (W, H) of the image.
    """
    wh = np.array(size, dtype=np.float64)
    lo, hi = -max_outside * wh - 0.5, (1.0 + max_outside) * wh - 0.5
    bad = np.argwhere(((pts < lo) | (pts > hi)).any(axis=2))
    if bad.size:
        t, i = (int(v) for v in bad[0])
        x, y = pts[t, i]
        raise AnimateInputError(
            f"`landmarks` frame {t}, point {i} at ({x:.6g}, {y:.6g}) lies far outside the "
            f"{size[0]}x{size[1]} image (the renderer accepts points up to {max_outside:g} image "
            f"size(s) beyond its edges); {len(np.unique(bad[:, 0]))} frame(s) have such points"
        )


def _scale_points(
    pts: NDArray[np.float64], size_wh: tuple[int, int], to_size_wh: tuple[int, int]
) -> NDArray[np.float64]:
    """Rescale pixel-centre (x, y) from a (W, H) image (OpenCV's order, as this module's
    sizes) to another (W, H): :func:`faceshot_retarget.rescale_points`."""
    return rescale_points(pts, size_wh[::-1], to_size_wh[::-1])


class WarpAnimator:
    """CPU landmark-driven animator: piecewise-affine mesh warp plus mouth cavity.

    Follows the :class:`~faceshot_animate.Animator` protocol. Holds only its
    :class:`WarpConfig` and an optional output size; it is stateless between calls and
    deterministic.

    Args:
        config: warp settings.
        output_size: (W, H) of the produced frames, or ``None`` for the input image's size.

    Example:
        >>> anim = WarpAnimator()
        >>> frames = anim.animate(image, landmarks, fps=25)  # doctest: +SKIP
        >>> first = next(frames)  # equals image (uint8, C = 3 or 4)  # doctest: +SKIP
    """

    def __init__(
        self, config: WarpConfig | None = None, *, output_size: tuple[int, int] | None = None
    ) -> None:
        self.config = config if config is not None else WarpConfig()
        self.output_size = _check_size(output_size, "output_size")

    def __repr__(self) -> str:
        return f"WarpAnimator(config={self.config!r}, output_size={self.output_size!r})"

    def animate(
        self, image: NDArray[np.generic], landmarks: NDArray[np.float64], *, fps: float = 25.0
    ) -> Iterator[NDArray[np.uint8]]:
        """Animate ``image`` along ``landmarks``; frames are produced lazily, one at a time.

        Args:
            image: (H, W), (H, W, 1), (H, W, 3) or (H, W, 4) array; uint8, uint16, bool or
                float in [0, 1]. The character, whose landmarks are ``landmarks[0]``. Grey
                becomes RGB; alpha is warped with the colour and kept (semi-transparent
                output pixels are interpolated premultiplied, so colour hidden under
                transparent pixels never bleeds into edges).
            landmarks: (T, 68, 2) or (68, 2) float64 pixel (x, y) in ``image``'s pixels,
                iBUG order; frame 0 is the character's own landmarks.
            fps: frames per second of the output (> 0); the warp does not depend on it.

        Returns:
            An iterator of T frames, each (H', W', C) uint8 with (W', H') = ``output_size``
            (default the input size) and C = 4 when the input has alpha else 3. Frame 0
            reproduces the input image (exactly, up to the output resize).

        Raises:
            AnimateInputError: bad image, ``fps`` or output size (raised at call time).
            faceshot_retarget.LandmarkShapeError: bad landmark shape (at call time).
        """
        from faceshot_retarget import as_points

        img = as_uint8_image(image, "image")
        pts = as_points(landmarks, "landmarks")
        if not np.isfinite(fps) or fps <= 0:
            raise AnimateInputError(f"`fps` must be a positive number; got {fps!r}")
        h, w = img.shape[:2]
        _check_inside(pts, (w, h), self.config.max_outside)
        out_size = self.output_size or (w, h)
        long_side = max(out_size)
        factor = min(1.0, self.config.max_side / long_side)
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
        mesh = build_mesh(
            lms[0],
            work,
            step=cfg.grid_step,
            ring_scale=cfg.ring_scale,
            ring_points=cfg.ring_points,
            border_points=cfg.border_points,
        )
        renderer = _FrameRenderer(src, mesh, cfg, lms[0])
        for t in range(lms.shape[0]):
            yield resize_frame(renderer.render(lms[t]), out_size)


def resample_character(image: NDArray[np.uint8], size_wh: tuple[int, int]) -> NDArray[np.uint8]:
    """The character image at the working size: area-averaged when shrinking, bilinear when
    growing; RGBA is resampled premultiplied (no dark fringes at alpha edges).

    Args:
        image: (H, W, 3|4) uint8.
        size_wh: (W, H) target size (OpenCV's order); the image itself when equal.
    """
    h, w = image.shape[:2]
    if size_wh == (w, h):
        return image
    interp = cv2.INTER_AREA if size_wh[0] < w else cv2.INTER_LINEAR
    if image.shape[2] == 4:
        small = cv2.resize(premultiply(image), size_wh, interpolation=interp)
        return unpremultiply(np.asarray(small, dtype=np.uint16))
    return np.asarray(cv2.resize(image, size_wh, interpolation=interp), dtype=np.uint8)


def resize_frame(frame: NDArray[np.uint8], size_wh: tuple[int, int]) -> NDArray[np.uint8]:
    """A rendered (h, w, C) uint8 frame at the output (W, H) size (area when shrinking,
    bilinear when growing); the frame itself when it already has that size."""
    h, w = frame.shape[:2]
    if size_wh == (w, h):
        return frame
    interp = cv2.INTER_AREA if size_wh[0] < w else cv2.INTER_LINEAR
    return np.asarray(cv2.resize(frame, size_wh, interpolation=interp), np.uint8)


def premultiply(image: NDArray[np.uint8]) -> NDArray[np.uint16]:
    """(H, W, 4) uint8 straight RGBA -> (H, W, 4) uint16 (R*A, G*A, B*A, A*257), exact."""
    alpha = image[:, :, 3:4].astype(np.uint16)
    out = np.empty(image.shape, dtype=np.uint16)
    np.multiply(image[:, :, :3], alpha, out=out[:, :, :3], dtype=np.uint16)
    out[:, :, 3:4] = alpha * np.uint16(257)
    return out


def unpremultiply(image: NDArray[np.uint16]) -> NDArray[np.uint8]:
    """Inverse of :func:`premultiply` (rounded); colour is 0 where alpha is 0."""
    a16 = image[:, :, 3].astype(np.float32)
    scale = np.divide(257.0, a16, out=np.zeros_like(a16), where=a16 > 0)
    out = np.empty(image.shape, dtype=np.uint8)
    rgb = image[:, :, :3].astype(np.float32) * scale[:, :, None]
    np.clip(rgb + 0.5, 0, 255, out=rgb)
    out[:, :, :3] = rgb.astype(np.uint8)
    out[:, :, 3] = ((image[:, :, 3].astype(np.uint32) + 128) // 257).astype(np.uint8)
    return out


def _lip_colour(image: NDArray[np.uint8], landmarks: NDArray[np.float64]) -> NDArray[np.float32]:
    """(3,) float32 mean RGB inside the outer-lip polygon (mid grey if it covers no pixel)."""
    mask = np.zeros(image.shape[:2], dtype=np.uint8)
    cv2.fillPoly(
        mask, [np.round(landmarks[ibug68.OUTER_LIPS] * 16).astype(np.int32)], 1, cv2.LINE_8, 4
    )
    if not mask.any():
        return np.full(3, 128.0, dtype=np.float32)
    return np.asarray(image[:, :, :3][mask > 0].mean(axis=0), dtype=np.float32)


class _FrameRenderer:
    """Per-call state: the working image, mesh, full-resolution grid and neutral mouth."""

    def __init__(
        self, src: NDArray[np.uint8], mesh: Mesh, cfg: WarpConfig, reference: NDArray[np.float64]
    ) -> None:
        self.channels = src.shape[2]
        # cv2.remap is markedly faster on 4 channels than on 3: warp RGB as RGBX.
        self.src = src if self.channels == 4 else cv2.cvtColor(src, cv2.COLOR_RGB2RGBA)
        # RGBA: pixels that come out semi-transparent are redone from a premultiplied
        # 16-bit copy, so colour hidden under transparent pixels never bleeds into edges.
        self.src16 = premultiply(src) if self.channels == 4 else None
        self.mesh = mesh
        self.cfg = cfg
        w, h = mesh.size
        gx, gy = np.meshgrid(np.arange(w, dtype=np.float32), np.arange(h, dtype=np.float32))
        self.grid = np.stack([gx, gy], axis=2)
        self.neutral_area = inner_mouth_area(reference)
        if cfg.cavity_color is not None:
            self.cavity_color = np.asarray(cfg.cavity_color, dtype=np.float32)
        else:
            self.cavity_color = _lip_colour(src, reference) * np.float32(0.22)

    def dense_map(self, landmarks: NDArray[np.float64]) -> NDArray[np.float32]:
        """(H, W, 2) float32 absolute source coordinates (x, y) for every working pixel."""
        return self.mesh.backward_map(landmarks, absolute=True)

    def render(self, landmarks: NDArray[np.float64]) -> NDArray[np.uint8]:
        threads = self.cfg.threads
        previous = cv2.getNumThreads()
        if threads is not None:
            cv2.setNumThreads(threads)
        try:
            mapping = self.dense_map(landmarks)
            warped = cv2.remap(  # type: ignore[call-overload]
                self.src, mapping, None, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE
            )
            if self.channels == 3:
                frame = np.asarray(cv2.cvtColor(warped, cv2.COLOR_RGBA2RGB), dtype=np.uint8)
            else:
                frame = np.asarray(warped, dtype=np.uint8)
                self._fix_edges(frame, mapping)
            if self.cfg.mouth_cavity:
                self._paint_cavity(frame, landmarks)
        finally:
            if threads is not None:
                cv2.setNumThreads(previous)
        return frame

    def _fix_edges(self, frame: NDArray[np.uint8], mapping: NDArray[np.float32]) -> None:
        """Recompute semi-transparent output pixels from the premultiplied source.

        An output pixel with alpha 255 only mixes opaque source pixels, where straight and
        premultiplied interpolation agree; one with alpha 0 is invisible (and keeps the
        hidden colour, so frame 0 stays equal to the input). Only 0 < alpha < 255 pixels
        (edges, soft shadows) need the premultiplied path.
        """
        alpha = frame[:, :, 3]
        edge = (alpha > 0) & (alpha < 255)
        ys, xs = np.nonzero(edge)
        n = len(ys)
        if n == 0:
            return
        cols = 1024  # cv2.remap wants maps under 32767 along each side
        rows = -(-n // cols)
        pts = np.zeros((rows * cols, 2), dtype=np.float32)
        pts[:n] = mapping[ys, xs]
        w16 = cv2.remap(  # type: ignore[call-overload]
            self.src16,
            pts.reshape(rows, cols, 2),
            None,
            cv2.INTER_LINEAR,
            borderMode=cv2.BORDER_REPLICATE,
        )
        fixed = unpremultiply(np.asarray(w16, dtype=np.uint16)).reshape(-1, 4)[:n]
        frame[ys, xs] = fixed

    def _paint_cavity(self, frame: NDArray[np.uint8], landmarks: NDArray[np.float64]) -> None:
        cfg = self.cfg
        lips = landmarks[_INNER_LIPS]
        width = float(np.linalg.norm(lips[4] - lips[0]))
        if width < 1.0:
            return
        poly = shapely.Polygon(lips)
        if not poly.is_valid:
            poly = shapely.make_valid(poly)
        gain = (poly.area - self.neutral_area) / width**2
        strength = float(
            np.clip((gain - cfg.cavity_start) / (cfg.cavity_full - cfg.cavity_start), 0, 1)
        )
        if strength <= 0.0:
            return
        opening = poly.area / width  # mean inner-lip gap, pixels
        h, w = frame.shape[:2]
        sigma = max(0.6, min(0.12 * opening, cfg.max_blur_fraction * max(h, w)))
        core = poly.buffer(-0.5 * sigma)
        if core.is_empty:
            core = poly
        pad = int(np.ceil(3 * sigma)) + 2
        x0, y0, x1, y1 = (int(np.floor(v)) for v in poly.bounds)
        x0, y0 = max(x0 - pad, 0), max(y0 - pad, 0)
        x1, y1 = min(x1 + pad + 1, w), min(y1 + pad + 1, h)
        if x1 <= x0 or y1 <= y0:
            return
        mask = np.zeros((y1 - y0, x1 - x0), dtype=np.float32)
        geoms = getattr(core, "geoms", [core])
        rings = [
            np.round((np.asarray(g.exterior.coords) - (x0, y0)) * 16).astype(np.int32)
            for g in geoms
            if isinstance(g, shapely.Polygon) and not g.is_empty
        ]
        if not rings:
            return
        cv2.fillPoly(mask, rings, 1.0, cv2.LINE_AA, 4)
        mask = cv2.GaussianBlur(mask, (0, 0), sigma) * strength
        region = frame[y0:y1, x0:x1]
        color = self.cavity_color
        a = mask[:, :, None]
        rgb = region[:, :, :3].astype(np.float32) * (1.0 - a) + color * a
        region[:, :, :3] = np.round(rgb).astype(np.uint8)
        if region.shape[2] == 4:
            alpha = np.maximum(region[:, :, 3].astype(np.float32), mask * 255.0)
            region[:, :, 3] = np.round(alpha).astype(np.uint8)
