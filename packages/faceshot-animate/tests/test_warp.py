"""WarpAnimator: identity, affine motion, mouth cavity, eyes, alpha, sizes, streaming."""

from __future__ import annotations

import inspect
import itertools

import cv2
import numpy as np
import pytest
from faceshot_retarget import LandmarkShapeError, template_face

from faceshot_animate import (
    AnimateInputError,
    Animator,
    WarpAnimator,
    WarpConfig,
    inner_mouth_area,
)
from faceshot_animate._mesh import build_mesh, estimate_similarity

SIZE = 256
FACE_WIDTH = 130.0


def face_landmarks() -> np.ndarray:
    return template_face(FACE_WIDTH, (128.0, 124.0))


def _affine(
    lm: np.ndarray, angle_deg: float, scale: float, shift: tuple[float, float]
) -> tuple[np.ndarray, np.ndarray]:
    centre = lm.mean(axis=0)
    m = cv2.getRotationMatrix2D((float(centre[0]), float(centre[1])), angle_deg, scale)
    m[:, 2] += shift
    return lm @ m[:, :2].T + m[:, 2], m


def _face_mask(lm: np.ndarray, shrink: float = 0.8) -> np.ndarray:
    hull = cv2.convexHull(lm.astype(np.float32)).reshape(-1, 2)
    c = lm.mean(axis=0)
    poly = np.round(c + shrink * (hull - c)).astype(np.int32)
    mask = np.zeros((SIZE, SIZE), np.uint8)
    cv2.fillPoly(mask, [poly], 1)
    return mask.astype(bool)


def _dark_area(frame: np.ndarray, polygon: np.ndarray, threshold: int = 70) -> int:
    mask = np.zeros(frame.shape[:2], np.uint8)
    cv2.fillPoly(mask, [np.round(polygon).astype(np.int32)], 1)
    grey = frame[:, :, :3].astype(np.float32).mean(axis=2)
    return int(((grey < threshold) & (mask > 0)).sum())


def _open_mouth(lm: np.ndarray, amount: float) -> np.ndarray:
    out = lm.copy()
    out[[65, 66, 67, 56, 57, 58], 1] += amount
    out[[55, 59], 1] += 0.6 * amount
    out[5:12, 1] += amount * np.array([0.2, 0.5, 0.8, 1.0, 0.8, 0.5, 0.2])
    return out


def _close_eyes(lm: np.ndarray, overshoot: float = 0.0) -> np.ndarray:
    """Move each upper lid onto its lower lid (plus ``overshoot`` pixels beyond it)."""
    out = lm.copy()
    for up, lo in ((37, 41), (38, 40), (43, 47), (44, 46)):
        out[up] = lm[lo] + (0.0, overshoot)
    return out


class TestIdentity:
    def test_protocol(self) -> None:
        assert isinstance(WarpAnimator(), Animator)

    @pytest.mark.parametrize("step", [1, 2, 4])
    def test_static_sequence_reproduces_input(self, face, step) -> None:
        img, lm = face
        seq = np.repeat(lm[None], 3, axis=0)
        frames = list(WarpAnimator(WarpConfig(grid_step=step)).animate(img, seq, fps=25))
        assert len(frames) == 3
        for f in frames:
            assert f.dtype == np.uint8 and f.shape == img.shape
            assert np.abs(f.astype(int) - img).max() <= 1

    def test_frame0_reproduces_input_while_later_frames_move(self, face) -> None:
        img, lm = face
        seq = np.stack([lm, lm + np.array([5.0, 0.0])])
        f0, f1 = WarpAnimator().animate(img, seq)
        assert np.abs(f0.astype(int) - img).max() <= 1
        assert np.abs(f1.astype(int) - img).mean() > 1.0

    def test_input_not_modified_and_deterministic(self, face) -> None:
        img, lm = face
        img_copy, lm_copy = img.copy(), lm.copy()
        seq = np.stack([lm, _open_mouth(lm, 8), lm + 3])
        a = list(WarpAnimator().animate(img, seq))
        b = list(WarpAnimator().animate(img, seq))
        assert all(np.array_equal(x, y) for x, y in zip(a, b, strict=True))
        assert np.array_equal(img, img_copy) and np.array_equal(lm, lm_copy)


class TestMotion:
    def test_translation_moves_face_by_phase_correlation(self, face) -> None:
        img, lm = face
        shift = (7.0, -4.0)
        _, f1 = WarpAnimator().animate(img, np.stack([lm, lm + shift]))
        # Compare a window around the face: it must move by the landmark shift.
        x0, y0 = (lm.min(axis=0) + 10).astype(int)
        x1, y1 = (lm.max(axis=0) - 10).astype(int)
        win = np.hanning(x1 - x0)[None, :] * np.hanning(y1 - y0)[:, None]
        a = img[y0:y1, x0:x1].mean(axis=2).astype(np.float64)
        b = f1[y0:y1, x0:x1].mean(axis=2).astype(np.float64)
        (dx, dy), _ = cv2.phaseCorrelate(a, b, win)
        assert abs(dx - shift[0]) < 0.75 and abs(dy - shift[1]) < 0.75

    def test_affine_motion_is_reproduced_inside_the_face(self, face) -> None:
        img, lm = face
        moved, m = _affine(lm, angle_deg=6.0, scale=1.05, shift=(4.0, 3.0))
        _, f1 = WarpAnimator().animate(img, np.stack([lm, moved]))
        expected = cv2.warpAffine(img, m, (SIZE, SIZE), flags=cv2.INTER_LINEAR)
        mask = _face_mask(moved, 0.85)
        err = np.abs(f1.astype(float) - expected)[mask].mean()
        base = np.abs(img.astype(float) - expected)[mask].mean()
        assert err < 2.5, err
        assert base > 4 * err  # the test can fail: not moving would be far off

    def test_background_at_border_stays_pinned(self, face) -> None:
        """Warp a coordinate-ramp image (R = x, G = y): the output is the backward map."""
        _, lm = face
        ys, xs = np.mgrid[0:SIZE, 0:SIZE]
        ramp = np.stack([xs, ys, np.zeros_like(xs)], axis=2).astype(np.uint8)
        moved, _ = _affine(lm, angle_deg=8.0, scale=1.0, shift=(6.0, 2.0))
        _, f1 = WarpAnimator().animate(ramp, np.stack([lm, moved]))
        err = np.abs(f1[:, :, :2].astype(int) - ramp[:, :, :2])
        border = np.ones((SIZE, SIZE), bool)
        border[2:-2, 2:-2] = False
        assert err[border].max() <= 2  # under 2 px, where the face moves by > 3 px
        assert err[border].mean() <= 0.5
        # ... while the face itself moved by several pixels.
        assert err[_face_mask(moved, 0.5)].mean() > 3

    def test_similarity_estimate_recovers_transform(self) -> None:
        lm = face_landmarks()
        moved, m = _affine(lm, 10.0, 1.2, (3.0, -2.0))
        est = estimate_similarity(lm, moved)
        assert np.allclose(est, m, atol=1e-9)


class TestMouth:
    def test_opening_grows_dark_area_and_closing_removes_it(self, face) -> None:
        img, lm = face
        amounts = [0.0, 4.0, 8.0, 14.0, 0.0]
        seq = np.stack([_open_mouth(lm, a) for a in amounts])
        frames = list(WarpAnimator().animate(img, seq))
        dark = [_dark_area(f, s[60:68]) for f, s in zip(frames, seq, strict=True)]
        assert dark[0] == 0 and dark[-1] == 0
        assert dark[1] <= dark[2] < dark[3]
        assert dark[3] > 0.3 * inner_mouth_area(seq[3])

    def test_no_cavity_when_disabled(self, face) -> None:
        img, lm = face
        seq = np.stack([lm, _open_mouth(lm, 14.0)])
        _, f1 = WarpAnimator(WarpConfig(mouth_cavity=False)).animate(img, seq)
        assert _dark_area(f1, seq[1][60:68]) == 0

    def test_closed_mouth_at_frame0_opens(self, synth) -> None:
        lm = face_landmarks()
        lm[[65, 66, 67]] = lm[[63, 62, 61]]  # inner lips coincide: zero gap
        img = synth.draw_face(lm)
        seq = np.stack([lm, _open_mouth(lm, 12.0)])
        f0, f1 = WarpAnimator().animate(img, seq)
        assert np.abs(f0.astype(int) - img).max() <= 1
        assert inner_mouth_area(lm) == pytest.approx(0.0, abs=1e-9)
        assert _dark_area(f1, seq[1][60:68]) > 0.3 * inner_mouth_area(seq[1])


class TestEyes:
    def test_closing_lids_hides_pupils(self, face) -> None:
        img, lm = face
        seq = np.stack([lm, _close_eyes(lm)])
        f0, f1 = WarpAnimator().animate(img, seq)
        eyes = [lm[36:42], lm[42:48]]
        before = sum(_dark_area(f0, e) for e in eyes)
        after = sum(_dark_area(f1, e) for e in eyes)
        assert before > 40
        assert after < 0.1 * before

    @pytest.mark.parametrize("overshoot", [0.0, 3.0])
    def test_closing_lids_does_not_tear(self, overshoot) -> None:
        """Warp a coordinate-ramp image (R = x, G = y): the output is the backward map.

        Closed (or over-closed) lids must cover the eye: no output pixel samples the eye
        interior, and the only jump in the map is across the closed lid line (the eye's
        own height), nowhere a tear."""
        lm = face_landmarks()
        ys, xs = np.mgrid[0:SIZE, 0:SIZE]
        ramp = np.stack([xs, ys, np.zeros_like(xs)], axis=2).astype(np.uint8)
        seq = np.stack([lm, _close_eyes(lm, overshoot)])
        _, f1 = WarpAnimator().animate(ramp, seq)
        f = f1.astype(int)
        eye_height = float(lm[[40, 41, 46, 47], 1].max() - lm[[37, 38, 43, 44], 1].min())
        jump = max(
            np.abs(np.diff(f[:, :, :2], axis=0)).max(), np.abs(np.diff(f[:, :, :2], axis=1)).max()
        )
        assert jump <= eye_height + 2, jump
        for eye in (lm[36:42], lm[42:48]):
            c = eye.mean(axis=0)
            interior = c + 0.5 * (eye - c)  # the inner half of the eye
            mask = np.zeros((SIZE, SIZE), np.uint8)
            cv2.fillPoly(mask, [np.round(interior).astype(np.int32)], 1)
            sampled = mask[np.clip(f[:, :, 1], 0, SIZE - 1), np.clip(f[:, :, 0], 0, SIZE - 1)]
            assert sampled.sum() == 0


class TestLayouts:
    def test_rgba_alpha_warped_and_kept(self, face) -> None:
        img, lm = face
        alpha = np.zeros((SIZE, SIZE), np.uint8)
        cv2.circle(alpha, (128, 130), 90, 255, -1)
        rgba = np.dstack([img, alpha])
        shift = (6.0, 4.0)
        f0, f1 = WarpAnimator().animate(rgba, np.stack([lm, lm + shift]))
        assert f0.shape == (SIZE, SIZE, 4) and np.abs(f0.astype(int) - rgba).max() <= 1
        ys, xs = np.nonzero(f1[:, :, 3] > 127)
        y0, x0 = np.nonzero(alpha > 127)
        assert abs(xs.mean() - x0.mean() - shift[0]) < 1.5
        assert abs(ys.mean() - y0.mean() - shift[1]) < 1.5

    def test_transparent_pixels_do_not_bleed_into_edges(self, face) -> None:
        _, lm = face
        alpha = np.zeros((SIZE, SIZE), np.uint8)
        cv2.circle(alpha, (128, 128), 100, 255, -1, cv2.LINE_AA)  # a soft-edged disc ...
        rgba = np.zeros((SIZE, SIZE, 4), np.uint8)  # ... white over transparent black
        rgba[alpha > 0] = 255
        rgba[:, :, 3] = alpha
        moved, _ = _affine(lm, angle_deg=7.0, scale=1.03, shift=(3.5, 2.25))
        _, f1 = WarpAnimator().animate(rgba, np.stack([lm, moved]))
        visible = f1[:, :, 3] > 0
        assert visible.sum() > 20000 and (f1[:, :, 3] < 255).sum() > 100  # soft edge kept
        assert f1[:, :, :3][visible].min() >= 254  # no dark fringe where alpha < 255

    def test_grey_and_16bit_and_float_inputs(self, face) -> None:
        img, lm = face
        grey = img.mean(axis=2).astype(np.uint8)
        seq = lm[None]
        (g,) = WarpAnimator().animate(grey, seq)
        assert g.shape == (SIZE, SIZE, 3) and np.array_equal(g[:, :, 0], g[:, :, 1])
        assert np.abs(g[:, :, 0].astype(int) - grey).max() <= 1
        (w16,) = WarpAnimator().animate(img.astype(np.uint16) * 257, seq)
        assert np.abs(w16.astype(int) - img).max() <= 1
        (fl,) = WarpAnimator().animate(img / 255.0, seq)
        assert np.abs(fl.astype(int) - img).max() <= 1

    def test_output_size_and_internal_cap(self, face) -> None:
        img, lm = face
        big = cv2.resize(img, (512, 512), interpolation=cv2.INTER_LINEAR)
        big_lm = (lm + 0.5) * 2.0 - 0.5
        seq = np.stack([big_lm, big_lm + np.array([6.0, 0.0])])
        anim = WarpAnimator(WarpConfig(max_side=256), output_size=(300, 200))
        f0, f1 = anim.animate(big, seq)
        assert f0.shape == (200, 300, 3) and f1.shape == (200, 300, 3)
        ref = cv2.resize(big, (300, 200), interpolation=cv2.INTER_AREA)
        assert np.abs(f0.astype(int) - ref).mean() < 3.0

    def test_non_square_odd_image(self, synth) -> None:
        lm = face_landmarks()
        img = synth.draw_face(lm)[:251, :233]
        frames = list(WarpAnimator().animate(img, np.stack([lm, lm + 2.0])))
        assert frames[1].shape == (251, 233, 3)
        assert np.abs(frames[0].astype(int) - img).max() <= 1


class TestStreamingAndErrors:
    def test_returns_lazy_iterator(self, face) -> None:
        img, lm = face
        it = WarpAnimator().animate(img, np.repeat(lm[None], 1000, axis=0))
        assert inspect.isgenerator(it)
        assert next(it).shape == img.shape  # 1000 frames never materialised

    def test_errors_are_raised_at_call_time(self, face) -> None:
        img, lm = face
        anim = WarpAnimator()
        with pytest.raises(AnimateInputError, match="`image` must have shape"):
            anim.animate(img[:, :, :2], lm)
        with pytest.raises(LandmarkShapeError, match="`landmarks`"):
            anim.animate(img, lm[:, :1])
        with pytest.raises(AnimateInputError, match="`fps`"):
            anim.animate(img, lm, fps=0)
        with pytest.raises(AnimateInputError, match=r"\[0, 1\]"):
            anim.animate(img * 2.0, lm)
        with pytest.raises(ValueError, match="grid_step"):
            WarpConfig(grid_step=0)
        with pytest.raises(ValueError, match="output_size"):
            WarpAnimator(output_size=(1, 5))


def _cross(u: np.ndarray, v: np.ndarray) -> float:
    return float(u[0] * v[1] - u[1] * v[0])


def test_mesh_respects_facial_contours() -> None:
    """Every eye/lip contour segment is an edge of the triangulation (possibly split)."""
    lm = face_landmarks()
    mesh = build_mesh(lm, (SIZE, SIZE))
    pts = mesh.source
    tri = mesh.triangles
    edges = {
        tuple(sorted(e)) for t in tri.tolist() for e in ((t[0], t[1]), (t[1], t[2]), (t[2], t[0]))
    }
    # Each point of the inner-lip loop must be joined to its successor through a chain of
    # mesh edges lying on the segment.
    for a, b in zip(range(60, 68), [*range(61, 68), 60], strict=True):
        on_seg = [
            i
            for i in range(len(pts))
            if np.isclose(_cross(pts[b] - pts[a], pts[i] - pts[a]), 0.0, atol=1e-6 * FACE_WIDTH**2)
            and -1e-9
            <= np.dot(pts[i] - pts[a], pts[b] - pts[a])
            <= np.dot(pts[b] - pts[a], pts[b] - pts[a]) + 1e-9
        ]
        order = sorted(on_seg, key=lambda i: np.dot(pts[i] - pts[a], pts[b] - pts[a]))
        assert order[0] == a and order[-1] == b
        assert all(tuple(sorted((p, q))) in edges for p, q in itertools.pairwise(order))


@pytest.mark.parametrize("seed", range(6))
def test_frame0_is_identity_for_arbitrary_landmark_sets(seed) -> None:
    """Template + similarity + heavy jitter (crossed lids and lips included), or plain
    random points: frame 0 always reproduces the image and later frames stay finite."""
    rng = np.random.default_rng(seed)
    img = rng.integers(0, 256, (120, 160, 3), dtype=np.uint8)
    if seed % 2:
        lm = rng.random((68, 2)) * (160, 120)
    else:
        lm = template_face(rng.uniform(30, 150), rng.uniform(20, 140, 2)) + rng.normal(
            0, 4, (68, 2)
        )
    seq = np.stack([lm, lm + rng.normal(0, 3, (68, 2)), lm + 5.0])
    frames = list(WarpAnimator().animate(img, seq))
    assert np.abs(frames[0].astype(int) - img).max() <= 1
    assert all(f.shape == img.shape for f in frames)
