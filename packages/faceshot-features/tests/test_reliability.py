"""Input safety of faceshot-features (issue #13): EXIF orientation, special files, and the
one shared atomic writer."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from faceshot_features import FeatureFileError, ImageError, load_image
from faceshot_features._io import atomic_write


def test_load_image_applies_exif_orientation(tmp_path: Path) -> None:
    upright = np.zeros((40, 60, 3), np.uint8)
    upright[:10, :, 0] = 255
    exif = Image.Exif()
    exif[0x0112] = 6
    Image.fromarray(upright).transpose(Image.Transpose.ROTATE_90).save(
        tmp_path / "p.jpg", exif=exif.tobytes(), quality=95
    )
    got = load_image(tmp_path / "p.jpg")
    assert got.shape == (40, 60, 3)
    assert got[:8, :, 0].mean() > 200 and got[-8:, :, 0].mean() < 50


def test_load_image_refuses_special_files(tmp_path: Path) -> None:
    os.mkfifo(tmp_path / "pipe.png")
    with pytest.raises(ImageError, match="FIFO"):
        load_image(tmp_path / "pipe.png")
    with pytest.raises(ImageError, match="does not exist"):
        load_image(tmp_path / "none.png")


def test_atomic_write_is_the_shared_one(tmp_path: Path) -> None:
    old = os.umask(0o022)
    try:
        out = atomic_write(tmp_path / ("f" * 245 + ".npz"), lambda f: f.write(b"x"))
    finally:
        os.umask(old)
    assert out.read_bytes() == b"x" and stat.S_IMODE(out.stat().st_mode) == 0o644
    with pytest.raises(FeatureFileError, match="does not exist"):
        atomic_write(tmp_path / "missing" / "f.npz", lambda f: f.write(b"x"))
    assert [p.name for p in tmp_path.iterdir()] == [out.name]
