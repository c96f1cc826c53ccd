"""Driving landmarks: 68-point detection on human videos (dlib) and point tracking (LK).

Human videos: :func:`faceshot_landmarks.detect_driving` (module ``_driving``) finds every face,
groups them into people by dlib's face descriptor, detects shot cuts and tracks one person;
:func:`detect_video` is its thin wrapper returning only the landmarks. This module holds the
dlib building blocks it uses:

    * :class:`DlibLandmarker`: the dlib frontal face detector (HOG + linear SVM), run on a copy
      downscaled so its longer side is at most ``detect_max_side`` and upsampled ``upsample``
      times, and the 68-point shape predictor (sub-pixel on small faces).
    * The tracker's pieces: the previous landmarks are moved by the similarity transform
      fitted to their pyramidal Lucas-Kanade flow (:func:`_flow_predict`), and the shape
      predictor is re-run in the box derived from those predicted landmarks (the box <->
      landmark relation measured at the last detection). A tracked shape that disagrees with
      its flow prediction (mean point distance above 6 % of the face-box diagonal, centre
      moved by more than half the face size, or size changed by more than 35 %) or whose size
      drifts by more than 30 % from the last detection is rejected.
    * :func:`fill_gaps`: frames where the person was not found are filled: gaps of at most
      ``max_gap`` frames between two found frames of one shot are linearly interpolated,
      longer gaps, gaps across a shot cut and the tail hold the last found frame, leading
      frames take the first found frame; filled frames have ``visible`` False for all points.

Non-human videos: see :mod:`faceshot_landmarks._video_match`.

Licence: dlib's 68-point model (``shape_predictor_68_face_landmarks.dat``, shipped by the
``face_recognition_models`` package) was trained on the iBUG 300-W data set, whose licence
excludes commercial use: the model is for non-commercial research only.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import attrs
import numpy as np
from faceshot_retarget import Landmarks, as_points
from numpy.typing import ArrayLike, NDArray

from faceshot_landmarks._classical import check_image
from faceshot_landmarks._cuts import CutConfig
from faceshot_landmarks._extras import dlib_model_file, require_dlib
from faceshot_landmarks._shape import similarity_fit
from faceshot_landmarks.errors import NoFaceError

__all__ = [
    "DetectConfig",
    "DlibLandmarker",
    "detect_image",
    "detect_video",
    "fill_gaps",
    "predictor_path",
]

_MODEL_FILE = "shape_predictor_68_face_landmarks.dat"


def predictor_path(path: str | os.PathLike[str] | None = None) -> Path:
    """Locate dlib's 68-point shape predictor file.

    Args:
        path: an explicit model file; ``None`` finds the one inside the installed
            ``face_recognition_models`` package without importing it (its ``__init__`` imports
            ``pkg_resources``).

    Raises:
        BackendUnavailableError: the file cannot be found.
    """
    return dlib_model_file(
        _MODEL_FILE, "dlib shape predictor", f"dlib's 68-point model ({_MODEL_FILE})", path
    )


def _positive(instance: Any, attribute: Any, value: Any) -> None:
    if not value >= 1:
        raise ValueError(f"`{attribute.name}` must be >= 1; got {value!r}")


def _non_negative(instance: Any, attribute: Any, value: Any) -> None:
    if not value >= 0:
        raise ValueError(f"`{attribute.name}` must be >= 0; got {value!r}")


def _positive_or_none(instance: Any, attribute: Any, value: Any) -> None:
    if value is not None:
        _positive(instance, attribute, value)


def _descriptor_distance(instance: Any, attribute: Any, value: Any) -> None:
    if not 0 < value <= 2:
        raise ValueError(f"`{attribute.name}` must be in (0, 2]; got {value!r}")


@attrs.frozen
class DetectConfig:
    """Settings of :func:`~faceshot_landmarks.detect_driving` and :func:`detect_video`.

    Attributes:
        redetect_every: the face scan runs the detector every this many frames (and on every
            frame until the first face is found, and at every cut); the tracked person is
            re-anchored on each of these detections (10: a third of a second at 30 fps, so a
            person entering or leaving is seen within 10 frames).
        max_gap: longest run of frames without the person (frames) that is linearly
            interpolated; longer runs hold the last pose (the API's ``max_lost_frames``).
        search_frames: stop with :class:`NoFaceError` when no face at all is found in this
            many frames; ``None`` searches the whole video.
        upsample: dlib detector upsampling steps (1 finds faces down to ~40 px).
        detect_max_side: frames are downscaled for detection to at most this many pixels.
        max_faces: at most this many faces (the largest) are kept per detection.
        identity_threshold: two faces belong to one person when their dlib face descriptors
            are closer than this (Euclidean; 0.6 is dlib's documented threshold).
        cuts: the shot-cut detector's settings (:class:`~faceshot_landmarks.CutConfig`).
    """

    redetect_every: int = attrs.field(default=10, validator=_positive)
    max_gap: int = attrs.field(default=15, validator=_non_negative)
    search_frames: int | None = attrs.field(default=None, validator=_positive_or_none)
    upsample: int = attrs.field(default=1, validator=_non_negative)
    detect_max_side: int = attrs.field(default=480, validator=_positive)
    max_faces: int = attrs.field(default=8, validator=_positive)
    identity_threshold: float = attrs.field(default=0.6, validator=_descriptor_distance)
    cuts: CutConfig = attrs.field(
        default=CutConfig(), validator=attrs.validators.instance_of(CutConfig)
    )


class DlibLandmarker:
    """dlib frontal face detector + 68-point shape predictor.

    Args:
        model: shape-predictor file (``None``: :func:`predictor_path`).
        upsample: detector upsampling steps.
        detect_max_side: detection runs on a copy downscaled to at most this longer side.
        min_face_side: faces whose box is smaller than this many pixels are predicted on an
            upscaled crop (bicubic, at most 4x), so landmarks get sub-pixel precision
            instead of dlib's whole-pixel steps (which are ~2 % of a 50 px face).

    Licence: the 68-point model is for non-commercial research only (trained on iBUG 300-W).
    """

    def __init__(
        self,
        model: str | os.PathLike[str] | None = None,
        *,
        upsample: int = 1,
        detect_max_side: int = 480,
        min_face_side: int = 160,
    ) -> None:
        require_dlib("DlibLandmarker (dlib's face detector and 68-point predictor)")
        import dlib

        self._dlib = dlib
        self._detector = dlib.get_frontal_face_detector()
        self._predictor = dlib.shape_predictor(str(predictor_path(model)))
        self.upsample = int(upsample)
        self.detect_max_side = int(detect_max_side)
        self.min_face_side = int(min_face_side)

    def detect_faces(
        self, image: NDArray[np.uint8], *, upsample: int | None = None, max_side: int | None = None
    ) -> NDArray[np.float64]:
        """Face boxes, largest first.

        Args:
            image: (H, W, 3) uint8 RGB or (H, W) uint8 grey.
            upsample: detector upsampling steps (``None``: ``self.upsample``).
            max_side: downscale limit (``None``: ``self.detect_max_side``).

        Returns:
            (n, 4) float64 boxes (left, top, right, bottom) in pixels of ``image``.
        """
        import cv2

        h, w = image.shape[:2]
        scale = min(1.0, (max_side or self.detect_max_side) / max(h, w))
        small = (
            image
            if scale == 1.0
            else cv2.resize(
                image, (round(w * scale), round(h * scale)), interpolation=cv2.INTER_AREA
            )
        )
        rects = self._detector(
            np.ascontiguousarray(small), self.upsample if upsample is None else upsample
        )
        boxes = (
            np.array(
                [[r.left(), r.top(), r.right(), r.bottom()] for r in rects], np.float64
            ).reshape(-1, 4)
            / scale
        )
        area = (boxes[:, 2] - boxes[:, 0]) * (boxes[:, 3] - boxes[:, 1])
        return np.asarray(boxes[np.argsort(-area, kind="stable")], dtype=np.float64)

    def landmarks_in_box(self, image: NDArray[np.uint8], box: ArrayLike) -> NDArray[np.float64]:
        """Run the shape predictor in a box.

        Args:
            image: (H, W, 3) uint8 RGB or (H, W) uint8 grey.
            box: (4,) float (left, top, right, bottom) pixels.

        Returns:
            (68, 2) float64 pixel (x, y).
        """
        box = np.asarray(box, np.float64)
        side = float(max(box[2] - box[0], box[3] - box[1], 1.0))
        factor = min(4.0, self.min_face_side / side)
        if factor <= 1.0:
            b = np.round(box).astype(int).tolist()
            shape = self._predictor(np.ascontiguousarray(image), self._dlib.rectangle(*b))
            return np.array([[p.x, p.y] for p in shape.parts()], np.float64)
        import cv2

        # Crop with a margin of half a box, upscale, predict, map back (pixel centres:
        # x = (x_crop + 0.5) / factor - 0.5 + left).
        h, w = image.shape[:2]
        margin = 0.5 * side
        left, top = max(0, int(np.floor(box[0] - margin))), max(0, int(np.floor(box[1] - margin)))
        right, bottom = min(w, int(np.ceil(box[2] + margin))), min(h, int(np.ceil(box[3] + margin)))
        crop = image[top:bottom, left:right]
        big = cv2.resize(
            np.ascontiguousarray(crop),
            (round(crop.shape[1] * factor), round(crop.shape[0] * factor)),
            interpolation=cv2.INTER_CUBIC,
        )
        fx, fy = big.shape[1] / crop.shape[1], big.shape[0] / crop.shape[0]
        rb = (box - [left, top, left, top]) * [fx, fy, fx, fy]
        shape = self._predictor(big, self._dlib.rectangle(*np.round(rb).astype(int).tolist()))
        pts = np.array([[p.x, p.y] for p in shape.parts()], np.float64)
        out: NDArray[np.float64] = (
            (pts + 0.5) / np.array([fx, fy]) - 0.5 + np.array([left, top], np.float64)
        )
        return out

    def detect(
        self, image: NDArray[np.uint8], *, retry: bool = False, near: ArrayLike | None = None
    ) -> NDArray[np.float64] | None:
        """(68, 2) float64 landmarks of one face, or ``None`` when there is no face.

        Args:
            image: (H, W, 3) uint8 RGB or (H, W) uint8 grey.
            retry: when nothing is found, try again at full resolution with one more
                upsampling step (slower; finds smaller faces in single images).
            near: (68, 2) float pixel points (e.g. ground truth in an evaluation) or a (4,)
                box (left, top, right, bottom): take the face whose box overlaps it most
                (IoU >= 0.3) instead of the largest face.
        """
        attempts: list[dict[str, int]] = [{}]
        if retry:
            attempts.append({"upsample": self.upsample + 1, "max_side": max(image.shape[:2])})
        target = None
        if near is not None:
            arr = np.asarray(near, np.float64)
            target = arr if arr.shape == (4,) else _bbox(arr.reshape(-1, 2))
        for kwargs in attempts:
            boxes = self.detect_faces(image, **kwargs)
            if len(boxes) == 0:
                continue
            if target is None:
                return self.landmarks_in_box(image, boxes[0])
            iou = _iou(boxes, target)
            if iou.max() >= 0.3:
                return self.landmarks_in_box(image, boxes[int(np.argmax(iou))])
        return None


def _iou(boxes: NDArray[np.float64], box: NDArray[np.float64]) -> NDArray[np.float64]:
    lo = np.maximum(boxes[:, :2], box[:2])
    hi = np.minimum(boxes[:, 2:], box[2:])
    inter = np.prod(np.clip(hi - lo, 0, None), axis=1)
    area = np.prod(boxes[:, 2:] - boxes[:, :2], axis=1) + np.prod(box[2:] - box[:2])
    return np.asarray(inter / np.maximum(area - inter, 1e-9), dtype=np.float64)


def detect_image(
    image: Any, *, landmarker: DlibLandmarker | None = None, name: str = "image"
) -> Landmarks:
    """68-point landmarks of the largest face in one image.

    Args:
        image: (H, W, 3) uint8 RGB.
        landmarker: a :class:`DlibLandmarker` to reuse (``None``: a new one).
        name: used in the error message.

    Returns:
        :class:`Landmarks` with T = 1 and ``image_size``.

    Raises:
        NoFaceError: no face found.
    """
    rgb = check_image(image)
    lm = landmarker or DlibLandmarker()
    pts = lm.detect(rgb, retry=True)
    if pts is None:
        raise NoFaceError(f"no face found in {name}")
    return Landmarks(pts, rgb.shape[:2])


def _bbox(points: NDArray[np.float64]) -> NDArray[np.float64]:
    return np.concatenate([points.min(axis=0), points.max(axis=0)])


def _box_relation(box: NDArray[np.float64], points: NDArray[np.float64]) -> NDArray[np.float64]:
    """Detector box in units of the landmark bbox: (dcx, dcy, w ratio, h ratio)."""
    lb = _bbox(points)
    lw, lh = max(lb[2] - lb[0], 1.0), max(lb[3] - lb[1], 1.0)
    lc = (lb[:2] + lb[2:]) / 2
    bc = (box[:2] + box[2:]) / 2
    return np.array(
        [(bc[0] - lc[0]) / lw, (bc[1] - lc[1]) / lh, (box[2] - box[0]) / lw, (box[3] - box[1]) / lh]
    )


def _box_from(points: NDArray[np.float64], rel: NDArray[np.float64]) -> NDArray[np.float64]:
    lb = _bbox(points)
    lw, lh = max(lb[2] - lb[0], 1.0), max(lb[3] - lb[1], 1.0)
    c = (lb[:2] + lb[2:]) / 2 + rel[:2] * [lw, lh]
    half = rel[2:] * [lw, lh] / 2
    return np.concatenate([c - half, c + half])


def _jumped(
    prev: NDArray[np.float64], cur: NDArray[np.float64], *, move: float = 0.5, ratio: float = 1.35
) -> bool:
    """The shape moved by more than ``move`` face diagonals or changed size by ``ratio``."""
    pb, cb = _bbox(prev), _bbox(cur)
    ps = float(np.hypot(pb[2] - pb[0], pb[3] - pb[1]))
    cs = float(np.hypot(cb[2] - cb[0], cb[3] - cb[1]))
    shift = float(np.linalg.norm(prev.mean(axis=0) - cur.mean(axis=0)))
    return shift > move * ps or not (1 / ratio < cs / max(ps, 1e-9) < ratio)


def _disagree(predicted: NDArray[np.float64], cur: NDArray[np.float64], tol: float = 0.06) -> bool:
    """Mean point distance between two shapes exceeds ``tol`` face-box diagonals."""
    b = _bbox(predicted)
    diag = float(np.hypot(b[2] - b[0], b[3] - b[1]))
    return float(np.linalg.norm(predicted - cur, axis=1).mean()) > tol * diag


def _flow_predict(
    prev_grey: NDArray[np.uint8], grey: NDArray[np.uint8], points: NDArray[np.float64]
) -> NDArray[np.float64]:
    """Move the previous landmarks by the similarity fitted to their LK flow (box prediction)."""
    import cv2

    src = points.astype(np.float32).reshape(-1, 1, 2)
    dst, st, _ = cv2.calcOpticalFlowPyrLK(prev_grey, grey, src, None, winSize=(15, 15), maxLevel=2)  # type: ignore[call-overload]
    ok = st.reshape(-1) == 1
    if ok.sum() < 3:
        return points
    s, r, t = similarity_fit(points[ok], dst.reshape(-1, 2)[ok].astype(np.float64))
    return np.asarray(s * points @ r.T + t, dtype=np.float64)


def fill_gaps(
    points: ArrayLike, found: ArrayLike, *, max_gap: int = 15, cuts: Iterable[int] = ()
) -> NDArray[np.float64]:
    """Fill frames without a detection.

    Args:
        points: (T, 68, 2) float pixel landmarks (values of not-found frames are ignored).
        found: (T,) bool, frames with real landmarks; at least one must be True.
        max_gap: interior gaps of at most this many frames are linearly interpolated between
            the neighbouring found frames; longer gaps hold the last found frame, leading
            frames take the first found frame, trailing frames the last.
        cuts: frames where a new shot starts; a gap containing a cut (the next found frame is
            in a later shot) is never interpolated, it holds the last found frame.

    Returns:
        (T, 68, 2) float64, a new array.
    """
    pts = as_points(points, "points")
    ok = np.asarray(found, bool).reshape(-1)
    if ok.shape != (len(pts),):
        raise ValueError(f"`found` must have shape ({len(pts)},); got {np.shape(found)}")
    if not ok.any():
        raise ValueError("`found` has no True frame; nothing to fill from")
    idx = np.arange(len(pts))
    good = idx[ok]
    prev = good[np.clip(np.searchsorted(good, idx, side="right") - 1, 0, None)]
    nxt = good[np.clip(np.searchsorted(good, idx, side="left"), None, len(good) - 1)]
    prev = np.where(idx < good[0], good[0], prev)
    nxt = np.where(idx > good[-1], good[-1], nxt)
    gap = nxt - prev - 1
    shot = np.searchsorted(np.unique(np.asarray(list(cuts), np.int64)), idx, side="right")
    interp = (gap <= max_gap) & (nxt > prev) & (shot[prev] == shot[nxt])
    alpha = np.where(interp, (idx - prev) / np.maximum(nxt - prev, 1), 0.0)
    out = pts[prev] * (1 - alpha)[:, None, None] + pts[nxt] * alpha[:, None, None]
    out[ok] = pts[ok]
    return np.asarray(out, dtype=np.float64)


def detect_video(
    video: str | os.PathLike[str],
    *,
    config: DetectConfig = DetectConfig(),
    landmarker: DlibLandmarker | None = None,
    progress: bool = True,
    face: int | None = None,
) -> Landmarks:
    """68-point driving landmarks of one person in a human face video (dlib detection + tracking).

    The landmarks of :func:`~faceshot_landmarks.detect_driving` (which also returns the cuts
    and the faces found): the primary person (longest x largest) unless ``face`` says which.

    Args:
        video: path of a video file (decoded frame by frame with PyAV).
        config: detection/tracking settings.
        landmarker: a :class:`DlibLandmarker` to reuse.
        progress: tqdm bars on stderr.
        face: index of the person to follow among the faces found (``None``: the primary).

    Returns:
        :class:`Landmarks` (T, 68, 2) float64 pixels, ``image_size`` (H, W), ``visible`` (T, 68)
        False on frames where the person was not found (filled).

    Raises:
        NoFaceError: no face in the video (or in the first ``config.search_frames``
            frames); the message names the video and the frames searched.
        FaceSelectionError: ``face`` is not one of the faces found.
        VideoError: unreadable video or no frames.
    """
    from faceshot_landmarks._driving import detect_driving

    return detect_driving(
        video, face=face, config=config, landmarker=landmarker, progress=progress
    ).landmarks
