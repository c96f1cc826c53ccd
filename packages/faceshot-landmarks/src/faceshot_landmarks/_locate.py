"""Find the face anywhere in a character image, then landmark it (dlib for photos, matcher otherwise).

:func:`locate_and_match` is the single-image entry point used by ``faceshot match``:

1. **Human photos**: dlib's frontal face detector runs on a copy of the image whose longer side
   is at most ``LocateConfig.dlib_max_side`` (upsampled once, so faces down to ~40 px of that
   copy are found). When it finds a face whose detector score is at least
   ``LocateConfig.dlib_min_score``, dlib's 68-point predictor gives the landmarks
   (``path == "dlib"``), NME ~0.04 against ~0.15 for matching photos.
2. **Characters** (``path == "matcher"``): candidate regions, largest first:
   * *foreground blobs* when the background is plain: the alpha channel, or else the pixels
     far (CIE Lab distance) from the median border colour when at least 90 % of the border has
     that colour; closed, hole-filled connected components of at least ``min_fraction`` of
     the image area;
   * otherwise the whole image.
   The chosen candidate (``face``, 0 = largest) is cropped to a square (side = the box's
   longer side times ``margin``, padded with the border colour), matched with
   :func:`~faceshot_landmarks.match`, and the face box of the fitted shape is compared with the
   crop: when the face fills less than ``refine_below`` of the crop side (a small face on a
   background, a head on a body), the square around the fitted face is cropped and matched
   again (at most ``refine_passes`` times). Points are mapped back to the image by the crop's
   similarity (:class:`faceshot_retarget.SimilarityTransform`, pixel-centre convention).
   On drawn art (the face box's :func:`flat_fraction` at least ``max_flat``) the eyes and lips
   are then re-placed on the drawn marks by the gallery's annotation rules
   (:func:`read_drawn_marks`).

The image is never modified; crops are copies.
"""

from __future__ import annotations

from typing import Any

import attrs
import numpy as np
from faceshot_retarget import SimilarityTransform
from faceshot_retarget.ibug68 import NUM_POINTS, PARTS
from numpy.typing import ArrayLike, NDArray

from faceshot_landmarks._arrays import readonly_copy
from faceshot_landmarks._classical import check_image
from faceshot_landmarks._drawn_marks import (
    EyeConfig,
    MouthConfig,
    eyes_on_drawing,
    mouth_on_drawing,
)
from faceshot_landmarks._matcher import (
    CHARACTER_MATCHER,
    MatcherConfig,
    MatchResult,
    match,
    match_flip_consistent,
)
from faceshot_landmarks.errors import NoFaceError

__all__ = [
    "CHARACTER_MATCHER",
    "DLIB_MIN_ROLL_DEG",
    "DLIB_SIDE",
    "MIN_FACE_SCORE",
    "FaceCandidate",
    "LocateConfig",
    "blank_contrast",
    "crop_square",
    "dlib_candidates",
    "dlib_points",
    "eye_roll",
    "flat_fraction",
    "foreground_candidates",
    "locate_and_match",
    "read_drawn_marks",
    "upright_patch",
]


def _fraction(instance: Any, attribute: Any, value: Any) -> None:
    if not 0 < value <= 1:
        raise ValueError(f"LocateConfig `{attribute.name}` must be in (0, 1]; got {value!r}")


def _at_least_one(instance: Any, attribute: Any, value: Any) -> None:
    if not value >= 1:
        raise ValueError(f"LocateConfig `{attribute.name}` must be >= 1; got {value!r}")


#: Median match similarity below which the matcher path reports "no face-like region", per
#: gallery backbone. Embedded MobileNetV2 with the shipped gallery (``bench/matching.py``,
#: ``--noface`` and the held-out scores it prints): the 218 held-out emoji faces score
#: 0.69-0.95, face-free images (textures, text, coins, a rocket, noise, a gradient) 0.23-0.45;
#: a cat's face photo scores 0.36 and is rejected too, but its points were wrong anyway (the
#: whole face fitted inside one eye).
MIN_FACE_SCORE: dict[str, float] = {"embedded-mobilenetv2": 0.55}


@attrs.frozen
class LocateConfig:
    """Settings of :func:`locate_and_match` (see the module docs).

    Attributes:
        human: ``"auto"`` (dlib when it finds a face, else the matcher), ``"dlib"`` (dlib only;
            :class:`NoFaceError` when it finds none) or ``"matcher"`` (never dlib).
        dlib_max_side: dlib detection runs on a copy with at most this longer side (960 finds
            a 90 px face in a 1920x1080 frame at one upsampling step, in ~0.5 s).
        dlib_min_score: dlib detector score (its SVM margin; 0 is dlib's default threshold)
            accepted for a face of any size.
        dlib_weak_score: lower score accepted for a prominent face (a turned head scores
            -0.2..0.1 where false detections on textures stay small).
        prominent: side of a prominent face box as a fraction of the image's longer side.
        max_flat: a detection whose box has at least this :func:`flat_fraction` is drawn art,
            not a photo, and goes to the matcher.
        min_fraction: smallest foreground blob, as a fraction of the image area.
        margin: crop side / face-box longer side (gallery faces fill their image edge to edge).
        refine_below: re-crop when the fitted face's box is smaller than this fraction of the
            crop side.
        refine_passes: largest number of re-crops.
        crop_size: crops are resized to this many pixels a side before feature extraction
            (the embedded backbone works at 512).
        flip_test: match the crop and its mirror and make them agree
            (:func:`~faceshot_landmarks.match_flip_consistent`; twice the feature cost). Off:
            on the leave-one-style-out benchmark it moved the held-out mean by 0.001 or less
            with the shipped gallery (``bench/matching.py``), not worth doubling the time.
        min_face_score: smallest median peak cosine of the 68 matches for a face-like region;
            below it :class:`NoFaceError` is raised. ``None``: the value calibrated for the
            gallery's backbone in :data:`MIN_FACE_SCORE` (0, no check, for other backbones).
        dlib_small_pass: when the first detection pass ran on a downscaled copy and found no
            face, run dlib again at full resolution (one upsampling step) for faces too small
            for the copy (a 30 px face in a 1920x1080 frame; ~4x the first pass's time).
        dlib_small_score: smallest detector score accepted in that pass (only its best
            detection is used; false detections on textures score -0.3..-0.5 there).
        dlib_tta: average dlib's predictor over small box shifts/scalings and the mirrored
            image (:func:`dlib_points`; 14 predictor runs, ~10 ms).
        dlib_upright: run dlib's predictor on the face turned upright (roll estimated by a
            first predictor run) and its box resampled to at least :data:`DLIB_SIDE` pixels
            (:func:`dlib_points`; 2 extra predictor runs). On: the tilted test photo's mean
            NME falls from 0.069 to 0.063 (canvas off-centre 0.073 -> 0.063), upright faces are
            unchanged within 0.0005; off: the predictor runs on the image as it is (the
            previous release).
        min_contrast: an image whose grey levels have a standard deviation below this (of
            255) is blank (one colour, or nearly): :class:`NoFaceError` before any matching
            (the plainest emoji of the benchmark have 40-90).
        whole_crop_sizes: when the first crop's match fills less than ``refine_below`` of it,
            also match that crop with the global search's ``face_sizes`` limited to this
            (smallest, largest, count) range (0.12: a face box of about 0.6 of the crop), and
            keep that match when it fills the crop and its median similarity is higher than
            the small face's (a robot's ringed eye was taken for a whole face); otherwise re-crop
            round the small face as before. ``None``: never (the previous release).
        eyes: on drawn art, the matcher's eyes are re-placed on the drawn eyes
            (:func:`~faceshot_landmarks.eyes_on_drawing`); ``None``: off.
        mouth: on drawn art, the matcher's lips are re-placed on the drawn mouth
            (:func:`~faceshot_landmarks.mouth_on_drawing`; a closed mouth's inner lips on its
            centre line, by the rule); ``None``: off. On the leave-one-style-out benchmark
            (``bench/matching.py``, setting ``drawn`` against ``clamp``) the two took the
            held-out mean from 0.059 to 0.039 inter-eye distances (eyes 0.040 -> 0.026, mouth
            corners 0.077 -> 0.048, animals 0.097 -> 0.082); every style improved, the four
            whose faces never served to set them (Noto, Noto v1, EmojiOne, Firefox OS) from
            0.048-0.058 to 0.024-0.042.
    """

    human: str = attrs.field(
        default="auto", validator=attrs.validators.in_(("auto", "dlib", "matcher"))
    )
    dlib_max_side: int = attrs.field(default=960, validator=_at_least_one)
    dlib_min_score: float = 0.3
    dlib_weak_score: float = -0.5
    prominent: float = attrs.field(default=0.04, validator=_fraction)
    max_flat: float = attrs.field(default=0.5, validator=_fraction)
    min_fraction: float = attrs.field(default=0.005, validator=_fraction)
    margin: float = attrs.field(default=1.08, validator=_at_least_one)
    refine_below: float = attrs.field(default=0.6, validator=_fraction)
    refine_passes: int = attrs.field(default=1, validator=attrs.validators.ge(0))
    crop_size: int = attrs.field(default=512, validator=_at_least_one)
    flip_test: bool = False
    min_face_score: float | None = None
    dlib_small_pass: bool = True
    dlib_small_score: float = -0.25
    dlib_tta: bool = True
    dlib_upright: bool = True
    min_contrast: float = attrs.field(default=2.0, validator=attrs.validators.ge(0.0))
    whole_crop_sizes: tuple[float, float, int] | None = (0.12, 0.4, 10)
    eyes: EyeConfig | None = attrs.field(
        factory=EyeConfig,
        validator=attrs.validators.optional(attrs.validators.instance_of(EyeConfig)),
    )
    mouth: MouthConfig | None = attrs.field(
        factory=lambda: MouthConfig(carry_closed_inner=False),
        validator=attrs.validators.optional(attrs.validators.instance_of(MouthConfig)),
    )


@attrs.frozen
class FaceCandidate:
    """A region that may hold a face.

    Attributes:
        box: (4,) float64 (left, top, right, bottom) image pixels.
        source: ``"dlib"``, ``"alpha"``, ``"foreground"`` or ``"image"``.
        score: dlib detector score, or the blob's area fraction.
    """

    box: NDArray[np.float64] = attrs.field(converter=readonly_copy, eq=False)
    source: str
    score: float

    @property
    def area(self) -> float:
        """Box area in pixels²."""
        return float((self.box[2] - self.box[0]) * (self.box[3] - self.box[1]))


def _border_colour(lab: NDArray[np.float32]) -> tuple[NDArray[np.float32], bool]:
    border = np.concatenate([lab[0], lab[-1], lab[:, 0], lab[:, -1]])
    med = np.median(border, axis=0).astype(np.float32)
    plain = float(np.mean(np.linalg.norm(border - med, axis=1) < 10.0)) >= 0.9
    return med, plain


def foreground_candidates(image: ArrayLike, *, min_fraction: float = 0.005) -> list[FaceCandidate]:
    """Foreground blobs of an image on a transparent or plain background, largest first.

    Args:
        image: (H, W, 3) uint8 RGB or (H, W, 4) RGBA.
        min_fraction: smallest blob area as a fraction of H * W.

    Returns:
        :class:`FaceCandidate` list (``source`` ``"alpha"`` or ``"foreground"``); empty when the
        background is neither transparent nor plain.
    """
    import cv2
    from scipy import ndimage

    arr = np.asarray(image)
    h, w = arr.shape[:2]
    if arr.ndim == 3 and arr.shape[2] == 4 and (arr[..., 3] < 250).mean() > 0.02:
        mask = arr[..., 3] >= 128
        source = "alpha"
    else:
        rgb = check_image(arr)
        lab = np.asarray(
            cv2.cvtColor(rgb.astype(np.float32) / 255.0, cv2.COLOR_RGB2LAB), dtype=np.float32
        )
        bg, plain = _border_colour(lab)
        if not plain:
            return []
        mask = np.linalg.norm(lab - bg, axis=2) > 12.0
        source = "foreground"
    k = max(1, round(0.01 * max(h, w)))
    mask = (
        cv2.morphologyEx(
            mask.astype(np.uint8), cv2.MORPH_CLOSE, np.ones((2 * k + 1, 2 * k + 1), np.uint8)
        )
        > 0
    )
    mask = ndimage.binary_fill_holes(mask)
    labels, n = ndimage.label(mask)
    if n == 0:
        return []
    areas = ndimage.sum(np.ones_like(labels), labels, np.arange(1, n + 1))
    boxes = ndimage.find_objects(labels)
    out = []
    for i in np.argsort(-areas, kind="stable"):
        frac = float(areas[i]) / (h * w)
        if frac < min_fraction:
            break
        sy, sx = boxes[i]
        box = np.array([sx.start, sy.start, sx.stop - 1, sy.stop - 1], np.float64)
        out.append(FaceCandidate(box, source, frac))
    return out


def crop_square(
    image: ArrayLike,
    box: ArrayLike,
    *,
    margin: float = 1.08,
    size: int = 512,
    fill: ArrayLike | None = None,
) -> tuple[NDArray[np.uint8], SimilarityTransform]:
    """A square crop centred on a box, resized to ``size`` pixels, and its map back to the image.

    Args:
        image: (H, W, 3) uint8 RGB (never modified).
        box: (4,) float (left, top, right, bottom) pixels.
        margin: crop side / the box's longer side.
        size: output side in pixels.
        fill: (3,) RGB colour outside the image (``None``: the median border colour).

    Returns:
        ``(crop, to_image)``: (size, size, 3) uint8 and the :class:`SimilarityTransform`
        mapping crop pixels (x, y) to image pixels (pixel centres onto pixel centres).
    """
    import cv2

    rgb = check_image(image)
    h_, w_ = rgb.shape[:2]
    b = np.asarray(box, np.float64)
    side = max(2.0, margin * float(max(b[2] - b[0], b[3] - b[1]) + 1.0))
    cx, cy = 0.5 * (b[0] + b[2]), 0.5 * (b[1] + b[3])
    k = side / size
    # Continuous coordinates (pixel i covers [i - 0.5, i + 0.5]): crop coordinate v maps to
    # image u = (c - side / 2) + (v + 0.5) k, i.e. u = k v + (c - side / 2 + k / 2).
    to_image = SimilarityTransform.from_params(
        scale=k, translation=(cx - side / 2 + 0.5 * k, cy - side / 2 + 0.5 * k)
    )
    if fill is None:
        border = np.concatenate([rgb[0], rgb[-1], rgb[:, 0], rgb[:, -1]])
        fill = np.median(border, axis=0)
    colour = tuple(float(v) for v in np.asarray(fill, np.float64).reshape(3))
    src, to_src = rgb, to_image.matrix
    if k > 1.5:  # warpAffine does not area-average: downscale by area first
        small = cv2.resize(
            rgb, (max(2, round(w_ / k)), max(2, round(h_ / k))), interpolation=cv2.INTER_AREA
        )
        sx, sy = small.shape[1] / w_, small.shape[0] / h_
        to_small = np.array([[sx, 0, 0.5 * sx - 0.5], [0, sy, 0.5 * sy - 0.5], [0, 0, 1]])
        src, to_src = np.asarray(small, dtype=np.uint8), to_small @ to_image.matrix
    crop = cv2.warpAffine(
        src,
        to_src[:2],
        (size, size),
        flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP,
        borderMode=cv2.BORDER_CONSTANT,
        borderValue=colour,
    )
    return np.ascontiguousarray(crop, dtype=np.uint8), to_image


def _map_result(
    res: MatchResult, to_image: SimilarityTransform, size: tuple[int, int], **extra: Any
) -> MatchResult:
    return attrs.evolve(
        res,
        points=to_image(res.points),
        raw_points=to_image(res.raw_points),
        prior=None
        if res.prior is None
        else attrs.evolve(
            res.prior,
            points=to_image(res.prior.points),
            model=to_image(res.prior.model),
            scale=float(res.prior.scale * to_image.scale),
        ),
        image_size=size,
        **extra,
    )


def _box4(box: ArrayLike) -> tuple[float, float, float, float]:
    b = [float(v) for v in np.asarray(box, np.float64).reshape(4)]
    return (b[0], b[1], b[2], b[3])


def _face_box(points: NDArray[np.float64]) -> NDArray[np.float64]:
    return np.concatenate([points.min(axis=0), points.max(axis=0)])


def blank_contrast(image: NDArray[np.uint8]) -> float:
    """Standard deviation of an (H, W, 3) uint8 RGB image's grey levels (0-255): ~0 for a
    blank image, tens for any drawing or photograph."""
    import cv2

    return float(cv2.cvtColor(np.ascontiguousarray(image), cv2.COLOR_RGB2GRAY).std())


def flat_fraction(image: NDArray[np.uint8], box: ArrayLike) -> float:
    """Share of pixels in ``box`` whose grey-level Laplacian is below 1 (of 255).

    Drawn art (flat fills, smooth gradients) is almost all flat (0.75-0.96 on the emoji styles
    of the benchmark); photographs are not (0.02-0.04 on the human test photos, sensor noise
    and texture). Used to keep dlib's detector, which fires on some cartoon faces, for photos.
    """
    import cv2

    b = np.round(np.asarray(box, np.float64)).astype(int)
    h, w = image.shape[:2]
    x0, y0, x1, y1 = max(0, b[0]), max(0, b[1]), min(w, b[2] + 1), min(h, b[3] + 1)
    if x1 - x0 < 3 or y1 - y0 < 3:
        return 1.0
    grey = cv2.cvtColor(np.ascontiguousarray(image[y0:y1, x0:x1]), cv2.COLOR_RGB2GRAY).astype(
        np.float32
    )
    return float((np.abs(cv2.Laplacian(grey, cv2.CV_32F, ksize=1)) < 1.0).mean())


def dlib_candidates(
    image: NDArray[np.uint8], landmarker: Any, config: LocateConfig
) -> list[FaceCandidate]:
    """dlib face boxes accepted as human faces in photos, largest first (image pixels).

    A detection is accepted when its box is photo-like (:func:`flat_fraction` below
    ``config.max_flat``) and either its score is at least ``config.dlib_min_score`` or it is
    prominent (its side at least ``config.prominent`` of the image's longer side) with a score
    of at least ``config.dlib_weak_score`` (turned heads score low; small false detections on
    textures are small).
    """
    import cv2

    h, w = image.shape[:2]
    scale = min(1.0, config.dlib_max_side / max(h, w))
    small = (
        image
        if scale == 1.0
        else cv2.resize(image, (round(w * scale), round(h * scale)), interpolation=cv2.INTER_AREA)
    )
    rects, scores, _ = landmarker._detector.run(
        np.ascontiguousarray(small), 1, config.dlib_weak_score
    )
    out = []
    for r, s in zip(rects, scores, strict=True):
        box = _rect_box(r) / scale
        side = max(box[2] - box[0], box[3] - box[1])
        if s < config.dlib_min_score and side < config.prominent * max(h, w):
            continue
        if flat_fraction(image, box) >= config.max_flat:
            continue
        out.append(FaceCandidate(box, "dlib", float(s)))
    if not out and scale < 1.0 and config.dlib_small_pass:
        out = _small_faces(image, landmarker, config, min_side_seen=_DLIB_MIN_SIDE / scale)
    return sorted(out, key=lambda c: -c.area)


#: Smallest face box side (pixels of the image it runs on) dlib's detector finds at one
#: upsampling step (its 80 px window on the doubled image).
_DLIB_MIN_SIDE = 40.0


def _rect_box(r: Any) -> NDArray[np.float64]:
    return np.array([r.left(), r.top(), r.right(), r.bottom()], np.float64)


def _small_faces(
    image: NDArray[np.uint8], landmarker: Any, config: LocateConfig, *, min_side_seen: float
) -> list[FaceCandidate]:
    """Faces too small for the downscaled first pass: dlib at full resolution (one upsampling
    step), keeping photo-like boxes smaller than ``min_side_seen`` whose score is at least
    ``config.dlib_small_score``; only the best-scoring one (small false detections on
    textures are common, so several weak small faces are not trusted together)."""
    rects, scores, _ = landmarker._detector.run(
        np.ascontiguousarray(image), 1, config.dlib_small_score
    )
    best: FaceCandidate | None = None
    for r, s in zip(rects, scores, strict=True):
        box = _rect_box(r)
        if (
            max(box[2] - box[0], box[3] - box[1]) >= min_side_seen
            or flat_fraction(image, box) >= config.max_flat
        ):
            continue
        if best is None or s > best.score:
            best = FaceCandidate(box, "dlib", float(s))
    return [] if best is None else [best]


#: Smallest face box side (pixels) dlib's predictor sees in :func:`dlib_points`: smaller boxes
#: are resampled (bicubic) up to it, larger ones are left at their size. The predictor's points
#: are whole pixels and it samples single pixels, so a ~90 px box is coarse; on the shared
#: human photos (``bench/human_tta.py``) any side from 160 to 300 gave the same errors within
#: 0.002 (box side alone, without turning the face upright, moved nothing beyond that).
DLIB_SIDE = 200

#: Roll (degrees, of the line between the eye centres) below which :func:`dlib_points` does not
#: turn the face upright: dlib's predictor starts from an upright mean shape and handles a few
#: degrees; rotating an upright face only resamples it (upright faces moved by <= 0.0005 NME
#: either way). The test photos have 1 degree (takeo) and 21 degrees (einstein) of roll, so any
#: value from 2 to 12 gives the same figures there.
DLIB_MIN_ROLL_DEG = 5.0


def eye_roll(points: ArrayLike) -> float:
    """Roll of a 68-point face: angle (radians) of the line from the right-eye centre (points
    36-41, image left) to the left-eye centre (42-47), in (x, y) pixel axes with +y down
    (positive: the face turned clockwise on screen).

    Args:
        points: (68, 2) float pixel (x, y).
    """
    from faceshot_retarget.ibug68 import LEFT_EYE, RIGHT_EYE

    p = np.asarray(points, np.float64)
    d = p[LEFT_EYE].mean(axis=0) - p[RIGHT_EYE].mean(axis=0)
    return float(np.arctan2(d[1], d[0]))


def upright_patch(
    image: NDArray[np.uint8],
    box: ArrayLike,
    *,
    angle: float = 0.0,
    side: float = DLIB_SIDE,
    margin: float = 0.6,
) -> tuple[NDArray[np.uint8], NDArray[np.float64], SimilarityTransform]:
    """A square patch round a face box, turned by ``-angle`` about the box centre and scaled
    so the box's longer side is at least ``side`` pixels, and its map back to the image.

    Args:
        image: (H, W, 3) uint8 RGB or (H, W) uint8 grey (never modified).
        box: (4,) float (left, top, right, bottom) pixels.
        angle: the face's roll in radians (:func:`eye_roll`); the patch shows it upright.
        side: smallest box side in the patch, pixels (boxes already larger keep their size).
        margin: patch border round the box, in box sides (0.6 leaves room for the box shifts
            and scalings of :func:`dlib_points`).

    Returns:
        ``(patch, patch_box, to_image)``: (P, P[, 3]) uint8 (bicubic; outside the image, the
        nearest edge pixel), the (4,) float64 box in patch pixels (same centre, sides times the
        scale) and the :class:`SimilarityTransform` mapping patch pixels (x, y) to image pixels
        (pixel centres onto pixel centres).
    """
    import cv2

    b = np.asarray(box, np.float64).reshape(4)
    size = np.array([b[2] - b[0], b[3] - b[1]])
    longest = max(float(size.max()), 1.0)
    f = max(1.0, side / longest)
    n = int(np.ceil(longest * f * (1.0 + 2.0 * margin)))
    mid = np.full(2, 0.5 * (n - 1))
    rot = np.array([[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]])
    # patch v -> image u = R(angle) v / f + t, with the patch centre onto the box centre.
    to_image = SimilarityTransform.from_params(
        scale=1.0 / f, rotation=angle, translation=0.5 * (b[:2] + b[2:]) - rot @ mid / f
    )
    patch = cv2.warpAffine(
        np.ascontiguousarray(image),
        to_image.matrix[:2],
        (n, n),
        flags=cv2.INTER_CUBIC | cv2.WARP_INVERSE_MAP,
        borderMode=cv2.BORDER_REPLICATE,
    )
    half = 0.5 * f * size
    return (
        np.ascontiguousarray(patch, dtype=np.uint8),
        np.concatenate([mid - half, mid + half]),
        to_image,
    )


#: Box (dx, dy, scale) of the test-time augmentations of :func:`dlib_points`: shifts in box
#: sides, scale of the box about its (shifted) centre.
_TTA_BOXES = (
    (0.0, 0.0, 1.0),
    (-0.04, 0.0, 1.0),
    (0.04, 0.0, 1.0),
    (0.0, -0.04, 1.0),
    (0.0, 0.04, 1.0),
    (0.0, 0.0, 0.93),
    (0.0, 0.0, 1.07),
)


def _tta_points(
    image: NDArray[np.uint8], box: NDArray[np.float64], landmarker: Any
) -> NDArray[np.float64]:
    """dlib's points averaged over :data:`_TTA_BOXES` on the image and on its mirror."""
    from faceshot_retarget.ibug68 import MIRROR

    w = image.shape[1]
    side = max(box[2] - box[0], box[3] - box[1])
    centre = 0.5 * (box[:2] + box[2:])
    half0 = 0.5 * np.array([box[2] - box[0], box[3] - box[1]])
    mirrored = np.ascontiguousarray(image[:, ::-1])
    runs = []
    for dx, dy, k in _TTA_BOXES:
        c = centre + side * np.array([dx, dy])
        bb = np.concatenate([c - k * half0, c + k * half0])
        runs.append(np.asarray(landmarker.landmarks_in_box(image, bb), np.float64))
        mb = np.array([w - 1 - bb[2], bb[1], w - 1 - bb[0], bb[3]])
        q = np.asarray(landmarker.landmarks_in_box(mirrored, mb), np.float64)[MIRROR]
        q[:, 0] = w - 1 - q[:, 0]
        runs.append(q)
    return np.asarray(np.mean(runs, axis=0), np.float64)


def dlib_points(
    image: NDArray[np.uint8],
    box: ArrayLike,
    landmarker: Any,
    *,
    tta: bool = True,
    upright: bool = True,
    side: float = DLIB_SIDE,
    min_roll_deg: float = DLIB_MIN_ROLL_DEG,
) -> NDArray[np.float64]:
    """dlib's 68 points in a face box, on the face turned upright, averaged over test-time
    augmentations.

    With ``upright``, the predictor runs on :func:`upright_patch` crops: one run on the box
    resampled to at least ``side`` pixels estimates the roll (:func:`eye_roll`); when it is at
    least ``min_roll_deg``, a second run on the patch turned by that roll refines it and the
    final runs use the patch turned by the refined roll. dlib's cascade starts from an upright
    mean shape and under-reads tilted faces (on the 21-degree einstein photo it reads 13-16
    degrees, and its brows and jaw drift); upright, it fits them like frontal ones. Points are
    mapped back by the patch's similarity.

    With ``tta``, the (final) predictor runs on the box, on the box shifted by 4 % of its side in
    each of the four directions and scaled by 0.93 and 1.07, each on the image and on its
    mirror (points mapped back with ``faceshot_retarget.ibug68.MIRROR``), and the 14 results
    are averaged: dlib's cascade is sensitive to the exact box (a few pixels move a small
    face's points by 0.02-0.03 inter-ocular distances), and the average is steadier.

    Figures (``bench/human_tta.py``, 68-point NME, inter-ocular; before = ``upright=False``,
    after = the defaults, both with ``tta``): einstein (21 degrees of roll) as given
    0.066 -> 0.066, square crop 0.068 -> 0.068, 1/3 scale off-centre on a 1920x1080 canvas
    0.073 -> 0.063, centred 0.070 -> 0.057, over 10 random placements 0.076 -> 0.068; takeo
    (upright) 0.034 in every case before and after (within 0.0005); takeo turned by 30 degrees
    0.045 -> 0.035. Box side alone (no turning) moved no figure by more than 0.002.

    Args:
        image: (H, W, 3) uint8 RGB.
        box: (4,) float (left, top, right, bottom) pixels.
        landmarker: a :class:`~faceshot_landmarks.DlibLandmarker`.
        tta: average over the augmentations (False: one run on the box).
        upright: turn the face upright and resample small boxes first (False: the predictor
            runs on the image as it is).
        side: smallest box side the predictor sees, pixels (see :data:`DLIB_SIDE`).
        min_roll_deg: smallest roll worth turning the face for (see
            :data:`DLIB_MIN_ROLL_DEG`).

    Returns:
        (68, 2) float64 pixel (x, y).
    """
    b = np.asarray(box, np.float64).reshape(4)
    if not upright:
        if not tta:
            return np.asarray(landmarker.landmarks_in_box(image, b), np.float64)
        return _tta_points(image, b, landmarker)
    patch, pbox, to_image = upright_patch(image, b, side=side)
    first = to_image(np.asarray(landmarker.landmarks_in_box(patch, pbox), np.float64))
    roll = eye_roll(first)
    if abs(roll) >= np.radians(min_roll_deg):
        patch, pbox, to_image = upright_patch(image, b, angle=roll, side=side)
        roll = eye_roll(to_image(np.asarray(landmarker.landmarks_in_box(patch, pbox), np.float64)))
        patch, pbox, to_image = upright_patch(image, b, angle=roll, side=side)
    elif not tta:
        return first
    if not tta:
        return to_image(np.asarray(landmarker.landmarks_in_box(patch, pbox), np.float64))
    return to_image(_tta_points(patch, pbox, landmarker))


def _match_crop(
    feats: Any,
    mirrored: Any,
    gallery: Any,
    matcher: MatcherConfig,
    to_image: SimilarityTransform,
    image_size: tuple[int, int],
    meta: dict[str, Any],
) -> tuple[MatchResult, NDArray[np.float64], float]:
    """Match one crop's features (and its mirror's, when given: flip-consistent) and map the
    result to the image; also the fitted face's (4,) box and its longer side, image pixels."""
    res = (
        match_flip_consistent(feats, mirrored, gallery, config=matcher)
        if mirrored is not None
        else match(feats, gallery, config=matcher)
    )
    out = _map_result(res, to_image, image_size, **meta)
    fitted = _face_box(np.asarray(out.points))
    return out, fitted, float(max(fitted[2] - fitted[0], fitted[3] - fitted[1]))


def locate_and_match(
    image: ArrayLike,
    extractor: Any,
    gallery: Any,
    *,
    face: int = 0,
    config: LocateConfig = LocateConfig(),
    matcher: MatcherConfig | None = None,
    landmarker: Any = None,
    name: str = "image",
) -> MatchResult:
    """68 landmarks of one face anywhere in an image (see the module docs).

    Args:
        image: (H, W, 3) uint8 RGB or (H, W, 4) RGBA (alpha locates the character).
        extractor: feature extractor for the matcher (``.extract(rgb) -> feature map``).
        gallery: a loaded :class:`~faceshot_landmarks.Gallery`.
        face: which face, 0 = the largest (dlib faces when the dlib path is taken, else
            foreground blobs).
        config: localisation settings.
        matcher: matcher settings (``None``: :data:`CHARACTER_MATCHER`).
        landmarker: a :class:`~faceshot_landmarks.DlibLandmarker` to reuse (``None``: made on
            first need when ``config.human != "matcher"``).
        name: the image's name in error messages.

    Returns:
        :class:`MatchResult` in the image's pixels, with ``path`` (``"dlib"`` or ``"matcher"``)
        and ``face_box`` set.

    Raises:
        NoFaceError: no face found (dlib only), or no face-like region (matcher score below
            ``config.min_face_score``), or ``face`` is out of range.
    """
    arr = np.asarray(image)
    rgb = check_image(arr)
    h, w = rgb.shape[:2]
    contrast = blank_contrast(rgb)
    if contrast < config.min_contrast:
        raise NoFaceError(
            f"no face-like region found in {name}: the image is blank "
            f"(grey-level standard deviation {contrast:.1f} < {config.min_contrast:g})"
        )
    matcher = CHARACTER_MATCHER if matcher is None else matcher
    if config.human != "matcher":
        if landmarker is None:
            from faceshot_landmarks._detect import DlibLandmarker

            landmarker = DlibLandmarker()
        faces = dlib_candidates(rgb, landmarker, config)
        if faces:
            if not 0 <= face < len(faces):
                raise NoFaceError(
                    f"{name}: face {face} requested; dlib found {len(faces)} face(s) (0..{len(faces) - 1})"
                )
            cand = faces[face]
            pts = dlib_points(
                rgb, cand.box, landmarker, tta=config.dlib_tta, upright=config.dlib_upright
            )
            ones = np.ones(NUM_POINTS)
            return MatchResult(
                pts,
                ones,
                ("dlib",) * len(PARTS),
                pts,
                ones,
                None,
                (h, w),
                path="dlib",
                face_box=_box4(cand.box),
                num_faces=len(faces),
            )
        if config.human == "dlib":
            raise NoFaceError(f"no human face found in {name} by dlib's detector")
    cands = foreground_candidates(arr, min_fraction=config.min_fraction)
    if not cands:
        cands = [FaceCandidate(np.array([0.0, 0.0, w - 1.0, h - 1.0]), "image", 1.0)]
    if not 0 <= face < len(cands):
        raise NoFaceError(
            f"{name}: face {face} requested; found {len(cands)} character region(s) (0..{len(cands) - 1})"
        )
    box = cands[face].box
    result: MatchResult | None = None
    for step in range(1 + config.refine_passes):
        crop, to_image = crop_square(rgb, box, margin=config.margin, size=config.crop_size)
        feats = extractor.extract(crop)
        mirrored = (
            extractor.extract(np.ascontiguousarray(crop[:, ::-1])) if config.flip_test else None
        )
        crop_side = config.crop_size * to_image.scale
        meta = {"path": "matcher", "face_box": _box4(box), "num_faces": len(cands)}
        result, fitted, side = _match_crop(
            feats, mirrored, gallery, matcher, to_image, (h, w), meta
        )
        if side >= config.refine_below * crop_side:
            break
        if step == 0 and config.whole_crop_sizes is not None:
            # A small face in the first crop: a head on a body, or one part of a face taken
            # for a whole face (a robot's ringed eye). The crop matched as one face decides.
            whole, _, whole_side = _match_crop(
                feats,
                mirrored,
                gallery,
                attrs.evolve(matcher, face_sizes=config.whole_crop_sizes),
                to_image,
                (h, w),
                meta,
            )
            if whole_side >= config.refine_below * crop_side and float(
                np.median(whole.scores)
            ) > float(np.median(result.scores)):
                result = whole
                break
        box = fitted
    assert result is not None
    result = attrs.evolve(result, points=read_drawn_marks(rgb, result.points, config))
    threshold = config.min_face_score
    if threshold is None:
        threshold = MIN_FACE_SCORE.get(str(getattr(gallery, "backbone", "")), 0.0)
    if float(np.median(result.scores)) < threshold:
        raise NoFaceError(
            f"no face-like region found in {name}: median match similarity "
            f"{float(np.median(result.scores)):.2f} < {threshold:.2f} (if it is a face, give its landmarks explicitly)"
        )
    return result


def read_drawn_marks(
    image: ArrayLike, points: ArrayLike, config: LocateConfig = LocateConfig()
) -> NDArray[np.float64]:
    """A character's eyes and lips re-placed on its drawn marks, when it is drawn art.

    When the box of ``points`` has a :func:`flat_fraction` of at least ``config.max_flat``, the
    eyes (``config.eyes``, :func:`~faceshot_landmarks.eyes_on_drawing`) and then the lips
    (``config.mouth``, :func:`~faceshot_landmarks.mouth_on_drawing`) are re-placed on the marks
    they lie on by the gallery's annotation rules; a photo's points are returned as they are.

    Args:
        image: (H, W, 3) uint8 RGB (RGBA composited on white first) the points are in.
        points: (68, 2) float pixel (x, y) iBUG landmarks.
        config: ``max_flat``, ``eyes`` and ``mouth`` are used.

    Returns:
        (68, 2) float64 pixel (x, y), a new array.
    """
    rgb = check_image(image)
    pts = np.array(points, dtype=np.float64, copy=True).reshape(NUM_POINTS, 2)
    if not np.isfinite(pts).all():
        return pts
    if flat_fraction(rgb, [*pts.min(axis=0), *pts.max(axis=0)]) < config.max_flat:
        return pts
    if config.eyes is not None:
        pts = eyes_on_drawing(rgb, pts, config.eyes)
    if config.mouth is not None:
        pts = mouth_on_drawing(rgb, pts, config.mouth)
    return pts
