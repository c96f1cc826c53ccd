"""One person drives (issue 10): faces, identity, shot cuts, gaps; clips built in each test."""

from __future__ import annotations

import numpy as np
import pytest
from faceshot_retarget import Landmarks, read_pts, template_face

import faceshot_landmarks as fl
from faceshot_landmarks.clips import (
    expression_clip,
    head_motion,
    multishot_clip,
    open_mouth,
    ramp_motion,
    two_person_clip,
    write_clip,
)


@pytest.fixture(scope="module")
def carphone(data_dir) -> list[np.ndarray]:
    return list(fl.iter_frames(data_dir / "carphone.mp4"))


@pytest.fixture(scope="module")
def astronaut(data_dir) -> tuple[np.ndarray, np.ndarray]:
    return fl.read_image(data_dir / "astronaut_face.jpg"), read_pts(
        data_dir / "astronaut_face.pts"
    ).points[0]


@pytest.fixture(scope="module")
def describer() -> fl.FaceDescriber:
    return fl.FaceDescriber()


# ------------------------------------------------------------------------- pure parts


def test_signature_sees_a_mirrored_frame_and_rows_sum_to_one(carphone) -> None:
    sig = fl.frame_signature(carphone[0])
    assert sig.shape == (16, 64) and sig.dtype == np.float32
    np.testing.assert_allclose(sig.sum(axis=1), 1.0, atol=1e-5)
    mirrored = fl.frame_signature(np.ascontiguousarray(carphone[0][:, ::-1]))
    one_block = fl.frame_signature(carphone[0], fl.CutConfig(grid=1))
    one_block_mirrored = fl.frame_signature(
        np.ascontiguousarray(carphone[0][:, ::-1]), fl.CutConfig(grid=1)
    )
    assert (
        fl.signature_distance(one_block, one_block_mirrored) < 1e-6
    )  # a global histogram is blind to it
    assert fl.signature_distance(sig, mirrored) > 0.15  # the block grid is not
    assert fl.signature_distance(sig, sig) == 0.0
    with pytest.raises(ValueError, match="same shape"):
        fl.signature_distance(sig, sig[:4])


def test_cut_candidates_adapt_to_the_shot() -> None:
    rng = np.random.default_rng(0)
    calm = 0.03 + 0.005 * rng.standard_normal(60)
    calm[[20, 45]] = [0.4, 0.2]
    assert np.flatnonzero(fl.cut_candidates(calm)).tolist() == [20, 45]
    # a shaky shot (distances 0.2 +- 0.06) raises its own threshold: 0.3 is not a cut there
    shaky = 0.2 + 0.06 * rng.standard_normal(60)
    shaky[40] = 0.3
    assert not fl.cut_candidates(shaky)[31:].any()
    shaky[50] = 0.9
    assert fl.cut_candidates(shaky)[50]
    # one-frame flash: the second spike is within min_shot of the first
    flash = np.full(30, 0.03)
    flash[[10, 11]] = 0.8
    assert np.flatnonzero(fl.cut_candidates(flash)).tolist() == [10]
    assert fl.adaptive_threshold([]) == fl.CutConfig().threshold
    with pytest.raises(ValueError, match="threshold"):
        fl.CutConfig(threshold=1.5)


def test_cluster_tracklets_merges_alike_but_never_co_present() -> None:
    rng = np.random.default_rng(1)
    a, b = rng.normal(0, 0.1, 128), rng.normal(0, 0.1, 128)
    d = np.stack([a, b, a + 0.01, b + 0.01, a + 0.02])
    none = np.zeros((5, 5), bool)
    assert fl.cluster_tracklets(d, none).tolist() == [0, 1, 0, 1, 0]
    forbid = none.copy()
    forbid[0, 4] = forbid[4, 0] = True  # seen in the same frame: two people, however alike
    labels = fl.cluster_tracklets(d, forbid)
    assert labels[0] != labels[4] and labels[0] == labels[2] and labels[1] == labels[3]
    assert fl.cluster_tracklets(d, none, threshold=1e-4).tolist() == [0, 1, 2, 3, 4]
    assert fl.cluster_tracklets(np.zeros((0, 128)), np.zeros((0, 0), bool)).shape == (0,)


def test_fill_gaps_never_interpolates_across_a_cut() -> None:
    pts = np.zeros((10, 68, 2))
    pts[:, :, 0] = np.arange(10)[:, None] * 10.0
    found = np.ones(10, bool)
    found[4:6] = False
    out = fl.fill_gaps(pts, found, max_gap=5)
    np.testing.assert_allclose(out[4:6, 0, 0], [40.0, 50.0])  # same shot: interpolated
    out = fl.fill_gaps(pts, found, max_gap=5, cuts=[5])
    np.testing.assert_allclose(out[4:6, 0, 0], [30.0, 30.0])  # a cut inside: the last pose is held
    out = fl.fill_gaps(pts, found, max_gap=5, cuts=[3, 6])  # cuts outside the gap do not matter
    np.testing.assert_allclose(out[4:6, 0, 0], [30.0, 30.0])
    out = fl.fill_gaps(pts, found, max_gap=5, cuts=[2, 8])
    np.testing.assert_allclose(out[4:6, 0, 0], [40.0, 50.0])


def test_driving_landmarks_behaves_like_its_landmarks() -> None:
    pts = np.repeat(template_face(40.0, (60.0, 60.0))[None], 5, axis=0)
    lm = Landmarks(pts, (120, 120), np.ones((5, 68), bool))
    face = fl.FaceTrack(
        index=0, first=0, last=4, frames=5, detections=1, size=40.0, centre=(60.0, 60.0), shots=2
    )
    d = fl.DrivingLandmarks(landmarks=lm, cuts=[3], faces=[face], person=0, fps=25)
    assert d.cuts == (3,) and d.faces == (face,) and d.face is face and d.fps == 25.0
    assert len(d) == d.num_frames == 5 and d.image_size == (120, 120)
    np.testing.assert_array_equal(np.asarray(d), pts)
    np.testing.assert_array_equal(
        fl.fill_gaps(d, np.ones(5, bool)), pts
    )  # accepted where arrays are
    assert not d.points.flags.writeable
    for bad in ([0], [3, 3], [4, 2], [5]):
        with pytest.raises(ValueError, match="cuts"):
            fl.DrivingLandmarks(landmarks=lm, cuts=bad, faces=[face], person=0, fps=25)
    with pytest.raises(ValueError, match="person"):
        fl.DrivingLandmarks(landmarks=lm, cuts=[], faces=[face], person=1, fps=25)
    assert face.describe((120, 240)) == "5 frames (0-4), 40 px, left, 2 shots"
    assert face.describe((400, 70)) == "5 frames (0-4), 40 px, top right, 2 shots"
    assert face.describe() == "5 frames (0-4), 40 px, 2 shots"


# ------------------------------------------------------------------------- clip builders


def test_open_mouth_opens_by_the_amount_and_dlib_sees_it(astronaut, dlib_landmarker) -> None:
    img, pts = astronaut
    assert np.array_equal(open_mouth(img, pts, 0.0), img)
    opened = open_mouth(img, pts, 20.0)
    assert opened.shape == img.shape and opened.dtype == np.uint8
    # the cavity is dark where the lips met, the top of the head did not move
    mid = np.round((pts[62] + pts[66]) / 2 + [0, 10]).astype(int)
    assert opened[mid[1], mid[0]].mean() < 60
    np.testing.assert_array_equal(opened[:80], img[:80])
    found = dlib_landmarker.detect(opened, retry=True)
    before = np.linalg.norm(pts[66] - pts[62])
    assert np.linalg.norm(found[66] - found[62]) > before + 8  # dlib sees most of the 20 px


def test_motions_start_at_identity_and_hit_their_targets() -> None:
    c = np.array([50.0, 40.0])
    for m in (head_motion(30, c, seed=3), ramp_motion(30, c)):
        assert len(m) == 30
        np.testing.assert_allclose(m[0].matrix, np.eye(3), atol=1e-12)
    end = ramp_motion(5, c, angle=0.2, scale=0.1, shift=(3.0, 4.0))[-1]
    np.testing.assert_allclose(end([c])[0], c + np.array([3.0, 4.0]))
    assert abs(end.scale - 1.1) < 1e-12 and abs(end.rotation - 0.2) < 1e-12
    wave = head_motion(200, c, seed=0, angle=0.1, scale=0.05, shift=5.0)
    assert max(abs(m.rotation) for m in wave) <= 0.1 + 1e-9


def test_expression_clip_truth(astronaut) -> None:
    img, pts = astronaut
    frames, truth = expression_clip(img, pts, n=16, peak=2.0, motion=False)
    assert len(frames) == 16 and frames[0].shape == img.shape
    assert max(truth["opening"]) == pytest.approx(2.0 * truth["mouth_height"])
    assert truth["opening"][0] == pytest.approx(np.linalg.norm(pts[66] - pts[62]))


# ------------------------------------------------------------------------- detection rules


def test_two_people_the_chosen_one_drives_and_never_the_other(
    tmp_path, carphone, astronaut, dlib_landmarker, describer
) -> None:
    frames, truth = two_person_clip(carphone[:40], astronaut, leave=(14, 24))
    path = write_clip(tmp_path / "two.mp4", frames)
    split = truth["split"]
    present = np.array(truth["present"][1])
    default = fl.detect_driving(
        path, landmarker=dlib_landmarker, describer=describer, progress=False
    )
    assert len(default.faces) == 2 and default.cuts == ()
    left, right = (0, 1) if default.faces[0].centre[0] < split else (1, 0)
    # the larger face (right) is there for fewer frames: longest x largest picks the left one
    assert default.faces[right].size > default.faces[left].size
    assert default.person == left
    x = default.points.mean(axis=1)[:, 0]
    vis = default.visible.all(axis=1)
    assert vis.mean() > 0.9 and (x[vis] < split).all()
    chosen = fl.detect_driving(
        path, face=right, landmarker=dlib_landmarker, describer=describer, progress=False
    )
    x = chosen.points.mean(axis=1)[:, 0]
    vis = chosen.visible.all(axis=1)
    assert (x[vis] >= split).all()  # never the left person, even after the right one left
    assert vis[:12].all() and not vis[present.sum() + 1 :].any()
    # detect_video is the same with the same choice
    assert (
        fl.detect_video(path, face=right, landmarker=dlib_landmarker, progress=False).points
        == chosen.points
    ).all()


def test_face_index_that_does_not_exist_lists_the_faces(
    tmp_path, carphone, dlib_landmarker
) -> None:
    path = write_clip(tmp_path / "one.mp4", carphone[:12])
    with pytest.raises(
        fl.FaceSelectionError,
        match=r"face 3 does not exist in video '.*one\.mp4'; 1 face found: 0: 12 frames \(0-11\)",
    ):
        fl.detect_driving(path, face=3, landmarker=dlib_landmarker, progress=False)
    with pytest.raises(ValueError, match="choose 0-0"):  # a usage error
        fl.detect_video(path, face=-1, landmarker=dlib_landmarker, progress=False)


def test_multishot_cuts_and_one_identity_across_shots(
    tmp_path, carphone, astronaut, dlib_landmarker, describer
) -> None:
    frames, truth = multishot_clip(carphone[:41], astronaut, segment=8)
    path = write_clip(tmp_path / "shots.mp4", frames)
    out = fl.detect_driving(path, landmarker=dlib_landmarker, describer=describer, progress=False)
    assert list(out.cuts) == truth["cuts"]
    # zoomed, mirrored, cropped and held copies are one person; the other still is another
    assert len(out.faces) == 2
    assert out.face.shots == 6
    other = next(s for s in truth["segments"] if s["person"] == 1)
    vis = out.visible.all(axis=1)
    assert not vis[other["start"] : other["stop"]].any()
    assert vis[: other["start"]].mean() > 0.9 and vis[other["stop"] :].mean() > 0.9
    # the held frame moves by a known similarity: the landmarks follow it
    held = next(s for s in truth["segments"] if s["kind"] == "still-self")
    sims = np.asarray(held["similarity"])
    p0 = out.points[held["start"]]
    iod = np.linalg.norm(p0[36] - p0[45])
    for k in range(1, held["stop"] - held["start"]):
        expect = p0 @ sims[k][:2, :2].T + sims[k][:2, 2]
        assert np.linalg.norm(out.points[held["start"] + k] - expect, axis=1).mean() < 0.08 * iod


def test_a_face_appearing_after_frame_30_is_found(tmp_path, carphone, dlib_landmarker) -> None:
    blank = np.full_like(carphone[0], 110)
    path = write_clip(tmp_path / "late.mp4", [blank] * 41 + carphone[:8])
    out = fl.detect_driving(path, landmarker=dlib_landmarker, progress=False)
    vis = out.visible.all(axis=1)
    assert not vis[:41].any() and vis[41:].all()
    with pytest.raises(fl.NoFaceError, match=r"late\.mp4.*frames 0-19 searched"):
        fl.detect_driving(
            path,
            config=fl.DetectConfig(search_frames=20),
            landmarker=dlib_landmarker,
            progress=False,
        )
    empty = write_clip(tmp_path / "empty.mp4", [blank] * 35)
    with pytest.raises(fl.NoFaceError, match=r"empty\.mp4.*frames 0-34 searched"):
        fl.detect_driving(empty, landmarker=dlib_landmarker, progress=False)


@pytest.mark.parametrize(("max_gap", "bridged"), [(15, False), (25, True)])
def test_max_gap_bridges_short_absences_and_holds_long_ones(
    tmp_path, carphone, dlib_landmarker, max_gap, bridged
) -> None:
    blank = np.full_like(carphone[0], 110)
    path = write_clip(tmp_path / "gap.mp4", carphone[:10] + [blank] * 20 + carphone[10:20])
    out = fl.detect_driving(
        path, config=fl.DetectConfig(max_gap=max_gap), landmarker=dlib_landmarker, progress=False
    )
    vis = out.visible.all(axis=1)
    assert vis[:10].all() and not vis[10:30].any() and vis[30:].all()
    if bridged:  # a 20-frame dropout inside one shot: no cuts, interpolated
        assert out.cuts == ()
        a = 11 / 21  # frame 20 between found frames 9 and 30
        np.testing.assert_allclose(
            out.points[20], (1 - a) * out.points[9] + a * out.points[30], atol=1e-9
        )
    else:  # longer than max_gap: two cuts, the last pose is held
        assert out.cuts == (10, 30)
        np.testing.assert_array_equal(out.points[10:30], np.repeat(out.points[9][None], 20, axis=0))


# ------------------------------------------------------------------------- command line


def test_cli_list_faces_and_a_face_that_does_not_exist(
    tmp_path, carphone, astronaut, capsys
) -> None:
    cli = pytest.importorskip("faceshot.cli")
    frames, _ = two_person_clip(carphone[:24], astronaut, leave=(8, 16))
    video = write_clip(tmp_path / "two.mp4", frames)
    before = sorted(p.name for p in tmp_path.iterdir())
    assert cli.main(["landmarks", "detect", str(video), "--list-faces", "--no-progress"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0] == f"{video}: 24 frames, 2 faces, 0 cuts"
    assert out[1].startswith("  0* 24 frames (0-23)") and out[1].endswith("left")
    assert out[2].startswith("  1  ") and out[2].endswith("right")
    assert sorted(p.name for p in tmp_path.iterdir()) == before  # nothing written
    target = tmp_path / "d.npy"
    assert (
        cli.main(
            ["landmarks", "detect", str(video), "--face", "2", "-o", str(target), "--no-progress"]
        )
        == 1
    )
    err = capsys.readouterr().err.strip().splitlines()
    assert (
        len(err) == 1
        and "face 2 does not exist" in err[0]
        and "2 faces found: 0: 24 frames" in err[0]
    ), err
    assert not target.exists()
    assert cli.main(["landmarks", "detect", str(video), "--no-progress"]) == 1
    assert "-o/--output is required" in capsys.readouterr().err
    assert (
        cli.main(
            ["landmarks", "detect", str(video), "--face", "1", "-o", str(target), "--no-progress"]
        )
        == 0
    )
    assert "face 1 of 2" in capsys.readouterr().out
    x = np.load(target).mean(axis=1)[:, 0]
    assert (x[:6] >= 176).all()  # the right-hand person
