"""Every package writes its outputs through faceshot-retarget's one atomic writer (issue 14):
files get ``0666 & ~umask`` and directories ``0777 & ~umask`` (what ``open``/``mkdir``
give), never mkstemp's 0600 or mkdtemp's 0700, and nothing is left beside them. Concurrent
video writers to one output leave one complete video."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest
from faceshot_retarget import template_face

FACE = template_face(40.0, (48.0, 48.0))


def _modes(root: Path) -> dict[str, int]:
    out = {}
    for path in sorted(root.rglob("*")):
        out[str(path.relative_to(root))] = stat.S_IMODE(path.lstat().st_mode)
    return out


@pytest.mark.parametrize("mask", [0o022, 0o027])
def test_outputs_of_every_package_follow_the_umask(tmp_path: Path, mask: int) -> None:
    from faceshot_animate import export_sequence, write_video
    from faceshot_features import Features, save_features
    from faceshot_landmarks import add_domain, write_preview
    from faceshot_landmarks.clips import write_clip
    from faceshot_landmarks.testing import synthetic_features

    frames = [np.full((48, 64, 3), 40 * k, np.uint8) for k in range(4)]
    source = tmp_path / "in"
    source.mkdir()
    clip = write_clip(source / "clip.mp4", frames, 10)
    out = tmp_path / "out"
    out.mkdir()
    out.chmod(0o777 & ~mask)
    old = os.umask(mask)
    try:
        write_video(out / "video.mp4", iter(frames), 10, progress=False)
        write_clip(out / "clip.mp4", frames, 10)
        write_preview(clip, np.repeat(FACE[None], 4, axis=0), out / "preview.mp4", progress=False)
        save_features(
            out / "f.npz",
            Features(
                array=np.ones((4, 3, 3), np.float32), image_size=(24, 24), backbone="x", config={}
            ),
        )
        export_sequence(
            np.repeat(FACE[None], 3, axis=0),
            out / "mofa",
            format="mofa",
            size=(64, 64),
            progress=False,
        )
        export_sequence(
            np.repeat(FACE[None], 3, axis=0),
            out / "pose",
            format="pose-png",
            size=(64, 64),
            progress=False,
        )
        feats = [synthetic_features((96, 96), (24, 24), 8, seed=s) for s in range(2)]
        add_domain(out / "gallery", "toy", feats, np.stack([FACE, FACE]))
    finally:
        os.umask(old)
    modes = _modes(out)
    assert not [name for name in modes if Path(name).name.startswith(".")], (
        f"temporary files left: {modes}"
    )
    wrong = {
        name: oct(mode)
        for name, mode in modes.items()
        if mode != ((0o777 if (out / name).is_dir() else 0o666) & ~mask)
    }
    assert not wrong, f"umask {oct(mask)}: {wrong}"
    # what issue 14 found: videos, .npz features and export directories
    for name in (
        "video.mp4",
        "preview.mp4",
        "f.npz",
        "mofa",
        "mofa/pose",
        "pose",
        "gallery",
        "gallery/manifest.json",
    ):
        assert name in modes


_VIDEO_WRITER = textwrap.dedent(
    """
    import sys
    import numpy as np
    from faceshot_animate import write_video

    path, level, rounds = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    for _ in range(rounds):
        write_video(path, (np.full((64, 64, 3), level, np.uint8) for _ in range(20)), 10, progress=False)
    """
)


def test_concurrent_video_writers_leave_one_complete_video(tmp_path: Path) -> None:
    from faceshot_animate import read_video

    out = tmp_path / "same.mp4"
    levels = (30, 120, 220)
    procs = [
        subprocess.Popen([sys.executable, "-c", _VIDEO_WRITER, str(out), str(v), "4"])
        for v in levels
    ]
    assert all(p.wait(timeout=300) == 0 for p in procs)
    frames = list(read_video(out))
    assert len(frames) == 20
    means = {round(float(f.mean()) / 10) for f in frames}
    assert len(means) == 1 and means.pop() * 10 in {round(v / 10) * 10 for v in levels}, (
        "frames of two writers"
    )
    assert sorted(p.name for p in tmp_path.iterdir()) == ["same.mp4"]
