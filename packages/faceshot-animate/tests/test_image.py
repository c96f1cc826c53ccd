"""Image loading and normalisation."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from faceshot_animate import (
    AnimateInputError,
    ImageError,
    as_uint8_image,
    composite_over,
    load_image,
)


def test_load_layouts(tmp_path) -> None:
    rng = np.random.default_rng(0)
    rgb = rng.integers(0, 256, (20, 30, 3), dtype=np.uint8)
    Image.fromarray(rgb).save(tmp_path / "rgb.png")
    assert np.array_equal(load_image(tmp_path / "rgb.png"), rgb)

    rgba = rng.integers(0, 256, (20, 30, 4), dtype=np.uint8)
    Image.fromarray(rgba, "RGBA").save(tmp_path / "rgba.png")
    assert np.array_equal(load_image(tmp_path / "rgba.png"), rgba)

    grey16 = (np.arange(600, dtype=np.uint16).reshape(20, 30) * 100).astype(np.uint16)
    Image.fromarray(grey16).save(tmp_path / "g16.png")
    g = load_image(tmp_path / "g16.png")
    assert g.shape == (20, 30, 3) and g.dtype == np.uint8
    assert np.abs(g[:, :, 0].astype(int) - np.round(grey16 / 257)).max() <= 1

    pal = Image.fromarray(rgb).convert("P")
    pal.info["transparency"] = 0
    pal.save(tmp_path / "pal.png", transparency=0)
    assert load_image(tmp_path / "pal.png").shape == (20, 30, 4)


def test_load_errors(tmp_path) -> None:
    with pytest.raises(ImageError, match="does not exist"):
        load_image(tmp_path / "none.png")
    (tmp_path / "bad.png").write_bytes(b"not an image")
    with pytest.raises(ImageError, match="cannot read image") as info:
        load_image(tmp_path / "bad.png")
    assert isinstance(info.value, ValueError)


def test_as_uint8_image_and_composite() -> None:
    assert as_uint8_image(np.ones((4, 4), bool))[0, 0].tolist() == [255, 255, 255]
    assert as_uint8_image(np.full((4, 4, 1), 0.5))[0, 0, 0] == 128
    with pytest.raises(AnimateInputError, match="dtype"):
        as_uint8_image(np.zeros((4, 4, 3), np.int64))
    with pytest.raises(AnimateInputError, match="2x2"):
        as_uint8_image(np.zeros((1, 4, 3), np.uint8))
    px = np.array([[[255, 0, 0, 128]]], np.uint8)
    assert composite_over(px, (0, 0, 255))[0, 0].tolist() == [128, 0, 127]
