"""The character rig of :class:`~faceshot_animate.RigAnimator`, built once per character.

From the image and its 68 landmarks (frame 0):

* **background**: ``"transparent"`` (RGBA with a transparent border), ``"plain"`` (a border
  of one colour), or ``"scene"`` (anything else: photos, textured backgrounds);
* **head region** (:attr:`Rig.head`, (H, W) float32 in [0, 1]): the silhouette (alpha, or
  everything not connected to the plain border colour) for the first two; for a scene,
  a GrabCut colour segmentation seeded by the landmarks (sure face inside the landmark
  hull, probable head inside :func:`~faceshot_animate._geometry.head_oval`, background
  outside it) with a soft fade at the neck;
* **background plate** (scenes only): the image with the head region inpainted
  (``cv2.inpaint``), shown where the moving head uncovers it;
* **feature layers**: eyes, brows, nose and mouth as shapely polygons, each grown from the
  landmark polygon over the neighbouring pixels whose colour differs from the skin around
  it, so the polygon covers the feature as drawn (not only the landmark hull);
* **style** (``"flat"`` art vs ``"photo"``), from how well a 12-colour palette explains the
  face's pixels, and the character's own colours: skin, line (darkest feature colour),
  mouth cavity, and the line width, used to draw cavities and lids;
* the **deformation weight** (:attr:`Rig.deform`, (H, W) float32): 1 deep inside the head,
  falling smoothly to 0 at the silhouette, so features move but the outline never wobbles;
  and **anchors** along the outline that pin the smooth deformation there.

Everything is in the (working) image's pixels, (x, y) with the origin at the top-left
pixel centre.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Final, Literal

import cv2
import numpy as np
import shapely
from faceshot_retarget import ibug68
from numpy.typing import NDArray

from faceshot_animate._geometry import fill_polygon, head_oval, mask_to_polygon
from faceshot_animate.errors import AnimateInputError

__all__ = [
    "FEATURES",
    "HEAD_WEIGHTS",
    "EyeRig",
    "MouthRig",
    "Rig",
    "build_rig",
    "classify_background",
    "head_similarity_weights",
]

Background = Literal["transparent", "plain", "scene"]
Style = Literal["flat", "photo"]

#: (2,) the inner mouth corners (60, 64): the ends of the upper inner lip.
_INNER_CORNERS: Final = tuple(int(i) for i in ibug68.CHAINS["upper_inner_lip"][[0, -1]])

#: Feature layers: name -> landmark indices the polygon is grown from.
FEATURES: Final = MappingProxyType(
    {
        name: tuple(int(i) for i in ibug68.part_indices(name))
        for name in ("right_brow", "left_brow", "nose", "right_eye", "left_eye", "mouth")
    }
)


def head_similarity_weights() -> NDArray[np.float64]:
    """(68,) weights of the head-similarity fit (frame 0 -> frame t).

    The jaw-chord ends 0 and 16 (the retargeted face frame of Eq. 5) weigh most; the top of
    the jaw (1, 2, 14, 15), nose bridge and eye corners steady the fit; brows and nose base
    count half; the rest of the jaw (it drops with the mouth), lids and lips (expression)
    count nothing, so opening the mouth or blinking never moves the head.
    """
    jaw = ibug68.part_indices("jaw")
    w = np.zeros(ibug68.NUM_POINTS)
    w[jaw[[0, -1]]] = 4.0
    w[jaw[[1, 2, -3, -2]]] = 1.0
    w[ibug68.NOSE_BRIDGE] = 1.0
    w[ibug68.NOSE_BASE] = 0.5
    w[ibug68.EYEBROWS] = 0.5
    w[[*ibug68.CHAINS["right_upper_lid"][[0, -1]], *ibug68.CHAINS["left_upper_lid"][[0, -1]]]] = 1.0
    w.setflags(write=False)
    return w


#: (68,) the weights of :func:`head_similarity_weights`.
HEAD_WEIGHTS: Final = head_similarity_weights()

#: (upper lid pair, lower lid pair, corners) per eye, iBUG indices.
_EYES: Final = (
    ((37, 38), (41, 40), (36, 39)),
    ((43, 44), (47, 46), (42, 45)),
)


def classify_background(image: NDArray[np.uint8]) -> tuple[Background, NDArray[np.uint8]]:
    """Decide how the character sits in its image.

    Args:
        image: (H, W, 3|4) uint8.

    Returns:
        ``(kind, fill)``: ``"transparent"`` when at least half the border pixels have
        alpha < 16, ``"plain"`` when at least 85 % of the border pixels lie within RGB
        distance 12 (max over channels) of their median colour, else ``"scene"``; and the
        (C,) uint8 colour that fills uncovered pixels (transparent black, the border
        colour, or the border median for scenes).
    """
    border = np.concatenate([image[0], image[-1], image[:, 0], image[:, -1]])
    channels = image.shape[2]
    if channels == 4 and float((border[:, 3] < 16).mean()) >= 0.5:
        return "transparent", np.zeros(4, dtype=np.uint8)
    rgb = border[:, :3].astype(np.int16)
    median = np.median(rgb, axis=0)
    close = np.abs(rgb - median).max(axis=1) <= 12
    fill: NDArray[np.uint8] = np.asarray(np.round(median), dtype=np.uint8)
    if channels == 4:
        fill = np.concatenate([fill, [255]]).astype(np.uint8)
    if float(close.mean()) >= 0.85:
        return "plain", fill
    return "scene", fill


def _silhouette(
    image: NDArray[np.uint8], kind: Background, fill: NDArray[np.uint8]
) -> NDArray[np.float32]:
    """(H, W) float32 soft silhouette for transparent or plain backgrounds."""
    if kind == "transparent":
        return image[:, :, 3].astype(np.float32) / 255.0
    diff = np.abs(image[:, :, :3].astype(np.int16) - fill[:3].astype(np.int16)).max(axis=2)
    near = (diff <= 24).astype(np.uint8)
    # Background = pixels of the border colour connected to the border.
    _, labels = cv2.connectedComponents(near, connectivity=4)
    edge = np.unique(np.concatenate([labels[0], labels[-1], labels[:, 0], labels[:, -1]]))
    edge = edge[edge > 0]
    background = np.isin(labels, edge)
    soft = np.clip(diff.astype(np.float32) / 24.0, 0.0, 1.0)
    return np.where(background, soft * (diff > 8), 1.0).astype(np.float32)


def head_extent(
    image: NDArray[np.uint8], landmarks: NDArray[np.float64]
) -> NDArray[np.float64] | None:
    """The corners of what the rig moves rigidly with the head, for the canvas rule.

    On a transparent or plain background the rig moves the whole silhouette (horns, ears,
    hair, hands) with the head, so that is what must stay on the canvas, not only the 68
    landmarks: pass the result as ``faceshot_retarget.retarget(..., extent=)``.

    Args:
        image: (H, W, 3|4) uint8, the character (never modified).
        landmarks: (68, 2) float64 its landmarks, pixel (x, y).

    Returns:
        (4, 2) float64 pixel (x, y) corners of the box holding the silhouette (alpha or
        non-background pixels, 0.5 threshold) and the landmarks; ``None`` for images with
        a scene background (the head region of a photo is not separated from the scene
        here: the landmarks alone are kept in).

    Examples:
        >>> img = np.full((40, 40, 3), 255, np.uint8); img[5:30, 8:33] = 0
        >>> pts = np.tile([[20.0, 20.0]], (68, 1)); pts[0, 0] = 12.0
        >>> head_extent(img, pts).tolist()
        [[8.0, 5.0], [32.0, 5.0], [32.0, 29.0], [8.0, 29.0]]
    """
    kind, fill = classify_background(image)
    if kind == "scene":
        return None
    ys, xs = np.nonzero(_silhouette(image, kind, fill) > 0.5)
    lm = np.asarray(landmarks, dtype=np.float64).reshape(-1, 2)
    x0, y0 = lm.min(axis=0)
    x1, y1 = lm.max(axis=0)
    if xs.size:
        x0, x1 = min(x0, float(xs.min())), max(x1, float(xs.max()))
        y0, y1 = min(y0, float(ys.min())), max(y1, float(ys.max()))
    return np.array([[x0, y0], [x1, y0], [x1, y1], [x0, y1]], dtype=np.float64)


def _segment_scene(
    image: NDArray[np.uint8], landmarks: NDArray[np.float64], face_width: float
) -> NDArray[np.float32]:
    """(H, W) float32 head region of a character in a scene: GrabCut seeded by landmarks."""
    h, w = image.shape[:2]
    rgb = np.ascontiguousarray(image[:, :, :3])
    oval = head_oval(landmarks)
    centre = oval.mean(axis=0)
    probable = centre + 1.4 * (oval - centre)  # hair beyond the jaw's mirror image
    outer = centre + 1.6 * (oval - centre)
    hull = cv2.convexHull(landmarks.astype(np.float32)).reshape(-1, 2).astype(np.float64)
    hc = hull.mean(axis=0)
    core = hc + 0.85 * (hull - hc)
    # Work on a crop around the outer oval, at most 256 px on its long side.
    x0, y0 = np.floor(np.maximum(outer.min(axis=0) - 4, 0)).astype(int)
    x1, y1 = np.ceil(np.minimum(outer.max(axis=0) + 5, (w, h))).astype(int)
    if x1 - x0 < 8 or y1 - y0 < 8:
        raise AnimateInputError("`landmarks` put the head outside the image; cannot segment it")
    factor = min(1.0, 256.0 / max(x1 - x0, y1 - y0))
    cw, ch = max(8, round((x1 - x0) * factor)), max(8, round((y1 - y0) * factor))
    crop = cv2.resize(rgb[y0:y1, x0:x1], (cw, ch), interpolation=cv2.INTER_AREA)
    scale = np.array([cw / (x1 - x0), ch / (y1 - y0)])

    def local(poly: NDArray[np.float64]) -> NDArray[np.float64]:
        return np.asarray((poly - (x0, y0) + 0.5) * scale - 0.5, dtype=np.float64)

    seeds = np.full((ch, cw), cv2.GC_BGD, dtype=np.uint8)
    fill_polygon(seeds, local(outer), cv2.GC_PR_BGD)
    fill_polygon(seeds, local(probable), cv2.GC_PR_FGD)
    fill_polygon(seeds, local(core), cv2.GC_FGD)
    bgd = np.zeros((1, 65), np.float64)
    fgd = np.zeros((1, 65), np.float64)
    try:
        cv2.grabCut(crop, seeds, None, bgd, fgd, 4, cv2.GC_INIT_WITH_MASK)  # type: ignore[call-overload]
    except cv2.error:  # e.g. no background seed left: keep the seeded oval
        pass
    head = ((seeds == cv2.GC_FGD) | (seeds == cv2.GC_PR_FGD)).astype(np.uint8)
    # Keep the component holding the face, fill its holes, smooth its outline.
    count, labels = cv2.connectedComponents(head)
    core_mask = np.zeros_like(head)
    fill_polygon(core_mask, local(core), 1)
    if count > 1:
        hits = np.bincount(labels[core_mask > 0].ravel(), minlength=count)
        hits[0] = 0
        head = (labels == int(np.argmax(hits))).astype(np.uint8)
    # The head oval (jaw mirrored over the chord) always belongs to the head: hair that
    # looks like the background to GrabCut still moves with the face.
    oval_mask = np.zeros_like(head)
    fill_polygon(oval_mask, local(oval), 1)
    head |= core_mask | oval_mask
    limit = np.zeros_like(head)
    fill_polygon(limit, local(probable), 1)
    head &= limit
    contours, _ = cv2.findContours(head, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_NONE)
    head[:] = 0
    cv2.drawContours(head, contours, -1, 1, thickness=-1)
    full = np.zeros((h, w), np.float32)
    up = cv2.resize(head.astype(np.float32), (x1 - x0, y1 - y0), interpolation=cv2.INTER_LINEAR)
    full[y0:y1, x0:x1] = up
    full = np.asarray(cv2.GaussianBlur(full, (0, 0), max(1.0, 0.015 * face_width)), np.float32)
    # Fade out below the jaw line: the neck stays with the body.
    jaw = landmarks[0:17]
    fade = max(2.0, 0.06 * face_width)
    below = np.zeros((h, w), np.uint8)
    chin_line = np.concatenate([jaw, [[jaw[-1, 0], h + fade + 2], [jaw[0, 0], h + fade + 2]]])
    fill_polygon(below, chin_line, 1)
    dist = cv2.distanceTransform(below, cv2.DIST_L2, 3)
    full *= np.clip(1.0 - dist / fade, 0.0, 1.0)
    return np.clip(full, 0.0, 1.0).astype(np.float32)


#: A photo on a plain canvas whose silhouette is larger than this many head ovals is a
#: picture pasted on the canvas (a whole photo, a person with shoulders), not a sticker:
#: only its head moves (the scene path). A head alone with hair covers ~1.2-1.6 ovals.
PHOTO_SILHOUETTE_OVALS: Final = 3.0


def _photo_on_plain_canvas(
    kind: Background,
    flat: bool,
    head: NDArray[np.bool_],
    landmarks: NDArray[np.float64],
) -> bool:
    """True when a ``"plain"`` background's silhouette holds a photo (``not flat``) larger
    than :data:`PHOTO_SILHOUETTE_OVALS` head ovals: moving the whole silhouette with the
    head would turn the pasted picture like a sticker, so it is treated as a scene.
    Transparent cut-outs keep their silhouette (their alpha is the character's)."""
    if kind != "plain" or flat:
        return False
    oval = head_oval(landmarks).astype(np.float32)
    area = float(cv2.contourArea(oval))
    return area > 0 and float(head.sum()) > PHOTO_SILHOUETTE_OVALS * area


def _kmeans_colours(
    pixels: NDArray[np.uint8], k: int, seed: int = 0
) -> tuple[NDArray[np.float32], NDArray[np.int64]]:
    """k-means colours of (N, 3) pixels (N capped at 8000 by striding): ((k', 3), counts)."""
    x = pixels[:: max(1, len(pixels) // 8000)].astype(np.float32)
    k = int(min(k, len(np.unique(x, axis=0))))
    if k <= 1:
        return x.mean(axis=0, keepdims=True), np.array([len(x)])
    cv2.setRNGSeed(seed)
    criteria = (cv2.TERM_CRITERIA_EPS | cv2.TERM_CRITERIA_MAX_ITER, 20, 0.5)
    _, labels, centres = cv2.kmeans(x, k, None, criteria, 2, cv2.KMEANS_PP_CENTERS)  # type: ignore[call-overload]
    counts = np.bincount(labels.ravel(), minlength=k)
    return centres.astype(np.float32), counts


def _is_flat(image: NDArray[np.uint8], mask: NDArray[np.bool_]) -> bool:
    """True for flat-colour art: >= 60 % of the face's pixels sit in a 3x3 neighbourhood
    whose colour range is <= 3 levels (photos: texture and noise everywhere)."""
    rgb = np.ascontiguousarray(image[:, :, :3])
    kernel = np.ones((3, 3), np.uint8)
    spread = (cv2.dilate(rgb, kernel).astype(np.int16) - cv2.erode(rgb, kernel)).max(axis=2)
    values = spread[mask]
    if len(values) < 16:
        return True
    return bool((values <= 3).mean() >= 0.6)


def _luma(c: NDArray[np.floating]) -> NDArray[np.floating]:
    return np.asarray(np.asarray(c, dtype=np.float64) @ np.array([0.299, 0.587, 0.114]))


@dataclass(frozen=True, eq=False)
class EyeRig:
    """One eye's lid geometry in the character image (rest frame).

    Attributes:
        upper, lower: (2,) iBUG indices of the upper and lower lid points (paired).
        corners: (2,) iBUG indices of the eye corners.
        closable: the drawn eye can blink (open, solid shape; an arc "^ ^" cannot).
        gap: rest lid gap, pixels (mean over the pairs, along the eye's normal).
        origin: (x0, y0) of the eye's region of interest.
        inside: (h, w) bool, the drawn eye in the region, grown by 2 px (what lids cover).
        coverage: (h, w) float32 in [0, 1], the drawn eye's anti-aliased coverage (clips the
            lid line).
        v: (h, w) float32, each pixel's offset along the eye normal (down), pixels.
        centre: mean ``v`` of the drawn eye (where closed lids meet, roughly).
        u: (h, w) float32, each pixel's position along the eye axis, pixels.
        extent: (u_min, u_max, v_min, v_max) of the drawn eye in the eye frame, pixels.
        axis, normal: (2,) unit vectors of the eye frame; ``frame_origin`` its origin (corner).
        skin: (3,) float32 colour of the skin around the eye; ``line``: (3,) float32 its
            darkest colour (drawn lid line).
    """

    upper: tuple[int, int]
    lower: tuple[int, int]
    corners: tuple[int, int]
    closable: bool
    gap: float
    origin: tuple[int, int]
    inside: NDArray[np.bool_]
    coverage: NDArray[np.float32]
    v: NDArray[np.float32]
    centre: float
    u: NDArray[np.float32]
    extent: tuple[float, float, float, float]
    axis: NDArray[np.float64]
    normal: NDArray[np.float64]
    frame_origin: NDArray[np.float64]
    skin: NDArray[np.float32]
    line: NDArray[np.float32]


@dataclass(frozen=True, eq=False)
class MouthRig:
    """The mouth's drawing data.

    Attributes:
        area: rest inner-lip polygon area, pixels².
        width: rest mouth width (inner corners 60-64), pixels.
        flat_interior: the drawn mouth interior is one colour (a cavity may be painted over
            it when it opens); ``False`` for drawn teeth or tongue, which stretch instead.
        cavity: (3,) float32 cavity colour (flat art: darkest mouth colour; photos: the lip
            colour darkened).
        line: (3,) float32 lip-line colour (flat art: darkest mouth colour; photos: the mean
            lip colour, which the renderer shades into the cavity).
        teeth: (3,) float64 height in pixels of the drawn teeth (anything not
            cavity-coloured) under the upper inner lip, along each of the three inner-lip
            columns (``ibug68.INNER_LIP_PAIRS``: 61-67, 62-66, 63-65), so teeth drawn in a
            curved band keep their shape; ``inf`` where not measured (then only the opening
            beyond frame 0's gap becomes cavity there).
        drawn: drawn-open flat mouths only, ``(keep, mouth, x0, y0)``: (h, w) float32
            crops in [0, 1], at source pixel ``(x0, y0)``, of the drawn interior that is not
            cavity-coloured (teeth, tongue) and of the whole drawn mouth; the cavity is
            painted only where the deformation brings pixels of ``mouth`` and never where
            it brings pixels of ``keep`` (the drawing stretches and stays visible; no dark
            blot beyond it); else ``None``.
    """

    area: float
    width: float
    flat_interior: bool
    cavity: NDArray[np.float32]
    line: NDArray[np.float32]
    teeth: NDArray[np.float64] = field(default_factory=lambda: np.full(3, np.inf))
    drawn: tuple[NDArray[np.float32], NDArray[np.float32], int, int] | None = None


@dataclass(frozen=True, eq=False)
class Rig:
    """A character rig (see the module docstring). Build it with :func:`build_rig`.

    Attributes:
        size: (W, H) of the image, pixels.
        reference: (68, 2) float64 frame-0 landmarks.
        background: ``"transparent"``, ``"plain"`` or ``"scene"``.
        style: ``"flat"`` or ``"photo"``.
        fill: (C,) uint8 colour of uncovered pixels (transparent or plain backgrounds).
        head: (H, W) float32 head region in [0, 1].
        plate: (H, W, C) uint8 background with the head inpainted (scenes), else ``None``.
        deform: (H, W) float32 weight of the feature deformation in [0, 1].
        follow: (H, W) float32 in [0, 1], scenes only: how much the background plate
            follows the head motion (1 on the head, fading to 0 at 15 % of the face width
            outside it).
        anchors: (K, 2) float64 outline points pinned by the deformation.
        features: name -> shapely polygon of each feature layer (:data:`FEATURES`).
        face_width: jaw chord |P16 - P0|, pixels.
        line_width: stroke width of drawn lines (lids, lip line), pixels.
        skin: (3,) float32 main skin colour.
        eyes: the two :class:`EyeRig` (subject's right, left).
        mouth: the :class:`MouthRig`.
    """

    size: tuple[int, int]
    reference: NDArray[np.float64]
    background: Background
    style: Style
    fill: NDArray[np.uint8]
    head: NDArray[np.float32]
    plate: NDArray[np.uint8] | None
    deform: NDArray[np.float32]
    follow: NDArray[np.float32] | None
    anchors: NDArray[np.float64]
    features: Mapping[str, shapely.Geometry]
    face_width: float
    line_width: float
    skin: NDArray[np.float32]
    eyes: tuple[EyeRig, EyeRig]
    mouth: MouthRig


def _grow_feature(
    image: NDArray[np.uint8],
    head: NDArray[np.bool_],
    base: shapely.Geometry,
    others: shapely.Geometry,
    face_width: float,
    flat: bool,
    reach: float,
) -> shapely.Geometry:
    """A feature polygon: the landmark polygon grown over the drawn feature around it.

    ``base`` is the landmarks' convex hull buffered by 2 % of the face width. On flat art,
    the colours of the base pixels that differ from the skin (median of a ring around the
    search zone) by > 40 are the feature's colours (up to 3 k-means centres); pixels
    within ``reach`` face widths of the base, inside the head, outside the other features'
    bases (``others``), within 40 of a feature colour and connected to the base join the
    feature. Photos keep the base, buffered by another 3 %.
    """
    if not flat:
        return base.buffer(0.03 * face_width)
    zone = base.buffer(reach * face_width).difference(others)
    h, w = head.shape
    x0, y0, x1, y1 = (int(v) for v in np.round(zone.union(base).bounds))
    x0, y0 = max(x0 - 2, 0), max(y0 - 2, 0)
    x1, y1 = min(x1 + 3, w), min(y1 + 3, h)
    if x1 - x0 < 2 or y1 - y0 < 2:
        return base
    sub = image[y0:y1, x0:x1, :3].astype(np.int16)
    zmask = np.zeros((y1 - y0, x1 - x0), np.uint8)
    fill_polygon(zmask, zone, 1, offset=(x0, y0))
    zmask &= head[y0:y1, x0:x1].astype(np.uint8)
    bmask = np.zeros_like(zmask)
    fill_polygon(bmask, base, 1, offset=(x0, y0))
    ring = (zmask > 0) & (bmask == 0)
    if ring.sum() < 8:
        return base
    skin = np.median(sub[ring], axis=0)
    off_skin = np.abs(sub - skin).max(axis=2) > 40
    marks = off_skin & (bmask > 0)
    if marks.sum() < max(4, 0.03 * (bmask > 0).sum()):
        return base  # nothing drawn under the landmarks (e.g. an undrawn nose)
    centres, counts = _kmeans_colours(sub[marks].astype(np.uint8), 3)
    centres = centres[
        counts >= 0.2 * counts.sum()
    ]  # the feature's own colours, not a stray neighbour's
    near = np.zeros(off_skin.shape, bool)
    for c in centres:
        near |= np.abs(sub - c).max(axis=2) <= 40
    grown = ((near & off_skin & (zmask > 0)) | marks).astype(np.uint8)
    _, labels = cv2.connectedComponents(grown, connectivity=8)
    keep = np.unique(labels[marks])
    keep = keep[keep > 0]
    region = np.isin(labels, keep).astype(np.uint8)
    region = np.asarray(
        cv2.morphologyEx(region, cv2.MORPH_CLOSE, np.ones((3, 3), np.uint8)), np.uint8
    )
    poly = mask_to_polygon(region, offset=(x0, y0))
    if poly.is_empty:
        return base
    return shapely.make_valid(poly.buffer(1.0).union(base))


def _region_colours(
    image: NDArray[np.uint8], mask: NDArray[np.bool_]
) -> tuple[NDArray[np.float32], NDArray[np.float32]]:
    """(dominant, darkest) colour of the pixels under ``mask``; darkest among clusters with
    at least 8 % of the pixels."""
    pix = image[:, :, :3][mask]
    if len(pix) < 4:
        grey = np.full(3, 128, np.float32)
        return grey, grey * 0.3
    centres, counts = _kmeans_colours(pix, 4)
    dominant = centres[int(np.argmax(counts))]
    big = counts >= 0.08 * counts.sum()
    lum = _luma(centres)
    lum = np.where(big, lum, np.inf)
    darkest = centres[int(np.argmin(lum))]
    return dominant.astype(np.float32), darkest.astype(np.float32)


def _eye_rig(
    image: NDArray[np.uint8],
    head: NDArray[np.bool_],
    lm: NDArray[np.float64],
    feature: shapely.Geometry,
    spec: tuple[tuple[int, int], tuple[int, int], tuple[int, int]],
    face_width: float,
    flat: bool,
) -> EyeRig:
    upper, lower, corners = spec
    h, w = head.shape
    if lm[corners[0], 0] > lm[corners[1], 0]:  # the eye axis runs left to right on screen
        corners = (corners[1], corners[0])
    a, b = lm[corners[0]], lm[corners[1]]
    axis = b - a
    length = float(np.hypot(*axis))
    axis = axis / length if length > 1e-9 else np.array([1.0, 0.0])
    normal = np.array([-axis[1], axis[0]])  # +y down for a left-to-right axis
    gap = float(np.mean((lm[list(lower)] - lm[list(upper)]) @ normal))
    x0, y0, x1, y1 = (int(v) for v in np.round(feature.bounds))
    pad = 2
    x0, y0 = max(x0 - pad, 0), max(y0 - pad, 0)
    x1, y1 = min(x1 + pad + 1, w), min(y1 + pad + 1, h)
    inside = np.zeros((max(y1 - y0, 1), max(x1 - x0, 1)), np.uint8)
    coverage = np.zeros(inside.shape, np.float32)
    if flat:
        # The drawn eye: pixels of the layer that differ from the skin around it.
        fill_polygon(inside, feature, 1, offset=(x0, y0))
        ring_geom = feature.buffer(0.05 * face_width).difference(feature.buffer(0.012 * face_width))
        ring = np.zeros((h, w), np.uint8)
        fill_polygon(ring, ring_geom, 1)
        ring_b = (ring > 0) & head
        if ring_b.sum() >= 8:
            around = np.median(image[:, :, :3][ring_b].astype(np.int16), axis=0)
            sub = image[y0:y1, x0:x1, :3].astype(np.int16)
            diff = np.abs(sub - around).max(axis=2)
            inside &= (diff > 40).astype(np.uint8)
            full = float(np.percentile(diff[inside > 0], 90)) if inside.any() else 255.0
            coverage = np.clip(diff.astype(np.float32) / max(full, 1.0), 0.0, 1.0)
            coverage *= cv2.dilate(inside, np.ones((3, 3), np.uint8)).astype(np.float32)
    else:
        c0, c1 = spec[2]
        ring_pts = lm[[c0, *upper, c1, *lower[::-1]]]
        fill_polygon(inside, ring_pts, 1, offset=(x0, y0))  # the landmark ring
        soft = np.zeros(inside.shape, np.uint8)
        fill_polygon(soft, ring_pts, 255, offset=(x0, y0), antialias=True)
        coverage = soft.astype(np.float32) / 255.0
    inside_b = inside.astype(bool)
    gy, gx = np.mgrid[y0 : y0 + inside.shape[0], x0 : x0 + inside.shape[1]].astype(np.float64)
    rel_x, rel_y = gx - a[0], gy - a[1]
    u = rel_x * axis[0] + rel_y * axis[1]
    v = rel_x * normal[0] + rel_y * normal[1]
    if inside_b.any():
        u_lo, u_hi = float(u[inside_b].min()), float(u[inside_b].max())
        v_lo, v_hi = float(v[inside_b].min()), float(v[inside_b].max())
    else:
        u_lo, u_hi, v_lo, v_hi = 0.0, length, -1.0, 1.0
    region = inside_b & head[y0:y1, x0:x1]
    # Paint 1-2 px beyond the drawn eye so its anti-aliased rim goes with it.
    grown_in = cv2.dilate(inside, np.ones((5, 5), np.uint8)).astype(bool) if flat else inside_b
    centre_v = float(v[inside_b].mean()) if inside_b.any() else 0.0
    solidity = 0.0
    if inside_b.sum() >= 8:
        cnts, _ = cv2.findContours(inside, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_NONE)
        biggest = max(cnts, key=cv2.contourArea)
        solidity = float(
            inside_b.sum() / max(cv2.contourArea(cv2.convexHull(biggest)) + 0.5 * len(biggest), 1.0)
        )
    closable = bool(
        region.sum() > 12
        and gap > 0.15 * max(length, 1.0)
        and solidity >= 0.75
        and v_hi - v_lo >= 2.0
    )
    ring_geom = feature.buffer(0.05 * face_width).difference(feature.buffer(0.012 * face_width))
    ring = np.zeros((h, w), np.uint8)
    fill_polygon(ring, ring_geom, 1)
    ring_b = (ring > 0) & head
    if ring_b.sum() >= 8:
        skin, _ = _region_colours(image, ring_b)
    else:
        skin = np.full(3, 200, np.float32)
    full_inside = np.zeros((h, w), bool)
    full_inside[y0:y1, x0:x1] = inside_b
    _, line = (
        _region_colours(image, full_inside & head)
        if (full_inside & head).any()
        else (skin, skin * 0.3)
    )
    return EyeRig(
        upper=upper,
        lower=lower,
        corners=corners,
        closable=closable,
        gap=gap,
        origin=(x0, y0),
        inside=grown_in,
        coverage=coverage,
        v=v.astype(np.float32),
        centre=centre_v,
        u=u.astype(np.float32),
        extent=(u_lo, u_hi, v_lo, v_hi),
        axis=axis,
        normal=normal,
        frame_origin=a.copy(),
        skin=skin,
        line=line,
    )


def _mouth_rig(
    image: NDArray[np.uint8],
    head: NDArray[np.bool_],
    lm: NDArray[np.float64],
    feature: shapely.Geometry,
    flat: bool,
) -> MouthRig:
    h, w = head.shape
    inner = shapely.Polygon(lm[ibug68.INNER_LIPS])
    if not inner.is_valid:
        inner = shapely.make_valid(inner)
    area = float(inner.area)
    width = float(np.hypot(*(lm[_INNER_CORNERS[1]] - lm[_INNER_CORNERS[0]])))
    mask = np.zeros((h, w), np.uint8)
    fill_polygon(mask, feature, 1)
    region = (mask > 0) & head
    _, darkest = (
        _region_colours(image, region) if region.any() else (None, np.full(3, 40, np.float32))
    )
    if flat:
        cavity = darkest
        # One-colour mouth: the inner-lip opening (if any) and the whole outer-lip polygon
        # in the darkest colour (a zig-zag of teeth or a tongue fails the second).
        shares = []
        for poly, need in (
            (inner, 0.85),
            (shapely.make_valid(shapely.Polygon(lm[ibug68.OUTER_LIPS])), 0.9),
        ):
            m = np.zeros((h, w), np.uint8)
            fill_polygon(m, poly, 1)
            pix = image[:, :, :3][m > 0].astype(np.float32)
            if len(pix) >= 8:
                shares.append(float((np.abs(pix - darkest).max(axis=1) < 40).mean()) >= need)
        flat_interior = all(shares)
    else:
        outer = shapely.Polygon(lm[ibug68.OUTER_LIPS])
        lip_mask = np.zeros((h, w), np.uint8)
        fill_polygon(lip_mask, shapely.make_valid(outer).difference(inner.buffer(1.0)), 1)
        lips = image[:, :, :3][(lip_mask > 0) & head].astype(np.float32)
        lip = lips.mean(axis=0) if len(lips) else np.array([150, 80, 80], np.float32)
        cavity = (lip * 0.22).astype(np.float32)
        flat_interior = area < 0.02 * width**2
        darkest = lip.astype(np.float32)  # photos: the lip colour, shaded dark in the cavity
    # Drawn teeth under the upper lip: along each inner-lip column, how far below the
    # upper inner lip the interior turns to the cavity colour, towards the lower inner lip.
    # The teeth keep those heights while the mouth opens; the rest becomes cavity.
    band = np.full(len(ibug68.INNER_LIP_PAIRS), np.inf)
    drawn = None
    if flat and not flat_interior:
        for k, (upper, lower) in enumerate(ibug68.INNER_LIP_PAIRS):
            band[k] = _teeth_height(image, lm[upper], lm[lower], cavity)
    if flat and not flat_interior and area >= 0.02 * width**2:  # drawn open, not a line
        outer_poly = shapely.make_valid(shapely.Polygon(lm[ibug68.OUTER_LIPS]))
        ring = outer_poly.buffer(0.25 * width).difference(outer_poly.buffer(0.08 * width))
        ring_mask = np.zeros((h, w), np.uint8)
        fill_polygon(ring_mask, ring, 1)
        around = image[:, :, :3][(ring_mask > 0) & head]
        skin = np.median(around, axis=0) if len(around) else None
        drawn = _drawn_interior(
            image,
            head,
            inner.buffer(0.1 * width),
            outer_poly.buffer(0.05 * width),
            cavity,
            skin,
            reach=DRAWN_MOUTH_REACH * width,
        )
    return MouthRig(
        area=area,
        width=width,
        flat_interior=bool(flat_interior),
        cavity=cavity.astype(np.float32),
        line=darkest.astype(np.float32),
        teeth=band,
        drawn=drawn,
    )


#: How far, in mouth widths, the cavity of a mouth drawn open may reach past the stretched
#: drawing when the landmarks open wider than the smooth deformation follows.
DRAWN_MOUTH_REACH: Final = 0.1


def _drawn_interior(
    image: NDArray[np.uint8],
    head: NDArray[np.bool_],
    inner: shapely.Geometry,
    outer: shapely.Geometry,
    cavity: NDArray[np.float32],
    skin: NDArray[np.floating] | None,
    reach: float = 0.0,
) -> tuple[NDArray[np.float32], NDArray[np.float32], int, int] | None:
    """``(keep, mouth, x0, y0)`` of a mouth drawn open, as (h, w) float32 crops in [0, 1]
    at source pixel (x0, y0):

    * ``keep``: the pixels of ``inner`` (the inner lips, grown) inside the head whose
      colour is farther than RGB 40 from ``cavity`` and from ``skin`` -- teeth, tongue --
      without specks thinner than 5 px (anti-aliased line rims), edges softened by a pixel;
    * ``mouth``: the drawn mouth -- the pixels of ``outer`` (the outer lips, grown) that are
      not ``skin``-coloured, with their anti-aliased coverage (RGB distance to ``skin``
      ramped over 8-40), grown by ``reach`` pixels (inside the head).

    ``skin``: the colour around the mouth (``None``: everything in ``outer`` is mouth).
    ``None`` when ``outer`` is empty or off the image."""
    h, w = head.shape
    region = shapely.union(inner, outer)
    if region.is_empty:
        return None
    bx0, by0, bx1, by1 = region.bounds
    pad = int(np.ceil(reach)) + 4
    x0, y0 = max(int(np.floor(bx0)) - pad, 0), max(int(np.floor(by0)) - pad, 0)
    x1, y1 = min(int(np.ceil(bx1)) + pad + 1, w), min(int(np.ceil(by1)) + pad + 1, h)
    if x1 <= x0 or y1 <= y0:
        return None
    pix = image[y0:y1, x0:x1, :3].astype(np.float32)
    inside_head = head[y0:y1, x0:x1]
    # RGB distance from the skin colour (inf: no skin colour, everything is drawing).
    from_skin = (
        np.abs(pix - np.asarray(skin, np.float32)).max(axis=2)
        if skin is not None
        else np.full(pix.shape[:2], np.inf, np.float32)
    )
    not_skin = from_skin >= 40
    in_inner = np.zeros((y1 - y0, x1 - x0), np.uint8)
    fill_polygon(in_inner, inner, 1, offset=(x0, y0))
    light = (np.abs(pix - cavity).max(axis=2) >= 40) & not_skin
    keep = ((in_inner > 0) & light & inside_head).astype(np.uint8)
    keep = cv2.morphologyEx(keep, cv2.MORPH_OPEN, np.ones((5, 5), np.uint8))
    in_outer = np.zeros((y1 - y0, x1 - x0), np.uint8)
    fill_polygon(in_outer, outer, 1, offset=(x0, y0))
    # The drawing's own anti-aliased coverage over the skin (distance from the skin colour,
    # ramped over RGB 8-40), so the cavity's edge is as smooth as the drawn outline.
    coverage = np.clip((from_skin - 8.0) / 32.0, 0.0, 1.0)
    mouth = np.asarray(coverage * ((in_outer > 0) & inside_head), np.float32)
    if reach > 0:
        # The cavity may open a little past the stretched drawing (``reach`` px, with a
        # 2 px soft edge): the lips open about as far as the landmarks ask, no further.
        outside = (mouth < 0.5).astype(np.uint8)
        dist = cv2.distanceTransform(outside, cv2.DIST_L2, 5)
        grown = np.clip((reach + 1.0 - dist) / 2.0, 0.0, 1.0) * inside_head
        mouth = np.maximum(mouth, grown.astype(np.float32))
    soft_keep = np.asarray(cv2.GaussianBlur(keep.astype(np.float32), (3, 3), 0), np.float32)
    return soft_keep, mouth, x0, y0


def _teeth_height(
    image: NDArray[np.uint8],
    top: NDArray[np.float64],
    bottom: NDArray[np.float64],
    cavity: NDArray[np.float32],
) -> float:
    """Pixels from ``top`` (an upper inner-lip point) towards ``bottom`` (its lower
    partner) before the drawing turns to the cavity colour (within RGB 40), skipping the
    lip line itself (the first dark run after a light one); ``inf`` when it never does."""
    h, w = image.shape[:2]
    length = float(np.hypot(*(bottom - top)))
    n = max(2, int(np.ceil(length)))
    line = top + np.linspace(0.0, 1.0, n)[:, None] * (bottom - top)
    xi = np.clip(np.round(line[:, 0]).astype(int), 0, w - 1)
    yi = np.clip(np.round(line[:, 1]).astype(int), 0, h - 1)
    dark = np.abs(image[yi, xi, :3].astype(np.float32) - cavity).max(axis=1) < 40
    light = np.flatnonzero(~dark)
    if not len(light):
        return float("inf")
    after = np.flatnonzero(dark[light[0] :])
    if not len(after):
        return float("inf")
    return float(length * (light[0] + after[0]) / (n - 1))


def _outline_anchors(mask: NDArray[np.bool_], spacing: float) -> NDArray[np.float64]:
    """Points every ``spacing`` pixels along the outer contours of ``mask``."""
    contours, _ = cv2.findContours(mask.astype(np.uint8), cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_NONE)
    out = []
    for c in contours:
        pts = c.reshape(-1, 2).astype(np.float64)
        if len(pts) < 8:
            continue
        seg = np.linalg.norm(np.diff(np.concatenate([pts, pts[:1]]), axis=0), axis=1)
        cum = np.concatenate([[0.0], np.cumsum(seg)])
        n = max(4, int(cum[-1] / max(spacing, 1.0)))
        t = np.linspace(0.0, cum[-1], n, endpoint=False)
        closed = np.concatenate([pts, pts[:1]])
        out.append(
            np.stack([np.interp(t, cum, closed[:, 0]), np.interp(t, cum, closed[:, 1])], axis=1)
        )
    return np.concatenate(out) if out else np.zeros((0, 2))


def _inpaint_plate(
    image: NDArray[np.uint8], hole: NDArray[np.bool_], face_width: float
) -> NDArray[np.uint8]:
    """The image with ``hole`` filled by ``cv2.inpaint`` (Telea), computed at <= 192 px."""
    h, w = hole.shape
    rgb = np.ascontiguousarray(image[:, :, :3])
    factor = min(1.0, 192.0 / max(h, w))
    sw, sh = max(4, round(w * factor)), max(4, round(h * factor))
    small = cv2.resize(rgb, (sw, sh), interpolation=cv2.INTER_AREA)
    small_hole = cv2.resize(hole.astype(np.uint8), (sw, sh), interpolation=cv2.INTER_NEAREST)
    small_hole = cv2.dilate(small_hole, np.ones((3, 3), np.uint8))
    filled = cv2.inpaint(small, small_hole, max(3.0, 0.05 * face_width * factor), cv2.INPAINT_TELEA)
    up = cv2.resize(filled, (w, h), interpolation=cv2.INTER_CUBIC)
    up = cv2.GaussianBlur(up, (0, 0), max(1.0, 0.5 / factor))
    soft = cv2.GaussianBlur(hole.astype(np.float32), (0, 0), 1.5)[:, :, None]
    out = image.copy()
    out[:, :, :3] = np.round(rgb * (1.0 - soft) + up * soft).astype(np.uint8)
    return out


def build_rig(
    image: NDArray[np.uint8],
    landmarks: NDArray[np.float64],
    *,
    background: Literal["auto", "transparent", "plain", "scene"] = "auto",
    style: Literal["auto", "flat", "photo"] = "auto",
    band: float = 0.06,
    anchor_spacing: float = 0.08,
) -> Rig:
    """Build the rig of a character (see the module docstring).

    Args:
        image: (H, W, 3|4) uint8, the character (never modified).
        landmarks: (68, 2) float64 its landmarks, pixel (x, y).
        background: ``"auto"`` (:func:`classify_background`) or forced.
        style: ``"auto"`` (palette test on the face) or forced ``"flat"``/``"photo"``.
        band: width, in face widths, over which the feature deformation fades to zero
            towards the head outline.
        anchor_spacing: spacing of the outline anchors, in face widths.

    Returns:
        The :class:`Rig`.

    Raises:
        AnimateInputError: degenerate landmarks (zero face width), or a forced
            ``"transparent"`` background on an image without alpha.
    """
    lm = np.asarray(landmarks, dtype=np.float64)
    h, w = image.shape[:2]
    face_width = float(np.hypot(*(lm[16] - lm[0])))
    if not face_width > 1.0:
        raise AnimateInputError(
            f"`landmarks` frame 0 has a face width (points 0-16) of {face_width:.3g} px; need > 1"
        )
    kind, fill = classify_background(image)
    if background != "auto":
        if background == "transparent" and image.shape[2] != 4:
            raise AnimateInputError("background 'transparent' needs an RGBA image; got 3 channels")
        kind = background
        if kind == "transparent":
            fill = np.zeros(4, np.uint8)
    hull_mask = np.zeros((h, w), np.uint8)
    fill_polygon(
        hull_mask, cv2.convexHull(lm.astype(np.float32)).reshape(-1, 2).astype(np.float64), 1
    )
    if kind == "scene":
        head = _segment_scene(image, lm, face_width)
    else:
        head = _silhouette(image, kind, fill)
    head_b = head > 0.5
    face_b = (hull_mask > 0) & head_b
    if style == "auto":
        flat = _is_flat(image, face_b if face_b.sum() >= 16 else hull_mask > 0)
    else:
        flat = style == "flat"
    if background == "auto" and _photo_on_plain_canvas(kind, flat, head_b, lm):
        kind = "scene"
        head = _segment_scene(image, lm, face_width)
        head_b = head > 0.5
        face_b = (hull_mask > 0) & head_b
    bases = {
        name: shapely.MultiPoint([tuple(p) for p in lm[list(idx)]]).convex_hull.buffer(
            0.02 * face_width
        )
        for name, idx in FEATURES.items()
    }
    features: dict[str, shapely.Geometry] = {}
    for name in FEATURES:
        reach = {"mouth": 0.10, "nose": 0.04}.get(name, 0.07)
        others = shapely.union_all([g for n, g in bases.items() if n != name])
        features[name] = _grow_feature(
            image, head_b | (hull_mask > 0), bases[name], others, face_width, flat, reach
        )
    skin_mask = face_b.copy()
    for g in features.values():
        m = np.zeros((h, w), np.uint8)
        fill_polygon(m, g.buffer(0.01 * face_width), 1)
        skin_mask &= m == 0
    skin, _ = (
        _region_colours(image, skin_mask)
        if skin_mask.sum() >= 8
        else (np.full(3, 200, np.float32), None)
    )
    eyes = tuple(
        _eye_rig(image, head_b | (hull_mask > 0), lm, features[name], spec, face_width, flat)
        for name, spec in zip(("right_eye", "left_eye"), _EYES, strict=True)
    )
    mouth = _mouth_rig(image, head_b | (hull_mask > 0), lm, features["mouth"], flat)
    line_width = (
        float(np.clip(0.045 * face_width, 1.5, 64.0))
        if flat
        else float(np.clip(0.012 * face_width, 1.0, 16.0))
    )
    # Deformation weight: 1 inside the head, 0 on its outline (flat characters keep their
    # outline exactly); scenes deform the whole head region (the chin may move) and fade
    # out just outside it.
    band_px = max(2.0, band * face_width)
    follow = None
    if kind == "scene":
        # Scenes: the whole head region deforms (the chin may move) and so does a band
        # around it, fading out; the background plate follows the head within that band
        # (``follow``), so neck and hair roots stretch instead of tearing.
        grown = cv2.dilate(
            head_b.astype(np.uint8), cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (5, 5))
        )
        dist = cv2.distanceTransform((1 - grown).astype(np.uint8), cv2.DIST_L2, 3)
        deform = np.clip(1.0 - dist / band_px, 0.0, 1.0)
        deform = np.maximum(deform, (head > 0.02).astype(np.float32))
        t = np.clip(1.0 - dist / max(2.0, 0.15 * face_width), 0.0, 1.0)
        follow = (t * t * (3.0 - 2.0 * t)).astype(np.float32)
        anchors = _outline_anchors(head_b, anchor_spacing * face_width)
        if len(anchors):
            dmin = np.min(np.linalg.norm(anchors[:, None] - lm[None], axis=2), axis=1)
            anchors = anchors[dmin > 0.2 * face_width]
    else:
        inside = (head_b | (hull_mask > 0)).astype(np.uint8)
        dist = cv2.distanceTransform(np.pad(inside, 1), cv2.DIST_L2, 3)[1:-1, 1:-1]
        t = np.clip(dist / band_px, 0.0, 1.0)
        deform = t * t * (3.0 - 2.0 * t)
        anchors = _outline_anchors(inside > 0, anchor_spacing * face_width)
    plate = None
    if kind == "scene":
        # Only the solid head is inpainted: around it the plate keeps the original (hair
        # tips, neck), which follows the head there and so stays aligned with it.
        hole = (
            cv2.dilate(
                (head > 0.5).astype(np.uint8), cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (3, 3))
            )
            > 0
        )
        plate = _inpaint_plate(image, hole, face_width)
    return Rig(
        size=(w, h),
        reference=lm.copy(),
        background=kind,
        style="flat" if flat else "photo",
        fill=fill,
        head=head.astype(np.float32),
        plate=plate,
        deform=deform.astype(np.float32),
        follow=follow,
        anchors=anchors,
        features=MappingProxyType(features),
        face_width=face_width,
        line_width=line_width,
        skin=np.asarray(skin, np.float32),
        eyes=eyes,  # type: ignore[arg-type]
        mouth=mouth,
    )
