"""match_video (the matcher on every frame fused with anchored flow), its shape fit and figures."""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest
from faceshot_retarget import OneEuroConfig, template_face

import faceshot_landmarks as fl
from faceshot_landmarks._shape_fit import (
    ConditionalShape,
    ShapeModel,
    fit_shape_model,
    fuse_with_model,
    structure_information,
)
from faceshot_landmarks._video_match import crop_transform, lip_band, smooth_pose
from faceshot_landmarks.testing import synthetic_motion


def _write(path: Path, frames: list[np.ndarray], fps: int = 25) -> Path:
    import av

    with av.open(str(path), mode="w") as out:
        stream = out.add_stream("libx264", rate=Fraction(fps))
        stream.width, stream.height = frames[0].shape[1], frames[0].shape[0]
        stream.pix_fmt = "yuv420p"
        stream.options = {"crf": "12"}
        for f in frames:
            for packet in stream.encode(
                av.VideoFrame.from_ndarray(np.ascontiguousarray(f), format="rgb24")
            ):
                out.mux(packet)
        for packet in stream.encode():
            out.mux(packet)
    return path


@pytest.fixture(scope="module")
def emoji_setup(twemoji, tmp_path_factory):
    """(face image 256 px, its pseudo-68 points, classical extractor, gallery without that face)."""
    ex = fl.ClassicalExtractor(size=128)
    others = [n for n in sorted(twemoji) if n != "1f603"]
    root = tmp_path_factory.mktemp("gallery") / "g"
    gallery = fl.add_domain(
        root,
        "emoji",
        [ex.extract(twemoji[n][0]) for n in others],
        np.stack([twemoji[n][2] for n in others]),
    )
    image, _, points = twemoji["1f603"]
    return image, points, ex, gallery


def _moved(
    image: np.ndarray,
    points: np.ndarray,
    angle: float,
    shift: tuple[float, float],
    canvas: int = 320,
):
    """The face rotated by ``angle`` degrees about its centre and moved, on a white canvas."""
    import cv2

    h, w = image.shape[:2]
    m = cv2.getRotationMatrix2D((w / 2 - 0.5, h / 2 - 0.5), angle, 1.0)
    m[:, 2] += np.array(shift) + (canvas - w) / 2
    out = cv2.warpAffine(
        image, m, (canvas, canvas), flags=cv2.INTER_LINEAR, borderValue=(255, 255, 255)
    )
    return out, points @ m[:, :2].T + m[:, 2]


_CONFIG = fl.VideoMatchConfig(min_score=0.5, search_frames=4, refind_every=2, max_gap=0, batch=4)


def test_follows_rigid_motion_without_drift(emoji_setup, tmp_path) -> None:
    image, points, ex, gallery = emoji_setup
    frames, truth = [], []
    for k in range(12):
        f, p = _moved(image, points, angle=1.5 * k * (-1) ** (k // 6), shift=(2.0 * k, -1.0 * k))
        frames.append(f)
        truth.append(p)
    truth = np.stack(truth)
    lm = fl.match_video(
        _write(tmp_path / "rigid.mp4", frames), ex, gallery, config=_CONFIG, progress=False
    )
    assert lm.points.shape == (12, 68, 2) and lm.image_size == (320, 320)
    assert lm.visible is not None and lm.visible.all()
    figures = fl.track_figures(lm.points, truth)
    assert figures["motion_error"] < 0.02  # face widths, the frame-0 matching error carried along
    assert figures["error"] < 0.08
    # no drift: the last frame is no worse than the first ones
    per_frame = np.linalg.norm(lm.points - truth, axis=-1).mean(axis=-1)
    assert per_frame[-1] < 1.2 * per_frame[:3].max()


def test_video_without_a_face_names_the_frames_searched(emoji_setup, tmp_path) -> None:
    _, _, ex, gallery = emoji_setup
    blank = [np.full((96, 96, 3), 255, np.uint8)] * 6
    with pytest.raises(
        fl.NoFaceError,
        match=r"no face matched in video .*blank\.mp4.*frames 0-3 searched.*needs 0\.50",
    ):
        fl.match_video(
            _write(tmp_path / "blank.mp4", blank), ex, gallery, config=_CONFIG, progress=False
        )


def test_anchor_matcher_only_for_the_crop_match(emoji_setup, tmp_path, monkeypatch) -> None:
    """The full-frame search (which decides face / no face against ``min_score``) keeps
    ``matcher_config``; only the anchor's crop match uses ``anchor_matcher``; a faceless video
    still fails with one line."""
    import faceshot_landmarks._video_match as vm

    image, points, ex, gallery = emoji_setup
    frame, _ = _moved(image, points, 0.0, (0.0, 0.0))
    seen: list[tuple[str, fl.MatcherConfig, tuple[int, int]]] = []
    real_match, real_flip = vm.match, vm.match_flip_consistent

    def spy_match(features, gallery, *, config):
        seen.append(("match", config, tuple(features.image_size)))
        return real_match(features, gallery, config=config)

    def spy_flip(features, flipped, gallery, *, config):
        seen.append(("flip", config, tuple(features.image_size)))
        return real_flip(features, flipped, gallery, config=config)

    monkeypatch.setattr(vm, "match", spy_match)
    monkeypatch.setattr(vm, "match_flip_consistent", spy_flip)
    wide = fl.MatcherConfig(global_radius=0.35, prior_clamp=0.25)
    config = fl.VideoMatchConfig(
        min_score=0.5, search_frames=4, batch=4, max_gap=0, anchor_matcher=wide
    )
    lm = fl.match_video(
        _write(tmp_path / "still.mp4", [frame] * 3), ex, gallery, config=config, progress=False
    )
    assert lm.visible is not None and lm.visible.all()
    assert [(kind, cfg) for kind, cfg, _ in seen] == [
        ("match", fl.MatcherConfig()),
        ("flip", wide),
    ]
    assert seen[0][2] == (320, 320) and seen[1][2] == (config.refine_size,) * 2
    seen.clear()
    blank = [np.full((96, 96, 3), 255, np.uint8)] * 6
    with pytest.raises(fl.NoFaceError) as caught:
        fl.match_video(
            _write(tmp_path / "blank.mp4", blank), ex, gallery, config=config, progress=False
        )
    assert "\n" not in str(caught.value) and "frames 0-3 searched" in str(caught.value)
    assert {cfg for _, cfg, _ in seen} <= {fl.MatcherConfig()}  # no crop match on no face
    # by default the anchor is matched as a still image is
    assert fl.VideoMatchConfig().anchor_matcher == fl.CHARACTER_MATCHER


def test_face_lost_then_found_again(emoji_setup, tmp_path) -> None:
    image, points, ex, gallery = emoji_setup
    a, pa = _moved(image, points, 0.0, (0.0, 0.0))
    b, pb = _moved(image, points, 5.0, (20.0, 10.0))
    blank = np.full_like(a, 255)
    frames = [a] * 5 + [blank] * 5 + [b] * 6
    lm = fl.match_video(
        _write(tmp_path / "cut.mp4", frames), ex, gallery, config=_CONFIG, progress=False
    )
    found = lm.visible.all(axis=1)
    assert found[:5].all()
    assert not found[5:10].any()
    assert found[11:].all()  # re-found within refind_every frames of the cut back
    width = float(np.linalg.norm(points[16] - points[0]))
    offset = lm.points[0] - pa  # the matcher's own error on this face, the same after the cut
    assert np.linalg.norm(lm.points[-1] - pb - offset @ np.eye(2), axis=1).mean() < 0.08 * width
    assert np.allclose(
        lm.points[5:10], lm.points[4]
    )  # max_gap 0: the lost frames hold the last found


def test_config_validates() -> None:
    with pytest.raises(TypeError, match="anchor_matcher"):
        fl.VideoMatchConfig(anchor_matcher={"global_radius": 0.35})  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="min_score"):
        fl.VideoMatchConfig(min_score=1.5)
    with pytest.raises(ValueError, match="crop_size"):
        fl.VideoMatchConfig(crop_size=100)
    with pytest.raises(ValueError, match="batch"):
        fl.VideoMatchConfig(batch=0)
    with pytest.raises(ValueError, match="complete_points"):
        fl.VideoMatchConfig(complete_points=(27, 68))
    assert fl.VideoMatchConfig(complete_points=()).complete_points == ()
    with pytest.raises(ValueError, match="lip_band_sigma"):
        fl.VideoMatchConfig(lip_band_sigma=0.0)
    assert fl.VideoMatchConfig(lip_band_sigma=None).lip_band_sigma is None


def test_crop_transform_maps_pixel_centres() -> None:
    pts = template_face(50.0, (120.0, 80.0))
    a = crop_transform(pts, 1.5, 64)
    k = a[0, 0]
    lo, hi = pts.min(0), pts.max(0)
    assert k == pytest.approx(64 / (1.5 * (hi - lo).max()))
    centre = (lo + hi) / 2
    mapped = centre @ a[:, :2].T + a[:, 2]
    np.testing.assert_allclose(mapped, [31.5, 31.5])  # the box centre is the crop centre


def _image_with_corner_edge_flat() -> np.ndarray:
    img = np.full((120, 120), 200, np.uint8)
    img[20:60, 20:60] = 40  # a dark square: corner at (20, 20), vertical edge at x = 20 below it
    return img


def test_structure_information_is_anisotropic() -> None:
    img = _image_with_corner_edge_flat()
    pts = np.array([[19.5, 19.5], [19.5, 45.0], [95.0, 95.0], [45.0, 19.5]])
    info = structure_information(img, pts, sigma=3.0)
    vals = np.linalg.eigvalsh(info)
    assert vals[0].min() > 0.2  # corner: both directions
    assert vals[1, 1] > 0.5 and vals[1, 0] < 0.05  # vertical edge: x only
    assert abs(info[1, 0, 0]) > 10 * abs(info[1, 1, 1])
    assert np.abs(info[2]).max() < 1e-6  # flat
    assert vals[3, 1] > 0.5 and info[3, 1, 1] > 10 * abs(info[3, 0, 0])  # horizontal edge: y only


def test_structure_coherence_damps_only_along_edges() -> None:
    img = _image_with_corner_edge_flat()
    pts = np.array([[19.5, 19.5], [19.5, 45.0]])
    plain = np.linalg.eigvalsh(structure_information(img, pts, sigma=3.0))
    damped = np.linalg.eigvalsh(structure_information(img, pts, sigma=3.0, coherence=1.0))
    assert damped[0, 0] > 0.5 * plain[0, 0] > 0.1  # corner: both directions kept
    assert damped[1, 0] < 0.5 * plain[1, 0] + 1e-9  # edge: along-edge information cut
    np.testing.assert_allclose(damped[:, 1], plain[:, 1])  # the strong direction is untouched
    with pytest.raises(ValueError, match="coherence"):
        structure_information(img, pts, sigma=3.0, coherence=-1.0)


def test_smooth_pose_removes_pose_noise_and_keeps_expression() -> None:
    rng = np.random.default_rng(0)
    base = template_face(100.0, (200.0, 200.0))
    steps = 60
    truth = np.repeat(base[None], steps, axis=0)
    truth[30:, 57] += [0.0, 20.0]  # the lower lip drops at frame 30 and stays: an expression step
    truth[30:, 66] += [0.0, 20.0]
    angle = np.deg2rad(rng.normal(0.0, 1.0, steps))
    shift = rng.normal(0.0, 1.5, (steps, 2))
    rot = np.stack(
        [
            np.stack([np.cos(angle), -np.sin(angle)], -1),
            np.stack([np.sin(angle), np.cos(angle)], -1),
        ],
        -2,
    )
    centre = base.mean(axis=0)
    noisy = np.einsum("tab,tnb->tna", rot, truth - centre) + centre + shift[:, None]
    noisy[0] = truth[0]
    out = smooth_pose(noisy, fps=25.0, config=OneEuroConfig(min_cutoff=2.0, beta=10.0))
    assert fl.jitter(out) < 0.5 * fl.jitter(noisy)
    # the expression step arrives in full on its frame (not spread by the filter)
    np.testing.assert_allclose(fl.mouth_opening(out), fl.mouth_opening(noisy), atol=1e-9)
    # a clean sequence is left as it is, and steady motion keeps its timing (no lag)
    np.testing.assert_allclose(
        smooth_pose(truth, fps=25.0, config=OneEuroConfig()), truth, atol=1e-6
    )
    steady = truth + np.arange(steps)[:, None, None] * np.array([3.0, -1.5])
    np.testing.assert_allclose(
        smooth_pose(steady, fps=10.0, config=OneEuroConfig(min_cutoff=2.0, beta=10.0)),
        steady,
        atol=0.05,
    )


def test_shape_fit_recovers_a_similarity_from_edges_and_corners() -> None:
    base = template_face(100.0, (200.0, 200.0))
    model = ShapeModel.around(base)
    angle, scale, shift = np.deg2rad(12.0), 1.2, np.array([15.0, -8.0])
    rot = np.array([[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]])
    moved = scale * (base - base.mean(0)) @ rot.T + base.mean(0) + shift
    rng = np.random.default_rng(0)
    # jaw points measured only across the outline (normal direction), the rest fully
    normal = np.gradient(moved[:17], axis=0)[:, ::-1] * [1, -1]
    normal /= np.linalg.norm(normal, axis=1, keepdims=True)
    info = np.repeat(np.eye(2)[None], 68, axis=0)
    info[:17] = np.einsum("ni,nj->nij", normal, normal)
    obs = moved.copy()
    tangent = normal[:, ::-1] * [-1, 1]
    obs[:17] += 30.0 * tangent * rng.uniform(-1, 1, (17, 1))  # unobservable slides along the jaw
    obs[40] += [40.0, 0.0]  # one outlier
    fit = fit_shape_model(obs, info, model)
    assert np.linalg.norm(fit.points - moved, axis=1).max() < 1.5
    assert fit.weights[40] < 0.2 and np.median(fit.weights) == 1.0
    fused = fuse_with_model(obs, info * fit.weights[:, None, None], fit.points, 1.0 / 5.0**2)
    assert np.linalg.norm(fused[:17] - moved[:17], axis=1).max() < 1.5  # the slide is gone
    assert np.linalg.norm(fused[40] - moved[40]) < 0.6 * 40.0  # pulled towards the model


def test_parallax_modes_carry_an_unseen_nose_with_a_turning_head() -> None:
    """A head turned by 0.3 rad: the points move across by depth x turn (FACE_DEPTH). With only
    the eyes, lips and jaw seen, the model with parallax modes puts the nose where it went; the
    model without them leaves it where the similarity takes it."""
    from faceshot_landmarks._shape_fit import FACE_DEPTH

    base = template_face(100.0, (200.0, 200.0))
    width = float(np.linalg.norm(base[16] - base[0]))
    turned = base.copy()
    turned[:, 0] += (FACE_DEPTH - FACE_DEPTH.mean()) * width * 0.3
    info = np.repeat(np.eye(2)[None], 68, axis=0)
    info[27:36] = 0.0  # a flat nose: no measurement
    info[27:36] += np.eye(2) * 1e-6
    model = ShapeModel.around(base)
    with_turn = model.with_parallax(0.3)
    assert with_turn.num_modes == model.num_modes + 2
    np.testing.assert_allclose(with_turn.variances[-2:], 0.09)

    def nose_error(m: ShapeModel) -> float:
        fit = fit_shape_model(turned, info, m)
        return float(np.linalg.norm(fit.points[27:36] - turned[27:36], axis=1).mean())

    assert nose_error(with_turn) < 0.5 and nose_error(model) > 3.0
    # the modes turn with the face: a rolled character turns about its own axes
    a = np.deg2rad(30.0)
    rot = np.array([[np.cos(a), -np.sin(a)], [np.sin(a), np.cos(a)]])
    rolled = ShapeModel.around(base @ rot.T).with_parallax(0.3)
    np.testing.assert_allclose(rolled.modes[-2:], with_turn.modes[-2:] @ rot.T, atol=1e-12)
    with pytest.raises(ValueError, match="turn_sd"):
        model.with_parallax(0.0)
    with pytest.raises(ValueError, match="depth"):
        model.with_parallax(0.3, np.zeros(5))
    with pytest.raises(ValueError, match="`parallax`"):
        fl.VideoMatchConfig(parallax=-1.0)


def _shapes_with_a_nose_that_follows(count: int) -> np.ndarray:
    """(count, 68, 2) faces whose nose (27-35) sits at a fixed fraction of the way from the
    eyes to the mouth, with the mouth at random heights, in random poses."""
    rng = np.random.default_rng(1)
    base = template_face(100.0, (0.0, 0.0))
    out = []
    for _ in range(count):
        shape = base + rng.normal(0, 0.5, (68, 2))
        shape[48:68, 1] += rng.uniform(-15, 15)  # the mouth lower or higher
        eyes, mouth = shape[36:48].mean(0), shape[48:60].mean(0)
        shape[27:36] = base[27:36] - base[36:48].mean(0) + eyes  # nose: eyes + 0.6 (mouth - eyes)
        shape[27:36, 1] += 0.6 * (mouth - eyes)[1] - 0.6 * (base[48:60] - base[36:48]).mean(0)[1]
        angle, scale = rng.uniform(-0.5, 0.5), rng.uniform(0.5, 2.0)
        rot = np.array([[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]])
        out.append(scale * shape @ rot.T + rng.uniform(-50, 50, 2))
    return np.stack(out)


def test_conditional_shape_places_the_nose_from_eyes_and_lips() -> None:
    shapes = _shapes_with_a_nose_that_follows(40)
    model = ConditionalShape.from_shapes(shapes[:30], range(36, 60), range(27, 36), noise=1e-4)
    for truth in shapes[30:]:
        wrong = truth.copy()
        wrong[27:36] += [25.0, 40.0]  # matched on something else entirely
        got = model.predict(wrong)
        width = np.linalg.norm(truth[16] - truth[0])
        assert np.abs(got[27:36] - truth[27:36]).max() < 0.02 * width  # the nose is back
        np.testing.assert_array_equal(
            np.delete(got, np.r_[27:36], 0), np.delete(wrong, np.r_[27:36], 0)
        )
    with pytest.raises(ValueError, match="overlap"):
        ConditionalShape.from_shapes(shapes, range(30, 60), range(27, 36), noise=1e-3)


def test_lip_band_moves_a_flat_inner_lip_with_its_outer_lip() -> None:
    anchor = template_face(100.0, (200.0, 200.0))
    frame = anchor.copy()
    frame[[56, 57, 58]] += [0.0, 12.0]  # the lower lip drops
    frame[[65, 66, 67]] += [0.0, 3.0]  # its inner edge, measured on a teeth edge, lags
    info = np.repeat(np.eye(2)[None], 68, axis=0)
    info[[65, 66, 67]] = np.diag([0.0, 0.0])  # ... and the flow there is worthless
    info[[61, 62, 63]] = np.diag([0.0, 100.0])  # the upper inner lip is sharply measured
    got, g = lip_band(frame, info, anchor, 1.0)
    np.testing.assert_allclose(got[[65, 66, 67]], anchor[[65, 66, 67]] + [0.0, 12.0])
    np.testing.assert_allclose(got[[61, 62, 63]], frame[[61, 62, 63]], atol=1e-12)  # kept
    keep = np.setdiff1d(np.arange(68), np.r_[60:68])
    np.testing.assert_array_equal(got[keep], frame[keep])
    np.testing.assert_allclose(g[66], np.eye(2))
    with pytest.raises(ValueError, match="band_information"):
        lip_band(frame, info, anchor, 0.0)


def test_shape_model_modes_follow_the_characters_frame() -> None:
    shapes = np.stack(
        [
            template_face(100.0, (200.0, 200.0)) + np.random.default_rng(k).normal(0, 2, (68, 2))
            for k in range(12)
        ]
    )
    prior = fl.ShapePrior.from_annotations(shapes)
    base = template_face(100.0, (200.0, 200.0))
    rot = np.array([[0.0, -1.0], [1.0, 0.0]])  # the character lies on its side
    turned = ShapeModel.around((base - 200) @ rot.T, prior)
    upright = ShapeModel.around(base, prior)
    np.testing.assert_allclose(turned.modes, upright.modes @ rot.T, atol=1e-9)
    np.testing.assert_allclose(turned.variances, upright.variances)


def test_track_figures_known_answers() -> None:
    truth = synthetic_motion(template_face(100.0, (200.0, 200.0)), 60)
    same = fl.track_figures(truth, truth)
    assert same["error"] == 0 and same["motion_error"] == 0
    assert same["mouth_corr"] == pytest.approx(1.0) and same["eye_corr"] == pytest.approx(1.0)
    shifted = fl.track_figures(truth + np.array([5.0, 0.0]), truth)
    assert shifted["error"] == pytest.approx(
        5.0 / 100.0 * (100 / np.linalg.norm(truth[0, 16] - truth[0, 0])), rel=0.2
    )
    assert shifted["motion_error"] < 0.15 * shifted["error"]  # a start offset is not motion error
    assert shifted["error_first"] == pytest.approx(shifted["error"], rel=0.2)
    mouth_off = truth.copy()
    mouth_off[:, 48:] += np.array([0.0, 6.0])
    parts = fl.track_figures(mouth_off, truth)
    assert parts["error_mouth"] > 0 and parts["error_face_boundary"] == parts["error_eyes"] == 0
    assert parts["error"] == pytest.approx(parts["error_mouth"] * 20 / 68)
    frozen = fl.track_figures(np.repeat(truth[:1], 60, axis=0), truth)
    assert (
        np.isnan(frozen["mouth_corr"]) and frozen["mouth_range"] == 0
    )  # stillness is not rewarded
    line = np.cumsum(np.ones((10, 68, 2)), axis=0) + template_face(50.0, (100.0, 100.0))
    assert fl.jitter(line) == pytest.approx(0.0, abs=1e-12)  # constant velocity: no jitter


def test_synthetic_motion_opens_blinks_and_turns() -> None:
    face = template_face(100.0, (200.0, 200.0))
    seq = synthetic_motion(face, 120, mouth_gap=0.25)
    np.testing.assert_array_equal(seq[0], face)
    width = np.linalg.norm(face[16] - face[0])
    mouth = fl.mouth_opening(seq, np.full(120, width))
    eyes = fl.eye_opening(seq, np.full(120, width))
    assert mouth.max() == pytest.approx(max(0.25, mouth[0] + 0.12), rel=0.03)
    assert eyes.min() < 0.01 * eyes[0] + 1e-9
    angle = np.degrees(np.arctan2(*(seq[:, 45] - seq[:, 36])[:, ::-1].T))
    assert np.ptp(angle) > 25


def test_drawing_steps_fix_drawn_marks_and_jaw_and_leave_photos_alone(
    emoji_setup, tmp_path
) -> None:
    """``eyes``, ``mouth``, ``outline`` and ``brows`` move the found eyes and lips onto the drawn
    marks and the jaw onto the drawn outline on flat art, ``nose`` places the nose by the rule,
    and none of them does anything where the face is photo-like (``drawn_flat``)."""
    import attrs
    from scipy import ndimage

    image, points, ex, gallery = emoji_setup
    frames = [_moved(image, points, 0.0, (2.0 * k, 0.0))[0] for k in range(4)]
    face = ndimage.binary_fill_holes((frames[0] < 230).any(axis=-1))
    marks, _ = ndimage.label(frames[0].mean(axis=-1) < 90)  # eyes and mouth: dark brown
    mouth, right, left = np.argsort(np.bincount(marks.ravel())[1:])[::-1][:3] + 1  # largest
    if ndimage.center_of_mass(marks == right)[1] > ndimage.center_of_mass(marks == left)[1]:
        right, left = left, right
    lips = np.concatenate(fl.mouth_from_mask(marks == mouth)[:2])  # the annotation rules
    eyes = np.concatenate([fl.contour_points(marks == e, n=6) for e in (right, left)])
    to_outline = ndimage.distance_transform_edt(~(face ^ ndimage.binary_erosion(face)))
    off = attrs.evolve(_CONFIG, eyes=None, mouth=None, nose=False, outline=None, brows=None)
    drawn = _write(tmp_path / "drawn.mp4", frames)
    on_pts = fl.match_video(drawn, ex, gallery, config=_CONFIG, progress=False).points
    off_pts = fl.match_video(drawn, ex, gallery, config=off, progress=False).points

    def off_outline(p: np.ndarray) -> float:  # mean distance of frame 0's jaw from the outline
        xy = np.clip(np.rint(p[0, :17]).astype(int), 0, np.array(face.shape[::-1]) - 1)
        return float(to_outline[xy[:, 1], xy[:, 0]].mean())

    def off_lips(p: np.ndarray) -> float:  # frame 0's lips from the rule's on the drawn mouth
        return float(np.linalg.norm(p[0, 48:68] - lips, axis=1).mean())

    def off_eyes(p: np.ndarray) -> float:  # frame 0's eyes from the rule's on the drawn eyes
        return float(np.linalg.norm(p[0, 36:48] - eyes, axis=1).mean())

    assert off_outline(on_pts) < min(2.0, 0.5 * off_outline(off_pts))
    assert off_lips(on_pts) < min(2.0, 0.5 * off_lips(off_pts))
    assert off_eyes(on_pts) < min(1.0, 0.5 * off_eyes(off_pts))

    def off_nose(p: np.ndarray) -> float:  # frame 0's nose from the rule's on its eyes and lips
        return float(np.linalg.norm(p[0, 27:36] - fl.nose_by_rule(p[0])[27:36], axis=1).mean())

    assert off_nose(on_pts) < min(1.0, 0.5 * off_nose(off_pts))
    noisy = [
        np.clip(f + np.random.default_rng(k).normal(0.0, 12.0, f.shape), 0, 255).astype(np.uint8)
        for k, f in enumerate(frames)
    ]
    photo = _write(tmp_path / "photo.mp4", noisy)
    np.testing.assert_array_equal(
        fl.match_video(photo, ex, gallery, config=_CONFIG, progress=False).points,
        fl.match_video(photo, ex, gallery, config=off, progress=False).points,
    )


def test_drawn_brows_place_the_anchor_brows(emoji_setup, tmp_path) -> None:
    """With a pair of brows drawn over the character's eyes, frame 0's brows lie on them by the
    gallery's rule (``BrowConfig.drawn``); without the search they do not."""
    import attrs
    import cv2
    from scipy import ndimage

    image, points, ex, gallery = emoji_setup
    iod = float(np.linalg.norm(points[42:48].mean(axis=0) - points[36:42].mean(axis=0)))
    bars = np.zeros(image.shape[:2], np.uint8)
    for eye in (slice(36, 42), slice(42, 48)):
        (x0, top), (x1, _) = points[eye].min(axis=0), points[eye].max(axis=0)
        corner = (round(x0 - 3), round(top - 0.3 * iod))
        cv2.rectangle(bars, corner, (round(x1 + 3), round(top - 0.2 * iod)), 1, -1)
    browed = image.copy()
    browed[bars > 0] = (102, 69, 0)  # Twemoji's dark brown
    labels, n = ndimage.label(bars)
    assert n == 2
    order = np.argsort([ndimage.center_of_mass(labels == k)[1] for k in (1, 2)]) + 1
    shift = (320 - image.shape[1]) / 2  # _moved's canvas, no rotation
    truth = np.concatenate([fl.brow_from_mask(labels == k) for k in order]) + shift
    frames = [_moved(browed, points, 0.0, (2.0 * k, 0.0))[0] for k in range(3)]
    video = _write(tmp_path / "browed.mp4", frames)
    on = fl.match_video(video, ex, gallery, config=_CONFIG, progress=False).points
    no_search = attrs.evolve(_CONFIG, brows=fl.BrowConfig(drawn=False))
    off = fl.match_video(video, ex, gallery, config=no_search, progress=False).points

    def off_brows(p: np.ndarray) -> float:
        return float(np.linalg.norm(p[0, 17:27] - truth, axis=1).mean())

    assert off_brows(on) < min(1.0, 0.5 * off_brows(off))
