"""Face localisation, crops mapped back, flip-consistent matching, dlib/matcher path, weak parts."""

from __future__ import annotations

from pathlib import Path

import attrs
import numpy as np
import pytest
from faceshot_retarget.ibug68 import MIRROR

import faceshot_landmarks as fl
from faceshot_landmarks.testing import (
    place_on_canvas,
    render_svg,
    twemoji_keypoints,
    twemoji_pseudo68,
)

TWEMOJI = sorted((Path(__file__).parent / "data" / "twemoji").glob("*.svg"))


def _disk_image() -> np.ndarray:
    import cv2

    im = np.full((300, 400, 3), 255, np.uint8)
    cv2.circle(im, (300, 100), 60, (200, 40, 40), -1)
    cv2.circle(im, (80, 220), 30, (40, 40, 200), -1)
    return im


def test_foreground_candidates_largest_first() -> None:
    cands = fl.foreground_candidates(_disk_image())
    assert [c.source for c in cands] == ["foreground", "foreground"]
    assert cands[0].area > cands[1].area
    np.testing.assert_allclose(cands[0].box, [240, 40, 360, 160], atol=2)
    np.testing.assert_allclose(cands[1].box, [50, 190, 110, 250], atol=2)


def test_foreground_candidates_alpha_and_textured() -> None:
    rgba = np.zeros((100, 120, 4), np.uint8)
    rgba[20:60, 30:90] = (10, 200, 10, 255)
    (c,) = fl.foreground_candidates(rgba)
    assert c.source == "alpha"
    np.testing.assert_allclose(c.box, [30, 20, 89, 59])
    rng = np.random.default_rng(0)
    assert fl.foreground_candidates(rng.integers(0, 255, (80, 80, 3), dtype=np.uint8)) == []


@pytest.mark.parametrize("box", [(240, 40, 360, 160), (0, 0, 50, 300), (350, 250, 399, 299)])
def test_crop_square_maps_back_exactly(box) -> None:
    im = _disk_image()
    crop, to_image = fl.crop_square(im, box, margin=1.2, size=96)
    assert crop.shape == (96, 96, 3) and crop.dtype == np.uint8
    # crop corners' pixel edges map onto a square of side margin * (longer box side + 1)
    side = 1.2 * (max(box[2] - box[0], box[3] - box[1]) + 1)
    assert to_image.scale == pytest.approx(side / 96)
    centre = to_image([[47.5, 47.5]])[0]
    np.testing.assert_allclose(centre, [(box[0] + box[2]) / 2, (box[1] + box[3]) / 2], atol=1e-9)
    # a pixel inside the image lands where the inverse map says
    p = np.array([[300.0, 100.0]])
    q = to_image.inverse(p)[0]
    if 0 <= q[0] < 96 and 0 <= q[1] < 96:
        assert tuple(crop[round(q[1]), round(q[0])]) == (200, 40, 40)


def test_crop_square_does_not_modify_input() -> None:
    im = _disk_image()
    before = im.copy()
    fl.crop_square(im, (0, 0, 399, 299), size=64)
    np.testing.assert_array_equal(im, before)


@pytest.fixture(scope="module")
def twemoji_gallery(tmp_path_factory):
    ex = fl.ClassicalExtractor()
    feats, pts, truths = [], [], {}
    for p in TWEMOJI:
        svg = p.read_text()
        kp = twemoji_keypoints(svg, 256)
        img = render_svg(svg, 256)
        feats.append(ex.extract(img))
        pts.append(twemoji_pseudo68(kp))
        truths[p.stem] = (img, kp)
    gallery = fl.add_domain(
        tmp_path_factory.mktemp("g") / "g", "emoji", feats[1:], np.stack(pts[1:])
    )
    return ex, gallery, truths[TWEMOJI[0].stem]


def test_small_off_centre_character_is_found_and_mapped_back(twemoji_gallery) -> None:
    ex, gallery, (img, kp) = twemoji_gallery
    truth = np.array([kp.right_eye, kp.left_eye])
    canvas = np.full((600, 900, 3), 255, np.uint8)
    big, moved = place_on_canvas(img, truth, canvas, height=150, centre=(700.0, 420.0))
    iod = float(np.linalg.norm(moved[1] - moved[0]))
    config = fl.LocateConfig(human="matcher", flip_test=False)
    res = fl.locate_and_match(big, ex, gallery, config=config)
    assert res.path == "matcher" and res.image_size == (600, 900)
    assert res.face_box is not None and 620 <= res.face_box[0] <= 630
    eyes = np.stack([res.points[36:42].mean(0), res.points[42:48].mean(0)])
    located = float(np.linalg.norm(eyes - moved, axis=1).mean() / iod)
    whole = fl.match(ex.extract(big), gallery)
    eyes_whole = np.stack([whole.points[36:42].mean(0), whole.points[42:48].mean(0)])
    assert located < 0.15
    assert located < float(np.linalg.norm(eyes_whole - moved, axis=1).mean() / iod)


def test_face_choice_and_out_of_range(twemoji_gallery) -> None:
    ex, gallery, (img, _kp) = twemoji_gallery
    canvas = np.full((400, 900, 3), 255, np.uint8)
    two, _ = place_on_canvas(img, np.zeros((1, 2)), canvas, height=300, centre=(200.0, 200.0))
    two, _ = place_on_canvas(img, np.zeros((1, 2)), two, height=120, centre=(700.0, 200.0))
    config = fl.LocateConfig(human="matcher", flip_test=False)
    big = fl.locate_and_match(two, ex, gallery, config=config)
    small = fl.locate_and_match(two, ex, gallery, face=1, config=config)
    assert big.num_faces == small.num_faces == 2
    assert big.points[:, 0].mean() < 450 < small.points[:, 0].mean()
    with pytest.raises(fl.NoFaceError, match="face 2 requested"):
        fl.locate_and_match(two, ex, gallery, face=2, config=config)


def test_flip_consistent_match_is_mirror_symmetric(twemoji_gallery) -> None:
    ex, gallery, (img, _) = twemoji_gallery
    f, m = ex.extract(img), ex.extract(np.ascontiguousarray(img[:, ::-1]))
    cfg = fl.MatcherConfig(use_prior=False)
    a = fl.match_flip_consistent(f, m, gallery, config=cfg)
    b = fl.match_flip_consistent(m, f, gallery, config=cfg)
    w = img.shape[1]
    mirrored = np.stack([w - 1 - b.points[MIRROR, 0], b.points[MIRROR, 1]], axis=1)
    np.testing.assert_allclose(a.points, mirrored, atol=1e-6)


def test_dlib_path_for_a_photo_matcher_for_a_character(
    human68, dlib_landmarker, twemoji_gallery
) -> None:
    ex, gallery, (img, _) = twemoji_gallery
    photo, gt = human68["takeo"]
    res = fl.locate_and_match(photo, ex, gallery, landmarker=dlib_landmarker)
    assert res.path == "dlib" and res.weak_parts() == () and res.warning() is None
    assert fl.nme(res.points, gt) < 0.06
    res = fl.locate_and_match(
        img, ex, gallery, landmarker=dlib_landmarker, config=fl.LocateConfig(flip_test=False)
    )
    assert res.path == "matcher"
    with pytest.raises(fl.NoFaceError, match="no human face"):
        fl.locate_and_match(
            img, ex, gallery, landmarker=dlib_landmarker, config=fl.LocateConfig(human="dlib")
        )


def test_weak_parts_name_the_low_confidence_parts() -> None:
    conf = np.full(68, 0.2)
    conf[48:68] = 0.001
    conf[27:36] = 0.01
    pts = np.zeros((68, 2))
    res = fl.MatchResult(pts, conf, ("d",) * 5, pts, conf, None, (10, 10))
    assert res.weak_parts(0.05) == ("mouth", "nose")
    assert "mouth 0.001, nose 0.010" in (res.warning(0.05) or "")
    assert (
        fl.MatchResult(pts, np.full(68, 0.2), ("d",) * 5, pts, conf, None, (10, 10)).warning(0.05)
        is None
    )


@pytest.mark.parametrize("colour", [(255, 255, 255), (30, 120, 200)])
def test_blank_image_is_no_face_in_one_line_before_any_work(colour) -> None:
    class NoExtraction:
        def extract(self, image):  # pragma: no cover - must not be reached
            raise AssertionError("a blank image must be rejected before feature extraction")

    im = np.empty((240, 320, 3), np.uint8)
    im[:] = colour
    im[100, 100] = 0  # one stray pixel is still blank
    before = im.copy()
    with pytest.raises(fl.NoFaceError) as info:
        fl.locate_and_match(
            im, NoExtraction(), None, name="blank.png", config=fl.LocateConfig(human="matcher")
        )
    msg = str(info.value)
    assert (
        "\n" not in msg and "blank.png" in msg and "no face-like region" in msg and "blank" in msg
    )
    np.testing.assert_array_equal(im, before)
    assert fl.blank_contrast(_disk_image()) > 20.0


def test_low_match_similarity_is_no_face_in_one_line(twemoji_gallery) -> None:
    ex, gallery, (img, _) = twemoji_gallery
    assert gallery.backbone not in fl.MIN_FACE_SCORE  # no calibrated threshold: no check by default
    fl.locate_and_match(img, ex, gallery, config=fl.LocateConfig(human="matcher"))
    with pytest.raises(fl.NoFaceError) as info:
        fl.locate_and_match(
            img,
            ex,
            gallery,
            name="x.png",
            config=fl.LocateConfig(human="matcher", min_face_score=1.01),
        )
    assert (
        "\n" not in str(info.value)
        and "x.png" in str(info.value)
        and "median match similarity" in str(info.value)
    )
    assert fl.MIN_FACE_SCORE["embedded-mobilenetv2"] == pytest.approx(0.55)


@pytest.mark.parametrize(
    ("angle", "box"),
    [(0.0, (40, 60, 90, 110)), (0.5, (40, 60, 90, 110)), (-0.3, (10, 5, 330, 290))],
)
def test_upright_patch_maps_back_exactly(angle, box) -> None:
    from faceshot_landmarks._locate import upright_patch

    im = np.zeros((300, 400, 3), np.uint8)
    im[80, 70] = 255  # one bright pixel inside both boxes
    before = im.copy()
    patch, pbox, to_image = upright_patch(im, box, angle=angle, side=200)
    np.testing.assert_array_equal(im, before)
    side = max(box[2] - box[0], box[3] - box[1])
    f = max(1.0, 200 / side)
    assert to_image.scale == pytest.approx(1 / f)
    assert to_image.rotation == pytest.approx(angle)
    assert max(pbox[2] - pbox[0], pbox[3] - pbox[1]) == pytest.approx(side * f)
    # box centre onto box centre, and the bright pixel where the inverse map says (bicubic peak)
    np.testing.assert_allclose(
        to_image([0.5 * (pbox[:2] + pbox[2:])])[0],
        [(box[0] + box[2]) / 2, (box[1] + box[3]) / 2],
        atol=1e-9,
    )
    peak = np.unravel_index(np.argmax(patch[..., 0].astype(float)), patch.shape[:2])
    expected = to_image.inverse([[70.0, 80.0]])[0]
    np.testing.assert_allclose([peak[1], peak[0]], expected, atol=0.5 * f + 0.6)


def test_dlib_points_turn_a_tilted_face_upright(human68, dlib_landmarker) -> None:
    """takeo turned by 30 degrees: the predictor on the image as it is drifts (NME ~0.045); on
    the face turned upright it fits as well as on the upright photo (~0.035)."""
    import cv2

    from faceshot_landmarks._locate import dlib_points, eye_roll

    img, gt = human68["takeo"]
    c = gt.mean(axis=0)
    m = cv2.getRotationMatrix2D((float(c[0]), float(c[1])), 30.0, 1.0)
    turned = cv2.warpAffine(
        img, m, img.shape[1::-1], flags=cv2.INTER_CUBIC, borderMode=cv2.BORDER_REFLECT
    )
    tgt = gt @ m[:2, :2].T + m[:, 2]
    assert np.degrees(eye_roll(tgt) - eye_roll(gt)) == pytest.approx(-30.0, abs=1e-6)
    box = dlib_landmarker.detect_faces(turned)[0]
    new = dlib_points(turned, box, dlib_landmarker)
    old = dlib_points(turned, box, dlib_landmarker, upright=False)
    assert fl.nme(new, tgt) < 0.04
    assert fl.nme(new, tgt) < fl.nme(old, tgt)
    upright = dlib_points(img, dlib_landmarker.detect_faces(img)[0], dlib_landmarker)
    assert fl.nme(upright, gt) < 0.04


def test_drawn_eyes_and_mouth_are_read_on_art_and_photos_are_left_alone(twemoji_gallery) -> None:
    """``LocateConfig.eyes`` / ``.mouth``: on drawn art the matched eyes and mouth corners move
    onto the drawn marks (the keypoints measured from the SVG); a photo-like (noisy) image's
    points are those without the two steps."""
    ex, gallery, (img, kp) = twemoji_gallery
    off = fl.LocateConfig(human="matcher", flip_test=False, eyes=None, mouth=None)
    on = attrs.evolve(off, eyes=fl.EyeConfig(), mouth=fl.MouthConfig(carry_closed_inner=False))
    truth = np.array([kp.right_eye, kp.left_eye, kp.mouth_left, kp.mouth_right])
    iod = float(np.linalg.norm(truth[1] - truth[0]))

    def error(points: np.ndarray) -> float:
        got = np.stack([points[36:42].mean(0), points[42:48].mean(0), points[48], points[54]])
        return float(np.linalg.norm(got - truth, axis=1).mean() / iod)

    before = error(fl.locate_and_match(img, ex, gallery, config=off).points)
    after = error(fl.locate_and_match(img, ex, gallery, config=on).points)
    assert after < min(0.03, 0.5 * before)
    assert fl.LocateConfig().eyes == on.eyes and fl.LocateConfig().mouth == on.mouth
    noisy = np.clip(img + np.random.default_rng(0).normal(0, 12, img.shape), 0, 255).astype(
        np.uint8
    )
    kept = noisy.copy()
    np.testing.assert_array_equal(
        fl.locate_and_match(noisy, ex, gallery, config=on).points,
        fl.locate_and_match(noisy, ex, gallery, config=off).points,
    )
    np.testing.assert_array_equal(noisy, kept)
