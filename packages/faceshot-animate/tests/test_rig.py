"""RigAnimator: identity, rigid head, smooth features, mouth cavity, blinks, alpha, scenes, bounds."""

from __future__ import annotations

import itertools

import cv2
import numpy as np
import pytest
from faceshot_retarget import LandmarkShapeError, template_face

from faceshot_animate import (
    AnimateInputError,
    Animator,
    RigAnimator,
    RigConfig,
    background_change,
    build_rig,
    composite_over,
    foreground_mask,
    palette_share,
    silhouette_mask,
    silhouette_rigidity,
    structure_figures,
)
from faceshot_animate._quality import kmeans_palette
from faceshot_animate._rig_animator import head_similarities, lip_curve

SIZE = 256
FW = 120.0
CENTRE = (128.0, 120.0)
SKIN = (255, 204, 77)
INK = (102, 69, 0)


def flat_landmarks(closed_mouth: bool = True) -> np.ndarray:
    lm = template_face(FW, CENTRE)
    if closed_mouth:
        lm[[67, 66, 65]] = lm[[61, 62, 63]]
    return lm


def flat_face(lm: np.ndarray, size: int = SIZE) -> np.ndarray:
    """(size, size, 4) uint8 emoji-like face on transparency: a disk, dark oval eyes, a lip line."""
    img = np.zeros((size, size, 4), np.uint8)
    centre = lm[[0, 16, 8]].mean(axis=0)
    radius = 0.62 * FW
    cv2.circle(
        img,
        (round(centre[0] * 16), round(centre[1] * 16)),
        round(radius * 16),
        (*SKIN, 255),
        -1,
        cv2.LINE_AA,
        4,
    )
    for eye in (slice(36, 42), slice(42, 48)):
        c = lm[eye].mean(axis=0)
        cv2.ellipse(
            img,
            (round(c[0] * 16), round(c[1] * 16)),
            (round(0.07 * FW * 16), round(0.09 * FW * 16)),
            0,
            0,
            360,
            (*INK, 255),
            -1,
            cv2.LINE_AA,
            4,
        )
    cv2.polylines(
        img, [np.round(lm[48:55] * 16).astype(np.int32)], False, (*INK, 255), 5, cv2.LINE_AA, 4
    )
    return img


def move(
    lm: np.ndarray,
    angle_deg: float = 0.0,
    scale: float = 1.0,
    shift: tuple[float, float] = (0.0, 0.0),
) -> tuple[np.ndarray, np.ndarray]:
    c = lm.mean(axis=0)
    m = cv2.getRotationMatrix2D((float(c[0]), float(c[1])), angle_deg, scale)
    m[:, 2] += shift
    return lm @ m[:, :2].T + m[:, 2], m


def open_mouth(lm: np.ndarray, amount: float) -> np.ndarray:
    out = lm.copy()
    out[[65, 66, 67, 56, 57, 58], 1] += amount
    out[[55, 59], 1] += 0.6 * amount
    return out


def close_eyes(lm: np.ndarray, fraction: float = 1.0) -> np.ndarray:
    out = lm.copy()
    for up, lo in ((37, 41), (38, 40), (43, 47), (44, 46)):
        out[up] = lm[up] + fraction * (lm[lo] - lm[up])
    return out


@pytest.fixture(scope="module")
def emoji() -> tuple[np.ndarray, np.ndarray]:
    lm = flat_landmarks()
    return flat_face(lm), lm


def _white(frame: np.ndarray) -> np.ndarray:
    return np.asarray(composite_over(frame))


class TestIdentity:
    def test_protocol(self) -> None:
        assert isinstance(RigAnimator(), Animator)

    def test_static_sequence_reproduces_input(self, emoji) -> None:
        img, lm = emoji
        frames = list(RigAnimator().animate(img, np.repeat(lm[None], 3, axis=0)))
        assert len(frames) == 3
        for f in frames:
            assert f.dtype == np.uint8 and f.shape == img.shape
            assert np.array_equal(f, img)

    def test_input_not_modified_and_deterministic(self, emoji) -> None:
        img, lm = emoji
        img_copy, lm_copy = img.copy(), lm.copy()
        seq = np.stack([lm, open_mouth(lm, 10), move(lm, 5, 1.05, (3, 2))[0]])
        a = list(RigAnimator().animate(img, seq))
        b = list(RigAnimator().animate(img, seq))
        assert all(np.array_equal(x, y) for x, y in zip(a, b, strict=True))
        assert np.array_equal(img, img_copy) and np.array_equal(lm, lm_copy)

    def test_returns_lazy_iterator_and_errors_at_call_time(self, emoji) -> None:
        img, lm = emoji
        it = RigAnimator().animate(img, np.repeat(lm[None], 4, axis=0))
        assert next(it).shape == img.shape
        with pytest.raises(AnimateInputError, match="fps"):
            RigAnimator().animate(img, lm, fps=0)
        with pytest.raises(LandmarkShapeError):
            RigAnimator().animate(img, np.zeros((3, 60, 2)))
        with pytest.raises(AnimateInputError, match="image"):
            RigAnimator().animate(np.zeros((5, 5, 2), np.uint8), lm)


class TestHead:
    def test_similarity_motion_moves_the_silhouette_exactly(self, emoji) -> None:
        img, lm = emoji
        moved, m = move(lm, angle_deg=12.0, scale=1.1, shift=(6.0, -4.0))
        _, f1 = RigAnimator().animate(img, np.stack([lm, moved]))
        expected = cv2.warpAffine(img, m, (SIZE, SIZE), flags=cv2.INTER_LINEAR)
        a = f1[:, :, 3].astype(int)
        b = expected[:, :, 3].astype(int)
        assert np.abs(a - b).mean() < 0.5  # alpha = the silhouette, moved rigidly
        inside = (b == 255) & (a == 255)
        assert np.abs(f1[inside][:, :3].astype(int) - expected[inside][:, :3]).mean() < 1.5

    def test_expression_keeps_the_outline_and_draws_the_mouth(self, emoji) -> None:
        img, lm = emoji
        seq = [lm]
        for k in range(1, 9):
            t = k / 8
            moved, _ = move(
                open_mouth(lm, 0.2 * FW * t), angle_deg=10 * np.sin(3 * t), shift=(8 * t, -5 * t)
            )
            seq.append(moved)
        frames = [_white(f) for f in RigAnimator().animate(img, np.stack(seq))]
        figs = structure_figures(frames, every=1)
        assert figs["rigidity_p10"] > 0.98, figs
        assert figs["palette"] > 0.98, figs
        assert figs["interior_change_p90"] > 0.01, figs  # the mouth opened: not frozen

    def test_head_similarity_ignores_expression(self, emoji) -> None:
        _, lm = emoji
        sims = head_similarities(np.stack([lm, open_mouth(close_eyes(lm), 25.0)]))
        np.testing.assert_allclose(sims[1], np.eye(3), atol=1e-9)


class TestMouth:
    def test_opening_draws_a_crisp_cavity_in_the_character_palette(self, emoji) -> None:
        img, lm = emoji
        _, f1 = (
            _white(f) for f in RigAnimator().animate(img, np.stack([lm, open_mouth(lm, 0.15 * FW)]))
        )
        f0 = _white(img)
        poly = lip_curve(open_mouth(lm, 0.15 * FW)[60:68])
        inner = np.zeros((SIZE, SIZE), np.uint8)
        cv2.fillPoly(inner, [np.round(poly).astype(np.int32)], 1)
        inner = cv2.erode(inner, np.ones((3, 3), np.uint8)).astype(bool)
        assert inner.sum() > 100
        dark = np.abs(f1[inner].astype(int) - INK).max(axis=1) <= 12
        assert dark.mean() > 0.97  # the cavity is the character's own ink, not a blur
        palette = kmeans_palette(f0[foreground_mask(f0)].astype(float))
        share0 = palette_share(f0, foreground_mask(f0), palette)
        assert palette_share(f1, foreground_mask(f1), palette) / share0 > 0.99  # no grey halo

    def test_closed_mouth_stays_closed_and_cavity_can_be_disabled(self, emoji) -> None:
        img, lm = emoji
        seq = np.stack([lm, open_mouth(lm, 0.15 * FW)])
        _, on = RigAnimator().animate(img, seq)
        _, off = RigAnimator(RigConfig(mouth_cavity=False)).animate(img, seq)
        assert np.abs(on.astype(int) - off).max() > 50

    def test_drawn_teeth_stay_visible_when_the_lips_open_past_them(self, emoji) -> None:
        """A mouth drawn open with a curved band of teeth under the upper lip: when both
        lips move apart (the upper landmarks rise past the drawn lip), the cavity fills the
        opening but never paints over the teeth."""
        img, lm = emoji
        lm = template_face(FW, CENTRE)  # open mouth: 61-63 above 65-67
        img = img.copy()
        cv2.fillPoly(img, [np.round(lm[48:60]).astype(np.int32)], (*INK, 255))
        upper = lip_curve(lm[60:68])[:25]  # 60 -> 64 along the upper inner lip
        band = np.concatenate([upper, upper[::-1] + np.array([0.0, 0.05 * FW])])
        band[[0, -1]] = upper[0]
        cv2.fillPoly(img, [np.round(band).astype(np.int32)], (250, 250, 250, 255))
        moved = lm.copy()
        moved[[49, 50, 51, 52, 53, 61, 62, 63], 1] -= 0.1 * FW
        moved = open_mouth(moved, 0.12 * FW)
        f0, f1 = (_white(f) for f in RigAnimator().animate(img, np.stack([lm, moved])))

        def teeth(f: np.ndarray) -> int:
            return int((f.min(axis=2) >= 235).sum())

        mouth = np.s_[int(lm[48:68, 1].min()) - 20 : int(lm[48:68, 1].max()) + 40, :]
        assert teeth(f1[mouth]) >= 0.8 * teeth(f0[mouth]) > 50
        poly = lip_curve(moved[60:68])
        inner = np.zeros((SIZE, SIZE), np.uint8)
        cv2.fillPoly(inner, [np.round(poly).astype(np.int32)], 1)
        pix = f1[inner > 0].astype(int)
        ink = np.abs(pix - INK).max(axis=1) <= 12
        skin = np.abs(pix - SKIN).max(axis=1) <= 30
        assert ink.mean() > 0.3 and skin.mean() < 0.05  # cavity and teeth, no skin


class TestEyes:
    def test_blink_paints_skin_and_a_lid_line(self, emoji) -> None:
        img, lm = emoji
        _, half, shut = (
            _white(f)
            for f in RigAnimator().animate(img, np.stack([lm, close_eyes(lm, 0.5), close_eyes(lm)]))
        )
        f0 = _white(img)
        box = np.zeros((SIZE, SIZE), bool)
        lo, hi = lm[36:42].min(axis=0) - 0.1 * FW, lm[36:42].max(axis=0) + 0.1 * FW
        box[int(lo[1]) : int(hi[1]), int(lo[0]) : int(hi[0])] = True

        def ink(f: np.ndarray) -> int:
            return int((np.abs(f[box].astype(int) - INK).max(axis=1) <= 30).sum())

        assert ink(f0) > ink(half) > ink(shut) > 0  # the lid closes; a line remains
        assert ink(shut) < 0.5 * ink(f0)
        skin = (np.abs(shut[box].astype(int) - SKIN).max(axis=1) <= 8).mean()
        assert skin > (np.abs(f0[box].astype(int) - SKIN).max(axis=1) <= 8).mean()

    def test_blinks_can_be_disabled(self, emoji) -> None:
        img, lm = emoji
        _, f1 = RigAnimator(RigConfig(blinks=False)).animate(img, np.stack([lm, close_eyes(lm)]))
        box = (slice(int(lm[37, 1]) - 2, int(lm[41, 1]) + 2), slice(int(lm[36, 0]), int(lm[39, 0])))
        assert np.abs(f1[box].astype(int) - img[box]).max() <= 2  # eyes keep their shape


class TestLayouts:
    def test_rgba_alpha_kept_and_background_transparent(self, emoji) -> None:
        img, lm = emoji
        _, f1 = RigAnimator().animate(img, np.stack([lm, move(lm, shift=(10.0, 0.0))[0]]))
        assert f1.shape[2] == 4
        assert f1[:, :10, 3].max() == 0  # uncovered on the left: transparent
        assert (f1[:, :, 3] == 255).sum() == pytest.approx((img[:, :, 3] == 255).sum(), rel=0.01)

    def test_plain_background_rgb_and_grey_16bit_float(self, emoji) -> None:
        img, lm = emoji
        rgb = _white(img)
        seq = np.stack([lm, move(lm, 6.0, 1.0, (5.0, 3.0))[0]])
        _, f1 = RigAnimator().animate(rgb, seq)
        assert f1.shape == rgb.shape and f1[:3, :3].min() >= 250  # the plain white fills in
        grey = rgb.mean(axis=2).astype(np.uint8)
        for arr in (grey, grey.astype(np.uint16) * 257, grey.astype(np.float32) / 255.0):
            g0, g1 = RigAnimator().animate(arr, seq)
            assert g0.shape == (SIZE, SIZE, 3) and g1.dtype == np.uint8
            assert np.abs(g0.astype(int) - grey[:, :, None]).max() <= 1

    def test_output_size_and_max_side(self, emoji) -> None:
        img, lm = emoji
        seq = np.stack([lm, open_mouth(lm, 12.0)])
        frames = list(RigAnimator(output_size=(128, 96)).animate(img, seq))
        assert all(f.shape == (96, 128, 4) for f in frames)
        small = list(RigAnimator(RigConfig(max_side=64)).animate(img, seq))
        assert all(f.shape == img.shape for f in small)

    def test_scene_background_stays_static_far_from_the_head(self) -> None:
        rng = np.random.default_rng(1)
        lm = template_face(90.0, (128.0, 120.0))
        scene = cv2.GaussianBlur(rng.random((SIZE, SIZE, 3)).astype(np.float32), (0, 0), 3)
        scene = np.round(40 + 170 * (scene - scene.min()) / np.ptp(scene)).astype(np.uint8)
        cv2.ellipse(scene, (128, 118), (56, 72), 0, 0, 360, (215, 175, 145), -1)
        for eye in (slice(36, 42), slice(42, 48)):
            cv2.fillPoly(scene, [np.round(lm[eye]).astype(np.int32)], (245, 245, 245))
        cv2.fillPoly(scene, [np.round(lm[48:60]).astype(np.int32)], (170, 60, 70))
        rig = build_rig(scene, lm)
        assert rig.background == "scene" and rig.plate is not None
        moved, _ = move(open_mouth(lm, 10.0), 8.0, 1.05, (12.0, -6.0))
        f0, f1 = RigAnimator().animate(scene, np.stack([lm, moved]))
        assert background_change(f0, f1, lm, moved) < 0.5
        assert np.abs(f1.astype(int) - scene).mean() > 2  # the head did move

    def test_hair_moving_with_the_head_is_not_background(self) -> None:
        """``background_change`` with the head region: a hair blob beyond the head oval that
        moves with the head is not counted; a change beyond it still is."""
        lm = template_face(60.0, (128.0, 128.0))
        moved = lm + np.array([10.0, 0.0])
        f0 = np.full((SIZE, SIZE, 3), 90, np.uint8)
        f1 = f0.copy()
        cv2.circle(f0, (128, 40), 30, (250, 250, 250), -1)  # hair above the head oval
        cv2.circle(f1, (138, 40), 30, (250, 250, 250), -1)  # moved with the head
        hair = np.zeros((SIZE, SIZE), bool)
        hair[np.hypot(*np.mgrid[:SIZE, :SIZE][::-1] - np.array([128, 40])[:, None, None]) <= 31] = (
            True
        )
        assert background_change(f0, f1, lm, moved) > 0.5  # the ovals alone count the hair
        assert background_change(f0, f1, lm, moved, hair) == 0.0
        f1[-20:, :20] = 255  # a real background change, far from everything
        assert background_change(f0, f1, lm, moved, hair) > 0.5

    def test_photo_pasted_on_a_plain_canvas_moves_only_its_head(self) -> None:
        """A textured photo on a near-uniform canvas: the border is plain, but the pasted
        picture is not a sticker -- its background stays while the head turns."""
        rng = np.random.default_rng(2)
        lm = template_face(90.0, (128.0, 120.0))
        photo = cv2.GaussianBlur(rng.random((SIZE, SIZE, 3)).astype(np.float32), (0, 0), 3)
        photo = np.round(40 + 170 * (photo - photo.min()) / np.ptp(photo)).astype(np.uint8)
        cv2.ellipse(photo, (128, 118), (56, 72), 0, 0, 360, (215, 175, 145), -1)
        for eye in (slice(36, 42), slice(42, 48)):
            cv2.fillPoly(photo, [np.round(lm[eye]).astype(np.int32)], (245, 245, 245))
        cv2.fillPoly(photo, [np.round(lm[48:60]).astype(np.int32)], (170, 60, 70))
        grain = rng.normal(0.0, 4.0, photo.shape)  # a photo's texture (not flat art)
        photo = np.clip(photo + grain, 0, 255).astype(np.uint8)
        canvas = np.clip(200 + rng.integers(-3, 4, (384, 640, 3)), 0, 255).astype(np.uint8)
        canvas[64:320, 300:556] = photo
        pasted = lm + np.array([300.0, 64.0])
        rig = build_rig(canvas, pasted)
        assert rig.background == "scene"
        assert build_rig(canvas, pasted, background="plain").background == "plain"
        moved, _ = move(pasted, 12.0, 1.0, (6.0, 0.0))
        f0, f1 = RigAnimator().animate(canvas, np.stack([pasted, moved]))
        assert background_change(f0, f1, pasted, moved) < 1.0
        corners = np.s_[64:84, 300:320]  # the pasted photo's corner, far from the head
        assert np.array_equal(f1[corners], canvas[corners])
        assert np.abs(f1.astype(int) - canvas).mean() > 0.5  # the head did move


class TestBounds:
    def test_landmarks_far_outside_are_refused_in_one_line(self, emoji) -> None:
        img, lm = emoji
        bad = lm.copy()
        bad[8] = (1e7, 5.0)
        with pytest.raises(
            AnimateInputError, match=r"frame 1, point 8 .* outside the 256x256 image"
        ) as info:
            RigAnimator().animate(img, np.stack([lm, bad]))
        assert "\n" not in str(info.value)

    def test_absurd_head_scale_is_refused(self, emoji) -> None:
        img, lm = emoji
        huge, _ = move(lm, scale=0.05)  # inside the canvas, but 20 times smaller
        with pytest.raises(AnimateInputError, match="scales the head by"):
            RigAnimator().animate(img, np.stack([lm, huge]))

    @pytest.mark.parametrize("kind", ["wide mouth", "crossed lids", "collapsed"])
    def test_extreme_but_bounded_landmarks_render_quickly(self, emoji, kind) -> None:
        img, lm = emoji
        bad = lm.copy()
        if kind == "wide mouth":
            bad[[65, 66, 67], 1] += 1.5 * SIZE  # within the accepted reach, far past the chin
        elif kind == "crossed lids":
            bad = close_eyes(lm, 3.0)
        else:
            bad[17:68] = lm[30]
        frames = list(RigAnimator().animate(img, np.stack([lm, bad])))
        assert frames[1].shape == img.shape


def test_lip_curve_passes_through_the_landmarks() -> None:
    lm = template_face(FW, CENTRE)
    curve = lip_curve(lm[60:68], per_segment=5)
    for p in lm[60:68]:
        assert np.min(np.linalg.norm(curve - p, axis=1)) < 1e-9


def test_rigidity_of_a_moved_disk_is_high_and_of_a_blob_low() -> None:
    a = np.zeros((SIZE, SIZE), np.uint8)
    cv2.ellipse(a, (128, 128), (60, 40), 0, 0, 360, 1, -1)
    b = np.zeros_like(a)
    cv2.ellipse(b, (140, 120), (66, 44), 20, 0, 360, 1, -1)
    c = np.zeros_like(a)
    cv2.ellipse(c, (128, 128), (40, 60), 0, 0, 360, 1, -1)
    iou, angle = silhouette_rigidity(a.astype(bool), b.astype(bool))
    assert iou > 0.95 and abs(np.rad2deg(angle) - 20) <= 2
    assert silhouette_rigidity(a.astype(bool), c.astype(bool))[0] < 0.9


def _drawn_face(eye_open: float, wobble: float = 0.0) -> np.ndarray:
    """A yellow head on white with two white eyes (open share ``eye_open``); ``wobble``
    pixels stretch the head's outline vertically (not a similarity)."""
    img = np.full((SIZE, SIZE, 3), 255, np.uint8)
    cv2.ellipse(img, (128, 128), (80, round(80 + wobble)), 0, 0, 360, (250, 200, 60), -1)
    for x in (98, 158):
        cv2.ellipse(
            img, (x, 110), (18, max(1, round(22 * eye_open))), 0, 0, 360, (255, 255, 255), -1
        )
    return img


def test_silhouette_fills_the_white_the_character_encloses() -> None:
    img = _drawn_face(1.0)
    fg, sil = foreground_mask(img), silhouette_mask(img)
    # An eye white: background to the foreground mask, character to the silhouette.
    assert not fg[110, 98] and sil[110, 98]
    assert not sil[5, 5] and not sil[128, 250]  # the white outside stays background
    assert np.array_equal(sil, fg | sil)
    assert (sil & ~fg).sum() == (sil & ~fg)[80:140, 70:190].sum() > 0  # only the eyes are added


def test_outline_rigidity_ignores_blinks_but_not_a_wobbling_outline() -> None:
    blink = [_drawn_face(1.0), *(_drawn_face(o) for o in (0.6, 0.2, 0.05, 0.6))]
    # A frame identical to frame 0 scores below 1 (the splat footprint's own loss).
    still = structure_figures(blink[:1] * 2, every=1)["outline_rigidity_p10"]
    figs = structure_figures(blink, every=1)
    assert figs["rigidity_p10"] < 0.95  # the eye whites, as holes, change with the lids
    assert figs["outline_rigidity_p10"] == pytest.approx(still, abs=1e-3)
    wobble = [_drawn_face(1.0), *(_drawn_face(1.0, w) for w in (-14, 12, -16, 14))]
    figs = structure_figures(wobble, every=1)
    assert figs["outline_rigidity_p10"] < 0.95


@pytest.mark.parametrize("seed", range(3))
def test_mls_backward_map_is_smooth(seed) -> None:
    """Second differences of the map along a line stay small: no creases."""
    from faceshot_animate._mls import mls_affine, mls_rigid

    rng = np.random.default_rng(seed)
    p = rng.random((40, 2)) * 200 + 28
    q = p + rng.normal(0, 4, p.shape)
    line = np.stack([np.linspace(20, 236, 400), np.full(400, 128.0)], axis=1)
    for fn in (mls_rigid, mls_affine):
        f = fn(line, p, q, eps=20.0**2)
        second = np.abs(np.diff(f, 2, axis=0)).max()
        assert second < 0.05, (fn.__name__, second)


def test_mls_reproduces_rigid_and_affine_motion() -> None:
    from faceshot_animate._mls import mls_affine, mls_rigid

    rng = np.random.default_rng(0)
    p = rng.random((30, 2)) * 200
    v = rng.random((500, 2)) * 256
    th = 0.3
    rot = np.array([[np.cos(th), -np.sin(th)], [np.sin(th), np.cos(th)]])
    np.testing.assert_allclose(mls_rigid(v, p, p @ rot.T + (5, -3)), v @ rot.T + (5, -3), atol=1e-2)
    aff = np.array([[1.2, 0.3], [-0.1, 0.8]])
    np.testing.assert_allclose(mls_affine(v, p, p @ aff.T + (2, 1)), v @ aff.T + (2, 1), atol=2e-2)
    np.testing.assert_allclose(mls_rigid(v, p, p), v, atol=1e-3)


def test_rig_finds_features_and_colours(emoji) -> None:
    img, lm = emoji
    rig = build_rig(img, lm)
    assert rig.background == "transparent" and rig.style == "flat"
    assert all(rig.eyes[k].closable for k in range(2))
    assert np.abs(rig.skin - SKIN).max() < 6 and np.abs(rig.mouth.cavity - INK).max() < 12
    for name in ("right_eye", "left_eye"):
        eye = lm[36:42] if name == "right_eye" else lm[42:48]
        c = eye.mean(axis=0)
        drawn = np.array([[c[0], c[1] - 0.085 * FW], [c[0], c[1] + 0.085 * FW]])  # the oval's ends
        import shapely

        assert all(rig.features[name].contains(shapely.Point(*p)) for p in drawn)


def test_pairs_of_frames_are_all_different_while_moving(emoji) -> None:
    img, lm = emoji
    seq = np.stack([lm] + [move(lm, 3 * k, 1.0, (k, 0))[0] for k in range(1, 4)])
    frames = list(RigAnimator().animate(img, seq))
    for a, b in itertools.pairwise(frames):
        assert not np.array_equal(a, b)


def _splat_iou(mask0: np.ndarray, mask: np.ndarray, deg: float) -> float:
    """IoU with mask0's pixels sent forward by the centroid/area similarity, each written
    with a 2x2 footprint (the definition the warp-based implementation emulates)."""
    ys, xs = np.nonzero(mask0)
    c0 = np.array([xs.mean(), ys.mean()])
    y1, x1 = np.nonzero(mask)
    c1 = np.array([x1.mean(), y1.mean()])
    s = np.sqrt(mask.sum() / mask0.sum())
    a = np.deg2rad(deg)
    p = (np.stack([xs, ys], axis=1) - c0) * s
    q = p @ np.array([[np.cos(a), np.sin(a)], [-np.sin(a), np.cos(a)]]) + c1
    out = np.zeros(mask.shape, bool)
    for dx in (0, 1):
        for dy in (0, 1):
            xi, yi = np.floor(q[:, 0]).astype(int) + dx, np.floor(q[:, 1]).astype(int) + dy
            ok = (xi >= 0) & (yi >= 0) & (xi < mask.shape[1]) & (yi < mask.shape[0])
            out[yi[ok], xi[ok]] = True
    return float((out & mask).sum() / (out | mask).sum())


@pytest.mark.parametrize("angle", [0, 10, -16])
def test_rigidity_matches_the_forward_splat_definition(angle) -> None:
    a = np.zeros((SIZE, SIZE), np.uint8)
    cv2.ellipse(a, (120, 128), (70, 45), 0, 0, 360, 1, -1)
    cv2.circle(a, (170, 90), 18, 1, -1)  # an ear: not symmetric
    b = np.zeros_like(a)
    cv2.ellipse(b, (132, 120), (74, 47), angle, 0, 360, 1, -1)
    iou, _ = silhouette_rigidity(a.astype(bool), b.astype(bool))
    reference = max(_splat_iou(a.astype(bool), b.astype(bool), d) for d in range(-30, 31, 2))
    assert iou == pytest.approx(reference, abs=0.004)


def test_degenerate_first_frame_is_refused(emoji) -> None:
    img, lm = emoji
    flat = np.repeat(lm[30:31], 68, axis=0)
    with pytest.raises(AnimateInputError, match="frame 0"):
        RigAnimator().animate(img, np.stack([flat, flat]))


def test_mouth_darkness_reads_the_mouth_window_moved_with_the_head(face) -> None:
    """A dark mouth window reads dark, a bright one bright; a shifted head moves the window."""
    from faceshot_animate._quality import mouth_darkness

    _, lm = face
    bright = np.full((256, 256, 3), 220, np.uint8)
    dark = bright.copy()
    box_lo = np.floor(lm[48:60].min(axis=0)).astype(int)
    box_hi = np.ceil(lm[48:60].max(axis=0)).astype(int)
    dark[box_lo[1] : box_hi[1] + 1, box_lo[0] : box_hi[0] + 1] = 10
    assert mouth_darkness(bright, lm, lm) == 0.0
    assert mouth_darkness(dark, lm, lm) > 0.1  # the lip box inside a window padded by half a mouth
    moved = lm + np.array([0.0, 60.0])  # the whole head 60 px down: the window follows it
    assert mouth_darkness(dark, lm, moved) < mouth_darkness(dark, lm, lm)


def test_head_extent_holds_the_whole_silhouette() -> None:
    from faceshot_animate import head_extent

    lm = flat_landmarks()
    img = flat_face(lm)
    img[10:30, 100:110] = (*INK, 255)  # a horn above the face, beyond every landmark
    assert lm[:, 1].min() > 40
    box = head_extent(img, lm)
    assert box is not None and box.shape == (4, 2)
    ys, xs = np.nonzero(img[:, :, 3] > 127)
    assert box[:, 1].min() == 10.0 and box[:, 1].max() == max(ys.max(), lm[:, 1].max())
    assert box[:, 0].min() == min(xs.min(), lm[:, 0].min())
    # a plain RGB background: the same box; the image is left alone
    rgb = composite_over(img)
    before = rgb.copy()
    np.testing.assert_allclose(head_extent(rgb, lm), box, atol=1.0)
    np.testing.assert_array_equal(rgb, before)
    # a scene (noise background): no silhouette, None
    noise = np.random.default_rng(0).integers(0, 256, (SIZE, SIZE, 3), dtype=np.uint8)
    assert head_extent(noise, lm) is None


def test_a_lip_dropped_past_the_chin_stops_short_as_the_same_curve(emoji) -> None:
    # flat art keeps its outline: a lower lip dragged past the chin is held inside the
    # freely deforming head by one share of its whole displacement (the lip keeps its
    # curve), not flattened point by point against the outline (a flat-bottomed lobe)
    from faceshot_animate._rig_animator import _LIP_ROOM, _Renderer

    lower = [55, 56, 57, 58, 59, 65, 66, 67]
    img, lm = emoji
    renderer = _Renderer(img, build_rig(img, lm), RigConfig())
    dropped = open_mouth(lm, 0.8 * FW)  # far below the chin
    held = renderer._inside_head(dropped)
    want = dropped[lower] - lm[lower]
    got = held[lower] - lm[lower]
    share = float(np.sum(got * want) / np.sum(want * want))
    assert 0.05 < share < 0.9  # held back, but still opened
    np.testing.assert_allclose(got, share * want, atol=0.02 * FW)
    yi, xi = np.round(held[lower][:, ::-1]).astype(int).T
    assert (renderer.rig.deform[yi, xi] >= _LIP_ROOM).all()
    # a lip that stays inside is left alone
    small = open_mouth(lm, 0.05 * FW)
    np.testing.assert_array_equal(renderer._inside_head(small), small)
