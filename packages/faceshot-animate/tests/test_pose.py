"""Pose images, side-by-side panels and landmark export (mofa, pose-png, npy)."""

from __future__ import annotations

import json

import cv2
import numpy as np
import pytest
from faceshot_retarget import template_face

from faceshot_animate import (
    EXPORT_FORMATS,
    POSE_PARTS,
    ExportError,
    export_sequence,
    render_pose_image,
    scale_landmarks,
    side_by_side,
)


@pytest.fixture
def seq() -> np.ndarray:
    lm = template_face(120, (100.0, 90.0))
    return np.stack([lm + np.array([2.0 * t, 0.0]) for t in range(4)])


def test_pose_parts_cover_every_landmark() -> None:
    used = {i for _, idx, _ in POSE_PARTS for i in idx}
    assert used == set(range(68))
    assert len({c for _, _, c in POSE_PARTS}) == len(POSE_PARTS)  # one colour per part


def test_pose_image_draws_part_colours_near_the_points(seq) -> None:
    img = render_pose_image(seq[0], (200, 180))
    assert img.shape == (180, 200, 3) and img.dtype == np.uint8
    lit = img.max(axis=2) > 0
    assert 0.005 < lit.mean() < 0.2  # thin lines on black
    # Every lit pixel lies within 3 px of a landmark polyline, and each part colour appears.
    near = np.zeros((180, 200), np.uint8)
    for _, idx, _ in POSE_PARTS:
        cv2.polylines(near, [np.round(seq[0][list(idx)]).astype(np.int32)], False, 1, 7)
    assert not (lit & (near == 0)).any()
    for name, idx, colour in POSE_PARTS:
        x, y = np.round(seq[0][list(idx)].mean(axis=0) if len(idx) == 2 else seq[0][idx[1]]).astype(
            int
        )
        patch = img[max(y - 3, 0) : y + 4, max(x - 3, 0) : x + 4].reshape(-1, 3).astype(int)
        assert (np.abs(patch - colour).sum(axis=1) < 40).any(), name


def test_pose_image_canvas_not_modified(seq) -> None:
    canvas = np.full((180, 200, 3), 50, np.uint8)
    out = render_pose_image(seq[0], (200, 180), canvas=canvas)
    assert (canvas == 50).all() and (out != 50).any()
    with pytest.raises(ExportError, match="`canvas`"):
        render_pose_image(seq[0], (100, 100), canvas=canvas)
    with pytest.raises(ExportError, match="one frame"):
        render_pose_image(seq, (200, 180))


def test_scale_landmarks_pixel_centre_convention(seq) -> None:
    up = scale_landmarks(seq, (200, 180), (400, 360))
    assert np.allclose(up, (seq + 0.5) * 2 - 0.5)
    assert np.allclose(scale_landmarks(up, (400, 360), (200, 180)), seq)


def test_export_npy_roundtrip_and_scaling(tmp_path, seq) -> None:
    out = export_sequence(
        seq, tmp_path / "l.npy", format="npy", size=(400, 360), source_size=(200, 180)
    )
    arr = np.load(out)
    assert arr.dtype == np.float64 and arr.shape == (4, 68, 2)
    assert np.allclose(arr, (seq + 0.5) * 2 - 0.5)
    with pytest.raises(ExportError, match="already exists"):
        export_sequence(seq, out, format="npy")


def test_export_pose_png_directory(tmp_path, seq) -> None:
    out = export_sequence(
        seq, tmp_path / "pose", format="pose-png", size=(200, 180), progress=False
    )
    files = sorted(p.name for p in out.iterdir())
    assert files == [f"{i:05d}.png" for i in range(4)]
    img = cv2.imread(str(out / "00002.png"))[:, :, ::-1]
    assert np.array_equal(img, render_pose_image(seq[2], (200, 180)))
    assert [p.name for p in tmp_path.iterdir()] == ["pose"]  # no temp dirs left


def test_export_mofa_layout(tmp_path, seq) -> None:
    out = export_sequence(
        seq,
        tmp_path / "mofa",
        format="mofa",
        size=(512, 512),
        source_size=(200, 180),
        progress=False,
    )
    lm = np.load(out / "landmarks.npy")
    assert lm.dtype == np.float32 and lm.shape == (4, 68, 2)
    assert np.allclose(lm, scale_landmarks(seq, (200, 180), (512, 512)), atol=1e-4)
    meta = json.loads((out / "meta.json").read_text())
    assert meta["frames"] == 4 and meta["size"] == [512, 512]
    assert len(list((out / "pose").glob("*.png"))) == 4


def test_export_overwrite_is_atomic_and_errors(tmp_path, seq) -> None:
    dest = tmp_path / "pose"
    export_sequence(seq, dest, format="pose-png", size=(64, 64), progress=False)
    with pytest.raises(ExportError, match="already exists"):
        export_sequence(seq[:2], dest, format="pose-png", size=(64, 64), progress=False)
    export_sequence(seq[:2], dest, format="pose-png", size=(64, 64), overwrite=True, progress=False)
    assert len(list(dest.iterdir())) == 2
    assert sorted(p.name for p in tmp_path.iterdir()) == ["pose"]
    with pytest.raises(ExportError, match="`format` must be one of"):
        export_sequence(seq, tmp_path / "x", format="gif")
    with pytest.raises(ExportError, match="give `size`"):
        export_sequence(seq, tmp_path / "y", format="pose-png")
    assert set(EXPORT_FORMATS) == {"mofa", "pose-png", "npy"}


def test_side_by_side_scales_to_one_height() -> None:
    a = np.zeros((100, 50, 3), np.uint8)
    b = np.full((50, 50, 4), 255, np.uint8)
    c = np.full((200, 100), 7, np.uint8)
    out = side_by_side([a, b, c], height=100)
    assert out.shape == (100, 50 + 100 + 50, 3)
    assert (out[:, 60:140] == 255).all() and (out[:, 160:] == 7).all()


def test_preview_frame_is_driving_landmarks_result_at_the_result_height() -> None:
    import numpy as np
    from faceshot_retarget import template_face

    from faceshot_animate import preview_frame, render_pose_image, side_by_side

    result = np.full((64, 48, 3), 200, np.uint8)
    driving = np.zeros((32, 32, 3), np.uint8)
    lm = template_face(30.0, (24.0, 32.0))
    panel = preview_frame(result, lm, driving)
    assert panel.shape == (64, 64 + 48 + 48, 3)
    expected = side_by_side(
        [driving, render_pose_image(lm, (48, 64), thickness=1), result], height=64
    )
    np.testing.assert_array_equal(panel, expected)
    assert preview_frame(result, lm).shape == (64, 96, 3)  # no driving frame: two panels
