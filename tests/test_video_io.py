"""One media-IO API: the two members that read video agree on the record and the errors."""

from __future__ import annotations

from pathlib import Path

import faceshot_animate
import faceshot_landmarks
import faceshot_retarget
import pytest


def test_both_probes_return_the_same_video_info(demo_driving: Path) -> None:
    a = faceshot_animate.probe_video(demo_driving)
    b = faceshot_landmarks.probe_video(demo_driving)
    assert type(a) is type(b) is faceshot_retarget.VideoInfo
    assert a == b
    h, w = a.size  # (H, W), as everywhere
    assert a.size_wh == (w, h)
    frame = next(iter(faceshot_animate.read_video(demo_driving)))
    assert frame.shape[:2] == a.size
    assert next(iter(faceshot_landmarks.iter_frames(demo_driving))).shape == frame.shape


def test_one_video_error_hierarchy(tmp_path: Path) -> None:
    bad = tmp_path / "not_a_video.mp4"
    bad.write_bytes(b"not a video at all")
    for probe, member in (
        (faceshot_animate.probe_video, faceshot_animate.VideoError),
        (faceshot_landmarks.probe_video, faceshot_landmarks.VideoError),
    ):
        with pytest.raises(member) as info:
            probe(bad)
        assert isinstance(info.value, faceshot_retarget.VideoError)
        assert isinstance(info.value, ValueError)
        assert "not_a_video.mp4" in str(info.value)
