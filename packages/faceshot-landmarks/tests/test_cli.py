"""The ``faceshot landmarks|match|gallery`` subcommands (meta-package CLI)."""

from __future__ import annotations

import numpy as np
import pytest

cli = pytest.importorskip("faceshot.cli")


@pytest.fixture(scope="module")
def emoji_dir(tmp_path_factory, twemoji):
    import cv2
    from faceshot_retarget import write_pts

    d = tmp_path_factory.mktemp("emoji")
    for name, (img, _, pts) in twemoji.items():
        cv2.imwrite(str(d / f"{name}.png"), cv2.cvtColor(img, cv2.COLOR_RGB2BGR))
        write_pts(d / f"{name}.pts", pts)
    cv2.imwrite(str(d / "extra.png"), np.zeros((8, 8, 3), np.uint8))  # no annotation: skipped
    return d


def test_gallery_build_match_and_eval(tmp_path, emoji_dir, capsys) -> None:
    from faceshot_retarget import read_pts

    from faceshot_landmarks import load_gallery

    g = tmp_path / "gallery"
    assert (
        cli.main(
            ["gallery", "build", str(emoji_dir), "--domain", "emoji", "-o", str(g), "--no-progress"]
        )
        == 0
    )
    out = capsys.readouterr()
    assert "k=8" in out.out and "extra.png" in out.err
    assert (
        cli.main(
            [
                "gallery",
                "build",
                str(emoji_dir),
                "--domain",
                "emoji2",
                "--flip",
                "-o",
                str(g),
                "--no-progress",
            ]
        )
        == 0
    )
    assert load_gallery(g).names == ("emoji", "emoji2")
    r = tmp_path / "r.pts"
    plot = tmp_path / "r.png"
    assert (
        cli.main(
            [
                "match",
                str(emoji_dir / "1f600.png"),
                "--gallery",
                str(g),
                "-o",
                str(r),
                "--plot",
                str(plot),
            ]
        )
        == 0
    )
    pts = read_pts(r).points[0]
    ref = read_pts(emoji_dir / "1f600.pts").points[0]
    assert (
        np.linalg.norm(pts[36:48].mean(0) - ref[36:48].mean(0)) < 10
    )  # in-gallery image: eyes found
    assert plot.stat().st_size > 0
    capsys.readouterr()
    assert cli.main(["landmarks", "eval", str(emoji_dir), "--gallery", str(g)]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    assert lines[-1].startswith("mean\t") and "(8/8 images)" in lines[-1]


def test_match_with_corrupt_gallery_fails_in_one_line(tmp_path, emoji_dir, capsys) -> None:
    g = tmp_path / "g"
    assert (
        cli.main(
            ["gallery", "build", str(emoji_dir), "--domain", "emoji", "-o", str(g), "--no-progress"]
        )
        == 0
    )
    (g / "domains" / "emoji" / "parts.npy").write_bytes(b"garbage")
    capsys.readouterr()
    assert (
        cli.main(
            [
                "match",
                str(emoji_dir / "1f600.png"),
                "--gallery",
                str(g),
                "-o",
                str(tmp_path / "r.pts"),
            ]
        )
        == 1
    )
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and "parts.npy" in err and "corrupt" in err
    assert not (tmp_path / "r.pts").exists()


def test_unknown_backbone_is_a_clear_error(tmp_path, emoji_dir, capsys) -> None:
    code = cli.main(
        [
            "gallery",
            "build",
            str(emoji_dir),
            "--domain",
            "x",
            "--backbone",
            "nonexistent-net",
            "-o",
            str(tmp_path / "g"),
            "--no-progress",
        ]
    )
    assert code == 1
    assert "nonexistent-net" in capsys.readouterr().err


def test_landmarks_detect_and_eval_dlib(tmp_path, data_dir, capsys) -> None:
    from faceshot_retarget import read_npy

    out = tmp_path / "d.npy"
    prev = tmp_path / "p.mp4"
    code = cli.main(
        [
            "landmarks",
            "detect",
            str(data_dir / "carphone.mp4"),
            "-o",
            str(out),
            "--preview",
            str(prev),
            "--no-progress",
        ]
    )
    assert code == 0
    assert read_npy(out).points.shape == (120, 68, 2)
    assert prev.stat().st_size > 1000
    capsys.readouterr()
    assert cli.main(["landmarks", "eval", str(data_dir / "human68")]) == 0
    mean_line = capsys.readouterr().out.strip().splitlines()[-1]
    assert float(mean_line.split("\t")[1]) < 0.08


def test_landmarks_detect_match_backend_on_a_cartoon_video(tmp_path, emoji_dir, twemoji) -> None:
    import av
    import cv2
    from faceshot_retarget import load_landmarks

    g = tmp_path / "g"
    assert (
        cli.main(
            ["gallery", "build", str(emoji_dir), "--domain", "emoji", "-o", str(g), "--no-progress"]
        )
        == 0
    )
    img, _, pts = twemoji["1f603"]
    video = tmp_path / "emoji.mp4"
    shifts = [(2.0 * k, 1.0 * k) for k in range(8)]
    with av.open(str(video), mode="w") as out:
        s = out.add_stream("libx264", rate=10)
        s.height, s.width = img.shape[:2]
        s.pix_fmt = "yuv420p"
        for dx, dy in shifts:
            fr = cv2.warpAffine(
                img,
                np.array([[1.0, 0, dx], [0, 1.0, dy]]),
                img.shape[1::-1],
                borderValue=(255, 255, 255),
            )
            for pk in s.encode(av.VideoFrame.from_ndarray(fr, format="rgb24")):
                out.mux(pk)
        for pk in s.encode():
            out.mux(pk)
    d = tmp_path / "d.json"
    code = cli.main(
        [
            "landmarks",
            "detect",
            str(video),
            "--backend",
            "match",
            "--gallery",
            str(g),
            "-o",
            str(d),
            "--no-progress",
        ]
    )
    assert code == 0
    lm = load_landmarks(d)
    assert lm.points.shape == (8, 68, 2) and lm.visible is not None
    # The tracked motion follows the true translation (eyes: mean of 36-47).
    motion = lm.points[:, 36:48].mean(axis=1) - lm.points[0, 36:48].mean(axis=0)
    np.testing.assert_allclose(motion, np.array(shifts), atol=1.0)
    # Frame 0 is the matcher's result on an image from the gallery: the eyes are found.
    assert np.linalg.norm(lm.points[0, 36:48].mean(0) - pts[36:48].mean(0)) < 8
