"""What a video file holds: the one record type every package's ``probe_video`` returns.

Convention: sizes are ``(H, W)`` pixels, as everywhere in faceshot; :attr:`VideoInfo.size_wh`
is the ``(W, H)`` order OpenCV and FFmpeg take.
"""

from __future__ import annotations

from fractions import Fraction

import attrs

__all__ = ["VideoInfo"]


def _as_size(value: tuple[int, int]) -> tuple[int, int]:
    return int(value[0]), int(value[1])


def _positive_size(
    _: object, attribute: attrs.Attribute[tuple[int, int]], value: tuple[int, int]
) -> None:
    if len(value) != 2 or min(value) < 1:
        raise ValueError(f"`{attribute.name}` must be (H, W) with positive entries; got {value!r}")


@attrs.frozen
class VideoInfo:
    """A video file's frame rate, frame count, size and audio presence.

    Attributes:
        fps: average frame rate, frames per second (a ``Fraction``, e.g. 30000/1001; 25 when
            the file does not say).
        frame_count: number of frames (from the container; counted by decoding when the
            container does not say), >= 1.
        size: (H, W) of the frames, pixels.
        has_audio: the file has at least one audio stream.
        codec: name of the video codec (e.g. ``"h264"``).
    """

    fps: Fraction = attrs.field(converter=Fraction)
    frame_count: int = attrs.field(converter=int)
    size: tuple[int, int] = attrs.field(converter=_as_size, validator=_positive_size)
    has_audio: bool = attrs.field(default=False, converter=bool)
    codec: str = attrs.field(default="", converter=str)

    @property
    def size_wh(self) -> tuple[int, int]:
        """(W, H) of the frames, pixels (OpenCV's and FFmpeg's order)."""
        return self.size[1], self.size[0]
