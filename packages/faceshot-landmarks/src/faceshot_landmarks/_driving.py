"""One person drives: every face found, grouped into people, shot cuts, and one person tracked.

:func:`detect_driving` reads the video twice (PyAV streams; frames are never all held):

1. **Face scan** (:func:`scan_faces`). Every frame gets a colour signature (:mod:`._cuts`); a
   frame whose distance to the previous one passes the adaptive threshold is a cut candidate,
   confirmed when no face continues from the frame before (every face appears, vanishes, moves
   by more than a quarter of its size, turns by 6 degrees or scales by 10 % in one frame, or
   changes its aligned landmarks by more than 5 % of its size) or when the distance alone is
   above ``CutConfig.strong``. The
   dlib detector runs every ``redetect_every`` frames, at every candidate (and the frame
   before it), and on every frame until the first face is found. When, at most ``max_gap``
   frames after a cut, a second cut leads back to the picture (signature within the adaptive
   threshold) and the faces (continuing) of the frame before the first cut, neither is a cut
   (a few black, blank or flashed frames inside one shot). Detections are linked into
   *tracklets* inside a shot (nearest box within half a face size and a 1.5x size change; a
   detection that two tracklets could claim, or the reverse, starts a new tracklet instead of
   guessing). With more than one tracklet, each is described by dlib's face descriptor (mean of
   up to three aligned chips) and tracklets are grouped into people
   (:func:`~faceshot_landmarks._identity.cluster_tracklets`: average linkage below
   ``identity_threshold``, never two tracklets seen at once). Each person becomes a
   :class:`FaceTrack`; the *primary* person maximises frames x mean face size (longest x
   largest).
2. **Tracking** (:func:`track_person`). On the scan's detection frames the chosen person's
   detection (if any) anchors the landmarks; a scan frame without them marks the person absent.
   In between, the landmarks are tracked (flow-predicted shape-predictor tracking, see
   :mod:`._detect`); a tracked shape that fails its checks is re-acquired with the detector,
   accepting only a face whose descriptor matches the person's (when the video has more than
   one person). While absent, the detector looks for the person only on frames whose
   neighbouring scan frames saw them. Gaps are filled by
   :func:`~faceshot_landmarks.fill_gaps` (interpolated up to ``max_gap`` frames inside a shot,
   otherwise held) and marked not visible.

Another person never drives: between scan frames the tracker only follows a shape that moves
continuously, every scan frame re-anchors on the person's own (identity-grouped) detection,
and re-acquisition checks the descriptor.
"""

from __future__ import annotations

import itertools
import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import attrs
import numpy as np
from faceshot_retarget import Landmarks
from faceshot_retarget.ibug68 import NUM_POINTS
from numpy.typing import NDArray

from faceshot_landmarks._cuts import adaptive_threshold, frame_signature, signature_distance
from faceshot_landmarks._detect import (
    DetectConfig,
    DlibLandmarker,
    _box_from,
    _box_relation,
    _disagree,
    _flow_predict,
    _iou,
    _jumped,
    fill_gaps,
)
from faceshot_landmarks._identity import FaceDescriber, cluster_tracklets, face_chip
from faceshot_landmarks._shape import similarity_fit
from faceshot_landmarks._video import iter_frames, probe_video
from faceshot_landmarks.errors import FaceSelectionError, NoFaceError, VideoError

__all__ = [
    "DrivingLandmarks",
    "FaceDetection",
    "FaceScan",
    "FaceTrack",
    "choose_face",
    "detect_driving",
    "scan_faces",
    "track_person",
]

_CHIPS_AT = (0, 2, 5)  # detections of a tracklet whose face chips are described
_DEFAULT_CONFIG = DetectConfig()


def _readonly(value: Any) -> NDArray[np.float64]:
    arr = np.array(value, dtype=np.float64, copy=True)
    arr.setflags(write=False)
    return arr


@attrs.frozen
class FaceTrack:
    """One person found in a video.

    Attributes:
        index: position in :attr:`FaceScan.faces` (people are numbered by first appearance,
            then left to right).
        first: first frame the person is in view (estimated, see ``frames``).
        last: last frame the person is in view (estimated).
        frames: frames the person is in view, estimated by the scan: each of the person's
            tracklets covers its detections, extended half way to the scan frames around them
            that did not see the person (or to the edges of its shot); the scan detects every
            ``redetect_every`` frames, so this is exact to within that many frames per
            tracklet.
        detections: detector hits of the person during the scan.
        size: mean detector box side, pixels.
        centre: mean detector box centre (x, y), pixels.
        shots: number of shots the person appears in.
    """

    index: int
    first: int
    last: int
    frames: int
    detections: int
    size: float
    centre: tuple[float, float]
    shots: int

    def describe(self, image_size: tuple[int, int] | None = None) -> str:
        """A short description: ``"120 frames (0-119), 52 px, left"``.

        Args:
            image_size: (H, W) of the video; adds where in the frame the face mostly is.
        """
        text = f"{self.frames} frames ({self.first}-{self.last}), {self.size:.0f} px"
        if image_size is not None:
            h, w = image_size
            col = ("left", "centre", "right")[min(2, int(3 * self.centre[0] / max(w, 1)))]
            row = ("top", "", "bottom")[min(2, int(3 * self.centre[1] / max(h, 1)))]
            text += ", " + (f"{row} {col}" if row else col)
        if self.shots > 1:
            text += f", {self.shots} shots"
        return text


@attrs.frozen
class FaceDetection:
    """One detector hit of the face scan.

    Attributes:
        frame: frame index.
        box: (4,) float64 detector box (left, top, right, bottom), pixels.
        points: (68, 2) float64 landmarks in the box, pixels.
        tracklet: the tracklet it belongs to.
        person: index into :attr:`FaceScan.faces`.
    """

    frame: int
    box: NDArray[np.float64] = attrs.field(
        converter=_readonly, eq=attrs.cmp_using(eq=np.array_equal)
    )
    points: NDArray[np.float64] = attrs.field(
        converter=_readonly, eq=attrs.cmp_using(eq=np.array_equal)
    )
    tracklet: int
    person: int


@attrs.frozen
class FaceScan:
    """What the face scan found (:func:`scan_faces`).

    Attributes:
        faces: every person found, numbered by first appearance (then left to right).
        primary: index of the default driver (most frames x largest mean face).
        cuts: sorted frames where a new shot starts.
        detections: every detector hit, in frame order.
        scanned: sorted frames where the detector ran.
        num_frames: T, frames decoded.
        fps: frame rate.
        image_size: (H, W).
        identities: (len(faces), 128) float64 mean dlib descriptor per person, or ``None``
            when the video has a single tracklet (no descriptor was needed).
    """

    faces: tuple[FaceTrack, ...]
    primary: int
    cuts: tuple[int, ...]
    detections: tuple[FaceDetection, ...]
    scanned: tuple[int, ...]
    num_frames: int
    fps: float
    image_size: tuple[int, int]
    identities: NDArray[np.float64] | None = attrs.field(default=None, eq=False)

    def summary(self, limit: int = 10) -> str:
        """The faces found, one line: ``"0: 120 frames (0-119), 52 px, left; 1: ..."``.

        Args:
            limit: list at most this many faces (then ``"... and N more"``).
        """
        text = "; ".join(f"{f.index}: {f.describe(self.image_size)}" for f in self.faces[:limit])
        return text + (
            f"; ... and {len(self.faces) - limit} more" if len(self.faces) > limit else ""
        )


def _as_cuts(value: Any) -> tuple[int, ...]:
    return tuple(int(v) for v in value)


def _as_faces(value: Any) -> tuple[FaceTrack, ...]:
    return tuple(value)


@attrs.frozen
class DrivingLandmarks:
    """Driving landmarks of one person, with the shots and the people of the video.

    Behaves like its :class:`~faceshot_retarget.Landmarks` where one is expected
    (``points``, ``visible``, ``image_size``, ``num_frames``, ``len()``, ``np.asarray()``).

    Attributes:
        landmarks: (T, 68, 2) float64 video pixels of the driving person, ``visible`` (T, 68)
            False on frames where that person was not found (interpolated or held values).
        cuts: sorted frame indices where a new shot starts (never 0).
        faces: every person found in the video.
        person: which of ``faces`` drives.
        fps: the video's frame rate.
    """

    landmarks: Landmarks = attrs.field(validator=attrs.validators.instance_of(Landmarks))
    cuts: tuple[int, ...] = attrs.field(converter=_as_cuts)
    faces: tuple[FaceTrack, ...] = attrs.field(converter=_as_faces)
    person: int = attrs.field(converter=int)
    fps: float = attrs.field(converter=float)

    @cuts.validator
    def _check_cuts(self, attribute: Any, value: tuple[int, ...]) -> None:
        t = self.landmarks.num_frames
        if list(value) != sorted(set(value)) or any(not 0 < c < t for c in value):
            raise ValueError(f"`cuts` must be sorted unique frames in 1..{t - 1}; got {value}")

    @person.validator
    def _check_person(self, attribute: Any, value: int) -> None:
        if not 0 <= value < len(self.faces):
            raise ValueError(f"`person` must index `faces` (0..{len(self.faces) - 1}); got {value}")

    @property
    def points(self) -> NDArray[np.float64]:
        """(T, 68, 2) float64 landmarks (read-only)."""
        return self.landmarks.points

    @property
    def visible(self) -> NDArray[np.bool_] | None:
        """(T, 68) bool visibility (read-only), or ``None``."""
        return self.landmarks.visible

    @property
    def image_size(self) -> tuple[int, int] | None:
        """(H, W) of the video."""
        return self.landmarks.image_size

    @property
    def num_frames(self) -> int:
        """T."""
        return self.landmarks.num_frames

    @property
    def face(self) -> FaceTrack:
        """The driving person's :class:`FaceTrack`."""
        return self.faces[self.person]

    def __len__(self) -> int:
        return self.landmarks.num_frames

    def __array__(self, dtype: Any = None, copy: bool | None = None) -> NDArray[Any]:
        return np.array(self.landmarks.points, dtype=dtype, copy=True)


# ---------------------------------------------------------------------------- face scan


@dataclass
class _Tracklet:
    shot: int
    frames: list[int] = field(default_factory=list)
    boxes: list[NDArray[np.float64]] = field(default_factory=list)
    chips: list[NDArray[np.uint8]] = field(default_factory=list)
    descriptors: list[NDArray[np.float64]] = field(default_factory=list)
    closed: bool = False


def _side(box: NDArray[np.float64]) -> float:
    return float(max(box[2] - box[0], box[3] - box[1], 1.0))


def _centre(box: NDArray[np.float64]) -> NDArray[np.float64]:
    return np.asarray((box[:2] + box[2:]) / 2, dtype=np.float64)


def _link_cost(a: NDArray[np.float64], b: NDArray[np.float64]) -> float:
    """Centre distance over the larger side; ``inf`` when the sizes differ by more than 1.5x."""
    sa, sb = _side(a), _side(b)
    if max(sa, sb) > 1.5 * min(sa, sb):
        return float("inf")
    return float(np.linalg.norm(_centre(a) - _centre(b)) / max(sa, sb))


def _continues(a: NDArray[np.float64], b: NDArray[np.float64]) -> bool:
    """Shape ``b`` can follow shape ``a`` one frame later: the similarity between them turns by
    less than 0.1 rad (6 degrees), scales by less than 10 %, and the residual after it is at
    most 5 % of the face size (the expression does not jump)."""
    s, r, t = similarity_fit(a, b)
    fitted = s * a @ r.T + t
    lo, hi = b.min(axis=0), b.max(axis=0)
    residual = float(np.linalg.norm(fitted - b, axis=1).mean() / max(float(np.max(hi - lo)), 1.0))
    angle = abs(float(np.arctan2(r[1, 0], r[0, 0])))
    return residual <= 0.05 and angle < 0.1 and 1 / 1.1 < s < 1.1


def _discontinuous(
    before: list[tuple[NDArray[np.float64], NDArray[np.float64]]],
    after: list[tuple[NDArray[np.float64], NDArray[np.float64]]],
) -> bool:
    """No face continues smoothly between two consecutive frames (which both have faces).

    A face continues when one face of ``after`` lies within a quarter of its size of one of
    ``before`` at a similar size and its landmarks follow by a small similarity with a small
    residual (:func:`_continues`). Frames without any face give no evidence (False).
    """
    if not before and not after:
        return False
    for box, pts in after:
        for b, p in before:
            if _link_cost(box, b) < 0.25 and _continues(p, pts):
                return False
    return True


def _detect_all(
    lm: DlibLandmarker, grey: NDArray[np.uint8], max_faces: int
) -> list[tuple[NDArray[np.float64], NDArray[np.float64]]]:
    boxes = lm.detect_faces(grey)[:max_faces]
    return [(box, lm.landmarks_in_box(grey, box)) for box in boxes]


class _Lazy:
    """A :class:`FaceDescriber` loaded on first use (about a second; many videos never need it)."""

    def __init__(self, describer: FaceDescriber | None) -> None:
        self._describer = describer

    def get(self) -> FaceDescriber:
        if self._describer is None:
            self._describer = FaceDescriber()
        return self._describer


class _Scanner:
    """The face scan's state (one pass over the frames)."""

    def __init__(self, lm: DlibLandmarker, config: DetectConfig, describer: _Lazy) -> None:
        self.lm = lm
        self.config = config
        self.describer = describer
        self.tracklets: list[_Tracklet] = []
        self.hits: list[tuple[int, NDArray[np.float64], NDArray[np.float64], int]] = []
        self.scanned: dict[int, list[tuple[NDArray[np.float64], NDArray[np.float64]]]] = {}
        self.shot = 0
        self._closed_by_cut: list[_Tracklet] = []
        self._first_of_shot = 0
        self.eager = False  # describe chips as they come (once a second tracklet exists)

    def _take_chip(self, tr: _Tracklet, rgb: NDArray[np.uint8], pts: NDArray[np.float64]) -> None:
        if len(tr.frames) - 1 not in _CHIPS_AT:
            return
        chip = face_chip(rgb, pts)
        if self.eager:
            tr.descriptors.extend(self.describer.get().describe([chip]))
        else:
            tr.chips.append(chip)

    def _go_eager(self) -> None:
        self.eager = True
        d = self.describer.get()
        for tr in self.tracklets:
            if tr.chips:
                tr.descriptors.extend(d.describe(tr.chips))
                tr.chips = []

    def cut(self) -> None:
        self.shot += 1
        self._closed_by_cut = [tr for tr in self.tracklets if not tr.closed]
        for tr in self._closed_by_cut:
            tr.closed = True
        self._first_of_shot = len(self.tracklets)

    def uncut(self) -> None:
        """Undo the last :meth:`cut` (the shot before it resumes after a short interruption)."""
        self.shot -= 1
        for tr in self.tracklets[self._first_of_shot :]:
            tr.shot = self.shot
        for tr in self._closed_by_cut:
            tr.closed = False
        self._closed_by_cut = []

    def add(
        self,
        t: int,
        rgb: NDArray[np.uint8],
        dets: list[tuple[NDArray[np.float64], NDArray[np.float64]]],
    ) -> None:
        """Record the detections of frame ``t`` and link them into tracklets."""
        self.scanned[t] = dets
        gap = 2 * self.config.redetect_every
        for tr in self.tracklets:
            if not tr.closed and t - tr.frames[-1] > gap:
                tr.closed = True
        open_ids = [i for i, tr in enumerate(self.tracklets) if not tr.closed]
        cost = np.array(
            [[_link_cost(box, self.tracklets[j].boxes[-1]) for j in open_ids] for box, _ in dets]
        ).reshape(len(dets), len(open_ids))
        ok = cost < 0.5
        # a detection links to a tracklet only when neither could pair with anything else
        unique = ok & (ok.sum(axis=1, keepdims=True) == 1) & (ok.sum(axis=0, keepdims=True) == 1)
        claim = {int(i): open_ids[int(j)] for i, j in zip(*np.nonzero(unique), strict=True)}
        for i, (box, pts) in enumerate(dets):
            if i in claim:
                k = claim[i]
            else:
                for j in np.flatnonzero(ok[i]).tolist():  # contested tracklets stop here
                    self.tracklets[open_ids[j]].closed = True
                k = len(self.tracklets)
                self.tracklets.append(_Tracklet(shot=self.shot))
                if len(self.tracklets) == 2 and not self.eager:
                    self._go_eager()
            tr = self.tracklets[k]
            tr.frames.append(t)
            tr.boxes.append(np.asarray(box, np.float64))
            self.hits.append((t, np.asarray(box, np.float64), np.asarray(pts, np.float64), k))
            self._take_chip(tr, rgb, pts)

    def _span(self, tr: _Tracklet, num_frames: int, cuts: list[int]) -> tuple[int, int]:
        """Frames a tracklet is estimated to cover: its detections, extended half way to the
        scan frames around them that did not see it, or to its shot's edges."""
        starts = [0, *cuts]
        lo, hi = starts[tr.shot], ([*cuts, num_frames])[tr.shot]
        scanned = np.array(sorted(self.scanned), dtype=np.int64)
        first, last = tr.frames[0], tr.frames[-1]
        before = scanned[(scanned < first) & (scanned >= lo)]
        after = scanned[(scanned > last) & (scanned < hi)]
        first = first - (first - int(before[-1]) - 1) // 2 if before.size else lo
        last = last + (int(after[0]) - last - 1) // 2 if after.size else hi - 1
        return first, last

    def result(
        self, num_frames: int, fps: float, size: tuple[int, int], cuts: list[int]
    ) -> FaceScan:
        n = len(self.tracklets)
        if n == 1:
            labels = np.zeros(1, np.intp)
            identities = None
        else:
            d = self.describer.get()
            for tr in self.tracklets:
                if tr.chips:
                    tr.descriptors.extend(d.describe(tr.chips))
                    tr.chips = []
            means = np.stack([np.mean(tr.descriptors, axis=0) for tr in self.tracklets])
            seen = np.array([[tr.frames[0], tr.frames[-1]] for tr in self.tracklets])
            overlap = (seen[:, None, 0] <= seen[None, :, 1]) & (
                seen[None, :, 0] <= seen[:, None, 1]
            )
            labels = cluster_tracklets(means, overlap, threshold=self.config.identity_threshold)
            identities = means
        spans = [self._span(tr, num_frames, cuts) for tr in self.tracklets]
        groups = [np.flatnonzero(labels == p) for p in range(int(labels.max()) + 1)]
        people: list[FaceTrack] = []
        for idx in groups:
            members = [self.tracklets[i] for i in idx]
            boxes = np.concatenate([np.stack(tr.boxes) for tr in members])
            cx, cy = ((boxes[:, :2] + boxes[:, 2:]) / 2).mean(axis=0)
            people.append(
                FaceTrack(
                    index=-1,
                    first=min(spans[i][0] for i in idx),
                    last=max(spans[i][1] for i in idx),
                    frames=sum(spans[i][1] - spans[i][0] + 1 for i in idx),
                    detections=len(boxes),
                    size=float(
                        np.mean(np.maximum(boxes[:, 2] - boxes[:, 0], boxes[:, 3] - boxes[:, 1]))
                    ),
                    centre=(float(cx), float(cy)),
                    shots=len({tr.shot for tr in members}),
                )
            )
        order = sorted(range(len(people)), key=lambda p: (people[p].first, people[p].centre[0]))
        faces = tuple(attrs.evolve(people[p], index=k) for k, p in enumerate(order))
        person_of_tracklet = {int(i): k for k, p in enumerate(order) for i in groups[p]}
        detections = tuple(
            FaceDetection(frame=t, box=box, points=pts, tracklet=k, person=person_of_tracklet[k])
            for t, box, pts, k in self.hits
        )
        score = [f.frames * f.size for f in faces]
        primary = int(np.argmax(score))
        ids = None
        if identities is not None:
            ids = np.stack([identities[groups[p]].mean(axis=0) for p in order])
            ids.setflags(write=False)
        return FaceScan(
            faces=faces,
            primary=primary,
            cuts=tuple(cuts),
            detections=detections,
            scanned=tuple(sorted(self.scanned)),
            num_frames=num_frames,
            fps=fps,
            image_size=size,
            identities=ids,
        )


def _bar(iterable: Iterator[Any], total: int | None, desc: str, progress: bool) -> Iterator[Any]:
    from tqdm import tqdm

    return iter(tqdm(iterable, total=total, desc=desc, unit="frame", disable=not progress))


def scan_faces(
    video: str | os.PathLike[str],
    *,
    config: DetectConfig = _DEFAULT_CONFIG,
    landmarker: DlibLandmarker | None = None,
    describer: FaceDescriber | _Lazy | None = None,
    progress: bool = True,
    _frames: Iterator[NDArray[np.uint8]] | None = None,
) -> FaceScan:
    """Find every person in a video and its shot cuts (the first pass of :func:`detect_driving`).

    Args:
        video: path of a video file.
        config: detection settings (``redetect_every``, ``search_frames``, ``cuts``, ...).
        landmarker: a :class:`DlibLandmarker` to reuse.
        describer: a :class:`~faceshot_landmarks.FaceDescriber` to reuse (loaded only when
            the video has more than one tracklet).
        progress: tqdm bar on stderr.

    Returns:
        :class:`FaceScan`.

    Raises:
        NoFaceError: no face in the video (or in its first ``config.search_frames`` frames);
            names the video and the frames searched.
        VideoError: unreadable video or no frames.
    """
    import cv2

    name = str(video)
    info = probe_video(video)
    total, fps, size = info.frame_count, float(info.fps), info.size
    lm = landmarker or DlibLandmarker(
        upsample=config.upsample, detect_max_side=config.detect_max_side
    )
    scan = _Scanner(lm, config, describer if isinstance(describer, _Lazy) else _Lazy(describer))
    cc = config.cuts
    history: list[float] = []
    cuts: list[int] = []
    last_cut = 0
    before_cut = np.zeros((0,), np.float32)  # signature of the frame before the last cut
    prev: tuple[NDArray[np.uint8], NDArray[np.uint8], NDArray[np.float32]] | None = None
    t = -1
    for t, frame in enumerate(
        _bar(_frames if _frames is not None else iter_frames(video), total, "faces", progress)
    ):
        if config.search_frames is not None and not scan.hits and t >= config.search_frames:
            raise NoFaceError(f"no face found in video {name!r}, frames 0-{t - 1} searched")
        grey = np.asarray(cv2.cvtColor(frame, cv2.COLOR_RGB2GRAY), dtype=np.uint8)
        sig = frame_signature(frame, cc)
        dets = None
        cut = False
        if prev is not None:
            d = signature_distance(prev[2], sig)
            if d > adaptive_threshold(history, cc) and t - last_cut >= cc.min_shot:
                if t - 1 not in scan.scanned:
                    scan.add(t - 1, prev[0], _detect_all(lm, prev[1], config.max_faces))
                dets = _detect_all(lm, grey, config.max_faces)
                cut = d >= cc.strong or _discontinuous(scan.scanned[t - 1], dets)
            if not cut:
                history.append(d)
        if (
            cut
            and cuts
            and t - cuts[-1] <= config.max_gap
            and signature_distance(before_cut, sig) <= adaptive_threshold(history, cc)
            and dets
            and scan.scanned[cuts[-1] - 1]
            and not _discontinuous(scan.scanned[cuts[-1] - 1], dets)
        ):
            # the shot before the last cut resumes: a dropout or flash, not two cuts
            cut = False
            scan.uncut()
            cuts.pop()
            last_cut = cuts[-1] if cuts else 0
        elif cut:
            cuts.append(t)
            last_cut = t
            scan.cut()
            before_cut = prev[2] if prev is not None else sig
        if dets is not None or t % config.redetect_every == 0 or not scan.hits:
            scan.add(
                t, frame, dets if dets is not None else _detect_all(lm, grey, config.max_faces)
            )
        prev = (frame, grey, sig)
    if t < 0:
        raise VideoError(f"video {name!r} has no frames")
    if not scan.hits:
        raise NoFaceError(f"no face found in video {name!r}, frames 0-{t} searched")
    return scan.result(t + 1, fps, size, cuts)


# ---------------------------------------------------------------------------- choice + tracking


def choose_face(scan: FaceScan, face: int | None, name: str = "video") -> int:
    """The index of the person to follow: ``face``, or the scan's primary person.

    Raises:
        FaceSelectionError: ``face`` is not the index of a face found (the message lists them).
    """
    if face is None:
        return scan.primary
    if (
        isinstance(face, bool)
        or not isinstance(face, (int, np.integer))
        or not 0 <= face < len(scan.faces)
    ):
        n = len(scan.faces)
        found = f"{n} face{'s' if n != 1 else ''} found: {scan.summary()}"
        raise FaceSelectionError(
            f"face {face!r} does not exist in {name}; {found} (choose 0-{n - 1})"
        )
    return int(face)


def _overlaps(box: NDArray[np.float64], boxes: list[NDArray[np.float64]], iou: float = 0.3) -> bool:
    """``box`` overlaps one of ``boxes`` by at least ``iou`` (intersection over union)."""
    return bool(boxes) and float(_iou(np.stack(boxes), box).max()) >= iou


def _search_frames(scan: FaceScan, person: int) -> NDArray[np.bool_]:
    """(T,) bool: frames between two scan frames of which at least one saw ``person``."""
    seen = {d.frame for d in scan.detections if d.person == person}
    out = np.zeros(scan.num_frames, bool)
    for a, b in itertools.pairwise([*scan.scanned, scan.num_frames]):
        if a in seen or b in seen:
            out[a + 1 : b] = True
    return out


def track_person(
    video: str | os.PathLike[str],
    scan: FaceScan,
    person: int,
    *,
    config: DetectConfig = _DEFAULT_CONFIG,
    landmarker: DlibLandmarker | None = None,
    describer: FaceDescriber | _Lazy | None = None,
    progress: bool = True,
    _frames: Iterator[NDArray[np.uint8]] | None = None,
) -> Landmarks:
    """68-point landmarks of one person of a :class:`FaceScan` (the second pass of :func:`detect_driving`).

    Args:
        video: the video the scan was made of.
        scan: its :class:`FaceScan`.
        person: index into ``scan.faces``.
        config: the same settings as the scan.
        landmarker: a :class:`DlibLandmarker` to reuse.
        describer: a :class:`~faceshot_landmarks.FaceDescriber` to reuse.
        progress: tqdm bar on stderr.

    Returns:
        :class:`Landmarks` (T, 68, 2) with ``visible`` False where the person was not found.

    Raises:
        NoFaceError: the person is never found (the message lists the faces found).
    """
    import cv2

    name = str(video)
    lm = landmarker or DlibLandmarker(
        upsample=config.upsample, detect_max_side=config.detect_max_side
    )
    anchors = {d.frame: d for d in scan.detections if d.person == person}
    others: dict[int, list[NDArray[np.float64]]] = {}
    for d in scan.detections:
        if d.person != person:
            others.setdefault(d.frame, []).append(np.asarray(d.box))
    cut_set = set(scan.cuts)
    scanned = set(scan.scanned)
    search = _search_frames(scan, person)
    identity = None if scan.identities is None else scan.identities[person]
    lazy = describer if isinstance(describer, _Lazy) else _Lazy(describer)

    def reacquire(
        rgb: NDArray[np.uint8], grey: NDArray[np.uint8], near: NDArray[np.float64] | None
    ) -> tuple[NDArray[np.float64], NDArray[np.float64]] | None:
        dets = _detect_all(lm, grey, config.max_faces)
        if not dets:
            return None
        if identity is not None:  # several people: only a face with the person's descriptor
            d = lazy.get()
            desc = d.describe([face_chip(rgb, pts) for _, pts in dets])
            dist = np.linalg.norm(desc - identity, axis=1)
            k = int(np.argmin(dist))
            return dets[k] if dist[k] < config.identity_threshold else None
        if near is None:
            return dets[0]
        centre = near.mean(axis=0)
        return min(dets, key=lambda bp: float(np.linalg.norm(_centre(bp[0]) - centre)))

    pts_list: list[NDArray[np.float64]] = []
    found: list[bool] = []
    prev: NDArray[np.float64] | None = None
    prev_grey: NDArray[np.uint8] | None = None
    rel = np.array([0.0, 0.0, 1.0, 1.0])
    ref_shape = np.zeros((NUM_POINTS, 2))
    for t, frame in enumerate(
        _bar(
            _frames if _frames is not None else iter_frames(video),
            scan.num_frames,
            "landmarks",
            progress,
        )
    ):
        grey = np.asarray(cv2.cvtColor(frame, cv2.COLOR_RGB2GRAY), dtype=np.uint8)
        cur: NDArray[np.float64] | None = None
        hit: tuple[NDArray[np.float64], NDArray[np.float64]] | None = None
        tracked: NDArray[np.float64] | None = None
        predicted: NDArray[np.float64] | None = None
        det = anchors.get(t)
        if det is None and prev is not None and prev_grey is not None and t not in cut_set:
            predicted = _flow_predict(prev_grey, grey, prev)
            tracked = lm.landmarks_in_box(grey, _box_from(predicted, rel))
            if (
                _disagree(predicted, tracked)
                or _jumped(predicted, tracked)
                or _jumped(ref_shape, tracked, move=np.inf, ratio=1.3)
            ):
                tracked = None
        if t in scanned:
            if det is not None:
                hit = (np.asarray(det.box), np.asarray(det.points))
            elif tracked is not None and not _overlaps(_box_from(tracked, rel), others.get(t, [])):
                cur = tracked  # the detector missed the person here, the tracker did not lose them
        elif tracked is not None:
            cur = tracked
        elif predicted is not None or search[t]:
            hit = reacquire(frame, grey, predicted)
        if hit is not None:
            cur = hit[1]
            rel = _box_relation(hit[0], cur)
            ref_shape = cur
        pts_list.append(
            cur if cur is not None else (prev if prev is not None else np.zeros((NUM_POINTS, 2)))
        )
        found.append(cur is not None)
        prev = cur
        prev_grey = grey
    if not pts_list:
        raise VideoError(f"video {name!r} has no frames")
    ok = np.array(found)
    if not ok.any():
        raise NoFaceError(
            f"face {person} was never found in video {name!r}; faces found: {scan.summary()}"
        )
    filled = fill_gaps(np.stack(pts_list), ok, max_gap=config.max_gap, cuts=scan.cuts)
    return Landmarks(filled, scan.image_size, np.repeat(ok[:, None], NUM_POINTS, axis=1))


class _FrameCache:
    """Frames of the first pass kept for the second while they fit in ``limit`` bytes.

    Short clips (carphone: 9 MB) are decoded once; longer ones are decoded again (the cache
    is dropped as soon as it would exceed the limit, so memory stays bounded).
    """

    def __init__(self, frames: Iterator[NDArray[np.uint8]], limit: int = 128 << 20) -> None:
        self._source = frames
        self._frames: list[NDArray[np.uint8]] | None = []
        self._limit = limit
        self._bytes = 0

    def __iter__(self) -> Iterator[NDArray[np.uint8]]:
        for frame in self._source:
            if self._frames is not None:
                self._bytes += frame.nbytes
                if self._bytes > self._limit:
                    self._frames = None
                else:
                    self._frames.append(frame)
            yield frame

    def replay(self) -> Iterator[NDArray[np.uint8]] | None:
        """The cached frames, or ``None`` when they did not fit (decode again)."""
        frames, self._frames = self._frames, None
        return None if frames is None else iter(frames)


def detect_driving(
    video: str | os.PathLike[str],
    *,
    face: int | None = None,
    config: DetectConfig = _DEFAULT_CONFIG,
    landmarker: DlibLandmarker | None = None,
    describer: FaceDescriber | None = None,
    progress: bool = True,
) -> DrivingLandmarks:
    """Driving landmarks of one person of a human video, with its shot cuts and the faces found.

    Args:
        video: path of a video file (decoded twice, frame by frame, with PyAV).
        face: index of the person to follow among the faces found (see :func:`scan_faces`;
            ``None``: the primary person, most frames x largest face).
        config: detection settings.
        landmarker: a :class:`DlibLandmarker` to reuse.
        describer: a :class:`~faceshot_landmarks.FaceDescriber` to reuse.
        progress: tqdm bars on stderr.

    Returns:
        :class:`DrivingLandmarks`.

    Raises:
        NoFaceError: no face in the video (names the frames searched).
        FaceSelectionError: ``face`` is not one of the faces found (lists them), checked
            before the tracking pass.
        VideoError: unreadable video or no frames.
    """
    lm = landmarker or DlibLandmarker(
        upsample=config.upsample, detect_max_side=config.detect_max_side
    )
    lazy = _Lazy(describer)
    cache = _FrameCache(iter_frames(video))
    scan = scan_faces(
        video, config=config, landmarker=lm, describer=lazy, progress=progress, _frames=iter(cache)
    )
    person = choose_face(scan, face, f"video {str(video)!r}")
    again = cache.replay()
    lms = track_person(
        video,
        scan,
        person,
        config=config,
        landmarker=lm,
        describer=lazy,
        progress=progress,
        _frames=again,
    )
    return DrivingLandmarks(
        landmarks=lms, cuts=scan.cuts, faces=scan.faces, person=person, fps=scan.fps
    )
