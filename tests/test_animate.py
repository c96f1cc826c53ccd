"""``faceshot animate`` end to end on small real inputs (CPU, no weights)."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from faceshot.cli import main


def _frames(path: Path) -> list[np.ndarray]:
    import av

    with av.open(str(path)) as c:
        return [f.to_ndarray(format="rgb24") for f in c.decode(video=0)]


def test_animate_with_matching_and_preview(
    tmp_path: Path, demo_character: Path, demo_driving: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from faceshot_animate import probe_video

    out = tmp_path / "out.mp4"
    saved = tmp_path / "saved.pts"
    # --room 0: the image's own size (the default gives an edge-to-edge character room to move)
    status = main(
        [
            "animate",
            str(demo_character),
            str(demo_driving),
            "-o",
            str(out),
            "--preview",
            "--no-progress",
            "--save-landmarks",
            str(saved),
            "--room",
            "0",
        ]
    )
    captured = capsys.readouterr()
    assert status == 0, captured.err
    info, drv = probe_video(out), probe_video(demo_driving)
    assert info.frame_count == drv.frame_count == 30
    assert info.fps == drv.fps and info.size == (160, 160) and info.codec == "h264"
    preview = tmp_path / "out.preview.mp4"
    pinfo = probe_video(preview)
    assert pinfo.frame_count == 30 and pinfo.size[1] > 2 * 160
    assert (
        "timings:" in captured.err
        and "total" in captured.err
        and "driving landmarks" in captured.err
    )
    frames = _frames(out)
    assert np.abs(frames[0].astype(int) - frames[-1].astype(int)).mean() > 0.5  # it moves
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.mp4", "out.preview.mp4", "saved.pts"]

    # the saved landmarks read back with --landmarks give the same animation
    again = tmp_path / "again.mp4"
    status = main(
        [
            "animate",
            str(demo_character),
            str(demo_driving),
            "-o",
            str(again),
            "--no-progress",
            "--landmarks",
            str(saved),
            "--room",
            "0",
        ]
    )
    assert status == 0, capsys.readouterr().err
    second = _frames(again)
    assert len(second) == 30
    assert np.abs(second[-1].astype(int) - frames[-1].astype(int)).mean() < 2.0


def test_matcher_driven_landmarks(demo_driving: Path) -> None:
    """--detector matcher: match frame 0 with the gallery, then optical-flow tracking."""
    from faceshot import FaceShot

    lm = FaceShot(detector="matcher", progress=False).drive(demo_driving)
    assert lm.points.shape == (30, 68, 2)
    assert np.isfinite(lm.points).all()


@pytest.mark.parametrize("kind", ["svg", "grey", "16bit", "rgb-jpeg"])
def test_animate_accepts_image_kinds(
    kind: str,
    tmp_path: Path,
    demo_character: Path,
    demo_landmarks: Path,
    demo_driving: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    rgba = Image.open(demo_character)
    extra = ["--landmarks", str(demo_landmarks)]
    if kind == "svg":
        char = Path(
            shutil.copy(
                Path(__file__).parents[1] / "gallery_src" / "twemoji" / "1f600.svg",
                tmp_path / "c.svg",
            )
        )
        extra = []
    elif kind == "grey":
        char = tmp_path / "c.png"
        rgba.convert("L").save(char)
    elif kind == "16bit":
        char = tmp_path / "c.png"
        Image.fromarray(np.asarray(rgba.convert("L")).astype(np.uint16) * 257).save(char)
    else:
        char = tmp_path / "c.jpg"
        rgba.convert("RGB").save(char, quality=92)
    before = char.read_bytes()
    out = tmp_path / "o.mp4"
    status = main(
        [
            "animate",
            str(char),
            str(demo_driving),
            "-o",
            str(out),
            "--no-progress",
            "--room",
            "0",
            *extra,
        ]
    )
    assert status == 0, capsys.readouterr().err
    assert char.read_bytes() == before
    frames = _frames(out)
    assert len(frames) == 30
    expect = 512 if kind == "svg" else 160
    assert frames[0].shape == (expect, expect, 3)
