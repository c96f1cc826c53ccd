"""Video IO: probe, streaming read, atomic H.264 write, audio copy, clear errors."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest

from faceshot_animate import (
    FaceshotAnimateError,
    VideoError,
    VideoWriter,
    probe_video,
    read_video,
    write_video,
)


def _frames(n: int, w: int = 64, h: int = 48) -> list[np.ndarray]:
    ys, xs = np.mgrid[0:h, 0:w]
    return [
        np.stack([xs * 2 + 5 * i, ys * 3, np.full_like(xs, 20 * (i % 8))], axis=2).astype(np.uint8)
        for i in range(n)
    ]


def _psnr(a: np.ndarray, b: np.ndarray) -> float:
    mse = np.mean((a.astype(float) - b.astype(float)) ** 2)
    return float(10 * np.log10(255.0**2 / max(mse, 1e-12)))


def _leftovers(directory: Path) -> list[str]:
    return sorted(p.name for p in directory.iterdir() if p.name.startswith("."))


class TestRead:
    def test_probe_real_video(self, synth) -> None:
        info = probe_video(synth.DATA / "carphone.mp4")
        assert info.fps == Fraction(30000, 1001)
        assert info.frame_count == 120
        assert info.size == (144, 176)
        assert info.has_audio is False and info.codec == "h264"

    def test_read_is_lazy_and_complete(self, synth) -> None:
        it = read_video(synth.DATA / "carphone.mp4")
        first = next(it)
        assert first.shape == (144, 176, 3) and first.dtype == np.uint8
        assert 1 + sum(1 for _ in it) == 120
        assert len(list(read_video(synth.DATA / "carphone.mp4", max_frames=7))) == 7

    @pytest.mark.parametrize(
        ("content", "match"),
        [
            (None, "does not exist"),
            (b"", "empty"),
            (b"this is not a video at all" * 50, "cannot read video"),
        ],
    )
    def test_bad_inputs_raise_one_clear_error(self, tmp_path, content, match) -> None:
        path = tmp_path / "bad.mp4"
        if content is not None:
            path.write_bytes(content)
        for call in (probe_video, lambda p: list(read_video(p))):
            with pytest.raises(VideoError, match=match) as info:
                call(path)
            assert isinstance(info.value, FaceshotAnimateError) and isinstance(
                info.value, ValueError
            )
            assert str(path) in str(info.value)

    def test_truncated_file_raises_video_error(self, tmp_path, synth) -> None:
        data = (synth.DATA / "carphone.mp4").read_bytes()
        path = tmp_path / "cut.mp4"
        path.write_bytes(data[: len(data) // 3])
        with pytest.raises(VideoError, match=r"cut\.mp4"):
            probe_video(path)
            list(read_video(path))

    def test_audio_only_file_is_rejected(self, tmp_path) -> None:
        import av

        path = tmp_path / "tone.m4a"
        with av.open(str(path), "w") as c:
            a = c.add_stream("aac", rate=44100)
            frame = av.AudioFrame.from_ndarray(
                np.zeros((2, 1024), np.float32), format="fltp", layout="stereo"
            )
            frame.sample_rate, frame.pts = 44100, 0
            for p in [*a.encode(frame), *a.encode(None)]:
                c.mux(p)
        with pytest.raises(VideoError, match="no video stream"):
            probe_video(path)


class TestWrite:
    @pytest.mark.parametrize("fps", [25, Fraction(30000, 1001)])
    def test_roundtrip_keeps_count_rate_and_content(self, tmp_path, fps) -> None:
        frames = _frames(10)
        out = write_video(tmp_path / "o.mp4", iter(frames), fps, progress=False)
        info = probe_video(out)
        assert info.frame_count == 10 and info.fps == fps and info.size == (48, 64)
        back = list(read_video(out))
        assert len(back) == 10
        assert min(_psnr(a, b) for a, b in zip(frames, back, strict=True)) > 30
        assert _leftovers(tmp_path) == []

    def test_reproducible_turns_macroblock_tree_off_and_repeats_bytes(self, tmp_path) -> None:
        """x264's mb-tree gives run-to-run byte differences on identical frames; the
        reproducible mode turns it off (read back from the x264 settings in the stream)."""
        frames = _frames(12)
        digests = set()
        for i in range(3):
            with VideoWriter(tmp_path / f"r{i}.mp4", 25, reproducible=True) as writer:
                for frame in frames:
                    writer.write(frame)
            digests.add((tmp_path / f"r{i}.mp4").read_bytes())
        assert len(digests) == 1
        write_video(tmp_path / "default.mp4", frames, 25, progress=False)
        assert b" mbtree=0 " in (tmp_path / "r0.mp4").read_bytes()
        assert b" mbtree=1 " in (tmp_path / "default.mp4").read_bytes()

    def test_writer_closed_twice_and_written_after_close(self, tmp_path) -> None:
        writer = VideoWriter(tmp_path / "o.mp4", 25)
        writer.write(_frames(1)[0])
        assert writer.close() == writer.close() == tmp_path / "o.mp4"
        with pytest.raises(VideoError, match="already closed"):
            writer.write(_frames(1)[0])
        assert probe_video(tmp_path / "o.mp4").frame_count == 1 and _leftovers(tmp_path) == []

    def test_odd_size_is_padded_to_even(self, tmp_path) -> None:
        frames = [f[:47, :63] for f in _frames(3)]
        out = write_video(tmp_path / "odd.mp4", frames, 25, progress=False)
        assert probe_video(out).size == (48, 64)
        back = next(read_video(out))
        assert _psnr(back[:47, :63], frames[0]) > 30

    def test_rgba_and_grey_frames(self, tmp_path) -> None:
        rgba = np.zeros((32, 32, 4), np.uint8)
        rgba[:, :16] = (0, 0, 255, 255)  # opaque blue left, transparent right
        grey = np.full((32, 32), 100, np.uint8)
        out = write_video(
            tmp_path / "a.mp4", [rgba, grey], 10, progress=False, background=(255, 255, 255)
        )
        a, g = read_video(out)
        assert a[16, 4, 2] > 200 and a[16, 4, 0] < 60  # blue
        assert a[16, 28].min() > 200  # white background
        assert abs(int(g[16, 16].mean()) - 100) < 6

    def test_audio_is_copied_from_driving_video(self, tmp_path, synth) -> None:
        driving = synth.write_test_video(tmp_path / "drv.mp4", frames=25, audio="aac")
        assert probe_video(driving).has_audio
        out = write_video(tmp_path / "o.mp4", _frames(25), 25, audio_from=driving, progress=False)
        info = probe_video(out)
        assert info.has_audio and info.frame_count == 25
        # A driving video without audio adds none.
        silent = write_video(
            tmp_path / "s.mp4",
            _frames(3),
            25,
            audio_from=synth.DATA / "carphone.mp4",
            progress=False,
        )
        assert not probe_video(silent).has_audio

    def test_audio_not_storable_in_mp4_is_reencoded(self, tmp_path, synth) -> None:
        driving = synth.write_test_video(tmp_path / "drv.mov", frames=10, audio="pcm_s16le")
        out = write_video(tmp_path / "o.mp4", _frames(10), 25, audio_from=driving, progress=False)
        import av

        with av.open(str(out)) as c:
            assert c.streams.audio[0].codec_context.name == "aac"

    def test_exception_leaves_nothing_and_keeps_existing_file(self, tmp_path) -> None:
        dest = tmp_path / "o.mp4"
        dest.write_bytes(b"previous")

        def frames():
            yield from _frames(3)
            raise RuntimeError("renderer crashed")

        with pytest.raises(RuntimeError, match="crashed"):
            write_video(dest, frames(), 25, progress=False)
        assert dest.read_bytes() == b"previous"
        assert _leftovers(tmp_path) == []

    def test_size_mismatch_and_bad_arguments(self, tmp_path) -> None:
        with pytest.raises(VideoError, match="expected"):
            with VideoWriter(tmp_path / "o.mp4", 25) as w:
                w.write(_frames(1)[0])
                w.write(np.zeros((10, 10, 3), np.uint8))
        assert not (tmp_path / "o.mp4").exists() and _leftovers(tmp_path) == []
        with pytest.raises(VideoError, match="`fps`"):
            VideoWriter(tmp_path / "o.mp4", 0)
        with pytest.raises(VideoError, match="does not exist"):
            VideoWriter(tmp_path / "missing" / "o.mp4", 25)
        with pytest.raises(VideoError, match="no frames"):
            with VideoWriter(tmp_path / "o.mp4", 25):
                pass
        assert _leftovers(tmp_path) == []

    def test_killed_writer_leaves_no_output_under_final_name(self, tmp_path) -> None:
        dest = tmp_path / "killed.mp4"
        script = textwrap.dedent(
            f"""
            import sys, numpy as np
            from faceshot_animate import VideoWriter
            with VideoWriter({str(dest)!r}, 25) as w:
                frame = np.zeros((64, 64, 3), np.uint8)
                i = 0
                while True:
                    frame[:] = i % 256
                    w.write(frame)
                    i += 1
                    if i == 5:
                        print("writing", flush=True)
            """
        )
        proc = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True)
        try:
            assert proc.stdout is not None and proc.stdout.readline().strip() == "writing"
            time.sleep(0.2)
        finally:
            os.kill(proc.pid, signal.SIGKILL)
            proc.wait(timeout=30)
        assert not dest.exists()
        assert any(name.endswith(".tmp.mp4") for name in _leftovers(tmp_path))
