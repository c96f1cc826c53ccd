"""Landmark polylines and sparse landmark flow (the ControlNet's landmark conditions)."""

from __future__ import annotations

import numpy as np
import pytest
from faceshot_retarget import template_face

from faceshot_animate.mofa import LANDMARK_PARTS, render_landmark_images, sparse_landmark_flow


def _face(t=3, size=320.0):
    base = template_face(0.6 * size, (size / 2, size / 2))
    return np.stack([base + np.array([2.0 * i, 1.0 * i]) for i in range(t)])


def test_parts_cover_every_landmark_once_or_as_chain_joint():
    used = sorted({i for idx, _ in LANDMARK_PARTS.values() for i in idx})
    assert used == list(range(68))
    assert len(LANDMARK_PARTS) == 15
    assert len({c for _, c in LANDMARK_PARTS.values()}) == 15  # one colour per part


def test_render_at_canvas_size_draws_part_colours():
    lm = _face(2)
    lm_in = lm.copy()
    img = render_landmark_images(lm, 320, 320)
    np.testing.assert_array_equal(lm, lm_in)
    assert img.shape == (2, 3, 320, 320) and img.dtype == np.float32
    assert img.min() >= 0 and img.max() <= 1
    assert img[0, :, :5, :5].max() == 0  # background is black
    for name, (_idx, colour) in LANDMARK_PARTS.items():
        want = np.array(colour, np.float32) / 255
        hits = np.all(np.abs(img[0].transpose(1, 2, 0) - want) < 1e-6, axis=-1)
        assert hits.sum() > 0, name
    # jaw point 8 lies on the jaw polyline
    x, y = np.trunc(lm[0, 8]).astype(int)
    np.testing.assert_allclose(img[0, :, y, x], np.array([10, 200, 10]) / 255, atol=1e-6)
    # frame 1 is shifted by (2, 1) px
    assert not np.array_equal(img[0], img[1])


def test_render_resizes_to_any_size():
    img = render_landmark_images(_face(1, 64.0), 64, 96)
    assert img.shape == (1, 3, 64, 96)
    assert img.max() > 0


def test_sparse_flow_values_and_mask():
    lm = _face(3, 100.0)
    flow, mask = sparse_landmark_flow(lm, 100, 100, 50)
    assert flow.shape == mask.shape == (2, 2, 50, 50)
    pts = lm * 0.5
    cols = np.trunc(pts[0, :, 0]).astype(int)
    rows = np.trunc(pts[0, :, 1]).astype(int)
    np.testing.assert_allclose(flow[1, 0, rows, cols], 2.0 * 2 * 0.5)  # frame 2: dx = 4 px -> 2
    np.testing.assert_allclose(flow[1, 1, rows, cols], 1.0 * 2 * 0.5)
    np.testing.assert_allclose(flow[0, 0, rows, cols], 1.0)
    n_pix = len(set(zip(rows.tolist(), cols.tolist(), strict=True)))
    assert mask[0, 0].sum() == n_pix and np.array_equal(mask[:, 0], mask[:, 1])
    assert np.all(flow[mask == 0] == 0)


def test_sparse_flow_single_frame_and_clipping():
    lm = _face(1, 100.0)
    flow, mask = sparse_landmark_flow(lm, 100, 100, 32)
    assert flow.shape == (0, 2, 32, 32) and mask.shape == (0, 2, 32, 32)
    far = np.stack([lm[0], lm[0]])
    far[:, 0] = [500.0, -40.0]  # outside the image: clipped to the border pixel
    flow, mask = sparse_landmark_flow(far, 100, 100, 32)
    assert mask[0, 0, 0, 31] == 1


@pytest.mark.parametrize("h,w", [(64, 64), (128, 64)])
def test_render_handles_points_outside(h, w):
    lm = _face(1, 64.0) * 3 - 50  # partly off-canvas
    img = render_landmark_images(lm, h, w)
    assert img.shape == (1, 3, h, w) and np.isfinite(img).all()
