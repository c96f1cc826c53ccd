"""Sliding windows (anchor frame 0 + 24, stride 12) and per-step averaging."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from faceshot_animate.mofa import MofaConfigError, Window, plan_windows, window_weights


def test_official_125_frames():
    wins = plan_windows(125)
    starts = [w.start for w in wins]
    assert starts == [1, 13, 25, 37, 49, 61, 73, 85, 97, 101]
    assert all(len(w) == 25 for w in wins)
    assert wins[-1].stop == 125
    assert wins[0].frames.tolist() == list(range(25))
    assert wins[1].frames.tolist() == [0, *range(13, 37)]


@pytest.mark.parametrize("window,stride", [(25, 12), (5, 2), (5, 4), (2, 1), (9, 8), (25, 1)])
@pytest.mark.parametrize("t", [1, 2, 3, 5, 6, 13, 24, 25, 26, 37, 49, 50, 61, 100, 125, 201])
def test_every_frame_covered_and_weights_sum_to_one(t, window, stride):
    wins = plan_windows(t, window, stride)
    weights = window_weights(t, wins)
    assert weights.shape == (len(wins), t)
    np.testing.assert_allclose(weights.sum(axis=0), np.ones(t), rtol=0, atol=1e-12)
    covered = np.zeros(t, dtype=int)
    for k, w in enumerate(wins):
        fr = w.frames
        assert fr[0] == 0 and len(fr) == min(t, window)
        assert np.all(np.diff(fr[1:]) == 1) and fr[-1] < t
        covered[fr[1:]] += 1
        # weight = 1 / (number of windows holding the frame) inside, 0 outside
        inside = np.zeros(t, bool)
        inside[fr[1:]] = True
        assert np.all(weights[k, 1:][~inside[1:]] == 0)
    assert np.all(covered[1:] >= 1)
    assert weights[0, 0] == 1 and np.all(weights[1:, 0] == 0)  # frame 0 from window 0
    np.testing.assert_allclose(weights[:, 1:].max(axis=0), 1.0 / covered[1:])
    assert len({(w.start, w.stop) for w in wins}) == len(wins)  # no duplicate window
    assert wins[-1].stop == t


def test_bad_arguments():
    with pytest.raises(MofaConfigError, match="num_frames"):
        plan_windows(0)
    with pytest.raises(MofaConfigError, match="window"):
        plan_windows(10, 1, 1)
    with pytest.raises(MofaConfigError, match="stride"):
        plan_windows(10, 5, 5)
    with pytest.raises(MofaConfigError, match="stride"):
        plan_windows(10, 5, 0)
    with pytest.raises(MofaConfigError, match="does not fit"):
        window_weights(5, (Window(1, 9),))
    with pytest.raises(MofaConfigError, match="covered by no window"):
        window_weights(9, (Window(1, 4), Window(6, 9)))


def test_averaging_outputs_equals_averaging_stepped_latents():
    """The official pipeline steps each window, then averages latents; we average outputs, step once."""
    from diffusers import EulerDiscreteScheduler

    cfg = dict(
        prediction_type="v_prediction",
        use_karras_sigmas=True,
        timestep_type="continuous",
        sigma_min=0.002,
        sigma_max=700.0,
        interpolation_type="linear",
        timestep_spacing="leading",
        steps_offset=1,
        beta_schedule="scaled_linear",
        beta_start=0.00085,
        beta_end=0.012,
    )
    t_total = 9
    wins = plan_windows(t_total, 5, 2)
    weights = torch.from_numpy(window_weights(t_total, wins)).float()
    g = torch.Generator().manual_seed(0)
    latents = torch.randn(1, t_total, 4, 3, 3, generator=g)
    preds = [torch.randn(1, len(w), 4, 3, 3, generator=g) for w in wins]

    official = EulerDiscreteScheduler(**cfg)
    official.set_timesteps(4)
    ours = EulerDiscreteScheduler(**cfg)
    ours.set_timesteps(4)
    lat_a = latents.clone()
    lat_b = latents.clone()
    for t in official.timesteps:
        value = torch.zeros_like(lat_a)
        count = torch.zeros_like(lat_a)
        for k, (w, p) in enumerate(zip(wins, preds, strict=True)):
            fr = torch.from_numpy(w.frames)
            stepped = official.step(p, t, lat_a[:, fr]).prev_sample
            if k != len(wins) - 1:
                official._step_index -= 1  # what the official pipeline does
            keep = fr if k == 0 else fr[1:]
            value[:, keep] += stepped[:, 0 if k == 0 else 1 :]
            count[:, keep] += 1
        lat_a = value / count

        avg = torch.zeros_like(lat_b)
        for k, (w, p) in enumerate(zip(wins, preds, strict=True)):
            fr = torch.from_numpy(w.frames)
            avg.index_add_(1, fr, p * weights[k, fr].view(1, -1, 1, 1, 1))
        lat_b = ours.step(avg, t, lat_b).prev_sample
    torch.testing.assert_close(lat_a, lat_b, rtol=1e-4, atol=1e-4)
