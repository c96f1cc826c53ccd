"""Streaming video IO with PyAV (frames are decoded one at a time, never all held in memory)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from fractions import Fraction
from pathlib import Path
from typing import Any

import numpy as np
from faceshot_retarget import VideoInfo, as_points
from numpy.typing import ArrayLike, NDArray

from faceshot_landmarks.errors import VideoError

__all__ = ["draw_points", "iter_frames", "probe_video", "write_preview"]


@contextmanager
def _video_stream(path: str | os.PathLike[str], action: str) -> Iterator[Any]:
    """Open ``path`` and yield its first video stream; PyAV errors become :class:`VideoError`.

    ``action`` ("open", "decode") words the error for failures inside the ``with`` block.
    """
    import av
    from faceshot_retarget import input_file_problem

    p = Path(path)
    problem = input_file_problem(p)
    if problem is not None:
        raise VideoError(f"video {str(p)!r} {problem}")
    try:
        with av.open(str(p)) as container:
            if not container.streams.video:
                raise VideoError(f"{str(p)!r} has no video stream")
            yield container.streams.video[0]
    except av.FFmpegError as exc:
        raise VideoError(f"cannot {action} video {str(p)!r}: {exc}") from None


def probe_video(path: str | os.PathLike[str]) -> VideoInfo:
    """A video's frame rate, frame count, (H, W) size and audio presence.

    The same record, by the same rules, as ``faceshot_animate.probe_video`` (the root test
    suite holds the two equal): the frame rate is the stream's average rate (else its
    guessed or base rate, else 25); the frame count is the container's, counted by decoding
    when the container does not say.

    Returns:
        :class:`faceshot_retarget.VideoInfo`.

    Raises:
        VideoError: the file is missing, has no video stream, or no decodable frame.
    """
    import av

    with _video_stream(path, "open") as s:
        rate = s.average_rate or s.guessed_rate or s.base_rate
        fps = Fraction(rate) if rate else Fraction(25)
        count = int(s.frames or 0)
        width, height = int(s.codec_context.width), int(s.codec_context.height)
        if count <= 0 or width <= 0 or height <= 0:
            count = 0
            try:
                for frame in s.container.decode(s):
                    width, height = frame.width, frame.height
                    count += 1
            except (av.FFmpegError, ValueError) as exc:
                raise VideoError(f"cannot decode video {str(path)!r}: {exc}") from None
        if count == 0:
            raise VideoError(f"video {str(path)!r} has no frames")
        return VideoInfo(
            fps=fps,
            frame_count=count,
            size=(height, width),
            has_audio=bool(s.container.streams.audio),
            codec=str(s.codec_context.name),
        )


def iter_frames(path: str | os.PathLike[str]) -> Iterator[NDArray[np.uint8]]:
    """Yield the frames of a video one by one as (H, W, 3) uint8 RGB arrays.

    Raises:
        VideoError: the file is missing, has no video stream or cannot be decoded.
    """
    with _video_stream(path, "decode") as stream:
        stream.thread_type = "AUTO"
        for frame in stream.container.decode(stream):
            yield np.asarray(frame.to_ndarray(format="rgb24"), dtype=np.uint8)


def draw_points(
    image: NDArray[np.uint8],
    points: ArrayLike,
    visible: ArrayLike | None = None,
    *,
    radius: int = 2,
) -> NDArray[np.uint8]:
    """A copy of an (H, W, 3) uint8 RGB image with 68 points drawn (green visible, red not).

    Args:
        image: (H, W, 3) uint8 RGB (not modified).
        points: (68, 2) float pixel (x, y).
        visible: (68,) bool, or ``None`` (all visible).
    """
    import cv2

    out = np.array(image, dtype=np.uint8, copy=True)
    pts = as_points(points, "points")[0]
    vis = np.ones(len(pts), bool) if visible is None else np.asarray(visible, bool).reshape(-1)
    shift = 4  # fixed-point sub-pixel drawing
    for (x, y), v in zip(
        np.round(pts * (1 << shift)).astype(np.int64).tolist(), vis.tolist(), strict=True
    ):
        cv2.circle(
            out, (x, y), radius << shift, (0, 255, 0) if v else (255, 0, 0), -1, cv2.LINE_AA, shift
        )
    return out


def write_preview(
    video: str | os.PathLike[str],
    points: ArrayLike,
    out_path: str | os.PathLike[str],
    *,
    visible: ArrayLike | None = None,
    progress: bool = True,
) -> Path:
    """Write an H.264 mp4 of the video with landmarks drawn (streamed; atomic rename).

    Args:
        video: source video path.
        points: (T, 68, 2) float64 pixel landmarks, one per frame.
        out_path: destination ``.mp4``.
        visible: (T, 68) bool, or ``None``.
        progress: show a tqdm bar on stderr.
    """
    import av
    from tqdm import tqdm

    pts = as_points(points, "points")
    vis = None if visible is None else np.asarray(visible, bool)
    info = probe_video(video)
    rate, (h, w) = float(info.fps), info.size
    from faceshot_retarget import atomic_path
    from faceshot_retarget.errors import OutputPathError

    dest = Path(out_path)
    if not dest.parent.is_dir():
        raise VideoError(f"cannot write {str(dest)!r}: directory does not exist")
    if dest.suffix.lower() != ".mp4":
        raise VideoError(f"preview {str(dest)!r} must end in .mp4 (H.264 MP4); got {dest.suffix!r}")
    try:  # the one atomic writer: temporary file beside dest (umask mode), fsync, rename
        with atomic_path(dest, ".tmp.mp4") as tmp, av.open(str(tmp), mode="w", format="mp4") as out:
            stream: Any = out.add_stream("libx264", rate=Fraction(rate).limit_denominator(1001))
            stream.width, stream.height = w - w % 2, h - h % 2
            stream.pix_fmt = "yuv420p"
            for t, frame in enumerate(
                tqdm(iter_frames(video), total=len(pts), desc="preview", disable=not progress)
            ):
                if t >= len(pts):
                    break
                img = draw_points(frame, pts[t], None if vis is None else vis[t])[
                    : stream.height, : stream.width
                ]
                for packet in stream.encode(
                    av.VideoFrame.from_ndarray(np.ascontiguousarray(img), format="rgb24")
                ):
                    out.mux(packet)
            for packet in stream.encode():
                out.mux(packet)
    except OutputPathError as exc:
        raise VideoError(str(exc)) from None
    return dest
