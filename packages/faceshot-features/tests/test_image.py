"""Image reading and validation."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from faceshot_features import ImageError, as_rgb_image, load_image


def test_rgb_png_round_trip(tmp_path, rgb):
    Image.fromarray(rgb).save(tmp_path / "a.png")
    out = load_image(tmp_path / "a.png")
    assert out.dtype == np.uint8 and out.shape == (40, 48, 3)
    np.testing.assert_array_equal(out, rgb)


def test_rgba_is_composited_on_white(tmp_path):
    a = np.zeros((2, 2, 4), dtype=np.uint8)
    a[0, 0] = (255, 0, 0, 255)  # opaque red
    a[0, 1] = (0, 0, 0, 0)  # transparent -> white
    a[1, 0] = (0, 0, 0, 128)  # half black -> grey 127
    Image.fromarray(a, "RGBA").save(tmp_path / "a.png")
    out = load_image(tmp_path / "a.png")
    assert tuple(out[0, 0]) == (255, 0, 0)
    assert tuple(out[0, 1]) == (255, 255, 255)
    assert tuple(out[1, 0]) == (127, 127, 127)


def test_grey_and_16_bit_become_8_bit_rgb(tmp_path):
    Image.fromarray(np.array([[0, 128]], dtype=np.uint8), "L").save(tmp_path / "g.png")
    np.testing.assert_array_equal(load_image(tmp_path / "g.png"), [[[0] * 3, [128] * 3]])
    Image.fromarray(np.array([[0, 65535, 257 * 100]], dtype=np.uint16)).save(tmp_path / "g16.png")
    out = load_image(tmp_path / "g16.png")
    np.testing.assert_array_equal(out[0, :, 0], [0, 255, 100])
    assert out.shape == (1, 3, 3)


def test_palette_and_jpeg(tmp_path, rgb):
    Image.fromarray(rgb).convert("P").save(tmp_path / "p.png")
    assert load_image(tmp_path / "p.png").shape == (40, 48, 3)
    Image.fromarray(rgb).save(tmp_path / "j.jpg", quality=95)
    out = load_image(tmp_path / "j.jpg")
    assert np.abs(out.astype(int) - rgb).mean() < 6


def test_errors_name_the_path(tmp_path):
    with pytest.raises(ImageError, match=r"missing\.png"):
        load_image(tmp_path / "missing.png")
    (tmp_path / "x.png").write_bytes(b"garbage")
    with pytest.raises(ImageError, match=r"x\.png") as info:
        load_image(tmp_path / "x.png")
    assert isinstance(info.value, ValueError)


@pytest.mark.parametrize(
    ("image", "match"),
    [
        ([[1, 2, 3]], "numpy array"),
        (np.zeros((4, 4, 3), dtype=np.float32), "uint8"),
        (np.zeros((4, 4), dtype=np.uint8), r"\(H, W, 3\)"),
        (np.zeros((4, 4, 4), dtype=np.uint8), r"got \(4, 4, 4\)"),
    ],
)
def test_as_rgb_image_rejects_without_converting(image, match):
    with pytest.raises(ImageError, match=match):
        as_rgb_image(image)
