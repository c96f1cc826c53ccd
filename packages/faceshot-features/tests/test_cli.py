"""``faceshot features`` (the meta-package's CLI module owned by this package)."""

from __future__ import annotations

import json

import numpy as np
import pytest
from PIL import Image

cli = pytest.importorskip("faceshot.cli")


def test_features_command_writes_npz(tmp_path, rgb, capsys):
    from faceshot_features import EmbeddedExtractor, load_features

    Image.fromarray(rgb).save(tmp_path / "in.png")
    out = tmp_path / "f.npz"
    assert cli.main(["features", str(tmp_path / "in.png"), "-o", str(out)]) == 0
    f = load_features(out)
    assert f.backbone == "embedded-mobilenetv2" and f.image_size == (40, 48)
    with np.load(out) as z:
        assert json.loads(str(z["config"]))["layers"] == [10, 13, 15]
    np.testing.assert_allclose(f.array, EmbeddedExtractor().extract(rgb).array, atol=1e-6)
    assert "(640, 52, 64)" in capsys.readouterr().err  # 40x48 -> 416x512 input, stride 8


def test_missing_weights_is_one_line_error(tmp_path, rgb, capsys, monkeypatch):
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path / "empty-cache"))
    Image.fromarray(rgb).save(tmp_path / "in.png")
    status = cli.main(
        ["features", str(tmp_path / "in.png"), "--backbone", "sd21", "-o", str(tmp_path / "f.npz")]
    )
    err = capsys.readouterr().err
    assert status == 1
    assert err.count("\n") == 1 and "hf download stabilityai/stable-diffusion-2-1" in err
    assert not (tmp_path / "f.npz").exists()


def test_invalid_image_names_the_path(tmp_path, capsys):
    (tmp_path / "bad.png").write_bytes(b"nope")
    assert cli.main(["features", str(tmp_path / "bad.png"), "-o", str(tmp_path / "f.npz")]) == 1
    assert "bad.png" in capsys.readouterr().err
