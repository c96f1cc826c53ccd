"""The lips, eyes and brows re-placed on the drawn marks (``faceshot_landmarks.mouth_on_drawing``,
``eyes_on_drawing``, ``brows_on_drawing``)."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from faceshot_landmarks import (
    INNER_CORNER_INSET,
    INNER_LIP_INSET,
    BrowConfig,
    EyeConfig,
    MouthConfig,
    brow_from_mask,
    brow_over_eye,
    brows_on_drawing,
    brows_where_undrawn,
    contour_points,
    drawn_brows,
    drawn_eye,
    drawn_mouth,
    eyes_on_drawing,
    mouth_from_mask,
    mouth_on_drawing,
)

SIZE = 256
SKIN = (250, 200, 60)
INK = (100, 68, 0)
MOUTH = (128, 172)  # centre of the drawn mouth
HALF = (36, 14)  # its half-width and half-height


def _face(mouth: str = "open", eyes: str = "dark") -> np.ndarray:
    """A yellow disk face on white, with eyes:

    ``dark``: dark ellipses; ``white``: white ellipses with dark pupils; ``fused``: dark
    ellipses with a brow bar running out of each one's top; ``closed``: dark arcs under dark brow
    arcs; ``none``;

    and a mouth:

    ``open``: a dark ellipse with white teeth inside; ``closed``: a dark arc stroke; ``split``:
    a grin, dark upper and lower lips apart by a band of teeth as wide as the mouth;
    ``blush``: ``open`` with pink cheeks touching its corners and a pink tongue hanging out;
    ``band``: a dark stroke across the whole face at the mouth's height; ``none``.
    """
    img = np.full((SIZE, SIZE, 3), 255, np.uint8)
    cv2.circle(img, (128, 128), 100, SKIN, -1)
    for x in (98, 158):
        if eyes in ("dark", "fused"):
            cv2.ellipse(img, (x, 100), (12, 16), 0, 0, 360, INK, -1)
        if eyes == "fused":  # a thick brow bar running out of the eye's top
            side = int(np.sign(x - 128))
            cv2.rectangle(img, (x + 2 * side, 78), (x - 16 * side, 86), INK, -1)
        if eyes == "white":
            cv2.ellipse(img, (x, 100), (16, 18), 0, 0, 360, (250, 250, 250), -1)
            cv2.circle(img, (x, 100), 8, INK, -1)
        if eyes == "closed":
            cv2.ellipse(img, (x, 104), (12, 6), 0, 180, 360, INK, 4)
            cv2.ellipse(img, (x, 90), (14, 6), 0, 180, 360, INK, 4)
    if mouth in ("open", "blush"):
        cv2.ellipse(img, MOUTH, HALF, 0, 0, 360, INK, -1)
        cv2.rectangle(img, (112, 162), (144, 168), (255, 255, 255), -1)
    if mouth == "blush":
        for x in (80, 176):
            cv2.circle(img, (x, 168), 14, (255, 140, 150), -1)
        cv2.ellipse(img, (128, 190), (14, 16), 0, 0, 360, (230, 90, 110), -1)
    if mouth == "closed":
        cv2.ellipse(img, (128, 160), HALF, 0, 20, 160, INK, 4)
    if mouth == "split":
        cv2.rectangle(img, (92, 160), (164, 166), INK, -1)
        cv2.rectangle(img, (92, 167), (164, 175), (255, 255, 255), -1)
        cv2.rectangle(img, (92, 176), (164, 184), INK, -1)
    if mouth == "band":
        cv2.rectangle(img, (20, 166), (236, 176), INK, -1)
    return img


def _points(centre: tuple[float, float], half: tuple[float, float]) -> np.ndarray:
    """68 points of the face; outer lips on an ellipse ``centre``, ``half`` (a match)."""
    pts = np.zeros((68, 2))
    a = np.linspace(np.pi, 0.0, 17)
    pts[0:17] = np.array([128.0, 100.0]) + 95.0 * np.stack([np.cos(a), np.sin(a)], axis=1)
    t = np.linspace(0, 2 * np.pi, 6, endpoint=False)
    for sl, x in ((slice(36, 42), 98.0), (slice(42, 48), 158.0)):
        pts[sl] = np.stack([x - 12 * np.cos(t), 100 - 16 * np.sin(t)], axis=1)
    pts[17:22] = np.stack([np.linspace(86, 110, 5), np.full(5, 80.0)], axis=1)
    pts[22:27] = np.stack([np.linspace(146, 170, 5), np.full(5, 80.0)], axis=1)
    pts[27:36] = np.array([128.0, 130.0])
    u = np.linspace(np.pi, -np.pi, 12, endpoint=False)
    pts[48:60] = np.array(centre) + np.stack([half[0] * np.cos(u), half[1] * np.sin(u)], axis=1)
    pts[60:68] = np.array(centre)
    return pts


def _ink(img: np.ndarray) -> np.ndarray:
    """The dark pixels below the eyes (the drawn mouth, teeth not included)."""
    m = np.all(img == np.array(INK), axis=-1)
    m[:140] = False
    return m


def test_mouth_from_mask_follows_the_rule() -> None:
    mask = np.zeros((100, 200), bool)
    cv2.ellipse(mask.view(np.uint8), (100, 50), (30, 12), 0, 0, 360, 1, -1)
    outer, inner, is_open = mouth_from_mask(mask)
    assert is_open
    np.testing.assert_allclose(outer[[0, 6]], [[70, 50], [130, 50]], atol=0.6)
    assert outer[3, 1] == pytest.approx(38, abs=1) and outer[9, 1] == pytest.approx(62, abs=1)
    np.testing.assert_allclose(inner[0], outer[0] + INNER_CORNER_INSET * (outer[6] - outer[0]))
    np.testing.assert_allclose(inner[[1, 2, 3], 0], [85, 100, 115], atol=1e-9)
    assert inner[2, 1] == pytest.approx(38 + INNER_LIP_INSET * 24, abs=1)
    assert inner[6, 1] == pytest.approx(62 - INNER_LIP_INSET * 24, abs=1)
    line = np.zeros((100, 200), bool)
    line[48:52, 60:141] = True  # a closed mouth: a stroke
    outer, inner, is_open = mouth_from_mask(line)
    assert not is_open
    np.testing.assert_allclose(inner[[1, 2, 3]], inner[[7, 6, 5]])  # upper on lower
    np.testing.assert_allclose(inner[[0, 4]], outer[[0, 6]])


@pytest.mark.parametrize("mouth", ["open", "closed"])
def test_displaced_lips_move_onto_the_drawn_mouth(mouth: str) -> None:
    img = _face(mouth)
    truth = np.concatenate(mouth_from_mask(_ink(img))[:2])
    matched = _points((136.0, 164.0), (28.0, 10.0))  # off by 8 px, three quarters the size

    def error(p: np.ndarray, part: slice) -> float:
        return float(
            np.linalg.norm(p[part] - truth[part.start - 48 : part.stop - 48], axis=1).mean()
        )

    out = mouth_on_drawing(img, matched)
    assert error(matched, slice(48, 60)) > 5.0 and error(out, slice(48, 60)) < 0.5
    np.testing.assert_array_equal(out[:48], matched[:48])
    ruled = mouth_on_drawing(img, matched, MouthConfig(carry_closed_inner=False))
    assert error(ruled, slice(48, 68)) < 0.5
    if mouth == "open":  # the rule's inner lips
        np.testing.assert_array_equal(out, ruled)
    else:  # the matched inner lips (all on the centre) carried along with the outer ones
        np.testing.assert_allclose(out[60:68] - out[60], 0.0, atol=1e-6)
        assert (out[48:60].min(axis=0) < out[60]).all() and (out[60] < out[48:60].max(axis=0)).all()


def test_a_grin_split_by_teeth_is_one_mouth() -> None:
    img = _face("split")
    out = mouth_on_drawing(img, _points((128.0, 172.0), (34.0, 10.0)))
    np.testing.assert_allclose(out[[48, 54], 0], [92, 164], atol=0.6)
    assert out[51, 1] == pytest.approx(160, abs=0.6) and out[57, 1] == pytest.approx(184, abs=0.6)


def test_pink_cheeks_and_tongue_are_not_the_mouth() -> None:
    img = _face("blush")
    out = mouth_on_drawing(img, _points((128.0, 172.0), (34.0, 12.0)))
    truth = np.concatenate(mouth_from_mask(_ink(img))[:2])
    assert np.linalg.norm(out[48:68] - truth, axis=1).max() < 0.5
    assert out[48, 0] > 90 and out[54, 0] < 166  # not the cheeks (66-94, 162-190)
    assert out[57, 1] < 190  # not the tongue's tip (206)


@pytest.mark.parametrize("mouth", ["none", "band"])
def test_without_a_drawn_mouth_the_matched_lips_stand(mouth: str) -> None:
    """No dark mark, or one running out of the window (an outline, hair): no mouth."""
    img = _face(mouth)
    matched = _points((128.0, 172.0), (34.0, 12.0))
    assert drawn_mouth(img, matched) is None
    np.testing.assert_array_equal(mouth_on_drawing(img, matched), matched)


def test_a_nearby_eye_is_not_taken_for_the_mouth() -> None:
    """Lips matched up on an eye: the eye's box hardly overlaps theirs (IoU 0.09)."""
    img = _face("none")
    matched = _points((100.0, 114.0), (30.0, 10.0))
    np.testing.assert_array_equal(mouth_on_drawing(img, matched), matched)


def test_grey_images_work_and_inputs_are_not_modified() -> None:
    img = _face("open")
    grey = cv2.cvtColor(img, cv2.COLOR_RGB2GRAY)
    matched = _points((136.0, 164.0), (28.0, 10.0))
    kept_img, kept_pts = grey.copy(), matched.copy()
    out = mouth_on_drawing(grey, matched)
    np.testing.assert_allclose(out, mouth_on_drawing(img, matched), atol=1.0)
    np.testing.assert_array_equal(grey, kept_img)
    np.testing.assert_array_equal(matched, kept_pts)


def test_non_finite_points_are_returned_as_they_are() -> None:
    matched = _points((128.0, 172.0), (34.0, 12.0))
    matched[50] = np.nan
    out = mouth_on_drawing(_face("open"), matched)
    np.testing.assert_array_equal(out, matched)


@pytest.mark.parametrize(
    ("field", "value"), [("dark", 1.0), ("margin", 0.0), ("min_iou", 0.0), ("gap", -1.0)]
)
def test_config_rejects_bad_values_naming_the_field(field: str, value: float) -> None:
    with pytest.raises(ValueError, match=field):
        MouthConfig(**{field: value})


@pytest.mark.parametrize("eyes", ["dark", "white", "fused"])
def test_displaced_eyes_move_onto_the_drawn_eyes(eyes: str) -> None:
    """Dark eyes; white eyes whose pupil is joined by the white; a brow fused to each eye cut
    off."""
    img = _face("open", eyes)
    truth = [contour_points(_eye(98, eyes), n=6), contour_points(_eye(158, eyes), n=6)]
    matched = _points((128.0, 172.0), (34.0, 12.0))
    for eye in (slice(36, 42), slice(42, 48)):  # off by 3 px, 0.85 the size
        centre = matched[eye].mean(axis=0)
        matched[eye] = centre + [2.0, -2.0] + 0.85 * (matched[eye] - centre)
    out = eyes_on_drawing(img, matched)
    for got, before, want in (
        (out[36:42], matched[36:42], truth[0]),
        (out[42:48], matched[42:48], truth[1]),
    ):
        assert np.linalg.norm(before - want, axis=1).mean() > 2.5
        assert np.linalg.norm(got - want, axis=1).mean() < 0.5
    np.testing.assert_array_equal(out[:36], matched[:36])
    np.testing.assert_array_equal(out[48:], matched[48:])


def _eye(x: int, eyes: str) -> np.ndarray:
    """The mask of the eye drawn at column ``x`` (whites and pupil; no brow stroke)."""
    m = np.zeros((SIZE, SIZE), np.uint8)
    axes = (16, 18) if eyes == "white" else (12, 16)
    cv2.ellipse(m, (x, 100), axes, 0, 0, 360, 1, -1)
    return m.astype(bool)


def test_a_closed_eye_under_a_brow_is_the_eye() -> None:
    """Matched points between a closed eye's arc and the brow's arc above it, overlapping the
    brow's box more (IoU 0.34 against 0.10): the lower arc is taken."""
    img = _face("open", "closed")
    matched = _points((128.0, 172.0), (34.0, 12.0))
    t = np.linspace(0, 2 * np.pi, 6, endpoint=False)
    for eye, x in ((slice(36, 42), 98.0), (slice(42, 48), 158.0)):
        matched[eye] = np.stack([x - 12 * np.cos(t), 92 - 6 * np.sin(t)], axis=1)
    out = eyes_on_drawing(img, matched)
    arc = np.zeros((SIZE, SIZE), np.uint8)
    cv2.ellipse(arc, (98, 104), (12, 6), 0, 180, 360, 1, 4)
    np.testing.assert_allclose(out[36:42], contour_points(arc.astype(bool), n=6), atol=0.6)


def test_without_drawn_eyes_the_matched_eyes_stand() -> None:
    img = _face("open", "none")
    matched = _points((128.0, 172.0), (34.0, 12.0))
    assert drawn_eye(img, matched, slice(36, 42)) is None
    np.testing.assert_array_equal(eyes_on_drawing(img, matched), matched)


@pytest.mark.parametrize(("field", "value"), [("dark", 0.0), ("white_margin", 0.0), ("cut", -1.0)])
def test_eye_config_rejects_bad_values_naming_the_field(field: str, value: float) -> None:
    with pytest.raises(ValueError, match=field):
        EyeConfig(**{field: value})


def test_odd_inputs_never_raise_and_return_finite_points() -> None:
    """Points partly or wholly off the image, collapsed or huge, on tiny, blank and noisy
    images: always a finite (68, 2) array back."""
    rng = np.random.default_rng(7)
    images = [
        _face("open"),
        np.zeros((5, 7, 3), np.uint8),
        np.full((64, 48, 3), 200, np.uint8),
        rng.integers(0, 256, (90, 120, 3), dtype=np.uint8),
    ]
    base = _points((128.0, 172.0), (34.0, 12.0))
    shapes = [
        base,
        base - 200.0,
        base * 0.01,
        base * 5.0,
        np.full((68, 2), 3.0),
        base + rng.normal(0.0, 40.0, base.shape),
    ]
    for img in images:
        for pts in shapes:
            for step in (mouth_on_drawing, eyes_on_drawing):
                out = step(img, pts)
                assert out.shape == (68, 2) and np.isfinite(out).all()


def _browed(*, right: bool = True, left: bool = True, hair: bool = False) -> np.ndarray:
    """The open-mouthed face with dark eyes and a dark brow bar over each eye (x 84-112 and
    144-172, y 64-70), either left out; ``hair``: a dark band across the whole face above the
    eyes instead (y 60-72)."""
    img = _face("open")
    if right:
        cv2.rectangle(img, (84, 64), (112, 70), INK, -1)
    if left:
        cv2.rectangle(img, (144, 64), (172, 70), INK, -1)
    if hair:
        cv2.rectangle(img, (0, 60), (SIZE - 1, 72), INK, -1)
    return img


def test_drawn_brows_are_found_and_placed_by_the_rule() -> None:
    img = _browed()
    cv2.rectangle(img, (88, 40), (108, 44), INK, -1)  # a higher pair (hair, a crease) ...
    cv2.rectangle(img, (148, 40), (168, 44), INK, -1)  # ... loses to the lower one
    matched = _points(MOUTH, HALF)  # brows at y 80, on no stroke
    before = matched.copy()
    found = drawn_brows(img, matched)
    assert found is not None
    right_bar = np.zeros((SIZE, SIZE), bool)
    right_bar[64:71, 84:113] = True
    np.testing.assert_array_equal(found[0], right_bar)
    out = brows_on_drawing(img, matched)
    np.testing.assert_array_equal(matched, before)  # input untouched
    np.testing.assert_allclose(out[17:22], brow_from_mask(right_bar))
    np.testing.assert_allclose(out[17:22, 1], 67.0)
    np.testing.assert_allclose(out[[17, 21], 0], [84 + 0.06 * 28, 84 + 0.94 * 28])
    np.testing.assert_allclose(out[22:27], out[17:22] + np.array([60.0, 0.0]))
    np.testing.assert_array_equal(
        np.delete(out, np.s_[17:27], axis=0), np.delete(matched, np.s_[17:27], axis=0)
    )
    # without the search, matched brows on no stroke go to the rule for undrawn brows
    off = brows_on_drawing(img, matched, BrowConfig(drawn=False))
    np.testing.assert_array_equal(off, brows_where_undrawn(img, matched))
    assert np.abs(off[17:27] - out[17:27]).max() > 5.0


@pytest.mark.parametrize(
    "kwargs",
    [
        {"right": False, "left": False},
        {"left": False},
        {"right": False, "left": False, "hair": True},
    ],
)
def test_without_a_pair_of_drawn_brows_the_undrawn_rule_applies(kwargs: dict[str, bool]) -> None:
    img = _browed(**kwargs)  # no brows, one brow, or a band running out of the window
    matched = _points(MOUTH, HALF)
    assert drawn_brows(img, matched) is None
    np.testing.assert_array_equal(brows_on_drawing(img, matched), brows_where_undrawn(img, matched))


def test_brow_over_eye_is_the_annotation_test() -> None:
    eye = (86.0, 84.0, 110.0, 116.0)  # centre x 98, top 84; span 60
    assert brow_over_eye(eye, (84.0, 64.0, 112.0, 70.0), 60.0)
    assert not brow_over_eye(eye, (94.0, 50.0, 102.0, 70.0), 60.0)  # taller than wide
    assert not brow_over_eye(eye, (110.0, 64.0, 138.0, 70.0), 60.0)  # beside the eye
    assert not brow_over_eye(eye, (84.0, 30.0, 112.0, 36.0), 60.0)  # too high
    assert not brow_over_eye(eye, (84.0, 84.0, 112.0, 92.0), 60.0)  # reaching into the eye
    with pytest.raises(ValueError, match="BrowConfig `dark`"):
        BrowConfig(dark=1.5)
