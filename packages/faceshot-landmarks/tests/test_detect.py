"""Driving-landmark detection (dlib + tracking), gap filling, LK tracking and video IO."""

from __future__ import annotations

from fractions import Fraction

import numpy as np
import pytest
from faceshot_retarget import template_face

import faceshot_landmarks as fl

CARPHONE_FRAMES = 120


def _write_video(path, frames, fps: int = 10) -> None:
    import av

    with av.open(str(path), mode="w") as out:
        s = out.add_stream("libx264", rate=Fraction(fps))
        s.height, s.width = frames[0].shape[:2]
        s.pix_fmt = "yuv420p"
        for fr in frames:
            for pk in s.encode(av.VideoFrame.from_ndarray(fr, format="rgb24")):
                out.mux(pk)
        for pk in s.encode():
            out.mux(pk)


def test_predictor_path_found_without_importing_package() -> None:
    import sys

    p = fl.predictor_path()
    assert p.name == "shape_predictor_68_face_landmarks.dat" and p.is_file()
    assert "face_recognition_models" not in sys.modules
    with pytest.raises(fl.BackendUnavailableError, match="does not exist"):
        fl.predictor_path("/nonexistent/model.dat")


def test_dlib_nme_on_human68(human68, dlib_landmarker) -> None:
    errs = []
    for name, (img, gt) in human68.items():
        pred = fl.detect_image(img, landmarker=dlib_landmarker, name=name)
        assert pred.image_size == img.shape[:2]
        errs.append(fl.nme(pred.points, gt))
    assert max(errs) < 0.1 and np.mean(errs) < 0.08


def test_detect_video_carphone(data_dir, dlib_landmarker) -> None:
    lm = fl.detect_video(data_dir / "carphone.mp4", landmarker=dlib_landmarker, progress=False)
    assert lm.points.shape == (CARPHONE_FRAMES, 68, 2)
    assert lm.image_size == (144, 176)
    assert lm.visible is not None and lm.visible.all(axis=1).mean() > 0.9
    # Tracked frames agree with an independent per-frame detection.
    frames = list(fl.iter_frames(data_dir / "carphone.mp4"))
    for t in (0, 45, 100):
        ref = dlib_landmarker.detect(frames[t])
        assert ref is not None and fl.nme(lm.points[t], ref) < 0.06
    # Temporal coherence: no frame-to-frame jump larger than a third of the face.
    steps = np.linalg.norm(np.diff(lm.points, axis=0), axis=2).mean(axis=1)
    iod = np.linalg.norm(lm.points[:, 36] - lm.points[:, 45], axis=1).mean()
    assert steps.max() < 0.35 * iod


def test_no_face_error_names_video_and_frames(tmp_path, dlib_landmarker) -> None:
    rng = np.random.default_rng(0)
    frames = [
        np.full((64, 80, 3), 90, np.uint8) + rng.integers(0, 20, (64, 80, 3), dtype=np.uint8)
        for _ in range(6)
    ]
    path = tmp_path / "empty.mp4"
    _write_video(path, frames)
    with pytest.raises(fl.NoFaceError, match=r"empty\.mp4.*frames 0-3"):
        fl.detect_video(
            path,
            config=fl.DetectConfig(search_frames=4),
            landmarker=dlib_landmarker,
            progress=False,
        )
    with pytest.raises(fl.NoFaceError, match=r"frames 0-5"):
        fl.detect_video(
            path,
            config=fl.DetectConfig(search_frames=100),
            landmarker=dlib_landmarker,
            progress=False,
        )
    with pytest.raises(fl.NoFaceError, match="no face found in blank"):
        fl.detect_image(frames[0], landmarker=dlib_landmarker, name="blank")


def test_missing_video_is_a_video_error(tmp_path, dlib_landmarker) -> None:
    with pytest.raises(fl.VideoError, match="does not exist"):
        fl.detect_video(tmp_path / "nope.mp4", landmarker=dlib_landmarker, progress=False)


def test_fill_gaps_interpolates_short_and_holds_long() -> None:
    t = 12
    pts = np.zeros((t, 68, 2))
    pts[:, :, 0] = np.arange(t)[:, None] * 10.0
    found = np.ones(t, bool)
    found[[0, 1]] = False  # leading gap: first found frame
    found[4:6] = False  # short gap: interpolated
    found[7:11] = False  # long gap (4 > max_gap 3): held
    out = fl.fill_gaps(np.where(found[:, None, None], pts, -999.0), found, max_gap=3)
    np.testing.assert_allclose(out[[0, 1], 0, 0], [20.0, 20.0])
    np.testing.assert_allclose(out[4:6, 0, 0], [40.0, 50.0])
    np.testing.assert_allclose(out[7:11, 0, 0], [60.0] * 4)
    np.testing.assert_allclose(out[found], pts[found])
    with pytest.raises(ValueError, match="no True"):
        fl.fill_gaps(pts, np.zeros(t, bool))


def test_track_points_follows_translation_and_flags_occlusion() -> None:
    rng = np.random.default_rng(1)
    import cv2

    base = cv2.GaussianBlur(rng.integers(0, 255, (160, 160, 3), dtype=np.uint8), (0, 0), 1.5)
    frames, shifts = [], []
    for k in range(6):
        dx, dy = 1.5 * k, -1.0 * k
        m = np.array([[1.0, 0, dx], [0, 1.0, dy]])
        fr = cv2.warpAffine(base, m, (160, 160), borderMode=cv2.BORDER_REFLECT)
        if k == 4:
            # occlude the left part of the face in one frame with another textured object
            fr[50:110, 10:70] = cv2.GaussianBlur(
                rng.integers(0, 255, (60, 60, 3), dtype=np.uint8), (0, 0), 1.5
            )
        frames.append(fr)
        shifts.append((dx, dy))
    init = template_face(60.0, (80.0, 80.0))
    pts, vis = fl.track_points(frames, init, progress=False)
    truth = init[None] + np.array(shifts)[:, None, :]
    ok = vis.copy()
    assert ok[[1, 2, 3, 5]].mean() > 0.9
    assert np.linalg.norm(pts - truth, axis=2)[ok].mean() < 0.3
    x, y = init[:, 0] + shifts[4][0], init[:, 1] + shifts[4][1]
    occluded = (x > 20) & (x < 60) & (y > 60) & (y < 100)  # 10 px inside the occluder
    assert occluded.any() and not vis[4, occluded].any()
    # occluded points move with the similarity of the tracked ones
    assert np.linalg.norm(pts[4, occluded] - truth[4, occluded], axis=1).mean() < 1.0


def test_preview_and_draw(tmp_path, data_dir) -> None:
    pts = np.repeat(template_face(60.0, (88.0, 72.0))[None], CARPHONE_FRAMES, axis=0)
    out = fl.write_preview(data_dir / "carphone.mp4", pts, tmp_path / "p.mp4", progress=False)
    size = fl.probe_video(out).size
    assert size == (144, 176)
    assert sum(1 for _ in fl.iter_frames(out)) == CARPHONE_FRAMES
    img = np.zeros((20, 20, 3), np.uint8)
    drawn = fl.draw_points(img, template_face(10.0, (10.0, 10.0)))
    assert img.max() == 0 and drawn[..., 1].max() == 255


def test_face_appearing_late_is_backfilled_and_marked(tmp_path, data_dir, dlib_landmarker) -> None:
    frames = []
    for t, fr in enumerate(fl.iter_frames(data_dir / "carphone.mp4")):
        if t >= 12:
            break
        frames.append(fr)
    blank = np.full_like(frames[0], 128)
    path = tmp_path / "late.mp4"
    _write_video(path, [blank, blank, blank, *frames[:9]])
    lm = fl.detect_video(path, landmarker=dlib_landmarker, progress=False)
    assert lm.points.shape == (12, 68, 2)
    assert lm.visible is not None
    assert not lm.visible[:3].any() and lm.visible[3:].all()
    np.testing.assert_array_equal(
        lm.points[0], lm.points[3]
    )  # leading frames hold the first detection


def test_face_lost_mid_video_is_marked_and_reacquired(tmp_path, data_dir, dlib_landmarker) -> None:
    frames = []
    for t, fr in enumerate(fl.iter_frames(data_dir / "carphone.mp4")):
        if t >= 16:
            break
        frames.append(fr)
    blank = np.full_like(frames[0], 128)
    path = tmp_path / "gap.mp4"
    _write_video(path, [*frames[:6], blank, blank, blank, *frames[6:12]])
    lm = fl.detect_video(path, landmarker=dlib_landmarker, progress=False)
    assert lm.visible is not None
    vis = lm.visible.all(axis=1)
    np.testing.assert_array_equal(vis, [True] * 6 + [False] * 3 + [True] * 6)
    # the 3-frame gap (<= max_gap) is interpolated between frames 5 and 9
    np.testing.assert_allclose(lm.points[7], 0.5 * (lm.points[5] + lm.points[9]), atol=1e-9)


def test_small_faces_get_subpixel_landmarks(data_dir, dlib_landmarker) -> None:
    frame = next(iter(fl.iter_frames(data_dir / "carphone.mp4")))  # face ~50 px wide
    box = dlib_landmarker.detect_faces(frame)[0]
    fine = dlib_landmarker.landmarks_in_box(frame, box)
    coarse = fl.DlibLandmarker(min_face_side=0).landmarks_in_box(frame, box)
    assert np.mean(coarse == np.round(coarse)) == 1.0  # dlib alone: whole pixels
    assert np.mean(fine != np.round(fine)) > 0.9  # upscaled crop: sub-pixel
    iod = np.linalg.norm(coarse[36] - coarse[45])
    assert fl.nme(fine, coarse) < 0.1 and np.linalg.norm(fine - coarse, axis=1).mean() < 0.1 * iod
