"""Non-human driving videos (``--detector matcher``): expressions come through, bad input fails cleanly."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from faceshot.cli import main


@pytest.fixture(scope="module")
def emoji_clip(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, np.ndarray]:
    """A 32-frame 256x256 clip of a cat face (held-out style) opening its mouth, blinking and
    turning, rendered along a known sequence; (path, (32, 68, 2) known landmarks)."""
    from faceshot_landmarks.testing import synthetic_motion

    from faceshot._bench_nonhuman import load_source, make_clip, place_on_canvas

    image, points = load_source("1f63a", repo=Path(__file__).resolve().parents[1])
    img, truth = place_on_canvas(image, synthetic_motion(points, 32), canvas=256)
    path = make_clip(img, truth, tmp_path_factory.mktemp("clip") / "cat.mp4", fps=25.0)
    return path, truth


@pytest.fixture(scope="module")
def clip_figures(emoji_clip: tuple[Path, np.ndarray]) -> tuple[dict[str, float], dict[str, float]]:
    """``track_figures`` of ``FaceShot(detector="matcher").drive`` and of today's path on the clip."""
    from faceshot_landmarks import track_figures

    from faceshot import FaceShot
    from faceshot._bench_nonhuman import today_path

    path, truth = emoji_clip
    fs = FaceShot(detector="matcher", progress=False)
    lm = fs.drive(path)
    assert lm.points.shape == truth.shape and lm.visible is not None and lm.visible.all()
    new = track_figures(lm.points, truth)
    old = track_figures(today_path(path, fs.extractor, fs.gallery), truth)
    return new, old


def test_matcher_recovers_mouth_and_blinks_better_than_tracking_alone(
    clip_figures: tuple[dict[str, float], dict[str, float]],
) -> None:
    new, old = clip_figures
    assert new["mouth_corr"] > 0.9 and new["eye_corr"] > 0.8
    assert new["motion_error"] < old["motion_error"]
    assert new["error"] < 0.08


def test_matcher_keeps_the_mouth_amplitude(
    clip_figures: tuple[dict[str, float], dict[str, float]],
) -> None:
    new, _ = clip_figures
    assert new["mouth_range"] > 0.5 * new["mouth_range_known"]  # the motion is there, not frozen


def test_no_face_video_is_one_line_naming_the_frames_and_writes_nothing(
    tmp_path: Path, demo_character: Path, demo_landmarks: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from faceshot_animate import write_video

    rng = np.random.default_rng(0)
    frames = [np.full((128, 128, 3), 235, np.uint8) for _ in range(12)]
    for f in frames[6:]:
        f[40:90, 30:100] = rng.integers(0, 255, 3)  # a plain box: still no face
    driving = write_video(tmp_path / "noface.mp4", iter(frames), 25, progress=False)
    out = tmp_path / "out"
    out.mkdir()
    status = main(
        [
            "animate",
            str(demo_character),
            str(driving),
            "-o",
            str(out / "out.mp4"),
            "--detector",
            "matcher",
            "--landmarks",
            str(demo_landmarks),
            "--no-progress",
        ]
    )
    err = [ln for ln in capsys.readouterr().err.splitlines() if ln.strip()]
    assert status != 0
    assert len(err) == 1 and "Traceback" not in err[0]
    assert (
        "noface.mp4" in err[0] and "no face matched" in err[0] and "frames 0-11 searched" in err[0]
    )
    assert list(out.iterdir()) == []


def test_benchmark_galleries_follow_the_shipped_recipe() -> None:
    """The non-human benchmark rebuilds the gallery users get (same sources per domain as the
    shipped manifest), less what its protocol leaves out; a Twemoji-only recipe fails."""
    import json

    from faceshot._gallery_recipe import annotated_sources

    repo = Path(__file__).resolve().parents[1]
    manifest = json.loads((repo / "src/faceshot/data/gallery/manifest.json").read_text())
    sources = annotated_sources(repo / "gallery_src")
    for domain, entry in manifest["domains"].items():
        assert sum(s.domain == domain for s in sources) == entry["num_images"], domain


def test_gallery_protocols_leave_out_the_clips_style_and_kind() -> None:
    from faceshot._bench_nonhuman import _left_out

    cases = {
        # (protocol, style, folder, stem): left out
        ("style", "cat", "twemoji", "1f63a"): True,
        ("style", "cat", "twemoji", "1f600"): False,
        ("style", "cat", "noto", "grinning-cat"): False,
        ("art-set", "cat", "twemoji", "1f600"): True,
        ("art-set", "cat", "noto", "grinning-cat"): False,
        ("species", "cat", "noto", "grinning-cat"): True,
        ("species", "cat", "noto-v1", "cat-face"): True,
        ("species", "cat", "noto", "grinning-face"): False,
        ("species", "creature", "fxemoji", "jackolantern"): True,
        ("species", "creature", "noto", "new-moon-face"): True,
        ("species", "creature", "noto", "cat-face"): True,
        ("species", "creature", "noto", "grinning-cat"): False,
        ("species", "smiley", "noto", "grinning-face"): False,
        ("species", "creature", "human", "einstein"): False,
    }
    for (protocol, style, folder, stem), expected in cases.items():
        assert _left_out(protocol, style, folder, stem) is expected, (protocol, style, stem)
