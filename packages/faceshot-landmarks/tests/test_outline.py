"""The jaw moved onto the drawn outline (``faceshot_landmarks.jaw_on_outline``), the face
region it follows, and the rules for undrawn brows and noses."""

from __future__ import annotations

import numpy as np
import pytest

from faceshot_landmarks import (
    BrowConfig,
    OutlineConfig,
    brow_stroke,
    brows_where_undrawn,
    eye_centres,
    face_region,
    jaw_on_outline,
    nose_by_rule,
    ray_exit,
    resample_polyline,
    undrawn_brows,
    undrawn_nose,
)

SIZE = 256
CENTRE = np.array([128.0, 120.0])  # the face disk's centre
RADIUS = 80.0
EYE_Y = 110.0


def _disk(radius: float, colour: tuple[int, int, int], image: np.ndarray) -> None:
    yy, xx = np.mgrid[0:SIZE, 0:SIZE]
    inside = np.hypot(xx - CENTRE[0], yy - CENTRE[1]) <= radius
    image[inside] = colour


def _face(hair: bool = False) -> np.ndarray:
    """A yellow disk face on white; with ``hair``, inside a dark ring 25 px wider."""
    image = np.full((SIZE, SIZE, 3), 255, np.uint8)
    if hair:
        _disk(RADIUS + 25.0, (40, 40, 40), image)
    _disk(RADIUS, (250, 200, 60), image)
    return image


def _landmarks(jaw_radius: float, start: float) -> np.ndarray:
    """68 points: eyes level at EYE_Y; the jaw on a circle of ``jaw_radius`` about the disk
    centre, from ``start`` radians below the image-left horizontal round to the mirror
    angle (a matcher's jaw that starts too low and sits inside the outline)."""
    pts = np.zeros((68, 2))
    for sl, cx in ((slice(36, 42), 98.0), (slice(42, 48), 158.0)):
        t = np.linspace(0, 2 * np.pi, 6, endpoint=False)
        pts[sl] = np.stack([cx + 10 * np.cos(t), EYE_Y + 5 * np.sin(t)], axis=1)
    pts[17:36] = CENTRE + np.array([0.0, -30.0])
    pts[48:68] = CENTRE + np.array([0.0, 40.0])
    a = np.linspace(np.pi - start, start, 17)
    pts[0:17] = CENTRE + jaw_radius * np.stack([np.cos(a), np.sin(a)], axis=1)
    return pts


def _arc_steps(points: np.ndarray) -> np.ndarray:
    return np.linalg.norm(np.diff(points, axis=0), axis=1)


def test_jaw_moves_onto_the_outline_from_eye_level_and_evenly() -> None:
    image = _face()
    matched = _landmarks(jaw_radius=RADIUS - 10.0, start=0.45)
    before = matched.copy()
    out = jaw_on_outline(image, matched)
    np.testing.assert_array_equal(matched, before)  # input untouched
    np.testing.assert_array_equal(out[17:], matched[17:])  # only the jaw moves
    # premise: the matched jaw is 10 px inside the outline and starts well below eye level
    assert np.abs(np.hypot(*(matched[0:17] - CENTRE).T) - RADIUS).min() > 9.0
    assert matched[0, 1] - EYE_Y > 25.0
    dist = np.abs(np.hypot(*(out[0:17] - CENTRE).T) - RADIUS)
    assert dist.max() < 2.0
    assert abs(out[0, 1] - EYE_Y) < 3.0 and abs(out[16, 1] - EYE_Y) < 3.0
    steps = _arc_steps(out[0:17])
    assert steps.std() / steps.mean() < 0.05


def test_the_nearest_outline_wins_over_hair_farther_out() -> None:
    image = _face(hair=True)
    out = jaw_on_outline(image, _landmarks(jaw_radius=RADIUS + 4.0, start=0.2))
    dist = np.hypot(*(out[0:17] - CENTRE).T)
    assert np.abs(dist - RADIUS).max() < 2.0  # the face's edge, not the hair's at +25 px


def test_without_an_outline_the_jaw_keeps_its_matched_curve() -> None:
    blank = np.full((SIZE, SIZE, 3), 255, np.uint8)
    matched = _landmarks(jaw_radius=70.0, start=0.3)
    out = jaw_on_outline(blank, matched)
    dense = resample_polyline(matched[0:17], 2000)
    gap = np.linalg.norm(out[2:15, None] - dense[None], axis=2).min(axis=1)
    assert gap.max() < 2.0  # on the matched curve (polar interpolation), where it reaches ...
    assert abs(out[0, 1] - EYE_Y) < 1.0 and abs(out[16, 1] - EYE_Y) < 1.0  # ... and on to eye level
    grey = jaw_on_outline(_face()[..., 2], _landmarks(RADIUS - 6.0, 0.3))
    assert np.abs(np.hypot(*(grey[0:17] - CENTRE).T) - RADIUS).max() < 2.0


def test_degenerate_faces_are_returned_unchanged() -> None:
    pts = np.full((68, 2), 50.0)
    np.testing.assert_array_equal(jaw_on_outline(_face(), pts), pts)


def test_resample_polyline_spaces_points_evenly_and_keeps_the_ends() -> None:
    line = np.array([[0.0, 0.0], [1.0, 0.0], [10.0, 0.0]])
    out = resample_polyline(line, 11)
    np.testing.assert_allclose(out[:, 0], np.arange(11.0))
    np.testing.assert_allclose(resample_polyline(np.zeros((3, 2)), 4), np.zeros((4, 2)))


def test_outline_config_names_the_bad_setting() -> None:
    with pytest.raises(ValueError, match="window"):
        OutlineConfig(window=0.0)
    with pytest.raises(ValueError, match="rays"):
        OutlineConfig(rays=3)
    with pytest.raises(ValueError, match="OutlineConfig `region` must be > 0 or None"):
        OutlineConfig(region=0.0)
    with pytest.raises(ValueError, match="OutlineConfig `surround` must be in"):
        OutlineConfig(surround=1.5)
    with pytest.raises(ValueError, match="BrowConfig `stroke`"):
        BrowConfig(stroke=-1.0)


def test_undrawn_brows_follow_the_gallery_rule() -> None:
    eye = _landmarks(RADIUS, 0.3)[36:42]  # x 88-108
    top = EYE_Y - 5.0 * np.sqrt(3.0) / 2.0
    brow = undrawn_brows(eye, 60.0)
    np.testing.assert_allclose(brow[[0, 4], 0], [88.0 - 4.8, 108.0 + 4.8])
    np.testing.assert_allclose(brow[[0, 4], 1], top - 6.0)
    np.testing.assert_allclose(brow[2], [98.0, top - 6.0 - 3.6])


def _brow_image(drawn: bool) -> tuple[np.ndarray, np.ndarray]:
    """The disk face with dark eyes; with ``drawn``, a dark brow bar 6 px thick over each eye
    (y 86-91); and landmarks whose brows lie on those bars."""
    image = _face()
    pts = _landmarks(RADIUS, 0.3)
    image[104:117, 86:111] = image[104:117, 146:171] = 30  # the eyes
    if drawn:
        image[86:92, 84:113] = image[86:92, 144:173] = 60
    for sl, cx in ((slice(17, 22), 98.0), (slice(22, 27), 158.0)):
        pts[sl] = np.stack([cx + np.linspace(-12, 12, 5), np.full(5, 88.5)], axis=1)
    return image, pts


def test_brows_on_a_drawn_stroke_are_kept_and_undrawn_ones_follow_the_rule() -> None:
    image, pts = _brow_image(drawn=True)
    before = pts.copy()
    np.testing.assert_array_equal(brows_where_undrawn(image, pts), pts)
    np.testing.assert_array_equal(pts, before)  # input untouched
    bare, pts = _brow_image(drawn=False)
    out = brows_where_undrawn(bare, pts)
    iod = 60.0
    np.testing.assert_allclose(out[17:22], undrawn_brows(pts[36:42], iod))
    np.testing.assert_allclose(out[22:27], undrawn_brows(pts[42:48], iod))
    np.testing.assert_array_equal(out[:17], pts[:17])
    np.testing.assert_array_equal(out[27:], pts[27:])


def test_brow_stroke_tells_a_stroke_from_an_edge() -> None:
    image, pts = _brow_image(drawn=True)
    assert brow_stroke(image, pts[17:22], 60.0) > BrowConfig().stroke  # on the bar
    top_of_eye = np.stack([np.linspace(90, 106, 5), np.full(5, 104.0)], axis=1)
    assert brow_stroke(image, top_of_eye, 60.0) < 0.5 * BrowConfig().stroke  # one side only
    assert brow_stroke(image[..., 0], pts[17:22], 60.0) > 0.0  # grey images too


REGION = OutlineConfig(region=60.0)


def _head(face: tuple[int, int, int] = (235, 200, 150)) -> np.ndarray:
    """A brown head 30 px wider than the face disk, with ears at eye level, and the face disk
    (``face`` colour) inside it: a monkey's face, whose jaw runs round the face, not the head."""
    image = np.full((SIZE, SIZE, 3), 255, np.uint8)
    yy, xx = np.mgrid[0:SIZE, 0:SIZE]
    for cx, r in ((CENTRE[0], RADIUS + 30.0), (CENTRE[0] - 110.0, 22.0), (CENTRE[0] + 110.0, 22.0)):
        cy = CENTRE[1] if r > 30 else EYE_Y
        image[np.hypot(xx - cx, yy - cy) <= r] = (120, 70, 40)
    _disk(RADIUS, face, image)
    return image


def test_the_face_region_keeps_the_jaw_off_the_head_and_ears() -> None:
    image = _head()
    on_head = _landmarks(jaw_radius=RADIUS + 28.0, start=0.1)  # the matcher's jaw on the head
    out = jaw_on_outline(image, on_head, REGION)
    assert np.abs(np.hypot(*(out[0:17] - CENTRE).T) - RADIUS).max() < 2.0
    assert abs(out[0, 1] - EYE_Y) < 3.0 and abs(out[16, 1] - EYE_Y) < 3.0
    kept = jaw_on_outline(image, on_head)  # the edge search alone (the default)
    assert np.abs(np.hypot(*(kept[2:15] - CENTRE).T) - RADIUS).min() > 20.0
    region = face_region(image, on_head, 60.0)
    assert region is not None and region[int(CENTRE[1]), int(CENTRE[0])]
    assert not region[int(EYE_Y), int(CENTRE[0] - 110.0)]  # not the ear


def test_a_two_tone_face_keeps_its_whole_outline() -> None:
    """A face shaded on one side (a darker crescent, as Firefox OS draws them) has the
    background outside its lit part on some rays and the shade on others: the lit part is
    not the face (``surround``)."""
    image = _face()
    yy, xx = np.mgrid[0:SIZE, 0:SIZE]
    shade = (np.hypot(xx - CENTRE[0], yy - CENTRE[1]) <= RADIUS) & (
        np.hypot(xx - CENTRE[0] + 30.0, yy - CENTRE[1] + 20.0) > RADIUS
    )
    image[shade] = (230, 140, 30)
    matched = _landmarks(jaw_radius=RADIUS + 3.0, start=0.3)
    out = jaw_on_outline(image, matched, REGION)
    assert np.abs(np.hypot(*(out[0:17] - CENTRE).T) - RADIUS).max() < 2.0
    lit = jaw_on_outline(image, matched, OutlineConfig(region=60.0, surround=0.0))  # the lit part
    assert np.abs(np.hypot(*(lit[0:17] - CENTRE).T) - RADIUS).max() > 8.0


def test_no_face_region_where_the_mouth_runs_out_of_the_face() -> None:
    image = _face()
    pts = _landmarks(RADIUS, 0.3)
    assert face_region(image, pts, 60.0) is not None
    image[150:230, 118:139] = (220, 60, 80)  # a tongue from the mouth's centre past the chin
    assert face_region(image, pts, 60.0) is None
    assert face_region(np.full_like(image, 255), np.full((68, 2), np.nan), 60.0) is None


def test_ray_exit_first_and_farthest() -> None:
    mask = np.zeros((50, 100), bool)
    mask[20:30, 0:40] = mask[20:30, 50:90] = True  # a gap at x 40-49
    origin = np.array([5.0, 25.0])
    np.testing.assert_allclose(ray_exit(mask, origin, np.array([0.0])), [[39.0, 25.0]])
    far = ray_exit(mask, origin, np.array([0.0, np.pi / 2]), farthest=True)
    np.testing.assert_allclose(far, [[89.0, 25.0], [5.0, 29.0]])
    np.testing.assert_allclose(ray_exit(mask, np.array([5.0, 5.0]), [0.0], farthest=True), [[5, 5]])


def test_a_large_face_is_searched_without_error() -> None:
    """Faces over ~450 px wide once overflowed ``cv2.remap``'s 32767-wide maps."""
    scale = 8.0
    image = np.kron(_face(), np.ones((8, 8, 1), np.uint8))
    matched = _landmarks(jaw_radius=RADIUS - 6.0, start=0.3) * scale
    out = jaw_on_outline(image, matched)
    dist = np.hypot(*(out[0:17] - CENTRE * scale).T)
    assert np.abs(dist - RADIUS * scale).max() < 2.0 * scale


def test_eye_centres_sit_between_the_lids_of_an_arc() -> None:
    """A closed eye drawn as an arc (^) has its corners below its middle."""
    pts = _landmarks(RADIUS, 0.3)
    arc = np.array([[88, 112], [95, 104], [101, 104], [108, 112], [101, 108], [95, 108]], float)
    pts[36:42] = arc
    pts[42:48] = arc + np.array([60.0, 0.0])
    np.testing.assert_allclose(eye_centres(pts), [[98.0, 106.0], [158.0, 106.0]])
    assert pts[36:42, 1].mean() > 107.0  # the 6 points' mean sits lower


def test_undrawn_nose_follows_the_gallery_rule() -> None:
    pts = _landmarks(RADIUS, 0.3)  # eyes centred at y 110, x 88-108 and 148-168
    pts[51] = [128.0, 150.0]
    nose = undrawn_nose(pts[36:48], pts[51])
    tip = 110.0 + 0.62 * 40.0
    lid = 110.0 + 5.0 * np.sqrt(3.0) / 2.0  # points 37-38 (this test eye's run +y first)
    np.testing.assert_allclose(nose[:4, 0], 128.0)
    np.testing.assert_allclose(nose[[0, 3], 1], [lid, tip])
    np.testing.assert_allclose(nose[4:, 0], 128.0 + 12.0 * np.linspace(-1.0, 1.0, 5))
    np.testing.assert_allclose(nose[[4, 6], 1], [tip + 0.02 * 60.0, tip + 0.06 * 60.0])
    out = nose_by_rule(pts)
    np.testing.assert_allclose(out[27:36], nose)
    np.testing.assert_array_equal(
        np.delete(out, np.s_[27:36], axis=0), np.delete(pts, np.s_[27:36], axis=0)
    )
