"""Bounds and file safety of faceshot-animate (issue #13): far landmarks, the cavity blur,
EXIF orientation and the pixel limit of ``load_image``, export ``overwrite`` semantics,
video paths and frame rates."""

from __future__ import annotations

import os
import time
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from faceshot_animate import (
    AnimateInputError,
    ExportError,
    ImageError,
    VideoError,
    VideoWriter,
    WarpAnimator,
    WarpConfig,
    export_sequence,
    load_image,
    probe_video,
)


def test_landmarks_far_outside_the_canvas_are_refused_at_call_time(face) -> None:  # type: ignore[no-untyped-def]
    image, lm = face
    seq = np.repeat(lm[None], 4, axis=0)
    seq[2, 57] = (100.0, 1e6)
    with pytest.raises(
        AnimateInputError,
        match=r"frame 2, point 57 at \(100, 1e\+06\) lies far outside the 256x256 image",
    ):
        WarpAnimator().animate(image, seq)
    seq[2, 57] = (100.0, 2 * 256 - 1)  # one image size below the edge: still drawn
    assert len(list(WarpAnimator().animate(image, seq))) == 4
    with pytest.raises(AnimateInputError, match="max_outside"):
        WarpConfig(max_outside=-1)


def test_cavity_blur_is_capped_so_a_huge_mouth_costs_what_a_normal_one_does(face) -> None:  # type: ignore[no-untyped-def]
    image, lm = face
    normal = np.repeat(lm[None], 3, axis=0)
    normal[1:, 65:68, 1] += 25  # the mouth opens
    huge = np.repeat(lm[None], 3, axis=0)
    huge[1:, 60:68, 0] = np.linspace(-200, 450, 8)  # lips spread to beyond the canvas
    huge[1:, 60:68, 1] = np.where(np.arange(8) < 5, -200.0, 450.0)
    t0 = time.perf_counter()
    list(WarpAnimator().animate(image, normal))
    t_normal = time.perf_counter() - t0
    t0 = time.perf_counter()
    frames = list(WarpAnimator().animate(image, huge))
    t_huge = time.perf_counter() - t0
    assert len(frames) == 3 and frames[2].shape == image.shape
    assert t_huge < 5.0 and t_huge < 20 * max(t_normal, 0.05), (t_normal, t_huge)


def test_load_image_applies_exif_orientation(tmp_path: Path) -> None:
    upright = np.zeros((40, 60, 3), np.uint8)
    upright[:10, :, 0] = 255  # a red band along the top
    stored = Image.fromarray(upright).transpose(Image.Transpose.ROTATE_90)  # what a phone stores
    exif = Image.Exif()
    exif[0x0112] = 6  # "rotate 90 degrees clockwise to view"
    stored.save(tmp_path / "photo.jpg", exif=exif.tobytes(), quality=95)
    got = load_image(tmp_path / "photo.jpg")
    assert got.shape == (40, 60, 3)
    assert got[:8, :, 0].mean() > 200 and got[-8:, :, 0].mean() < 50


def test_load_image_refuses_bombs_and_special_files(tmp_path: Path) -> None:
    import struct
    import zlib

    side = 20000
    comp = zlib.compressobj(9)
    idat = b"".join(comp.compress(bytes(side + 1)) for _ in range(side)) + comp.flush()

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data))
            + kind
            + data
            + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
        )

    head = struct.pack(">IIBBBBB", side, side, 8, 0, 0, 0, 0)
    (tmp_path / "huge.png").write_bytes(
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", head) + chunk(b"IDAT", idat) + chunk(b"IEND", b"")
    )
    with pytest.raises(
        ImageError, match=r"huge\.png.* is 400 MP, above the 89\.5 MP decompression-bomb limit"
    ):
        load_image(tmp_path / "huge.png")
    os.mkfifo(tmp_path / "pipe.png")
    with pytest.raises(ImageError, match="FIFO"):
        load_image(tmp_path / "pipe.png")


def test_export_overwrite_replaces_only_a_previous_export(tmp_path: Path, face) -> None:  # type: ignore[no-untyped-def]
    _, lm = face
    seq = np.repeat(lm[None], 3, axis=0)
    dest = tmp_path / "poses"
    export_sequence(seq, dest, format="pose-png", size=(64, 64), progress=False)
    export_sequence(seq[:2], dest, format="pose-png", size=(64, 64), overwrite=True, progress=False)
    assert sorted(p.name for p in dest.iterdir()) == ["00000.png", "00001.png"]
    (dest / "notes.txt").write_text("mine")
    with pytest.raises(
        ExportError, match=r"holds files a pose-png export does not write \('notes.txt'\)"
    ):
        export_sequence(seq, dest, format="pose-png", size=(64, 64), overwrite=True, progress=False)
    assert (dest / "notes.txt").read_text() == "mine" and len(list(dest.iterdir())) == 3
    mofa = tmp_path / "mofa"
    export_sequence(seq, mofa, format="mofa", size=(64, 64), progress=False)
    export_sequence(seq, mofa, format="mofa", size=(64, 64), overwrite=True, progress=False)
    (tmp_path / "afile").write_text("x")
    with pytest.raises(ExportError, match="not a directory"):
        export_sequence(
            seq, tmp_path / "afile", format="mofa", size=(64, 64), overwrite=True, progress=False
        )
    with pytest.raises(ExportError, match=r"must end in \.npy"):
        export_sequence(seq, tmp_path / "x.json", format="npy")
    with pytest.raises(ExportError, match=r"`thickness` must be an int in \[1, 64\]"):
        export_sequence(seq, tmp_path / "t", format="pose-png", size=(64, 64), thickness=-3)
    assert not any(p.name.startswith(".") for p in tmp_path.iterdir())


def test_video_writer_frame_rate_range_and_long_names(tmp_path: Path) -> None:
    with pytest.raises(
        VideoError,
        match=r"`fps` must be a number of frames per second in \[0\.01, 1000\]; got 1e-09",
    ):
        VideoWriter(tmp_path / "o.mp4", 1e-9)
    name = "v" * 240 + ".mp4"  # legal; the temporary name must stay within 255 bytes
    with VideoWriter(tmp_path / name, 25) as w:
        for _ in range(3):
            w.write(np.zeros((16, 16, 3), np.uint8))
    assert probe_video(tmp_path / name).frame_count == 3
    assert sorted(p.name for p in tmp_path.iterdir()) == [name]
    os.mkfifo(tmp_path / "pipe.mp4")
    with pytest.raises(VideoError, match="FIFO"):
        probe_video(tmp_path / "pipe.mp4")
