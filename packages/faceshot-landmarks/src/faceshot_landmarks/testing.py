"""Helpers for tests and benchmarks (not needed by the library itself).

* :data:`MIRROR_68`, :func:`flip_example`: horizontal mirroring of an image and its iBUG
  landmarks (left/right indices swapped), to augment small galleries.
* :func:`twemoji_keypoints`, :func:`twemoji_pseudo68`, :func:`render_svg`: keypoints of
  Twemoji-style smiley SVGs derived from their geometry (eye ellipse centres and radii, mouth
  extremes from the rasterised mouth shape) and a geometric 68-point pseudo-annotation built
  from them. Only faces whose eyes are two dark ``<ellipse>`` elements and whose mouth is a
  separate dark shape below them are supported; others raise ``ValueError``.
  Rendering needs ``cairosvg`` (``pip install "faceshot-landmarks[testing]"``).
* :func:`face_crop`: a square face-centred crop of a photo (matcher evaluation protocol).
* :func:`textured_canvas`, :func:`place_on_canvas`: a seeded textured background and an image
  pasted into it off-centre at a given height (the "face anywhere" evaluation protocol).
* :func:`synthetic_features`: a seeded random smooth feature field with an exactly known
  correspondence, for matcher tests.
* :func:`synthetic_motion`: a known landmark sequence on any character's shape that opens the
  mouth fully, blinks and turns the head (driving-video benchmarks and tests).
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from typing import Any

import attrs
import numpy as np
from faceshot_retarget import as_points, ibug68, mirror_landmarks
from numpy.typing import ArrayLike, NDArray

from faceshot_landmarks._features import DenseFeatures

__all__ = [
    "MIRROR_68",
    "TwemojiKeypoints",
    "face_crop",
    "flip_example",
    "place_on_canvas",
    "render_svg",
    "synthetic_features",
    "synthetic_motion",
    "textured_canvas",
    "twemoji_keypoints",
    "twemoji_pseudo68",
]

#: (68,) intp: index of each point's mirror image under a horizontal flip (iBUG 300-W):
#: :data:`faceshot_retarget.ibug68.MIRROR`, kept under this name for the tests.
MIRROR_68 = ibug68.MIRROR


def flip_example(image: ArrayLike, points: ArrayLike) -> tuple[NDArray[Any], NDArray[np.float64]]:
    """Mirror an image left-right and its landmarks (indices swapped by :data:`MIRROR_68`).

    Args:
        image: (H, W, ...) array.
        points: (68, 2) float pixel (x, y).

    Returns:
        ``(image, points)``: new (H, W, ...) array and (68, 2) float64.
    """
    im = np.asarray(image)
    p = as_points(points, "points")[0]
    return np.ascontiguousarray(im[:, ::-1]), mirror_landmarks(p, im.shape[1])


def face_crop(
    image: ArrayLike, points: ArrayLike, factor: float = 1.8
) -> tuple[NDArray[np.uint8], NDArray[np.float64]]:
    """A square crop centred on the landmarks' box (side ``factor`` x its longer side).

    Borders are replicated where the square leaves the image. Used to turn a photo into a
    face-centred "character image" for matcher evaluation.

    Args:
        image: (H, W, 3) uint8 RGB.
        points: (68, 2) float pixel landmarks defining the box (e.g. ground truth).
        factor: crop side relative to the longer side of the landmark box.

    Returns:
        ``(crop, points)``: (S, S, 3) uint8 and the (68, 2) float64 points in crop pixels.
    """
    import cv2

    im = np.asarray(image, dtype=np.uint8)
    p = as_points(points, "points")[0]
    lo, hi = p.min(0), p.max(0)
    side = max(2, round(factor * float(max(hi - lo))))
    x0, y0 = (int(v) for v in np.round((lo + hi) / 2 - side / 2))
    big = cv2.copyMakeBorder(im, side, side, side, side, cv2.BORDER_REPLICATE)
    crop = np.ascontiguousarray(
        big[y0 + side : y0 + 2 * side, x0 + side : x0 + 2 * side], dtype=np.uint8
    )
    return crop, np.asarray(p - np.array([x0, y0], dtype=np.float64), dtype=np.float64)


def render_svg(svg: str | bytes, size: int = 512) -> NDArray[np.uint8]:
    """Rasterise an SVG to an (size, size, 3) uint8 RGB image on white (cairosvg)."""
    import cairosvg
    import cv2

    data = svg.encode("utf-8") if isinstance(svg, str) else svg
    png = cairosvg.svg2png(bytestring=data, output_width=size, output_height=size)
    decoded = cv2.imdecode(np.frombuffer(png, np.uint8), cv2.IMREAD_UNCHANGED)
    if decoded is None:
        raise ValueError("cairosvg produced an undecodable PNG")
    rgba = cv2.cvtColor(decoded, cv2.COLOR_BGRA2RGBA)
    a = rgba[..., 3:4].astype(np.float32) / 255.0
    return np.asarray(np.round(rgba[..., :3] * a + 255.0 * (1 - a)), dtype=np.uint8)


def _strip_ns(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def _dark(fill: str | None) -> bool:
    if not fill or not re.fullmatch(r"#[0-9A-Fa-f]{6}", fill):
        return False
    r, g, b = (int(fill[i : i + 2], 16) for i in (1, 3, 5))
    return 0.299 * r + 0.587 * g + 0.114 * b < 100


@attrs.frozen
class TwemojiKeypoints:
    """Geometry-derived keypoints of a smiley, in pixels of a ``size`` x ``size`` rendering.

    Attributes:
        right_eye: (x, y) centre of the eye on the image left (the subject's right).
        left_eye: (x, y) centre of the eye on the image right.
        eye_radii: (rx, ry) mean ellipse radii.
        mouth_left: (x, y) leftmost mouth point (iBUG 48).
        mouth_right: (x, y) rightmost mouth point (iBUG 54).
        mouth_top: y of the mouth's top edge at its centre column.
        mouth_bottom: y of the mouth's bottom edge at its centre column.
        size: rendering size in pixels.
    """

    right_eye: tuple[float, float]
    left_eye: tuple[float, float]
    eye_radii: tuple[float, float]
    mouth_left: tuple[float, float]
    mouth_right: tuple[float, float]
    mouth_top: float
    mouth_bottom: float
    size: int


def twemoji_keypoints(svg: str | bytes, size: int = 512) -> TwemojiKeypoints:
    """Derive eye centres and mouth extremes of a Twemoji smiley from its SVG geometry.

    Eyes: the two dark ``<ellipse>`` elements in the upper 60 % of the 36 x 36 viewBox with the
    most similar centre heights. Mouth: every other dark element is rasterised alone; the
    largest connected component whose centroid lies below the eyes is the mouth; its leftmost
    and rightmost pixels (mean row) are the mouth extremes.

    Raises:
        ValueError: the SVG does not have that structure.
    """
    import cv2

    text = svg.decode("utf-8") if isinstance(svg, bytes) else svg
    root = ET.fromstring(text)
    scale = size / 36.0
    eyes = []
    others = []
    for el in root.iter():
        tag = _strip_ns(el.tag)
        if tag in ("svg", "g") or not _dark(el.get("fill")):
            continue
        if tag == "ellipse" and float(el.get("cy", 0)) < 0.6 * 36:
            eyes.append(el)
        else:
            others.append(el)
    if len(eyes) < 2:
        raise ValueError("expected two dark <ellipse> eyes in the upper part of the face")
    cy = np.array([float(e.get("cy", 0)) for e in eyes])
    pairs = [(i, j) for i in range(len(eyes)) for j in range(i + 1, len(eyes))]
    i, j = min(pairs, key=lambda p: abs(cy[p[0]] - cy[p[1]]))
    e1, e2 = sorted((eyes[i], eyes[j]), key=lambda e: float(e.get("cx", 0)))

    # viewBox units -> pixel centres: x_px = u * scale - 0.5 (pixel (0,0) centre at u = 0.5/scale)
    def attr(e: Any, key: str) -> float:
        return float(e.get(key, "0"))

    re_ = (attr(e1, "cx") * scale - 0.5, attr(e1, "cy") * scale - 0.5)
    le_ = (attr(e2, "cx") * scale - 0.5, attr(e2, "cy") * scale - 0.5)
    radii = (
        0.5 * (attr(e1, "rx") + attr(e2, "rx")) * scale,
        0.5 * (attr(e1, "ry") + attr(e2, "ry")) * scale,
    )
    if not others:
        raise ValueError("no dark mouth shape found")
    body = "".join(ET.tostring(_black(el), encoding="unicode") for el in others)
    mask_svg = f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 36 36">{body}</svg>'
    mask = (render_svg(mask_svg, size)[..., 0] < 128).astype(np.uint8)
    n, labels, stats, cents = cv2.connectedComponentsWithStats(mask, connectivity=8)
    eye_y = max(re_[1], le_[1])
    cand = [k for k in range(1, n) if cents[k][1] > eye_y + radii[1]]
    if not cand:
        raise ValueError("no dark shape below the eyes (mouth) found")
    k = max(cand, key=lambda c: stats[c, cv2.CC_STAT_AREA])
    ys, xs = np.nonzero(labels == k)
    xl, xr = xs.min(), xs.max()
    mid = round((xl + xr) / 2)
    col = ys[xs == mid] if np.any(xs == mid) else ys
    return TwemojiKeypoints(
        right_eye=re_,
        left_eye=le_,
        eye_radii=radii,
        mouth_left=(float(xl), float(ys[xs == xl].mean())),
        mouth_right=(float(xr), float(ys[xs == xr].mean())),
        mouth_top=float(col.min()),
        mouth_bottom=float(col.max()),
        size=size,
    )


def _black(el: Any) -> Any:
    clone = ET.Element(_strip_ns(el.tag), {k: v for k, v in el.attrib.items() if k != "fill"})
    clone.set("fill", "#000000")
    return clone


def twemoji_pseudo68(kp: TwemojiKeypoints) -> NDArray[np.float64]:
    """A 68-point pseudo-annotation of a round smiley from its keypoints (geometry only).

    Eyes (36-47) lie on the eye ellipses (corners at +-rx), mouth corners are the mouth
    extremes, the lips follow the mouth's top/bottom at its centre, the jaw is the lower half of
    the face circle, brows sit above the eyes and the nose between eyes and mouth.

    Returns:
        (68, 2) float64 pixel (x, y) of the ``kp.size`` rendering.
    """
    s = kp.size
    c = np.array([s / 2 - 0.5, s / 2 - 0.5])
    r = s / 2 * 0.97
    ang = np.linspace(np.pi, 0.0, 17)  # image-left -> chin (+y down) -> image-right
    jaw = c + r * np.stack([np.cos(ang), np.sin(ang)], axis=1)
    rx, ry = kp.eye_radii
    t = np.array([np.pi, 2 * np.pi / 3, np.pi / 3, 0.0, -np.pi / 3, -2 * np.pi / 3])  # 36..41 order

    def eye(cx: float, cy: float, order: NDArray[np.intp]) -> NDArray[np.float64]:
        tt = t[order]
        return np.stack([cx + rx * np.cos(tt), cy - ry * np.sin(tt)], axis=1)

    # Both eyes start at their image-left corner (36 outer, 42 inner) and go over the upper lid.
    right_eye = eye(*kp.right_eye, np.arange(6))
    left_eye = eye(*kp.left_eye, np.arange(6))
    brow_y = min(kp.right_eye[1], kp.left_eye[1]) - 1.8 * ry
    bx = np.linspace(-1.3, 1.3, 5) * rx
    right_brow = np.stack([kp.right_eye[0] + bx, np.full(5, brow_y)], axis=1)
    left_brow = np.stack([kp.left_eye[0] + bx, np.full(5, brow_y)], axis=1)
    eye_mid = (np.array(kp.right_eye) + np.array(kp.left_eye)) / 2
    ml, mr = np.array(kp.mouth_left), np.array(kp.mouth_right)
    mouth_c = np.array([(ml[0] + mr[0]) / 2, (kp.mouth_top + kp.mouth_bottom) / 2])
    nose_tip = eye_mid + 0.6 * (np.array([mouth_c[0], kp.mouth_top]) - eye_mid)
    bridge = eye_mid + np.linspace(0.1, 1.0, 4)[:, None] * (nose_tip - eye_mid)
    nw = 0.35 * (mr[0] - ml[0]) / 2
    base = np.stack(
        [
            nose_tip[0] + np.linspace(-nw, nw, 5),
            nose_tip[1] + np.array([0.0, 0.3, 0.5, 0.3, 0.0]) * nw,
        ],
        axis=1,
    )
    u = np.linspace(0, 1, 7)
    top = np.interp(u, [0, 0.5, 1], [ml[1], kp.mouth_top, mr[1]])
    bot = np.interp(u, [0, 0.5, 1], [ml[1], kp.mouth_bottom, mr[1]])
    xs = ml[0] + u * (mr[0] - ml[0])
    outer_upper = np.stack([xs, top], axis=1)  # 48..54
    outer_lower = np.stack([xs[::-1], bot[::-1]], axis=1)[1:6]  # 55..59
    inner_u = np.linspace(0.1, 0.9, 5)
    mid_y = np.interp(inner_u, [0, 1], [ml[1], mr[1]])
    ix = ml[0] + inner_u * (mr[0] - ml[0])
    in_top = mid_y + 0.25 * (np.interp(inner_u, [0, 0.5, 1], [ml[1], kp.mouth_top, mr[1]]) - mid_y)
    in_bot = mid_y + 0.25 * (
        np.interp(inner_u, [0, 0.5, 1], [ml[1], kp.mouth_bottom, mr[1]]) - mid_y
    )
    inner = np.concatenate(
        [np.stack([ix, in_top], axis=1), np.stack([ix[::-1], in_bot[::-1]], axis=1)[1:4]]
    )
    pts = np.concatenate(
        [
            jaw,
            right_brow,
            left_brow,
            bridge,
            base,
            right_eye,
            left_eye,
            outer_upper,
            outer_lower,
            inner,
        ]
    )
    return np.asarray(pts, dtype=np.float64)


def synthetic_features(
    image_size: tuple[int, int] = (64, 64),
    grid: tuple[int, int] = (16, 16),
    channels: int = 16,
    *,
    seed: int = 0,
    smooth: float = 1.5,
    warp: ArrayLike | None = None,
    backbone: str = "synthetic",
) -> DenseFeatures:
    """A seeded random smooth feature field, optionally sampled through an affine warp.

    The underlying field ``phi(u, v)`` over canonical pixel coordinates is the same for a given
    ``seed``; the map samples ``phi(A @ [x, y, 1])`` at each cell centre (x, y), so a landmark
    at canonical ``u`` appears at pixel ``A^-1 u`` in the warped map -- an exact, known
    correspondence for matcher tests.

    Args:
        image_size: (H, W) pixels.
        grid: (h, w) cells.
        channels: C.
        seed: field seed.
        smooth: Gaussian smoothing of the field in cells.
        warp: (2, 3) affine from map pixels to canonical pixels (``None``: identity).
        backbone: recorded backbone id.

    Returns:
        :class:`DenseFeatures` (C, h, w) float32.
    """
    import cv2

    H, W = image_size
    h, w = grid
    rng = np.random.default_rng(seed)
    base_res = 4
    field = rng.standard_normal((h * base_res, w * base_res, channels)).astype(np.float32)
    # OpenCV filters at most a few channels at once: blur in groups of 4.
    field = np.concatenate(
        [
            np.asarray(
                cv2.GaussianBlur(field[..., k : k + 4], (0, 0), smooth * base_res), np.float32
            ).reshape(*field.shape[:2], -1)
            for k in range(0, channels, 4)
        ],
        axis=2,
    )
    a = np.array([[1.0, 0, 0], [0, 1.0, 0]]) if warp is None else np.asarray(warp, np.float64)
    jj, ii = np.meshgrid(np.arange(w), np.arange(h))
    x = (jj + 0.5) * W / w - 0.5
    y = (ii + 0.5) * H / h - 0.5
    u = a[0, 0] * x + a[0, 1] * y + a[0, 2]
    v = a[1, 0] * x + a[1, 1] * y + a[1, 2]
    # canonical pixel -> field sample coordinates (field covers the canonical image)
    fx = ((u + 0.5) * (w * base_res) / W - 0.5).astype(np.float32)
    fy = ((v + 0.5) * (h * base_res) / H - 0.5).astype(np.float32)
    sampled = np.concatenate(
        [
            np.asarray(
                cv2.remap(
                    field[..., k : k + 4], fx, fy, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT
                ),
                np.float32,
            ).reshape(h, w, -1)
            for k in range(0, channels, 4)
        ],
        axis=2,
    )
    return DenseFeatures(sampled.transpose(2, 0, 1), (H, W), backbone, {"channels": channels})


def textured_canvas(size: tuple[int, int] = (1080, 1920), *, seed: int = 0) -> NDArray[np.uint8]:
    """A seeded textured background: smooth colour noise plus a stripe pattern.

    Args:
        size: (H, W) pixels.
        seed: noise seed.

    Returns:
        (H, W, 3) uint8 RGB.
    """
    import cv2

    h, w = size
    rng = np.random.default_rng(seed)
    noise = rng.random((max(2, h // 8), max(2, w // 8), 3)).astype(np.float32)
    bg = cv2.resize(noise, (w, h), interpolation=cv2.INTER_CUBIC)
    yy, xx = np.mgrid[0:h, 0:w]
    stripes = np.sin((xx + 0.5 * yy) / 9.0)[..., None] * np.array([1.0, 0.5, 0.2], np.float32)
    fine = rng.random((h, w, 1)).astype(np.float32) * 0.15
    return np.asarray(
        np.clip((0.5 * bg + 0.25 * stripes + fine + 0.3) * 255.0, 0, 255), dtype=np.uint8
    )


def place_on_canvas(
    image: ArrayLike,
    points: ArrayLike,
    canvas: ArrayLike,
    *,
    height: int,
    centre: tuple[float, float],
) -> tuple[NDArray[np.uint8], NDArray[np.float64]]:
    """Paste an image, resized to ``height`` pixels high (aspect kept), into a canvas.

    Args:
        image: (h, w, 3) uint8 RGB.
        points: (N, 2) float pixel (x, y) in ``image``.
        canvas: (H, W, 3) uint8 RGB background (not modified).
        height: pasted height in pixels.
        centre: (x, y) canvas pixel of the pasted image's centre (it must fit inside).

    Returns:
        ``(composite, points)``: a new (H, W, 3) uint8 image and the (N, 2) float64 points in
        its pixels (pixel-centre convention).
    """
    import cv2

    im = np.asarray(image, dtype=np.uint8)
    out = np.array(canvas, dtype=np.uint8, copy=True)
    s = height / im.shape[0]
    width = max(1, round(im.shape[1] * s))
    small = cv2.resize(
        im, (width, height), interpolation=cv2.INTER_AREA if s < 1 else cv2.INTER_CUBIC
    )
    x0 = round(centre[0] - width / 2)
    y0 = round(centre[1] - height / 2)
    if x0 < 0 or y0 < 0 or x0 + width > out.shape[1] or y0 + height > out.shape[0]:
        raise ValueError(
            f"a {width}x{height} image centred at {centre} does not fit a {out.shape[1]}x{out.shape[0]} canvas"
        )
    out[y0 : y0 + height, x0 : x0 + width] = small
    p = np.asarray(points, dtype=np.float64)
    scale = np.array([width / im.shape[1], height / im.shape[0]])
    return out, (p + 0.5) * scale - 0.5 + np.array([x0, y0], dtype=np.float64)


def _bump(t: NDArray[np.float64], start: float, stop: float) -> NDArray[np.float64]:
    """sin^2 bump rising from 0 at ``start`` to 1 halfway and back to 0 at ``stop``."""
    inside = (t >= start) & (t <= stop)
    out = np.zeros_like(t)
    out[inside] = np.sin(np.pi * (t[inside] - start) / (stop - start)) ** 2
    return out


def synthetic_motion(
    points: ArrayLike,
    frames: int = 120,
    *,
    mouth_gap: float = 0.25,
    roll_degrees: float = 18.0,
    turn: float = 0.35,
) -> NDArray[np.float64]:
    """A known 68-point sequence on a character's shape: mouth, blinks, head turn.

    Time runs over ``u = t / frames`` in [0, 1) (the figures below are for 120 frames):

    * **mouth** opens fully twice (``u`` 0.07-0.32 and 0.67-0.92, sin^2 bumps): the lower
      lips and the chin move down until the inner-lip gap (mean of the pairs 61/67, 62/66,
      63/65) is ``mouth_gap`` face widths (at least 0.12 face widths more than at frame 0),
      the upper lip moves up by a tenth of that;
    * **blinks** three times (``u`` 0.37, 0.50 and 0.93, 5 % of the clip each): the lid pairs
      37/41, 38/40, 43/47, 44/46 meet (at 30 % of the way from the lower lid), the brows
      drop by 0.03 face widths;
    * **head** rolls by up to +-``roll_degrees`` (one period over the last 58 % of the clip),
      turns sideways (features shift by up to 0.18 * sin(``turn``) face widths scaled by
      their depth -- nose tip 1.3, nose 1, mouth 0.6, eyes and brows 0.5, jaw 0 -- while the
      face narrows by cos(turn)), and drifts by (+-0.06, -+0.03) face widths.

    Face width: distance of jaw points 0 and 16 at frame 0.

    Args:
        points: (68, 2) float pixel landmarks of the character (frame 0).
        frames: T >= 2.
        mouth_gap: largest inner-lip gap in face widths.
        roll_degrees: largest in-plane rotation.
        turn: largest sideways turn in radians.

    Returns:
        (T, 68, 2) float64 pixels; frame 0 equals ``points``.
    """
    p0 = as_points(points, "points")[0]
    if frames < 2:
        raise ValueError(f"`frames` must be >= 2; got {frames}")
    out = np.repeat(p0[None], frames, axis=0)
    width = float(np.linalg.norm(p0[16] - p0[0]))
    if width <= 0:
        raise ValueError("`points` has coinciding jaw points 0 and 16; no face width")
    u = np.arange(frames) / frames
    # mouth
    opening = _bump(u, 0.067, 0.317) + _bump(u, 0.667, 0.917)
    gap0 = float(np.linalg.norm(p0[[61, 62, 63]] - p0[[67, 66, 65]], axis=1).mean())
    extra = max(mouth_gap * width - gap0, 0.12 * width) / 1.1  # lower lip 1, upper lip 0.1
    lower = {
        65: 1.0,
        66: 1.0,
        67: 1.0,
        55: 1.0,
        56: 1.0,
        57: 1.0,
        58: 1.0,
        59: 1.0,
        48: 0.5,
        54: 0.5,
        60: 0.5,
        64: 0.5,
        5: 0.3,
        6: 0.6,
        7: 0.85,
        8: 1.0,
        9: 0.85,
        10: 0.6,
        11: 0.3,
    }
    for i, k in lower.items():
        out[:, i, 1] += k * extra * opening
    for i in (61, 62, 63, 49, 50, 51, 52, 53):
        out[:, i, 1] -= 0.1 * extra * opening
    # blinks
    blink = np.sum(
        [np.sin(np.pi * np.clip((u - s) / 0.05, 0, 1)) for s in (0.367, 0.5, 0.933)], axis=0
    )
    for up, low in ((37, 41), (38, 40), (43, 47), (44, 46)):
        meet = 0.7 * p0[low] + 0.3 * p0[up]
        out[:, up] += blink[:, None] * (meet - p0[up])
        out[:, low] += blink[:, None] * (meet - p0[low])
    out[:, 17:27, 1] += 0.03 * width * blink[:, None]
    # head
    centre = p0[[*range(17), 27, 28, 29, 30, 36, 39, 42, 45]].mean(axis=0)
    roll = (
        np.deg2rad(roll_degrees)
        * np.sin(2 * np.pi * np.clip(u - 0.417, 0, None) / 0.583)
        * (u >= 0.417)
    )
    yaw = turn * np.sin(2 * np.pi * np.clip(u - 0.333, 0, None) / 0.667) * (u >= 0.333)
    depth = np.zeros(68)
    depth[17:27], depth[27:36], depth[30], depth[36:48], depth[48:68] = 0.5, 1.0, 1.3, 0.5, 0.6
    drift = np.array([0.06, -0.03]) * width * np.sin(2 * np.pi * u)[:, None]
    q = out - centre
    q[..., 0] = q[..., 0] * np.cos(yaw)[:, None] + depth[None] * np.sin(yaw)[:, None] * 0.18 * width
    c, s = np.cos(roll)[:, None], np.sin(roll)[:, None]
    rotated = np.stack([c * q[..., 0] - s * q[..., 1], s * q[..., 0] + c * q[..., 1]], axis=-1)
    return np.asarray(rotated + centre + drift[:, None, :], dtype=np.float64)
