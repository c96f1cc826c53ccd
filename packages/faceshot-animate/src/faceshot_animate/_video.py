"""Video IO with PyAV: probing, streaming decode, atomic streaming H.264 encode.

Reading accepts any container/codec FFmpeg decodes; frames come out as (H, W, 3) uint8 RGB,
one at a time. Writing produces H.264 (libx264) in MP4, yuv420p, at a constant frame rate,
optionally with the audio of another file copied in (re-encoded to AAC when its codec
cannot go into MP4). yuv420p needs even sizes: an odd width or height is padded by one
pixel replicating the last column/row (documented, never silently cropped).

Writes go to a hidden temporary file in the destination directory, renamed over the
destination only when the writer closes without error; on an exception the temporary
file is removed, and a killed process leaves at most a ``.NAME.*.tmp.mp4`` file, never a
truncated file under the final name.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator
from fractions import Fraction
from pathlib import Path
from types import TracebackType
from typing import Any

import numpy as np
from faceshot_retarget import VideoInfo
from numpy.typing import NDArray

from faceshot_animate._image import composite_over
from faceshot_animate.errors import VideoError

__all__ = ["VideoInfo", "VideoWriter", "probe_video", "read_video", "write_video"]

#: Accepted frame rates of written videos, frames per second.
MIN_FPS = 0.01
MAX_FPS = 1000.0
#: Audio codecs that can be stream-copied into an MP4 container.
_MP4_AUDIO = frozenset({"aac", "mp3", "alac", "opus", "flac", "ac3", "eac3"})


def _open(path: str | os.PathLike[str]) -> Any:
    import av
    from faceshot_retarget import input_file_problem

    p = Path(path)
    problem = input_file_problem(p)
    if problem is not None:
        raise VideoError(f"video file {str(p)!r} {problem}")
    try:
        container = av.open(str(p), mode="r")
    except (av.FFmpegError, OSError, ValueError) as exc:
        raise VideoError(
            f"cannot read video {str(p)!r}: not a video FFmpeg can decode ({_msg(exc)})"
        ) from None
    if not container.streams.video:
        container.close()
        raise VideoError(f"cannot read video {str(p)!r}: it has no video stream")
    return container


def _msg(exc: BaseException) -> str:
    return " ".join(str(exc).split()) or type(exc).__name__


def probe_video(path: str | os.PathLike[str]) -> VideoInfo:
    """Read a video's frame rate, frame count, size and audio presence.

    Args:
        path: any file FFmpeg can demux and decode.

    Returns:
        :class:`faceshot_retarget.VideoInfo` (``size`` is (H, W)).

    Raises:
        VideoError: missing, empty, corrupt or unsupported file, no video stream, or no
            decodable frame.
    """
    import av

    container = _open(path)
    try:
        stream = container.streams.video[0]
        rate = stream.average_rate or stream.guessed_rate or stream.base_rate
        fps = Fraction(rate) if rate else Fraction(25)
        count = int(stream.frames or 0)
        width, height = int(stream.codec_context.width), int(stream.codec_context.height)
        if count <= 0 or width <= 0 or height <= 0:
            count = 0
            try:
                for frame in container.decode(stream):
                    width, height = frame.width, frame.height
                    count += 1
            except (av.FFmpegError, ValueError) as exc:
                raise VideoError(f"cannot decode video {str(path)!r}: {_msg(exc)}") from None
        if count == 0:
            raise VideoError(f"video {str(path)!r} has no frames")
        return VideoInfo(
            fps=fps,
            frame_count=count,
            size=(height, width),
            has_audio=bool(container.streams.audio),
            codec=str(stream.codec_context.name),
        )
    finally:
        container.close()


def read_video(
    path: str | os.PathLike[str], *, max_frames: int | None = None
) -> Iterator[NDArray[np.uint8]]:
    """Decode a video lazily, one frame at a time.

    Args:
        path: any file FFmpeg can demux and decode.
        max_frames: stop after this many frames (``None``: all).

    Yields:
        (H, W, 3) uint8 RGB frames in display order.

    Raises:
        VideoError: at call time for a missing, empty, unreadable or stream-less file;
            during iteration for corrupt data, or when the file holds no decodable frame.
    """
    container = _open(path)
    return _decode(container, str(path), max_frames)


def _decode(container: Any, name: str, max_frames: int | None) -> Iterator[NDArray[np.uint8]]:
    import av

    n = 0
    try:
        stream = container.streams.video[0]
        stream.thread_type = "AUTO"
        try:
            for frame in container.decode(stream):
                if max_frames is not None and n >= max_frames:
                    break
                yield frame.to_ndarray(format="rgb24")
                n += 1
        except (av.FFmpegError, ValueError) as exc:
            raise VideoError(
                f"cannot decode video {name!r} after {n} frames: {_msg(exc)}"
            ) from None
        if n == 0 and max_frames != 0:
            raise VideoError(f"video {name!r} has no decodable frames")
    finally:
        container.close()


def _even(frame: NDArray[np.uint8]) -> NDArray[np.uint8]:
    h, w = frame.shape[:2]
    if h % 2 == 0 and w % 2 == 0:
        return frame
    return np.pad(frame, ((0, h % 2), (0, w % 2), (0, 0)), mode="edge")


class VideoWriter:
    """Streaming H.264/MP4 writer, atomic: the file appears under ``path`` only on success.

    Use as a context manager::

        with VideoWriter("out.mp4", fps=25) as writer:
            for frame in frames:
                writer.write(frame)

    Args:
        path: destination ``.mp4`` (its directory must exist). An existing file is
            replaced only when writing succeeds.
        fps: frame rate in [0.01, 1000]; a float is converted to a fraction (29.97 -> 2997/100;
            pass ``Fraction(30000, 1001)`` to keep NTSC rates exact).
        size: (width, height) every frame must have, or ``None`` to take the first frame's.
            Odd sizes are padded by one replicated pixel to even (yuv420p).
        audio_from: a video/audio file whose first audio stream is copied in (AAC-encoded
            when its codec cannot be stored in MP4), cut at the video's duration; ``None``
            for no audio. A file without audio is accepted and adds none.
        crf: x264 constant rate factor (0 lossless .. 51 worst; 18 is visually lossless).
        preset: x264 speed preset (``"ultrafast"`` .. ``"veryslow"``).
        background: RGB colour RGBA frames are composited over (H.264 has no alpha).
        reproducible: byte-identical files for identical frames. x264's macroblock-tree
            rate control is not reproducible here (10 encodes of the same 30 frames in one
            process gave 6 different files, with decoded pixels differing by up to 88
            levels, threads or not); ``True`` turns it off (``no-mbtree``). At the same
            ``crf`` files are larger (+50 % on the demo, +1.1 dB PSNR).

    Raises:
        VideoError: bad arguments, a frame of the wrong shape, or an encoder failure.
    """

    def __init__(
        self,
        path: str | os.PathLike[str],
        fps: float | Fraction = 25,
        size: tuple[int, int] | None = None,
        *,
        audio_from: str | os.PathLike[str] | None = None,
        crf: int = 18,
        preset: str = "veryfast",
        background: tuple[int, int, int] = (255, 255, 255),
        reproducible: bool = False,
    ) -> None:
        self.path = Path(path)
        try:
            value = float(fps)
            rate = Fraction(fps).limit_denominator(100000)
        except (TypeError, ValueError, OverflowError):
            raise VideoError(
                f"`fps` must be a number of frames per second in [{MIN_FPS:g}, {MAX_FPS:g}]; got {fps!r}"
            ) from None
        if not MIN_FPS <= value <= MAX_FPS:
            raise VideoError(
                f"`fps` must be a number of frames per second in [{MIN_FPS:g}, {MAX_FPS:g}]; got {fps!r}"
            )
        self.fps = rate
        if size is not None and (len(size) != 2 or min(int(size[0]), int(size[1])) < 1):
            raise VideoError(f"`size` must be (width, height) of positive ints; got {size!r}")
        self.size = None if size is None else (int(size[0]), int(size[1]))
        self.audio_from = None if audio_from is None else Path(audio_from)
        if self.audio_from is not None and not self.audio_from.is_file():
            raise VideoError(f"`audio_from` file {str(self.audio_from)!r} does not exist")
        if not 0 <= int(crf) <= 51:
            raise VideoError(f"`crf` must be in [0, 51]; got {crf!r}")
        self.crf = int(crf)
        self.preset = str(preset)
        self.background = background
        self.reproducible = bool(reproducible)
        directory = self.path.parent if str(self.path.parent) else Path(".")
        if not directory.is_dir():
            raise VideoError(
                f"cannot write {str(self.path)!r}: directory {str(directory)!r} does not exist"
            )
        self._dir = directory
        self._tmp: Path | None = None
        self._container: Any = None
        self._stream: Any = None
        self._audio: tuple[Any, Any, Any, bool] | None = None
        self.frames_written = 0
        self._closed = False

    # -- context management -------------------------------------------------------------
    def __enter__(self) -> VideoWriter:
        self.open()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if exc_type is None:
            self.close()
        else:
            self.abort()

    def open(self) -> None:
        """Create the temporary output file (called by ``__enter__``)."""
        import av

        if self._container is not None:
            return
        from faceshot_retarget import temp_path_beside
        from faceshot_retarget.errors import OutputPathError

        try:
            self._tmp = temp_path_beside(self.path, ".tmp.mp4")
        except OutputPathError as exc:
            raise VideoError(str(exc)) from None
        tmp = str(self._tmp)
        try:
            self._container = av.open(tmp, mode="w", format="mp4")
        except (av.FFmpegError, OSError) as exc:
            self._tmp.unlink(missing_ok=True)
            raise VideoError(f"cannot create {str(self.path)!r}: {_msg(exc)}") from None

    def _start_stream(self, width: int, height: int) -> None:
        stream = self._container.add_stream("libx264", rate=self.fps)
        stream.width, stream.height = width, height
        stream.pix_fmt = "yuv420p"
        stream.options = {"crf": str(self.crf), "preset": self.preset}
        if self.reproducible:
            stream.options = {**stream.options, "x264-params": "no-mbtree=1"}
        self._stream = stream
        if self.audio_from is not None:
            self._add_audio_stream()

    def write(self, frame: NDArray[np.generic]) -> None:
        """Encode one frame.

        Args:
            frame: (H, W, 3) RGB or (H, W, 4) RGBA (composited over ``background``), or
                (H, W) grey; uint8. Every frame must have the size of the first (or ``size``).
        """
        import av

        if self._closed:
            raise VideoError(f"{str(self.path)!r} is already closed; cannot write more frames")
        if self._container is None:
            self.open()
        arr = np.asarray(frame)
        if arr.dtype != np.uint8:
            raise VideoError(f"video frames must be uint8; got dtype {arr.dtype}")
        if arr.ndim == 2:
            arr = np.repeat(arr[:, :, None], 3, axis=2)
        if arr.ndim != 3 or arr.shape[2] not in (3, 4):
            raise VideoError(f"video frames must be (H, W, 3|4) or (H, W); got {arr.shape}")
        arr = composite_over(arr, self.background)
        h, w = arr.shape[:2]
        if self.size is None:
            self.size = (w, h)
        if (w, h) != self.size:
            raise VideoError(
                f"frame {self.frames_written} has size (W, H) = {(w, h)}; expected {self.size}"
            )
        arr = _even(np.ascontiguousarray(arr))
        if self._stream is None:
            self._start_stream(arr.shape[1], arr.shape[0])
        try:
            vf = av.VideoFrame.from_ndarray(arr, format="rgb24")
            for packet in self._stream.encode(vf):
                self._container.mux(packet)
        except (av.FFmpegError, ValueError) as exc:
            raise VideoError(
                f"cannot encode frame {self.frames_written} of {str(self.path)!r}: {_msg(exc)}"
            ) from None
        self.frames_written += 1

    def close(self) -> Path:
        """Flush the encoder, add audio, and rename the temporary file to ``path``."""
        import av

        if self._closed:
            return self.path
        if self._container is None:
            self.open()
        try:
            if self.frames_written == 0:
                raise VideoError(f"no frames were written to {str(self.path)!r}")
            for packet in self._stream.encode(None):
                self._container.mux(packet)
            if self.audio_from is not None:
                self._copy_audio(float(self.frames_written / self.fps))
            self._container.close()
            self._container = None
            assert self._tmp is not None
            from faceshot_retarget import replace_atomically

            replace_atomically(self._tmp, self.path)  # fsync, rename, fsync the directory
            self._tmp = None
            self._closed = True
        except BaseException as exc:
            self.abort()
            if isinstance(exc, av.FFmpegError):
                raise VideoError(f"cannot finish {str(self.path)!r}: {_msg(exc)}") from None
            raise
        return self.path

    def abort(self) -> None:
        """Discard the output: close and delete the temporary file (nothing at ``path``)."""
        if self._audio is not None:
            self._audio[0].close()
            self._audio = None
        if self._container is not None:
            try:
                self._container.close()
            except Exception:
                pass
            self._container = None
        if self._tmp is not None:
            self._tmp.unlink(missing_ok=True)
            self._tmp = None

    def _add_audio_stream(self) -> None:
        """Open ``audio_from`` and add the output audio stream (before any packet is muxed:
        MP4 headers are written with the first packet)."""
        import av

        assert self.audio_from is not None
        try:
            source = av.open(str(self.audio_from), mode="r")
        except (av.FFmpegError, OSError) as exc:
            raise VideoError(
                f"cannot read audio from {str(self.audio_from)!r}: {_msg(exc)}"
            ) from None
        if not source.streams.audio:
            source.close()
            return
        in_audio = source.streams.audio[0]
        try:
            if in_audio.codec_context.name in _MP4_AUDIO:
                out_audio = self._container.add_stream_from_template(in_audio)
                copy = True
            else:
                out_audio = self._container.add_stream("aac", rate=in_audio.rate or 44100)
                copy = False
        except (av.FFmpegError, ValueError) as exc:
            source.close()
            raise VideoError(
                f"cannot copy audio from {str(self.audio_from)!r}: {_msg(exc)}"
            ) from None
        self._audio = (source, in_audio, out_audio, copy)

    def _copy_audio(self, duration: float) -> None:
        """Mux the audio of ``audio_from`` up to ``duration`` seconds."""
        import av

        if self._audio is None:
            return
        source, in_audio, out_audio, copy = self._audio
        try:
            if copy:
                for packet in source.demux(in_audio):
                    if packet.dts is None:
                        continue
                    if (
                        packet.pts is not None
                        and float(packet.pts * in_audio.time_base) >= duration
                    ):
                        break
                    packet.stream = out_audio
                    self._container.mux(packet)
            else:
                for frame in source.decode(in_audio):
                    if frame.time is not None and frame.time >= duration:
                        break
                    frame.pts = None
                    for packet in out_audio.encode(frame):
                        self._container.mux(packet)
                for packet in out_audio.encode(None):
                    self._container.mux(packet)
        except (av.FFmpegError, ValueError) as exc:
            raise VideoError(
                f"cannot copy audio from {str(self.audio_from)!r}: {_msg(exc)}"
            ) from None
        finally:
            source.close()
            self._audio = None


def write_video(
    path: str | os.PathLike[str],
    frames: Iterable[NDArray[np.generic]],
    fps: float | Fraction = 25,
    *,
    total: int | None = None,
    progress: bool = True,
    desc: str = "encoding",
    **writer_kwargs: Any,
) -> Path:
    """Stream ``frames`` into an H.264 MP4 at ``path`` (atomic), with a progress bar.

    Args:
        path: destination ``.mp4``.
        frames: iterable of (H, W, 3|4) or (H, W) uint8 frames, consumed lazily.
        fps: frame rate (> 0).
        total: number of frames, for the progress bar only.
        progress: show a tqdm bar on stderr.
        desc: progress-bar label.
        **writer_kwargs: forwarded to :class:`VideoWriter` (``size``, ``audio_from``,
            ``crf``, ``preset``, ``background``).

    Returns:
        The written path.
    """
    from tqdm.auto import tqdm

    with VideoWriter(path, fps, **writer_kwargs) as writer:
        for frame in tqdm(frames, total=total, disable=not progress, desc=desc, unit="frame"):
            writer.write(frame)
    return writer.path
