"""Motion wiring of the meta-package: room to move, cuts and canvas, motion regions (issue 10)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest

from faceshot import Character, FaceShot, give_room, load_character
from faceshot.cli import main


@pytest.fixture(scope="module")
def fs() -> FaceShot:
    return FaceShot(progress=False)


def _target(demo_landmarks: Path) -> np.ndarray:
    from faceshot_retarget import load_landmarks

    return load_landmarks(demo_landmarks).points[0]


def test_give_room_pads_only_crowded_sides(demo_character: Path, demo_landmarks: Path) -> None:
    c = load_character(demo_character)
    pts = _target(demo_landmarks)
    canvas, (dx, dy) = give_room(c, pts, 0.2)
    h, w = canvas.size
    assert (h, w) != c.size and h % 2 == 0 and w % 2 == 0
    moved = pts + np.array([dx, dy])
    width = np.ptp(pts[:, 0])
    lo, hi = moved.min(axis=0), moved.max(axis=0)
    assert lo.min() + 0.5 >= 0.2 * width - 1e-9 and (w - 0.5 - hi[0]) >= 0.2 * width - 1e-9
    assert (h - 0.5 - hi[1]) >= 0.2 * width - 1e-9
    # the image itself is unchanged inside the canvas, the new pixels are transparent
    np.testing.assert_array_equal(canvas.image[dy : dy + c.size[0], dx : dx + c.size[1]], c.image)
    assert canvas.image[0, 0, 3] == 0 and canvas.image[-1, -1, 3] == 0
    # enough room already: unchanged
    same, off = give_room(c, pts, 0.0)
    assert same is c and off == (0, 0)
    # the silhouette counts: a small face on a character that fills its image gets room
    small = (pts - pts.mean(axis=0)) * 0.3 + np.array([80.0, 80.0])
    want = 0.2 * float(np.ptp(small[:, 0]))
    _, (sx, sy) = give_room(c, small, 0.2)
    assert sx >= want - 0.5 and sy >= want - 0.5
    # enough room around the silhouette: unchanged
    pad = int(np.ceil(want)) + 40
    roomy = Character(
        np.pad(c.image, ((pad, pad), (pad, pad), (0, 0))), c.path, c.original_size, c.scale
    )
    assert give_room(roomy, pts + pad, 0.2)[1] == (0, 0)


def test_give_room_rgb_extends_a_plain_border_with_its_colour() -> None:
    img = np.full((100, 120, 3), (30, 120, 200), np.uint8)
    img[20:80, 10:110] = (250, 200, 40)
    pts = np.stack(np.meshgrid(np.linspace(5, 115, 17), np.linspace(10, 95, 4)), -1).reshape(-1, 2)[
        :68
    ]
    canvas, (dx, dy) = give_room(Character(img, None, (100, 120), 1.0), pts, 0.25)
    assert dx > 0 and dy > 0
    assert tuple(canvas.image[0, 0]) == (30, 120, 200) and tuple(canvas.image[-1, -1]) == (
        30,
        120,
        200,
    )
    with pytest.raises(ValueError, match="room"):
        give_room(Character(img, None, (100, 120), 1.0), pts, -1.0)


@dataclass
class _Drive:
    """What the driving-detection rewrite returns (landmarks + cuts), duck-typed."""

    landmarks: object
    cuts: tuple[int, ...]


def test_retarget_accepts_arrays_landmarks_and_drive_results(
    fs: FaceShot, demo_landmarks: Path
) -> None:
    from faceshot_retarget import Landmarks, template_face

    target = _target(demo_landmarks)
    k = np.arange(40)
    drv = (
        template_face(60.0, (90.0, 70.0))[None] + np.stack([2 * np.sin(0.2 * k), 0 * k], 1)[:, None]
    )
    drv[20:] = (drv[20:] - 70.0) * 1.8 + 70.0  # a cut to a close-up at frame 20
    a = fs.retarget(drv, target)
    b = fs.retarget(Landmarks(drv), target)
    np.testing.assert_array_equal(a, b)
    c = fs.retarget(_Drive(Landmarks(drv), (20,)), target)
    np.testing.assert_allclose(c[0], target, atol=1e-9)
    width = np.ptp(target[:, 0])
    assert np.linalg.norm(c[20] - c[19], axis=1).max() < 0.01 * width  # re-anchored at the cut
    assert np.linalg.norm(a[20] - a[19], axis=1).max() > 0.05 * width  # not re-anchored
    d = fs.retarget(_Drive(Landmarks(drv), (20,)), target, canvas_size=(160, 160))
    # never further out than the character itself at rest (its jaw touches the edge)
    assert d.min() >= min(target.min(), 0.0) - 1e-9 and d.max() <= max(target.max(), 159.0) + 1e-9


def test_retarget_takes_driving_then_character_and_refuses_the_old_order(
    fs: FaceShot, demo_landmarks: Path
) -> None:
    from faceshot_retarget import Landmarks, template_face

    target = _target(demo_landmarks)
    drv = np.repeat(template_face(60.0, (90.0, 70.0))[None], 5, axis=0)
    by_keyword = fs.retarget(character=target, driving=drv)
    np.testing.assert_array_equal(by_keyword, fs.retarget(drv, target))
    with pytest.raises(
        TypeError, match=r"takes \(driving, character\).*5-frame sequence as `character`"
    ):
        fs.retarget(target, drv)
    with pytest.raises(TypeError, match="swap them"):
        fs.retarget(
            Landmarks(target), _Drive(Landmarks(drv), ())
        )  # a detection result as `character`


def test_one_smoothing_default_for_the_api_and_the_cli(fs: FaceShot, demo_landmarks: Path) -> None:
    from faceshot_retarget import RETARGET_SMOOTHING, RetargetConfig, retarget, template_face

    from faceshot.cli import build_parser

    args = build_parser().parse_args(
        ["retarget", "--driving", "d.npy", "--target", "t.pts", "-o", "o.npy"]
    )
    assert (args.min_cutoff, args.beta) == (RETARGET_SMOOTHING.min_cutoff, RETARGET_SMOOTHING.beta)
    target = _target(demo_landmarks)
    k = np.arange(30)
    drv = (
        template_face(60.0, (90.0, 70.0))[None] + np.stack([3 * np.sin(0.7 * k), 0 * k], 1)[:, None]
    )
    assert fs.smooth
    expected = retarget(drv, target, config=RetargetConfig(smoothing=RETARGET_SMOOTHING, fps=25.0))
    np.testing.assert_allclose(fs.retarget(drv, target), expected, atol=1e-9)


def test_motion_and_mode_options_are_checked() -> None:
    with pytest.raises(ValueError, match="motion"):
        FaceShot(motion="hands")
    with pytest.raises(ValueError, match="retarget_mode"):
        FaceShot(retarget_mode="raw")
    with pytest.raises(ValueError, match="room"):
        FaceShot(room=-0.1)


def test_animate_gives_room_and_keeps_video_and_landmarks_in_one_frame(
    tmp_path: Path, demo_character: Path, demo_landmarks: Path, demo_driving: Path
) -> None:
    from faceshot_animate import probe_video
    from faceshot_retarget import load_landmarks

    out = tmp_path / "o.mp4"
    res = FaceShot(progress=False, motion="lips").animate(
        demo_character, demo_driving, out, landmarks=demo_landmarks
    )
    info = probe_video(out)
    h, w = res.canvas_size
    assert info.size == (h, w) and (h, w) != (160, 160)
    dx, dy = res.offset
    np.testing.assert_allclose(res.character, _target(demo_landmarks) + np.array([dx, dy]))
    np.testing.assert_allclose(res.landmarks[0], res.character, atol=1e-9)
    assert (
        res.landmarks.min() >= 0
        and res.landmarks[..., 0].max() <= w - 1
        and res.landmarks[..., 1].max() <= h - 1
    )
    # the landmarks written back are in the character file's pixels
    np.testing.assert_allclose(
        res.character_landmarks().points[0], load_landmarks(demo_landmarks).points[0], atol=1e-9
    )
    # "lips": the head does not turn
    ang = np.arctan2(*(res.landmarks[:, 16] - res.landmarks[:, 0]).T[::-1])
    assert np.ptp(ang) < 1e-9


def test_cli_motion_flags(tmp_path: Path, demo_landmarks: Path) -> None:
    from faceshot_retarget import read_npy, template_face, write_npy

    k = np.arange(30)
    drv = (
        template_face(60.0, (90.0, 70.0))[None] + np.stack([3 * np.sin(0.3 * k), 0 * k], 1)[:, None]
    )
    write_npy(tmp_path / "d.npy", drv)
    out = tmp_path / "o.npy"
    args = [
        "retarget",
        "--driving",
        str(tmp_path / "d.npy"),
        "--target",
        str(demo_landmarks),
        "-o",
        str(out),
        "--overwrite",
    ]  # rewritten per flag set
    assert main([*args, "--motion", "pose", "--cuts", "10,20", "--canvas-size", "160x160"]) == 0
    got = read_npy(out).points
    rest = got[0]
    assert (
        got.shape == (30, 68, 2)
        and got.min() >= min(rest.min(), 0.0) - 1e-9
        and got.max() <= max(rest.max(), 159.0) + 1e-9
    )
    assert main([*args, "--mode", "paper"]) == 0
    assert main([*args, "--cuts", "x"]) == 1
    assert main([*args, "--canvas-size", "big"]) == 1


def test_animate_keeps_the_silhouette_in_the_canvas(
    tmp_path: Path,
    demo_character: Path,
    demo_landmarks: Path,
    demo_driving: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # FaceShot.animate passes the character's silhouette box (head_extent of the canvas)
    # to the canvas rule, so horns and ears stay in as the head grows
    import faceshot_retarget
    from faceshot_animate import head_extent

    seen: list[object] = []
    real = faceshot_retarget.retarget

    def spy(*args: object, **kwargs: object) -> np.ndarray:
        seen.append(kwargs.get("extent"))
        return real(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(faceshot_retarget, "retarget", spy)
    fs = FaceShot(progress=False)
    res = fs.animate(demo_character, demo_driving, tmp_path / "o.mp4", landmarks=demo_landmarks)
    canvas, _ = give_room(load_character(demo_character), _target(demo_landmarks), fs.room)
    assert canvas.size == res.canvas_size
    assert len(seen) == 1 and seen[0] is not None
    np.testing.assert_array_equal(seen[0], head_extent(canvas.image, res.character))
