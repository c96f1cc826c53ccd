"""``FaceShot.drive`` / ``faceshot animate --face``: one person drives (issue 10)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from faceshot import FaceShot


def _write_video(path: Path, frames: list[np.ndarray], fps: int = 30) -> Path:
    import av

    h, w = frames[0].shape[:2]
    with av.open(str(path), "w") as out:
        stream = out.add_stream("libx264", rate=fps)
        stream.width, stream.height, stream.pix_fmt = w, h, "yuv420p"
        for fr in frames:
            for packet in stream.encode(av.VideoFrame.from_ndarray(fr, format="rgb24")):
                out.mux(packet)
        for packet in stream.encode(None):
            out.mux(packet)
    return path


@pytest.fixture(scope="module")
def lost_video(tmp_path_factory: pytest.TempPathFactory, demo_driving: Path) -> Path:
    """The demo clip's 30 frames, then 30 grey frames (the person is gone)."""
    import av

    with av.open(str(demo_driving)) as c:
        faces = [f.to_ndarray(format="rgb24") for f in c.decode(video=0)]
    return _write_video(
        tmp_path_factory.mktemp("lost") / "lost.mp4", faces + [np.full_like(faces[0], 128)] * 30
    )


@pytest.mark.parametrize("face", [-1, True, 1.5, "0"])
def test_face_option_is_checked(face: object) -> None:
    with pytest.raises(ValueError, match="`face` must be a non-negative integer"):
        FaceShot(face=face)  # type: ignore[arg-type]


def test_drive_returns_the_person_the_cuts_and_the_faces(demo_driving: Path) -> None:
    from faceshot_landmarks import DrivingLandmarks, FaceSelectionError

    fs = FaceShot(progress=False)
    d = fs.drive(demo_driving)
    assert isinstance(d, DrivingLandmarks)
    assert d.points.shape == (30, 68, 2) and d.cuts == () and len(d.faces) == 1 and d.person == 0
    assert d.face.frames == 30
    with pytest.raises(
        FaceSelectionError,
        match=r"face 2 does not exist in video .*driving\.mp4.*1 face found: 0: 30 frames",
    ):
        fs.drive(demo_driving, face=2)
    with pytest.raises(FaceSelectionError, match="face 1 does not exist"):
        FaceShot(face=1, progress=False).drive(demo_driving)


def test_a_long_absence_holds_the_pose_instead_of_failing(lost_video: Path) -> None:
    d = FaceShot(progress=False, max_lost_frames=15).drive(lost_video)
    vis = np.asarray(d.visible).all(axis=1)
    assert vis[:30].mean() > 0.9 and not vis[31:].any()
    last = int(np.flatnonzero(vis).max())
    np.testing.assert_array_equal(
        d.points[last + 1 :], np.repeat(d.points[last][None], 59 - last, axis=0)
    )


def test_animate_cli_with_a_long_absence_and_a_face_choice(
    lost_video: Path, demo_character: Path, demo_landmarks: Path, tmp_path: Path
) -> None:
    from faceshot.cli import main

    out = tmp_path / "o.mp4"
    argv = [
        "animate",
        str(demo_character),
        str(lost_video),
        "-o",
        str(out),
        "--landmarks",
        str(demo_landmarks),
        "--no-progress",
    ]
    assert main([*argv, "--face", "0"]) == 0
    assert out.stat().st_size > 1000
