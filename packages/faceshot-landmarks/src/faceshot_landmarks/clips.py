"""Hard driving clips with known ground truth, for tests and benchmarks (not used by the library).

Three builders, each returning the frames and a JSON-ready ``truth`` dict:

* :func:`multishot_clip`: a talking-head clip joined with zoomed (2x), mirrored and cropped
  segments of itself and with stills moved by known similarities (another person, and one of
  the clip's own frames); truth: the cut frames and, per segment, its kind, frame range,
  person and (for stills) the similarity of every frame.
* :func:`two_person_clip`: two faces side by side (the clip on the left, a still with
  synthetic head motion on the right) and the right one sliding out of the frame mid-clip;
  truth: each person's region per frame.
* :func:`expression_clip`: a still portrait whose mouth is torn open by a smooth warp
  (:func:`open_mouth`) to twice its own outer-lip height, twice, under a small head motion;
  truth: the inner-lip opening of every frame.

Everything is deterministic (seeded) and fast (well under a second for 100 frames at CIF
size). :func:`write_clip` encodes H.264 (CRF 12, so compression changes little).
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from fractions import Fraction
from pathlib import Path
from typing import Any

import numpy as np
from faceshot_retarget import SimilarityTransform, as_points, atomic_write
from numpy.typing import ArrayLike, NDArray

__all__ = [
    "build_driving_clips",
    "cut_scores",
    "expression_clip",
    "head_motion",
    "identity_switches",
    "identity_trace",
    "multishot_clip",
    "open_mouth",
    "ramp_motion",
    "two_person_clip",
    "warp_image",
    "write_clip",
]


def head_motion(
    n: int,
    centre: ArrayLike,
    *,
    seed: int = 0,
    angle: float = 0.12,
    scale: float = 0.08,
    shift: float = 6.0,
) -> list[SimilarityTransform]:
    """A smooth synthetic head motion: ``n`` similarities about ``centre``, frame 0 = identity.

    Args:
        n: number of frames.
        centre: (2,) float pixel (x, y) the rotation and scaling act about (the face centre).
        seed: the motion is a sum of two random-phase sinusoids per parameter.
        angle: peak rotation in radians (0.12 ~ 7 degrees).
        scale: peak relative scale change (0.08: 0.92x to 1.08x).
        shift: peak translation in pixels per axis.

    Returns:
        ``n`` :class:`~faceshot_retarget.SimilarityTransform` mapping still pixels to frame
        pixels.
    """
    rng = np.random.default_rng(seed)
    c = np.asarray(centre, np.float64).reshape(2)
    t = np.arange(n, dtype=np.float64)
    periods = rng.uniform(20.0, 60.0, (4, 2))
    phases = rng.uniform(0, 2 * np.pi, (4, 2))
    wave = np.sin(2 * np.pi * t[:, None, None] / periods + phases) - np.sin(
        phases
    )  # (n, 4, 2), 0 at t = 0
    wave = wave.sum(axis=2) / 4  # (n, 4) in [-1, 1]
    out = []
    for a, s, dx, dy in zip(
        angle * wave[:, 0],
        1 + scale * wave[:, 1],
        shift * wave[:, 2],
        shift * wave[:, 3],
        strict=True,
    ):
        rot = SimilarityTransform.from_params(scale=float(s), rotation=float(a))
        # x -> s R (x - c) + c + d
        out.append(
            SimilarityTransform.from_params(
                scale=float(s), rotation=float(a), translation=c + np.array([dx, dy]) - rot([c])[0]
            )
        )
    return out


def ramp_motion(
    n: int,
    centre: ArrayLike,
    *,
    angle: float = 0.17,
    scale: float = 0.15,
    shift: tuple[float, float] = (12.0, -6.0),
) -> list[SimilarityTransform]:
    """A steady head move: ``n`` similarities about ``centre`` going linearly from the identity
    to (rotation ``angle`` radians, scale ``1 + scale``, translation ``shift`` pixels).

    Args:
        n: frames (>= 2).
        centre: (2,) float pixel (x, y) the rotation and scaling act about.
        angle: final rotation, radians (0.17 ~ 10 degrees).
        scale: final relative scale change.
        shift: final translation (dx, dy), pixels.
    """
    c = np.asarray(centre, np.float64).reshape(2)
    out = []
    for f in np.linspace(0.0, 1.0, n):
        rot = SimilarityTransform.from_params(scale=1 + f * scale, rotation=f * angle)
        out.append(
            SimilarityTransform.from_params(
                scale=1 + f * scale,
                rotation=f * angle,
                translation=c + f * np.asarray(shift) - rot([c])[0],
            )
        )
    return out


def warp_image(
    image: NDArray[np.uint8],
    transform: SimilarityTransform,
    size: tuple[int, int],
    *,
    border: Sequence[int] | None = None,
) -> NDArray[np.uint8]:
    """Render ``image`` moved by ``transform`` onto an (H, W) = ``size`` canvas.

    Args:
        image: (h, w, 3) uint8 RGB.
        transform: still pixels -> canvas pixels (pixel-centre convention, as OpenCV's).
        size: (H, W) of the canvas.
        border: RGB colour of canvas pixels the image does not cover (``None``: replicate
            the image's border).

    Returns:
        (H, W, 3) uint8 RGB.
    """
    import cv2

    m = np.asarray(transform.matrix[:2], np.float64)
    mode = cv2.BORDER_REPLICATE if border is None else cv2.BORDER_CONSTANT
    value = (0, 0, 0) if border is None else tuple(int(v) for v in border)
    out = cv2.warpAffine(
        np.ascontiguousarray(image),
        m,
        (size[1], size[0]),
        flags=cv2.INTER_LINEAR,
        borderMode=mode,
        borderValue=value,
    )
    return np.asarray(out, dtype=np.uint8)


def open_mouth(
    image: NDArray[np.uint8],
    points: ArrayLike,
    amount: float,
    *,
    cavity: Sequence[int] = (45, 12, 18),
) -> NDArray[np.uint8]:
    """Tear the mouth open by ``amount`` pixels: the lower lip and jaw move down, a dark cavity opens.

    The tear runs along the midline between the upper and lower inner lip (points 60-64 and
    64-67, 60), across the mouth's width. Below it, every pixel moves down by
    ``amount * w(x, y)``: ``w`` is an ellipse over the mouth width at the tear (so the
    opening is widest in the middle and closes at the corners), widening to the jaw's width
    at the chin, and fading to 0 over ``max(3 amount, 0.3 face height)`` below the chin (so
    the warp stays one-to-one). The gap left at the tear is painted ``cavity`` (anti-aliased
    edges). Columns are inverted exactly with ``np.interp``.

    Args:
        image: (H, W, 3) uint8 RGB (not modified).
        points: (68, 2) float pixel landmarks of the face in ``image``.
        amount: opening added at the mouth centre, pixels (>= 0).
        cavity: RGB colour of the open mouth.

    Returns:
        (H, W, 3) uint8 RGB; the inner-lip opening at the mouth centre grows by ``amount``.
    """
    import cv2

    img = np.asarray(image, np.uint8)
    pts = as_points(points, "points")[0]
    if amount <= 0:
        return img.copy()
    h, w = img.shape[:2]
    upper = pts[[60, 61, 62, 63, 64]]
    lower = pts[[60, 67, 66, 65, 64]]
    tear = (upper + lower) / 2  # corner, three midpoints, corner (x increasing)
    order = np.argsort(tear[:, 0])
    xs = np.arange(w, dtype=np.float64)
    tear_y = np.interp(xs, tear[order, 0], tear[order, 1])
    cx = float(pts[[48, 54], 0].mean())
    half_mouth = max(float(np.ptp(pts[[48, 54], 0])) / 2, 1.0)
    half_jaw = max(float(np.ptp(pts[[4, 12], 0])) / 2, half_mouth)
    chin = float(pts[8, 1])
    face_h = max(chin - float(pts[19:25, 1].min()), 1.0)
    fade = max(3.0 * amount, 0.3 * face_h)
    ys = np.arange(h, dtype=np.float64)[:, None]  # (h, 1) source rows
    # vertical blend from the tear (0) to the chin (1): the horizontal profile widens
    depth = np.clip(
        (ys - tear_y[None])
        / max(chin - float(tear_y[round(cx)] if 0 <= round(cx) < w else chin - 1), 1.0),
        0,
        1,
    )
    u_mouth = (xs[None] - cx) / half_mouth
    u_jaw = (xs[None] - cx) / half_jaw
    ellipse = np.sqrt(np.clip(1 - u_mouth**2, 0, 1))
    jaw = np.clip(1.5 - np.abs(u_jaw), 0, 1) ** 0.5 * (
        0.5 + 0.5 * np.cos(np.pi * np.clip(np.abs(u_jaw) - 0.5, 0, 1))
    )
    profile = (1 - depth) * ellipse + depth * np.maximum(jaw, ellipse)
    below = ys >= tear_y[None]
    k = np.where(below, np.clip(1 - (ys - chin) / fade, 0, 1), 0.0)
    y_out = ys + amount * profile * k  # (h, w) forward map of every source row
    y_out = np.maximum.accumulate(y_out, axis=0)
    map_y = np.empty((h, w), np.float32)
    for x in range(w):
        map_y[:, x] = np.interp(ys[:, 0], y_out[:, x], ys[:, 0])
    map_x = np.broadcast_to(xs[None].astype(np.float32), (h, w))
    out = cv2.remap(
        img, np.ascontiguousarray(map_x), map_y, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE
    )
    gap = amount * ellipse[0]  # opening per column at the tear
    top = tear_y[None]
    alpha = np.clip(np.minimum(ys - top, top + gap[None] - ys) + 0.5, 0, 1) * (gap[None] > 0.5)
    shade = (
        np.asarray(cavity, np.float64)
        * (1 - 0.4 * np.clip((ys - top) / np.maximum(gap[None], 1), 0, 1))[..., None]
    )
    blended = out.astype(np.float64) * (1 - alpha[..., None]) + shade * alpha[..., None]
    return np.asarray(np.clip(np.round(blended), 0, 255), dtype=np.uint8)


def write_clip(
    path: str | os.PathLike[str],
    frames: Sequence[NDArray[np.uint8]],
    fps: float = 30.0,
    *,
    crf: int = 12,
) -> Path:
    """Encode (H, W, 3) uint8 RGB frames as an H.264 MP4 (even sizes, yuv420p).

    Args:
        path: destination file (replaced atomically).
        frames: at least one frame, all the same even size.
        fps: frame rate.
        crf: x264 quality (12: nearly lossless, small for these sizes).
    """
    import av

    if not frames:
        raise ValueError("`frames` is empty")
    h, w = frames[0].shape[:2]
    if h % 2 or w % 2:
        raise ValueError(f"frames must have even sizes for H.264; got {w}x{h}")
    from faceshot_retarget import atomic_path

    with atomic_path(path) as tmp, av.open(str(tmp), mode="w", format="mp4") as out:
        options = {"crf": str(crf), "preset": "veryfast"}
        stream: Any = out.add_stream(
            "libx264", rate=Fraction(fps).limit_denominator(1001), options=options
        )
        stream.width, stream.height, stream.pix_fmt = w, h, "yuv420p"
        for fr in frames:
            for packet in stream.encode(
                av.VideoFrame.from_ndarray(np.ascontiguousarray(fr), format="rgb24")
            ):
                out.mux(packet)
        for packet in stream.encode():
            out.mux(packet)
    return Path(path)


def _resize(image: NDArray[np.uint8], size: tuple[int, int]) -> NDArray[np.uint8]:
    import cv2

    h, w = image.shape[:2]
    interp = cv2.INTER_AREA if size[0] * size[1] < h * w else cv2.INTER_CUBIC
    return np.asarray(
        cv2.resize(np.ascontiguousarray(image), (size[1], size[0]), interpolation=interp), np.uint8
    )


def _place(
    still: NDArray[np.uint8],
    points: NDArray[np.float64],
    size: tuple[int, int],
    face_side: float,
    centre: ArrayLike,
) -> SimilarityTransform:
    """The similarity that puts a still's face (landmark box) at ``centre`` with width ``face_side``."""
    lo, hi = points.min(axis=0), points.max(axis=0)
    s = face_side / max(float(hi[0] - lo[0]), 1.0)
    c = (lo + hi) / 2
    return SimilarityTransform.from_params(
        scale=s, translation=np.asarray(centre, np.float64) - s * c
    )


def multishot_clip(
    video: Sequence[NDArray[np.uint8]],
    other: tuple[NDArray[np.uint8], ArrayLike],
    *,
    segment: int = 20,
    seed: int = 0,
) -> tuple[list[NDArray[np.uint8]], dict[str, Any]]:
    """A clip of seven shots built from one talking-head clip and one still of another person.

    Shots, each ``segment`` frames (taken from consecutive stretches of ``video``, so the
    talking head keeps talking):

    0. the clip as it is; 1. zoomed 2x about the frame centre; 2. mirrored left-right;
    3. the still of ``other`` with a synthetic head motion; 4. cropped to the upper-left
    three quarters and scaled back (zoom 1.33x, shifted); 5. one frame of the clip held
    still and moved by a known similarity (same person, known motion: a steady 10 degree
    turn, 15 % zoom and 13 px shift, :func:`ramp_motion`); 6. the clip again, from the frame
    after the held one (so the join is the pose jump of a spliced clip).

    Args:
        video: (H, W, 3) uint8 RGB frames of a talking head, at least ``5 * segment + 1``.
        other: ``(image, points)`` of another person: (h, w, 3) uint8 RGB and its (68, 2)
            landmarks.
        segment: frames per shot.
        seed: head-motion seed.

    Returns:
        ``(frames, truth)``; ``truth`` has ``cuts`` (sorted first frames of shots 1-6),
        ``segments`` (list of ``{"kind", "start", "stop", "person"}``; ``person`` 0 is the
        talking head, 1 the other person; ``stop`` exclusive) and, for the still shots,
        ``similarity``: per frame the (3, 3) matrix mapping the shot's frame 0 to that frame.
    """
    frames_in = [np.asarray(f, np.uint8) for f in video]
    if len(frames_in) < 5 * segment + 1:
        raise ValueError(
            f"`video` needs at least {5 * segment + 1} frames for segment={segment}; got {len(frames_in)}"
        )
    h, w = frames_in[0].shape[:2]
    still, still_pts = np.asarray(other[0], np.uint8), as_points(other[1], "other points")[0]
    src = iter(range(len(frames_in)))
    out: list[NDArray[np.uint8]] = []
    segments: list[dict[str, Any]] = []

    def take() -> list[NDArray[np.uint8]]:
        return [frames_in[next(src)] for _ in range(segment)]

    def add(
        kind: str,
        frames: list[NDArray[np.uint8]],
        person: int,
        similarity: list[SimilarityTransform] | None = None,
    ) -> None:
        seg: dict[str, Any] = {
            "kind": kind,
            "start": len(out),
            "stop": len(out) + len(frames),
            "person": person,
        }
        if similarity is not None:
            seg["similarity"] = [np.asarray(s.matrix).tolist() for s in similarity]
        segments.append(seg)
        out.extend(frames)

    add("original", take(), 0)
    ch, cw = h // 2, w // 2
    add(
        "zoom2x",
        [_resize(f[h // 4 : h // 4 + ch, w // 4 : w // 4 + cw], (h, w)) for f in take()],
        0,
    )
    add("mirror", [np.ascontiguousarray(f[:, ::-1]) for f in take()], 0)
    place = _place(still, still_pts, (h, w), 0.42 * w, (w / 2, h / 2))
    motion = head_motion(segment, (w / 2, h / 2), seed=seed)
    add(
        "still-other",
        [warp_image(still, SimilarityTransform(m.matrix @ place.matrix), (h, w)) for m in motion],
        1,
        motion,
    )
    add("crop", [_resize(f[: 3 * h // 4, : 3 * w // 4], (h, w)) for f in take()], 0)
    held = frames_in[next(src)]
    motion = ramp_motion(segment, (w / 2, h / 2))
    add("still-self", [warp_image(held, m, (h, w)) for m in motion], 0, motion)
    add("original", take(), 0)
    truth = {"cuts": [s["start"] for s in segments[1:]], "segments": segments, "size": [h, w]}
    return out, truth


def two_person_clip(
    video: Sequence[NDArray[np.uint8]],
    other: tuple[NDArray[np.uint8], ArrayLike],
    *,
    leave: tuple[int, int] | None = None,
    other_side: float = 1.3,
    seed: int = 0,
) -> tuple[list[NDArray[np.uint8]], dict[str, Any]]:
    """Two people side by side: ``video`` on the left half, a still of ``other`` on the right.

    The still's face is ``other_side`` times as wide as the clip's (so a detector that takes
    the largest face starts on it), moves by a synthetic head motion, and slides out of the
    right edge between ``leave[0]`` and ``leave[1]``; after that only the left person is
    in the frame.

    Args:
        video: (H, W, 3) uint8 RGB frames of one talking head (the clip's length).
        other: ``(image, points)``: (h, w, 3) uint8 RGB still and its (68, 2) landmarks.
        leave: (start, stop) frames of the slide-out (default: the middle fifth of the clip).
        other_side: width of the still's face relative to the clip's face width
            (estimated as 0.3 of the clip's width).
        seed: head-motion seed.

    Returns:
        ``(frames, truth)``: frames are (H, 2W, 3); ``truth`` has ``size`` (H, 2W), ``split``
        (x = W: the left person lives in x < W, the right one in x >= W), ``present``: per
        person a list of booleans per frame (person 0: left, 1: right; the right person is
        present while at least half its face is inside), and ``leave``.
    """
    frames_in = [np.asarray(f, np.uint8) for f in video]
    n = len(frames_in)
    h, w = frames_in[0].shape[:2]
    lo, hi = leave if leave is not None else (2 * n // 5, 3 * n // 5)
    still, still_pts = np.asarray(other[0], np.uint8), as_points(other[1], "other points")[0]
    face = other_side * 0.3 * w
    place = _place(still, still_pts, (h, w), face, (w / 2, h / 2))
    motion = head_motion(n, (w / 2, h / 2), seed=seed)
    edge = np.concatenate([still[0], still[-1], still[:, 0], still[:, -1]])
    backdrop = tuple(int(v) for v in np.round(edge.mean(axis=0)))  # what the sliding face uncovers
    frames: list[NDArray[np.uint8]] = []
    present = []
    for t in range(n):
        slide = 0.0 if t < lo else (1.0 if t >= hi else (t - lo) / max(hi - lo, 1))
        dx = slide * (w / 2 + face)
        m = (
            SimilarityTransform.from_params(translation=(dx, 0.0)).matrix
            @ motion[t].matrix
            @ place.matrix
        )
        right = warp_image(still, SimilarityTransform(m), (h, w), border=backdrop)
        frames.append(np.concatenate([frames_in[t], right], axis=1))
        present.append(bool(w / 2 + dx < w))
    truth = {
        "size": [h, 2 * w],
        "split": w,
        "present": [[True] * n, present],
        "leave": [lo, hi],
    }
    return frames, truth


def expression_clip(
    still: NDArray[np.uint8],
    points: ArrayLike,
    *,
    n: int = 90,
    peak: float = 2.0,
    seed: int = 0,
    motion: bool = True,
) -> tuple[list[NDArray[np.uint8]], dict[str, Any]]:
    """A worst-case expression driver: the mouth opens to ``peak`` times its own height, twice.

    The opening follows two raised-cosine bumps (frames ``n/8 .. 3n/8`` and ``5n/8 .. 7n/8``)
    up to an inner-lip opening of ``peak`` times the still's outer-lip height (points 51-57);
    a small synthetic head motion runs throughout (``motion=True``).

    Args:
        still: (H, W, 3) uint8 RGB portrait (both sides even).
        points: its (68, 2) landmarks.
        n: frames.
        peak: largest inner-lip opening over the neutral outer-lip height.
        seed: head-motion seed.
        motion: add the head motion.

    Returns:
        ``(frames, truth)``; ``truth`` has ``mouth_height`` (neutral outer-lip height, px),
        ``opening`` (per frame inner-lip opening 62-66 at the mouth centre, px, in the still's
        pixels; the head motion's scale is in ``similarity``), ``similarity`` (per frame
        3x3 still -> frame) and ``peak``.
    """
    pts = as_points(points, "points")[0]
    img = np.asarray(still, np.uint8)
    h, w = img.shape[:2]
    mouth_h = float(np.linalg.norm(pts[57] - pts[51]))
    base = float(np.linalg.norm(pts[66] - pts[62]))
    extra = max(peak * mouth_h - base, 0.0)
    t = np.arange(n, dtype=np.float64)
    bump = np.zeros(n)
    for a, b in ((n / 8, 3 * n / 8), (5 * n / 8, 7 * n / 8)):
        inside = (t >= a) & (t <= b)
        bump[inside] = 0.5 - 0.5 * np.cos(2 * np.pi * (t[inside] - a) / (b - a))
    centre = pts.mean(axis=0)
    moves = (
        head_motion(n, centre, seed=seed, angle=0.06, scale=0.04, shift=4.0)
        if motion
        else [SimilarityTransform.identity()] * n
    )
    frames = [warp_image(open_mouth(img, pts, extra * bump[k]), moves[k], (h, w)) for k in range(n)]
    truth = {
        "mouth_height": mouth_h,
        "opening": (base + extra * bump).tolist(),
        "similarity": [np.asarray(m.matrix).tolist() for m in moves],
        "peak": peak,
    }
    return frames, truth


def build_driving_clips(
    out_dir: str | os.PathLike[str],
    *,
    video: str | os.PathLike[str],
    still: str | os.PathLike[str],
    fps: float = 29.97,
) -> dict[str, tuple[Path, dict[str, Any]]]:
    """Write the three hard driving clips and their truth (``<name>.mp4`` + ``<name>.json``).

    Args:
        out_dir: an existing directory.
        video: a talking-head clip (the carphone sequence: 176x144, 120 frames).
        still: a portrait of another person, with its 68 landmarks in a same-stem ``.pts``.
        fps: frame rate of the written clips.

    Returns:
        ``{name: (mp4 path, truth)}`` for ``multishot``, ``two_person`` and ``expression``.
    """
    import json

    from faceshot_retarget import read_pts

    from faceshot_landmarks._dataset import read_image
    from faceshot_landmarks._video import iter_frames

    out = Path(out_dir)
    if not out.is_dir():
        raise NotADirectoryError(f"output directory {str(out)!r} does not exist")
    frames = list(iter_frames(video))
    portrait = read_image(still)
    points = read_pts(Path(still).with_suffix(".pts")).points[0]
    built = {
        "multishot": multishot_clip(frames, (portrait, points)),
        "two_person": two_person_clip(frames, (portrait, points)),
        "expression": expression_clip(portrait, points),
    }
    result = {}
    for name, (clip, truth) in built.items():
        path = write_clip(out / f"{name}.mp4", clip, fps)
        truth = {"frames": len(clip), "fps": fps, **truth}
        text = json.dumps(truth).encode("utf-8")
        atomic_write(out / f"{name}.json", lambda f, text=text: f.write(text))  # type: ignore[misc]
        result[name] = (path, truth)
    return result


# ---------------------------------------------------------------------------- scoring


def cut_scores(
    found: Sequence[int], truth: Sequence[int], *, tolerance: int = 0
) -> tuple[float, float]:
    """Precision and recall of found cut frames against the true ones.

    Args:
        found: frames reported as shot starts.
        truth: the true shot starts.
        tolerance: a found cut within this many frames of a true one counts (each true cut
            is matched at most once).

    Returns:
        ``(precision, recall)``; precision is 1.0 when nothing was found, recall 1.0 when
        there was nothing to find.
    """
    left = sorted(int(c) for c in truth)
    hits = 0
    for c in sorted(int(c) for c in found):
        near = [x for x in left if abs(x - c) <= tolerance]
        if near:
            left.remove(min(near, key=lambda x: abs(x - c)))
            hits += 1
    precision = hits / len(found) if len(found) else 1.0
    recall = hits / len(truth) if len(truth) else 1.0
    return precision, recall


def identity_trace(points: ArrayLike, visible: ArrayLike | None, owner: Any) -> NDArray[np.intp]:
    """Which person the driving landmarks lie on, per frame.

    Args:
        points: (T, 68, 2) float pixel landmarks.
        visible: (T, 68) bool (a frame counts when all its points are visible), or ``None``.
        owner: ``owner(frame, centre) -> int``: the person at pixel ``centre`` (x, y) in
            ``frame`` according to the clip's layout.

    Returns:
        (T,) intp person per frame, -1 where the frame is not visible.
    """
    pts = as_points(points, "points")
    vis = (
        np.ones((len(pts), 1), bool)
        if visible is None
        else np.asarray(visible, bool).reshape(len(pts), -1)
    )
    seen: list[bool] = np.asarray(vis.all(axis=1), dtype=bool).reshape(-1).tolist()
    centres = pts.mean(axis=1)
    return np.array(
        [int(owner(t, centres[t])) if seen[t] else -1 for t in range(len(pts))], dtype=np.intp
    )


def identity_switches(trace: ArrayLike) -> int:
    """Changes of person between consecutive visible frames of an :func:`identity_trace`."""
    seen = np.asarray(trace, np.intp)
    seen = seen[seen >= 0]
    return int(np.count_nonzero(seen[1:] != seen[:-1]))
