"""Input safety of faceshot-landmarks (issue #13): EXIF orientation and the pixel limit of
``read_image``, hostile gallery manifests refused with the manifest named, video paths."""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from faceshot_landmarks import GalleryError, load_gallery, read_image
from faceshot_landmarks.errors import FeatureMapError, VideoError


def test_read_image_applies_exif_orientation(tmp_path: Path) -> None:
    upright = np.zeros((40, 60, 3), np.uint8)
    upright[:10, :, 0] = 255
    exif = Image.Exif()
    exif[0x0112] = 6
    Image.fromarray(upright).transpose(Image.Transpose.ROTATE_90).save(
        tmp_path / "p.jpg", exif=exif.tobytes(), quality=95
    )
    got = read_image(tmp_path / "p.jpg")
    assert got.shape == (40, 60, 3)
    assert got[:8, :, 0].mean() > 200 and got[-8:, :, 0].mean() < 50


def test_read_image_refuses_special_files_before_reading(tmp_path: Path) -> None:
    os.mkfifo(tmp_path / "pipe.png")
    with pytest.raises(FeatureMapError, match="FIFO"):
        read_image(tmp_path / "pipe.png")
    (tmp_path / "d.png").mkdir()
    with pytest.raises(FeatureMapError, match="is a directory"):
        read_image(tmp_path / "d.png")


@pytest.fixture
def gallery(tmp_path: Path, make_shapes) -> Path:  # type: ignore[no-untyped-def]
    from faceshot_landmarks import add_domain
    from faceshot_landmarks.testing import synthetic_features

    pts = make_shapes(3) * 0.25  # inside the 64x64 maps
    feats = [synthetic_features((64, 64), (16, 16), 8, seed=s) for s in range(3)]
    add_domain(tmp_path / "g", "toys", feats, pts)
    return tmp_path / "g"


def _edit(gallery: Path, **changes: object) -> None:
    manifest = json.loads((gallery / "manifest.json").read_text())
    manifest.update(changes)
    (gallery / "manifest.json").write_text(json.dumps(manifest))


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"domains": {"../../outside": {"k": 3}}}, "domain name '../../outside' is not allowed"),
        ({"domains": ["toys"]}, "'domains' must be an object"),
        ({"channels": "many"}, "'channels' must be an integer"),
        ({"channels": 1e400}, "'channels' must be an integer"),
        ({"checksums": [1, 2]}, "'checksums' must be an object"),
        ({"domains": {"toys": {"k": "three"}}}, "needs an integer 'k'"),
    ],
)
def test_hostile_manifests_name_the_manifest(
    gallery: Path, change: dict[str, object], message: str
) -> None:
    _edit(gallery, **change)
    with pytest.raises(GalleryError, match=r"manifest\.json") as info:
        load_gallery(gallery)
    assert message in str(info.value)


def test_manifest_nesting_is_refused_by_name(gallery: Path) -> None:
    (gallery / "manifest.json").write_text("[" * 100_000 + "]" * 100_000)
    with pytest.raises(GalleryError, match=r"manifest\.json' is corrupt: JSON nested too deeply"):
        load_gallery(gallery)


def test_video_paths_say_what_they_are(tmp_path: Path) -> None:
    from faceshot_landmarks import probe_video

    os.mkfifo(tmp_path / "v.mp4")
    with pytest.raises(VideoError, match="FIFO"):
        probe_video(tmp_path / "v.mp4")


def test_a_failed_domain_append_leaves_the_gallery_as_it_was(
    gallery: Path, make_shapes, monkeypatch: pytest.MonkeyPatch
) -> None:  # type: ignore[no-untyped-def]
    import faceshot_retarget._io as rio

    from faceshot_landmarks import add_domain
    from faceshot_landmarks.testing import synthetic_features

    before = {p.relative_to(gallery): p.read_bytes() for p in gallery.rglob("*") if p.is_file()}
    real = rio.os.replace
    calls = []

    def flaky(src, dst):  # type: ignore[no-untyped-def]
        calls.append(dst)
        if len(calls) == 3:  # the third rename of the commit fails
            raise OSError("disk full")
        return real(src, dst)

    monkeypatch.setattr(rio.os, "replace", flaky)
    feats = [synthetic_features((64, 64), (16, 16), 8, seed=s) for s in range(3)]
    with pytest.raises(OSError, match="disk full"):
        add_domain(gallery, "dolls", feats, make_shapes(3) * 0.25)
    monkeypatch.setattr(rio.os, "replace", real)
    after = {p.relative_to(gallery): p.read_bytes() for p in gallery.rglob("*") if p.is_file()}
    assert after == before
    assert not (gallery / "domains" / "dolls").exists()
    assert load_gallery(gallery).names == ("toys",)
