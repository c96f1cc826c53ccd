"""The ``faceshot render`` and ``faceshot export`` subcommands (owned with this package)."""

from __future__ import annotations

from fractions import Fraction

import cv2
import numpy as np
import pytest

from faceshot_animate import probe_video, read_video

cli = pytest.importorskip("faceshot.cli")


@pytest.fixture
def inputs(tmp_path, synth):
    lm = synth.face_landmarks()
    img = synth.draw_face(lm)
    image = tmp_path / "face.png"
    cv2.imwrite(str(image), cv2.cvtColor(img, cv2.COLOR_RGB2BGR))
    seq = np.stack([lm] + [lm + np.array([t, 0.0]) for t in range(1, 8)])
    seq[4:, [65, 66, 67], 1] += 10.0
    landmarks = tmp_path / "l.npy"
    np.save(landmarks, seq)
    return image, landmarks, img, seq


def test_render_writes_mp4_with_every_frame(tmp_path, inputs) -> None:
    image, landmarks, img, _ = inputs
    out = tmp_path / "out.mp4"
    assert (
        cli.main(
            ["render", str(image), str(landmarks), "-o", str(out), "--fps", "12", "--no-progress"]
        )
        == 0
    )
    info = probe_video(out)
    assert info.frame_count == 8 and info.size == (256, 256) and float(info.fps) == 12
    first = next(read_video(out))
    assert np.abs(first.astype(float) - img).mean() < 4  # frame 0 is the image (H.264 loss)


def test_render_side_by_side_with_driving(tmp_path, inputs, synth) -> None:
    image, landmarks, _, _ = inputs
    driving = synth.write_test_video(
        tmp_path / "drv.mp4", frames=5, size=(128, 64), fps=Fraction(30000, 1001), audio="aac"
    )
    out = tmp_path / "sbs.mp4"
    code = cli.main(
        [
            "render",
            str(image),
            str(landmarks),
            "-o",
            str(out),
            "--side-by-side",
            str(driving),
            "--no-progress",
        ]
    )
    assert code == 0
    info = probe_video(out)
    # driving scaled to 256 high (512 wide) | landmarks 256 | result 256; fps and audio from driving.
    assert info.size == (256, 1024) and info.frame_count == 8
    assert info.fps == Fraction(30000, 1001) and info.has_audio
    frame = next(read_video(out))
    pose = frame[:, 512:768]
    assert pose.max() > 100 and (pose.max(axis=2) < 20).mean() > 0.8  # lines on black


def test_render_errors_are_one_line(tmp_path, inputs, capsys) -> None:
    _, landmarks, _, _ = inputs
    assert (
        cli.main(
            ["render", str(tmp_path / "none.png"), str(landmarks), "-o", str(tmp_path / "o.mp4")]
        )
        == 1
    )
    err = capsys.readouterr().err.strip()
    assert err.startswith("faceshot render: error:") and "does not exist" in err and "\n" not in err
    assert not (tmp_path / "o.mp4").exists()


@pytest.mark.parametrize("fmt", ["npy", "pose-png", "mofa"])
def test_export_formats(tmp_path, inputs, fmt) -> None:
    _, landmarks, _, seq = inputs
    out = tmp_path / ("e.npy" if fmt == "npy" else "e")
    args = [
        "export",
        str(landmarks),
        "--format",
        fmt,
        "--size",
        "512x512",
        "--source-size",
        "256x256",
        "-o",
        str(out),
        "--no-progress",
    ]
    assert cli.main(args) == 0
    if fmt == "npy":
        assert np.allclose(np.load(out), (seq + 0.5) * 2 - 0.5)
    elif fmt == "pose-png":
        assert len(list(out.glob("*.png"))) == 8
    else:
        assert np.load(out / "landmarks.npy").shape == (8, 68, 2)


def test_export_bad_size_is_a_usage_error(tmp_path, inputs) -> None:
    _, landmarks, _, _ = inputs
    with pytest.raises(SystemExit) as info:
        cli.main(
            [
                "export",
                str(landmarks),
                "--format",
                "npy",
                "--size",
                "big",
                "-o",
                str(tmp_path / "x.npy"),
            ]
        )
    assert info.value.code == 2


def test_import_stays_light() -> None:
    """`import faceshot_animate` and registering render/export import no torch, diffusers or av."""
    import subprocess
    import sys

    code = (
        "import sys, argparse, faceshot_animate, faceshot.commands.render as r, faceshot.commands.export as e; "
        "sub = argparse.ArgumentParser().add_subparsers(); r.register(sub); e.register(sub); "
        "print(sorted(m for m in ('torch', 'diffusers', 'av') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
