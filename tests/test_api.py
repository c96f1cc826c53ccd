"""The Python API of the meta-package: every stage usable alone (issue #6)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

import faceshot
from faceshot import CharacterImageError, FaceShot, default_gallery_path, load_character
from faceshot._api import longest_run


@pytest.fixture(scope="module")
def fs() -> FaceShot:
    return FaceShot(progress=False)


def test_public_api_is_explicit() -> None:
    assert set(faceshot.__all__) >= {
        "FaceShot",
        "load_character",
        "default_gallery_path",
        "AnimateResult",
    }
    for name in faceshot.__all__:
        assert hasattr(faceshot, name)


def test_default_gallery_ships_with_the_package() -> None:
    from faceshot_landmarks import load_gallery

    path = default_gallery_path()
    assert (path / "manifest.json").is_file()
    gallery = load_gallery(path)
    assert gallery.backbone == "embedded-mobilenetv2"
    assert "emoji" in gallery.names
    assert sum(f.stat().st_size for f in path.rglob("*") if f.is_file()) < 5_000_000


def test_load_character_formats(tmp_path: Path, demo_character: Path) -> None:
    rgba = load_character(demo_character)
    assert rgba.image.shape == (160, 160, 4) and rgba.image.dtype == np.uint8 and rgba.scale == 1.0
    assert rgba.rgb.shape == (160, 160, 3) and rgba.rgb.flags.writeable
    grey = np.asarray(Image.open(demo_character).convert("L"))
    Image.fromarray(grey).save(tmp_path / "grey.png")
    assert load_character(tmp_path / "grey.png").image.shape == (160, 160, 3)
    deep = grey.astype(np.uint16) * 257
    Image.fromarray(deep).save(tmp_path / "deep.png")  # 16-bit grey PNG
    loaded = load_character(tmp_path / "deep.png").image
    assert loaded.shape == (160, 160, 3)
    np.testing.assert_allclose(loaded[..., 0].astype(int), grey.astype(int), atol=1)


def test_svg_is_rendered_at_512(tmp_path: Path) -> None:
    svg = tmp_path / "c.svg"
    svg.write_text(
        "<svg xmlns='http://www.w3.org/2000/svg' viewBox='0 0 36 18'>"
        "<circle cx='9' cy='9' r='8' fill='#fc0'/></svg>"
    )
    c = load_character(svg)
    assert c.image.shape == (256, 512, 4)
    assert c.image[128, 128, 3] == 255 and c.image[128, 400, 3] == 0


def test_large_images_are_downscaled_and_landmarks_follow(
    tmp_path: Path, demo_landmarks: Path
) -> None:
    from faceshot_retarget import load_landmarks, write_pts

    from faceshot._api import _user_landmarks

    Image.new("RGB", (2000, 1000), (10, 20, 30)).save(tmp_path / "big.png")
    c = load_character(tmp_path / "big.png", max_side=1000)
    assert c.image.shape == (500, 1000, 3) and c.original_size == (1000, 2000) and c.scale == 0.5
    pts = load_landmarks(demo_landmarks).points[0] * 4 + 100
    write_pts(tmp_path / "big.pts", pts)
    got = _user_landmarks(tmp_path / "big.pts", c)
    np.testing.assert_allclose(got, (pts + 0.5) * 0.5 - 0.5)


def test_arrays_are_accepted_and_tiny_ones_refused(fs: FaceShot) -> None:
    assert fs.load(np.zeros((40, 50, 3), np.uint8)).size == (40, 50)
    with pytest.raises(CharacterImageError, match="at least"):
        fs.load(np.zeros((1, 1, 3), np.uint8))


def test_match_finds_the_emoji_landmarks(
    fs: FaceShot, demo_character: Path, demo_landmarks: Path
) -> None:
    from faceshot_landmarks import nme
    from faceshot_retarget import load_landmarks

    result = fs.match(demo_character)
    truth = load_landmarks(demo_landmarks).points[0]
    assert result.points.shape == (68, 2)
    assert float(nme(result.points, truth)) < 0.2


def test_drive_retarget_render(
    fs: FaceShot, demo_character: Path, demo_landmarks: Path, demo_driving: Path, tmp_path: Path
) -> None:
    from faceshot_animate import probe_video
    from faceshot_retarget import load_landmarks

    driving = fs.drive(demo_driving)
    assert driving.points.shape == (30, 68, 2)
    assert np.asarray(driving.visible).all(axis=1).mean() > 0.9
    target = load_landmarks(demo_landmarks).points[0]
    lms = fs.retarget(driving, target)
    assert lms.shape == (30, 68, 2)
    np.testing.assert_allclose(lms[0], target, atol=1e-9)
    assert np.abs(lms - lms[0]).max() > 1.0  # the driver moves
    out, prev = fs.render(demo_character, lms, tmp_path / "r.mp4", fps=30)
    info = probe_video(out)
    assert prev is None and info.frame_count == 30 and info.size == (160, 160)


def test_animate_takes_driving_landmarks_and_keeps_the_visibility_mask(
    fs: FaceShot, demo_character: Path, demo_landmarks: Path, demo_driving: Path, tmp_path: Path
) -> None:
    from faceshot_animate import probe_video
    from faceshot_retarget import Landmarks, template_face

    k = np.arange(30)
    drv = (
        template_face(60.0, (90.0, 70.0))[None] + np.stack([2 * np.sin(0.3 * k), 0 * k], 1)[:, None]
    )
    visible = np.ones((30, 68), bool)
    visible[10:14] = False
    res = fs.animate(
        demo_character,
        demo_driving,
        tmp_path / "a.mp4",
        landmarks=demo_landmarks,
        driving_landmarks=Landmarks(drv, visible=visible),
        audio=False,
    )
    np.testing.assert_array_equal(res.driving, drv)
    np.testing.assert_array_equal(res.driving_visible, visible)
    assert "driving landmarks (given)" in res.timings and res.frames == 30
    np.save(tmp_path / "d.npy", drv)
    again = fs.animate(
        demo_character,
        demo_driving,
        tmp_path / "b.mp4",
        landmarks=demo_landmarks,
        driving_landmarks=tmp_path / "d.npy",
        audio=False,
    )
    assert again.driving_visible.all() and again.driving_visible.shape == (30, 68)
    # render takes the driving video's exact frame rate when it is given one
    out, _ = fs.render(
        demo_character, again.landmarks, tmp_path / "r.mp4", driving_video=demo_driving
    )
    assert probe_video(out).fps == probe_video(demo_driving).fps


def test_longest_run() -> None:
    assert longest_run(np.array([], bool)) == (0, -1, -1)
    assert longest_run(np.array([0, 1, 1, 0, 1, 1, 1, 0], bool)) == (3, 4, 6)
    assert longest_run(np.ones(5, bool)) == (5, 0, 4)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"backbone": "resnet"}, "backbone"),
        ({"animator": "magic"}, "animator"),
        ({"detector": "eyes"}, "detector"),
        ({"max_lost_frames": -1}, "max_lost_frames"),
    ],
)
def test_bad_options(kwargs: dict[str, object], match: str) -> None:
    with pytest.raises(ValueError, match=match):
        FaceShot(**kwargs)  # type: ignore[arg-type]
