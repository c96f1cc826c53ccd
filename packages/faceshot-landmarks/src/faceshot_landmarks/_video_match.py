"""Driving landmarks of non-human videos: the matcher on frame 0, then point tracking (LK).

Non-human videos (:func:`track_points`, :func:`match_video`): frame 0 is matched with the
matcher, then pyramidal Lucas-Kanade optical flow tracks the points with a forward-backward
check; points that fail it are marked not visible for that frame and moved with the similarity
transform of the points that passed.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from typing import Any

import attrs
import numpy as np
from faceshot_retarget import Landmarks, as_points
from faceshot_retarget.ibug68 import NUM_POINTS
from numpy.typing import ArrayLike, NDArray

from faceshot_landmarks._classical import check_image
from faceshot_landmarks._shape import similarity_fit
from faceshot_landmarks._video import iter_frames, probe_video
from faceshot_landmarks.errors import VideoError

__all__ = ["TrackConfig", "match_video", "track_points"]


def _positive(instance: Any, attribute: Any, value: Any) -> None:
    if not value >= 1:
        raise ValueError(f"`{attribute.name}` must be >= 1; got {value!r}")


def _non_negative(instance: Any, attribute: Any, value: Any) -> None:
    if not value >= 0:
        raise ValueError(f"`{attribute.name}` must be >= 0; got {value!r}")


@attrs.frozen
class TrackConfig:
    """Settings of :func:`track_points` (pyramidal Lucas-Kanade with forward-backward check).

    Attributes:
        window: LK window side in pixels.
        levels: pyramid levels above the base.
        fb_threshold: largest forward-backward error in pixels for a point to count as tracked.
    """

    window: int = attrs.field(default=21, validator=_positive)
    levels: int = attrs.field(default=3, validator=_non_negative)
    fb_threshold: float = attrs.field(default=1.0, validator=_non_negative)


def track_points(
    frames: Iterable[NDArray[np.uint8]],
    initial: ArrayLike,
    *,
    config: TrackConfig = TrackConfig(),
    progress: bool = True,
    total: int | None = None,
) -> tuple[NDArray[np.float64], NDArray[np.bool_]]:
    """Track 68 points through frames with pyramidal LK and a forward-backward check.

    Args:
        frames: iterable of (H, W, 3) uint8 RGB frames; the first is where ``initial`` lies.
        initial: (68, 2) float pixel points on the first frame.
        config: tracker settings.
        progress: tqdm bar on stderr.
        total: number of frames for the bar.

    Returns:
        ``(points, visible)``: (T, 68, 2) float64 pixels and (T, 68) bool (False where the
        forward-backward check failed; such points move with the similarity of the tracked
        ones, or stay when fewer than 3 points are tracked).

    Raises:
        VideoError: no frames.
    """
    import cv2
    from tqdm import tqdm

    p0 = as_points(initial, "initial")[0]
    lk = {
        "winSize": (config.window, config.window),
        "maxLevel": config.levels,
        "criteria": (cv2.TERM_CRITERIA_EPS | cv2.TERM_CRITERIA_COUNT, 30, 0.01),
    }
    out: list[NDArray[np.float64]] = []
    vis: list[NDArray[np.bool_]] = []
    prev_grey: NDArray[np.uint8] | None = None
    cur = p0
    for frame in tqdm(frames, total=total, desc="tracking", unit="frame", disable=not progress):
        grey = np.asarray(cv2.cvtColor(check_image(frame, "frame"), cv2.COLOR_RGB2GRAY), dtype=np.uint8)
        if prev_grey is None:
            out.append(cur.copy())
            vis.append(np.ones(NUM_POINTS, bool))
        else:
            src = cur.astype(np.float32).reshape(-1, 1, 2)
            fwd, st1, _ = cv2.calcOpticalFlowPyrLK(prev_grey, grey, src, None, **lk)  # type: ignore[call-overload]
            bwd, st2, _ = cv2.calcOpticalFlowPyrLK(grey, prev_grey, fwd, None, **lk)  # type: ignore[call-overload]
            fb = np.linalg.norm(bwd.reshape(-1, 2) - src.reshape(-1, 2), axis=1)
            good = (st1.reshape(-1) == 1) & (st2.reshape(-1) == 1) & (fb <= config.fb_threshold)
            new = fwd.reshape(-1, 2).astype(np.float64)
            if good.sum() >= 3:
                s, r, tr = similarity_fit(cur[good], new[good])
                moved = s * cur @ r.T + tr
            else:
                moved = cur
            cur = np.where(good[:, None], new, moved)
            out.append(cur.copy())
            vis.append(good)
        prev_grey = grey
    if not out:
        raise VideoError("no frames to track")
    return np.stack(out), np.stack(vis)


def match_video(
    video: str | os.PathLike[str],
    extractor: Any,
    gallery: Any,
    *,
    matcher_config: Any = None,
    config: TrackConfig = TrackConfig(),
    progress: bool = True,
) -> Landmarks:
    """Driving landmarks of a non-human video: match frame 0, then track (LK, FB-checked).

    Args:
        video: path of a video file.
        extractor: duck-typed feature extractor (``.extract(image) -> FeatureMap``).
        gallery: a loaded :class:`~faceshot_landmarks.Gallery`.
        matcher_config: :class:`~faceshot_landmarks.MatcherConfig` (``None``: defaults).
        config: tracker settings.
        progress: tqdm bar on stderr.

    Returns:
        :class:`Landmarks` (T, 68, 2) with ``visible`` from the forward-backward check.
    """
    from faceshot_landmarks._matcher import MatcherConfig, match

    total, _, size = probe_video(video)
    frames = iter_frames(video)
    try:
        first = next(frames)
    except StopIteration:
        raise VideoError(f"video {str(video)!r} has no frames") from None
    result = match(extractor.extract(first), gallery, config=matcher_config or MatcherConfig())

    def chain() -> Iterable[NDArray[np.uint8]]:
        yield first
        yield from frames

    pts, vis = track_points(chain(), result.points, config=config, progress=progress, total=total)
    return Landmarks(pts, size, vis)
