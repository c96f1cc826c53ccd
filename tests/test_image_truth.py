"""Image truth (issue #13): photos are upright (EXIF orientation), blank characters are refused
with one clear line, and characters that merely sit on a plain background are not."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from faceshot import CharacterImageError, FaceShot, load_character
from faceshot._io import check_not_blank


def _exif_jpeg(path: Path, upright: np.ndarray, orientation: int = 6) -> None:
    stored = {
        6: Image.Transpose.ROTATE_90,
        8: Image.Transpose.ROTATE_270,
        3: Image.Transpose.ROTATE_180,
    }[orientation]
    exif = Image.Exif()
    exif[0x0112] = orientation
    Image.fromarray(upright).transpose(stored).save(path, exif=exif.tobytes(), quality=95)


@pytest.mark.parametrize("orientation", [3, 6, 8])
def test_exif_rotated_character_loads_upright(
    tmp_path: Path, demo_character: Path, orientation: int
) -> None:
    rgba = np.asarray(Image.open(demo_character).convert("RGBA"), dtype=np.float64)
    upright = np.round(
        rgba[..., :3] * rgba[..., 3:] / 255 + 255 * (1 - rgba[..., 3:] / 255)
    ).astype(np.uint8)
    wide = np.concatenate(
        [upright, np.full((160, 40, 3), 255, np.uint8)], axis=1
    )  # 200 x 160: not square
    _exif_jpeg(tmp_path / "photo.jpg", wide, orientation)
    c = load_character(tmp_path / "photo.jpg")
    assert c.original_size == (160, 200) and c.image.shape[:2] == (160, 200)
    assert float(np.abs(c.image[:, :160].astype(float) - upright).mean()) < 6.0


def test_exif_landmarks_are_in_the_upright_image(
    tmp_path: Path, demo_character: Path, demo_landmarks: Path
) -> None:
    """User landmarks of an EXIF-rotated photo (in its upright pixels, as any viewer shows
    it) are accepted against the upright size."""
    from faceshot._api import _user_landmarks

    rgba = np.asarray(Image.open(demo_character).convert("RGB"))
    wide = np.concatenate([rgba, np.full((160, 40, 3), 255, np.uint8)], axis=1)
    _exif_jpeg(tmp_path / "photo.jpg", wide, 6)
    c = load_character(tmp_path / "photo.jpg")
    pts = _user_landmarks(demo_landmarks, c)
    assert pts.shape == (68, 2)


@pytest.mark.parametrize(
    "make",
    [
        lambda: np.zeros((160, 160, 3), np.uint8),
        lambda: np.full((64, 300, 3), 255, np.uint8),
        lambda: np.zeros((100, 100, 4), np.uint8),  # fully transparent
        lambda: np.clip(128 + np.random.default_rng(0).normal(0, 3, (200, 200, 3)), 0, 255).astype(
            np.uint8
        ),  # sensor noise
    ],
    ids=["black", "white", "transparent", "noise"],
)
def test_blank_characters_are_refused(make) -> None:  # type: ignore[no-untyped-def]
    fs = FaceShot(progress=False)
    with pytest.raises(
        CharacterImageError,
        match=r"`image` is blank: all its pixels lie within 12 grey levels of one colour",
    ):
        fs.match(make())


def test_blank_file_is_refused_before_any_model_runs(tmp_path: Path, demo_driving: Path) -> None:
    Image.new("RGB", (160, 160), (0, 0, 0)).save(tmp_path / "black.png")
    fs = FaceShot(progress=False)
    with pytest.raises(CharacterImageError, match=r"black\.png' is blank"):
        fs.animate(tmp_path / "black.png", demo_driving, tmp_path / "o.mp4")
    assert fs._extractor is None  # refused before the backbone was loaded
    assert sorted(p.name for p in tmp_path.iterdir()) == ["black.png"]


def test_small_characters_on_plain_backgrounds_are_not_blank(demo_character: Path) -> None:
    small = np.asarray(Image.open(demo_character).convert("RGB").resize((32, 32)))
    canvas = np.full((1024, 1024, 3), 255, np.uint8)
    canvas[500:532, 600:632] = small  # a 32 px character on a 1024 px white canvas
    check_not_blank(canvas, "canvas")
    silhouette = np.zeros((128, 128, 4), np.uint8)
    silhouette[30:100, 40:90] = (20, 20, 20, 255)  # one flat colour on transparency
    check_not_blank(silhouette, "silhouette")
    check_not_blank(np.asarray(Image.open(demo_character).convert("RGBA")), "demo")
