"""The constrained (default) retarget mode: every rule, known answers and hypothesis properties."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from faceshot_retarget import (
    Landmarks,
    RetargetConfig,
    SimilarityTransform,
    constrain_parts,
    keep_in_canvas,
    motion_figures,
    mouth_opening,
    neutral_reference,
    rate_limit,
    retarget,
    soft_upper,
    template_face,
    violation_frames,
)
from faceshot_retarget.testing import (
    apply_similarity,
    characters,
    faces,
    hard_drivers,
    open_mouth,
)

DRIVER = template_face(100.0, (88.0, 72.0))
CHARACTER = apply_similarity(template_face(1.0) * np.array([1.0, 1.3]), 240.0, 0.2, (300.0, 260.0))
# bounded property runs: each example retargets a whole sequence
PROPS = settings(max_examples=300, deadline=None)


def _width(face):
    return float(np.linalg.norm(face[..., 16, :] - face[..., 0, :]))


def _rot(phi):
    return np.array([[np.cos(phi), -np.sin(phi)], [np.sin(phi), np.cos(phi)]])


def _ramp(a, b, n):
    """n faces blending a -> b (linear in each point)."""
    s = np.linspace(0.0, 1.0, n)[:, None, None]
    return (1 - s) * a + s * b


def _talking(n=80, amount=0.8, base=DRIVER, seed=0):
    """A nodding, talking driver with jitter; mouth opens up to ``amount`` mouth heights."""
    rng = np.random.default_rng(seed)
    k = np.arange(n)
    o = 0.5 * (base[0] + base[16])
    angle = 0.15 * np.sin(0.2 * k)
    seq = apply_similarity(
        base[None] - o,
        1.0,
        angle[:, None],
        o + np.stack([6 * np.sin(0.1 * k), 3 * np.cos(0.13 * k)], 1)[:, None],
    )
    seq = open_mouth(seq, amount * np.clip(np.sin(0.4 * k), 0, None))
    return seq + rng.normal(0, 0.3, seq.shape)


# --------------------------------------------------------------------------- soft limits
def test_soft_upper_known_answers():
    u = np.array([-5.0, 0.0, 1.0, 1.5, 2.0, 30.0])
    out = soft_upper(u, 2.0, 1.0)
    np.testing.assert_allclose(out[:3], u[:3])  # identity below bound - knee
    assert np.all(out <= 2.0) and np.all(np.diff(out) > 0)
    assert out[-1] == pytest.approx(2.0)
    np.testing.assert_allclose(soft_upper(u, 2.0, 0.0), np.minimum(u, 2.0))  # hard


@given(st.floats(-10, 10), st.floats(-10, 10), st.floats(0, 3))
def test_soft_upper_is_monotone_bounded_continuous(u, b, k):
    f = lambda x: float(soft_upper(x, b, k))  # noqa: E731
    assert f(u) <= max(b, u if u <= b - k else b) + 1e-12
    assert f(u + 1e-3) >= f(u) - 1e-12
    assert abs(f(u + 1e-6) - f(u)) <= 2e-6


# --------------------------------------------------------------------------- part rules
def test_rest_shape_is_a_fixed_point_of_the_part_rules():
    for face in (CHARACTER, template_face(50.0)):
        np.testing.assert_allclose(constrain_parts(face, face)[0], face, atol=1e-9)


def test_part_rules_pull_a_mouth_below_the_chin_back_inside():
    bad = CHARACTER.copy()
    down = np.array([-np.sin(0.2), np.cos(0.2)])  # the character's "down" (tilted 0.2 rad)
    bad[[55, 56, 57, 58, 59, 65, 66, 67]] += 150.0 * down  # lower lip far below the chin
    assert violation_frames(bad)[0]
    fixed = constrain_parts(bad, CHARACTER)[0]
    assert not violation_frames(fixed)[0]
    # the mouth still opened (compressed, not frozen)
    assert mouth_opening(fixed)[0] > mouth_opening(CHARACTER)[0] + 0.05


def test_a_mouth_held_back_by_the_chin_keeps_its_upper_lip_below_the_nose():
    # the driver drops only its lower lip and chin; the character's mouth is held inside the
    # jaw by a uniform scale towards the nose base, so its upper lip barely rises (scaled
    # towards the point between the eyes alone it rose 0.056 face widths; now 0.030)
    k = np.arange(30)
    seq = open_mouth(np.repeat(DRIVER[None], 30, axis=0), 3.0 * np.sin(np.pi * k / 29))
    for char in (template_face(200.0, (200.0, 200.0)), CHARACTER):
        out = retarget(seq, char)
        assert not violation_frames(out).any()
        rise = np.linalg.norm((out[:, 51] - out[:, 33]) - (char[51] - char[33]), axis=1)
        assert rise.max() <= 0.04 * _width(char)
        assert mouth_opening(out).max() > mouth_opening(char[None])[0] + 0.1  # still open


def test_part_rules_uncross_lids_and_lower_brows_stay_above_eyes():
    bad = CHARACTER.copy()
    bad[[37, 38]], bad[[41, 40]] = CHARACTER[[41, 40]], CHARACTER[[37, 38]]  # crossed lids
    bad[17:22] = CHARACTER[36:41] + np.array([0.0, 5.0])  # right brow pulled into the eye
    fixed = constrain_parts(bad, CHARACTER)[0]
    up = np.array([-(CHARACTER[16] - CHARACTER[0])[1], (CHARACTER[16] - CHARACTER[0])[0]])
    up /= np.linalg.norm(up)  # face "down" direction (y down)
    y = fixed @ up
    assert np.all(y[[41, 40]] - y[[37, 38]] >= -1e-9)  # lids meet, never cross
    assert np.all(y[17:22] < min(y[37], y[38]))  # brow above the eye


@PROPS
@given(characters(), hard_drivers())
def test_constraints_hold_for_random_drivers_and_characters(character, drive):
    points, visible, cuts = drive
    out = retarget(Landmarks(points, visible=visible), character, cuts=cuts)
    assert np.isfinite(out).all()
    assert not violation_frames(out).any()
    np.testing.assert_allclose(out[0], character, atol=1e-7 * np.abs(character).max())


@PROPS
@given(characters(), hard_drivers())
def test_face_stays_in_the_canvas(character, drive):
    points, visible, cuts = drive
    lo, hi = character.min(axis=0), character.max(axis=0)
    pad = 0.5 * (hi - lo)
    shift = pad - lo  # character placed with half a face of room on every side
    canvas = (
        int(np.ceil(hi[1] - lo[1] + 2 * pad[1])) + 1,
        int(np.ceil(hi[0] - lo[0] + 2 * pad[0])) + 1,
    )
    out = retarget(
        Landmarks(points, visible=visible), character + shift, cuts=cuts, canvas_size=canvas
    )
    assert out.min() >= 0.0
    assert np.all(out[..., 0] <= canvas[1] - 1) and np.all(out[..., 1] <= canvas[0] - 1)


# --------------------------------------------------------------------------- rigid motion
@PROPS
@given(faces(), characters(), st.integers(2, 12), st.integers(0, 2**32 - 1))
def test_pure_rigid_motion_is_reproduced_exactly(driver, character, t, seed):
    rng = np.random.default_rng(seed)
    angle = rng.uniform(-0.6, 0.6, t)
    scale = rng.uniform(0.9, 1.12, t)  # inside the scale range's identity zone
    shift = rng.uniform(-50, 50, (t, 2))
    angle[0], scale[0], shift[0] = 0.0, 1.0, 0.0
    o = 0.5 * (driver[0] + driver[16])
    seq = apply_similarity(
        driver[None] - o, scale[:, None, None], angle[:, None], o + shift[:, None]
    )
    out = retarget(seq, character)
    oc = 0.5 * (character[0] + character[16])
    expected = apply_similarity(
        character[None] - oc, scale[:, None, None], angle[:, None], oc + shift[:, None]
    )
    np.testing.assert_allclose(out, expected, atol=1e-8 * (1 + np.abs(expected).max()))


def test_rigid_motion_is_exact_inside_a_roomy_canvas_and_limited_at_its_edge():
    o = 0.5 * (DRIVER[0] + DRIVER[16])
    steps = np.arange(30)
    seq = DRIVER[None] + np.stack([4.0 * steps, 0 * steps], axis=1)[:, None]
    free = retarget(seq, CHARACTER)
    np.testing.assert_allclose(free, CHARACTER[None] + (seq - DRIVER), atol=1e-9)
    boxed = retarget(seq, CHARACTER, canvas_size=(1000, 500))
    assert boxed[..., 0].max() <= 499.0
    assert np.all(np.diff(boxed[:, 30, 0]) >= -1e-9)  # still moving right, slower
    assert o is not None


# --------------------------------------------------------------------------- scale
def test_driver_zoom_is_bounded_and_does_not_leak_into_expression():
    o = 0.5 * (DRIVER[0] + DRIVER[16])
    zoom = np.linspace(1.0, 2.0, 40)
    seq = apply_similarity(DRIVER[None] - o, zoom[:, None, None], 0.0, o)
    out = retarget(seq, CHARACTER)
    size = np.linalg.norm(out[:, 16] - out[:, 0], axis=1) / _width(CHARACTER)
    assert size.max() <= 1.25 + 1e-9 and size[-1] > 1.2
    # the face keeps its shape: only a similarity of the rest face
    oc = 0.5 * (CHARACTER[0] + CHARACTER[16])
    np.testing.assert_allclose(out[-1], oc + size[-1] * (CHARACTER - oc), atol=1e-6)
    paper = retarget(seq, CHARACTER, mode="paper")
    assert np.linalg.norm(paper[-1, 16] - paper[-1, 0]) / _width(CHARACTER) > 1.9  # grew unbounded


# --------------------------------------------------------------------------- amplitude
def test_gain_of_four_failure_is_gone():
    """Driver mouth nearly closed at the reference, character with an open smile (DESIGN.md)."""
    character = open_mouth(CHARACTER, 1.2)  # inner-lip opening about 0.25 face widths
    reference = open_mouth(DRIVER, 0.3)  # driver opening about 0.07 face widths
    assert mouth_opening(character)[0] > 0.2 and mouth_opening(reference)[0] < 0.08
    seq = np.concatenate(
        [np.repeat(reference[None], 12, axis=0), _ramp(reference, open_mouth(DRIVER, 1.5), 20)]
    )
    d_open = mouth_opening(seq)[-1] - mouth_opening(seq)[0]
    new = retarget(seq, character)
    paper = retarget(seq, character, mode="paper")
    gain_new = (mouth_opening(new)[-1] - mouth_opening(new)[0]) / d_open
    gain_paper = (mouth_opening(paper)[-1] - mouth_opening(paper)[0]) / d_open
    assert gain_paper > 2.5  # the failure the paper's per-point ratio gives
    assert 0.3 < gain_new <= 1.5 + 1e-6  # capped at max_expression_gain
    assert violation_frames(paper).any() and not violation_frames(new).any()


@pytest.mark.parametrize("fraction", [0.1, 0.3, 0.6])
@pytest.mark.parametrize("closed_character", [False, True])
def test_mouth_opening_transfers_in_default_mode(fraction, closed_character):
    character = CHARACTER.copy()
    if closed_character:
        mid = 0.5 * (character[[61, 62, 63]] + character[[67, 66, 65]])
        character[[61, 62, 63]] = mid
        character[[67, 66, 65]] = mid
    # a neutral stretch (the neutral estimate), then a gradual opening (the rate limit never acts)
    seq = np.concatenate(
        [np.repeat(DRIVER[None], 15, axis=0), _ramp(DRIVER, open_mouth(DRIVER, fraction), 15)]
    )
    out = retarget(seq, character)

    def gap_height(f):
        v = f[16] - f[0]
        up = np.array([-v[1], v[0]]) / np.linalg.norm(v)
        y = f @ up
        return np.mean(np.abs(y[[61, 62, 63]] - y[[67, 66, 65]])), np.ptp(y[48:60])

    gap0, height0 = gap_height(out[0])
    gap1, _ = gap_height(out[-1])
    assert (gap1 - gap0) / height0 == pytest.approx(fraction, rel=0.05)


@PROPS
@given(characters(), st.floats(0.3, 2.0), st.integers(0, 2**32 - 1))
def test_frozen_motion_guard_mouth_opening_still_transfers(character, amount, seed):
    seq = _talking(60, amount, seed=seed % 1000)
    out = retarget(seq, character)
    f = motion_figures(seq, out, (10_000, 10_000))
    assert f["mouth_corr"] > 0.8
    assert np.ptp(mouth_opening(out)) > 0.2 * np.ptp(mouth_opening(seq))


def test_eye_closing_over_frames_closes_the_character_eye():
    closed = DRIVER.copy()
    a, b = DRIVER[36], DRIVER[39]
    for p in (37, 38, 40, 41):
        u = np.dot(DRIVER[p] - a, b - a) / np.dot(b - a, b - a)
        closed[p] = a + u * (b - a)
    out = retarget(_ramp(DRIVER, closed, 8), CHARACTER)[-1]
    np.testing.assert_allclose(out[[37, 38]], out[[41, 40]], atol=1e-6)


# --------------------------------------------------------------------------- cuts, neutral
def test_neutral_reference_ignores_words_blinks_and_glitches():
    seq = _talking(60, 0.8)
    seq[0] = open_mouth(seq[0], 0.8)  # frame 0 mid-word
    blink = seq[10].copy()
    blink[[37, 38]] = blink[[41, 40]]
    seq[10] = blink
    seq[20] += 40.0  # one glitch frame far away
    ref = neutral_reference(seq)
    assert mouth_opening(ref)[0] < mouth_opening(seq[0])[0] - 0.05
    assert mouth_opening(ref)[0] == pytest.approx(mouth_opening(DRIVER)[0], abs=0.01)
    eye = np.linalg.norm(ref[37] - ref[41])
    assert eye == pytest.approx(np.linalg.norm(DRIVER[37] - DRIVER[41]), rel=0.1)
    # invariant to a similarity of the whole shot
    moved = apply_similarity(seq, 2.0, 0.3, (10.0, -4.0))
    np.testing.assert_allclose(
        neutral_reference(moved), apply_similarity(ref, 2.0, 0.3, (10.0, -4.0)), atol=1e-6
    )
    # short shots fall back to their first frame
    np.testing.assert_allclose(neutral_reference(seq[:5]), seq[0], atol=1e-9)


def test_start_is_eased_from_the_character_to_the_neutral_mapping():
    seq = _talking(80, 0.8)
    seq[0] = open_mouth(DRIVER, 0.8)  # the driver starts mid-word
    out = retarget(seq, CHARACTER)
    np.testing.assert_allclose(out[0], CHARACTER, atol=1e-9)
    # later, a closed driver mouth gives the character's rest mouth (not a crossed one)
    closed = np.flatnonzero(mouth_opening(seq) < mouth_opening(DRIVER)[0] + 0.005)
    late = closed[closed > 20]
    assert late.size
    assert np.median(np.abs(mouth_opening(out[late]) - mouth_opening(CHARACTER)[0])) < 0.008


@PROPS
@given(characters(), hard_drivers())
def test_no_jump_at_cuts(character, drive):
    points, visible, cuts = drive
    out = retarget(Landmarks(points, visible=visible), character, cuts=cuts)
    width = _width(character)
    for c in cuts:
        step = np.linalg.norm(out[c] - out[c - 1], axis=1).max()
        assert step <= 0.05 * 1.25 * width + 1e-6


def test_cut_to_a_zoomed_shifted_copy_carries_on_then_follows():
    seq = _talking(60, 0.6)
    o = 0.5 * (DRIVER[0] + DRIVER[16])
    seq[30:] = (seq[30:] - o) * 2.0 + o + np.array([40.0, -25.0])  # the camera cuts to a close-up
    out = retarget(seq, CHARACTER, cuts=[30])
    raw = retarget(seq, CHARACTER)
    width = _width(CHARACTER)
    assert np.linalg.norm(out[30] - out[29], axis=1).max() < 1e-6  # carries on
    assert np.linalg.norm(raw[30] - raw[29], axis=1).max() > 0.2 * width  # without the cut: a jump
    # later the close-up drives the character at its normal size, talking
    size = np.linalg.norm(out[45:, 16] - out[45:, 0], axis=1) / width
    assert np.all(np.abs(size - 1.0) < 0.05)
    assert np.corrcoef(mouth_opening(seq[45:]), mouth_opening(out[45:]))[0, 1] > 0.9


def test_cuts_are_validated():
    seq = _talking(10)
    for bad, msg in (
        ([5, 3], "increasing"),
        ([10], r"\[0, 10\)"),
        ([-1], r"\[0, 10\)"),
        ([2.5], "integers"),
    ):
        with pytest.raises(ValueError, match=msg):
            retarget(seq, CHARACTER, cuts=bad)
    np.testing.assert_array_equal(retarget(seq, CHARACTER, cuts=[0]), retarget(seq, CHARACTER))
    with pytest.raises(ValueError, match="canvas_size"):
        retarget(seq, CHARACTER, canvas_size=(0, 5))


# --------------------------------------------------------------------------- absences
def test_absence_holds_then_eases_to_rest_and_returns_without_a_jump():
    seq = _talking(120, 0.8)
    o = 0.5 * (DRIVER[0] + DRIVER[16])
    seq = apply_similarity(seq - o, 1.0, 0.25, o)  # head turned while talking
    visible = np.ones((120, 68), dtype=bool)
    visible[40:100] = False
    seq[40:100] = 0.0  # garbage where absent (finite)
    cfg = RetargetConfig(absence_hold_frames=10, absence_ease_frames=20)
    exact = retarget(Landmarks(seq, visible=visible), CHARACTER, config=cfg, rate_limit=False)
    np.testing.assert_allclose(exact[40:50], np.repeat(exact[39:40], 10, axis=0), atol=1e-9)  # hold
    np.testing.assert_allclose(
        exact[70:100], np.repeat(CHARACTER[None], 30, axis=0), atol=1e-9
    )  # rest
    out = retarget(Landmarks(seq, visible=visible), CHARACTER, config=cfg)
    np.testing.assert_allclose(out[70:100], np.repeat(CHARACTER[None], 30, axis=0), atol=1e-9)
    width = _width(CHARACTER)
    steps = np.linalg.norm(np.diff(out, axis=0), axis=2).max(axis=1)
    assert steps[38:].max() <= 0.05 * 1.25 * width + 1e-6  # no jump at leaving or returning
    assert np.abs(out[110:] - CHARACTER).max() > 0.02 * width  # and it moves again


def test_all_absent_gives_the_character():
    seq = _talking(5)
    out = retarget(Landmarks(seq, visible=np.zeros((5, 68), bool)), CHARACTER)
    np.testing.assert_array_equal(out, np.repeat(CHARACTER[None], 5, axis=0))


# --------------------------------------------------------------------------- regions
def test_motion_regions():
    seq = _talking(40, 0.8)
    o = 0.5 * (DRIVER[0] + DRIVER[16])
    seq[:, 17:27, 1] -= np.linspace(0, 6, 40)[:, None]  # brows up
    seq = apply_similarity(seq - o, 1.0, np.linspace(0, 0.3, 40)[:, None], o)
    full = retarget(seq, CHARACTER)
    pose = retarget(seq, CHARACTER, motion="pose")
    expr = retarget(seq, CHARACTER, motion="expression")
    eyes = retarget(seq, CHARACTER, motion="eyes")
    lips = retarget(seq, CHARACTER, motion="lips")
    angle = lambda f: np.arctan2(*(f[:, 16] - f[:, 0]).T[::-1])  # noqa: E731
    # pose: rigid copies of the character that turn with the driver
    d0 = np.linalg.norm(CHARACTER[:, None] - CHARACTER[None], axis=-1) / _width(CHARACTER)
    for f in pose:  # (the driver's size jitters: similar copies)
        np.testing.assert_allclose(
            np.linalg.norm(f[:, None] - f[None], axis=-1) / _width(f), d0, atol=1e-9
        )
    assert np.ptp(angle(pose)) > 0.25 and np.ptp(angle(full)) > 0.25
    # expression, eyes, lips: the head does not turn
    for f in (expr, eyes, lips):
        assert np.ptp(angle(f)) < 1e-9
    assert np.ptp(mouth_opening(expr)) > 0.05 and np.ptp(mouth_opening(lips)) > 0.05
    np.testing.assert_allclose(
        eyes[:, 48:68], np.repeat(CHARACTER[None, 48:68], 40, axis=0), atol=1e-9
    )
    np.testing.assert_allclose(
        lips[:, 17:48], np.repeat(CHARACTER[None, 17:48], 40, axis=0), atol=1e-9
    )
    assert np.abs(eyes[:, 17:27] - CHARACTER[17:27]).max() > 3.0  # brows moved
    with pytest.raises(ValueError, match="motion"):
        RetargetConfig(motion="hands")


def test_paper_mode_is_reachable_and_differs():
    seq = _talking(30, 1.5)
    a = retarget(seq, CHARACTER, mode="paper")
    b = retarget(seq, CHARACTER)
    np.testing.assert_allclose(a[0], b[0], atol=1e-9)
    assert np.abs(a - b).max() > 1.0
    with pytest.raises(ValueError, match="mode"):
        RetargetConfig(mode="magic")


# --------------------------------------------------------------------------- helpers
def test_rate_limit_spreads_a_jump_and_catches_up():
    x = np.repeat(DRIVER[None], 10, axis=0)
    x[3:] += np.array([10.0, 0.0])
    out = rate_limit(x, np.full(10, 3.0))
    steps = np.linalg.norm(np.diff(out, axis=0), axis=2).max(axis=1)
    assert steps.max() <= 3.0 + 1e-9
    np.testing.assert_allclose(out[7:], x[7:])  # caught up after 4 frames
    np.testing.assert_array_equal(rate_limit(x, np.full(10, 20.0)), x)


def test_a_jaw_dropped_against_the_canvas_edge_barely_lifts_the_head():
    # a character with a small margin below its chin; the driver's jaw drops by about half
    # a face width: the old box-of-all-points rule lifted the whole head by the overflow
    char = template_face(200.0, (200.0, 200.0))
    canvas = (int(np.ceil(char[:, 1].max())) + 20, 400)
    k = np.arange(30)
    seq = open_mouth(np.repeat(DRIVER[None], 30, axis=0), 3.0 * np.sin(np.pi * k / 29))
    free = retarget(seq, char)
    assert free[:, 8, 1].max() > canvas[0] + 30  # the jaw would leave the canvas by far
    eyes = list(range(36, 48))

    def lift(cfg):
        out = retarget(seq, char, canvas_size=canvas, config=cfg)
        assert out.min() >= 0 and out[..., 1].max() <= canvas[0] - 1
        assert out[..., 0].max() <= canvas[1] - 1 and not violation_frames(out).any()
        return float((char[eyes, 1].mean() - out[:, eyes, 1].mean(axis=1)).max()), out

    width = _width(char)
    lifted, out = lift(RetargetConfig())
    old, _ = lift(RetargetConfig(canvas_push=10.0))
    assert lifted <= 0.1 * width + 1e-6 < 0.2 * width < old
    # the mouth still opens, scaled down as a whole
    assert mouth_opening(out).max() > mouth_opening(char[None])[0] + 0.1
    # keep_in_canvas applies the same rule to landmark frames
    kept = keep_in_canvas(free, char, canvas)
    assert kept.min() >= 0 and kept[..., 1].max() <= canvas[0] - 1
    assert (char[eyes, 1].mean() - kept[:, eyes, 1].mean(axis=1)).max() <= 0.1 * width + 1e-6
    boxed = keep_in_canvas(free, char, canvas, push=10.0)
    assert (char[eyes, 1].mean() - boxed[:, eyes, 1].mean(axis=1)).max() > 0.2 * width


def test_a_chin_on_the_canvas_edge_does_not_stop_the_mouth():
    # a character filling its image (chin on the bottom row): the jaw is clipped to the
    # canvas point by point, the mouth still opens as far as the canvas allows
    char = template_face(200.0, (200.0, 200.0))
    canvas = (int(np.floor(char[:, 1].max())) + 1, 400)
    k = np.arange(30)
    seq = open_mouth(np.repeat(DRIVER[None], 30, axis=0), 1.5 * np.sin(np.pi * k / 29))
    free = retarget(seq, char)  # the chin would drop 0.17 face widths below the canvas
    boxed = retarget(seq, char, canvas_size=canvas)
    assert boxed.min() >= 0 and boxed[..., 1].max() <= canvas[0] - 1
    assert not violation_frames(boxed).any()
    rest = mouth_opening(char[None])[0]
    assert mouth_opening(boxed).max() - rest >= 0.9 * (mouth_opening(free).max() - rest)


def test_keep_in_canvas_known_answer():
    face = template_face(100.0, (60.0, 60.0))
    moved = np.stack([face, face + np.array([400.0, 0.0])])
    out = keep_in_canvas(moved, face, (200, 200))
    np.testing.assert_allclose(out[0], face, atol=1e-9)
    assert out[1][:, 0].max() <= 199.0 and out[1][:, 0].max() > 190.0
    np.testing.assert_allclose(
        np.ptp(out[1], axis=0), np.ptp(face, axis=0), atol=1e-9
    )  # a translation


def test_motion_figures_of_a_frozen_character_show_it():
    seq = _talking(40, 0.8)
    frozen = np.repeat(CHARACTER[None], 40, axis=0)
    f = motion_figures(seq, frozen, (600, 600))
    assert f["violations"] == 0 and f["in_canvas"] == 1.0 and f["max_jump"] == 0.0
    assert f["mouth_corr"] == 0.0 and f["angle_corr"] == 0.0


def test_new_ibug_tables_describe_the_template_face():
    from faceshot_retarget import ibug68
    from faceshot_retarget._template import TEMPLATE_68 as F

    for cols in (ibug68.LIP_COLUMNS, ibug68.LIP_SIDE_COLUMNS):
        assert np.all(np.diff(F[cols][..., 1], axis=-1) >= 0)  # top to bottom
    for pair in ibug68.BROW_LID_TOPS:
        assert pair[0] in (37, 43) and pair[1] == pair[0] + 1
    assert np.all(F[17:27, 1] < F[ibug68.BROW_LID_TOPS][..., 1].min(axis=1))
    mirror = ibug68.MIRROR
    for table in (ibug68.LIP_COLUMNS, ibug68.LIP_SIDE_COLUMNS, ibug68.MOUTH_CORNER_WEDGES):
        assert sorted(map(tuple, mirror[table].tolist())) == sorted(
            map(tuple, table[::-1].tolist())
        )
    assert set(ibug68.STABLE_POINTS.tolist()) == set(mirror[ibug68.STABLE_POINTS].tolist())
    assert not violation_frames(F)[0] and constrain_parts(F, F).shape == (1, 68, 2)


def _lean_in(n: int, growth: float) -> np.ndarray:
    """(n, 68, 2) the driver growing to ``growth`` times its size about its face centre."""
    centre = DRIVER.mean(axis=0)
    s = 1.0 + (growth - 1.0) * np.sin(0.5 * np.pi * np.arange(n) / (n - 1))
    return centre + s[:, None, None] * (DRIVER - centre)[None]


def _moved_extent(char: np.ndarray, frames: np.ndarray, extent: np.ndarray) -> np.ndarray:
    """(T, K, 2) ``extent`` carried by each frame's rigid-point similarity to ``char``."""
    rigid = [0, 16, 27, 36, 39, 42, 45]
    out = []
    for f in frames:
        m = SimilarityTransform.from_estimate(char[rigid], f[rigid]).matrix
        out.append(extent @ m[:, :2].T + m[:, 2])
    return np.array(out)


def test_an_extent_beyond_the_landmarks_stays_in_the_canvas():
    # horns 200 px above the landmarks, 28 px below the canvas top at rest: the driver
    # leans in to 1.6x; the landmarks alone fit, the horns would leave the top by 45 px
    char = template_face(200.0, (200.0, 300.0))
    top = float(char[:, 1].min())
    extent = np.array([[150.0, top - 200.0], [250.0, top - 200.0]])
    canvas = (int(np.ceil(char[:, 1].max())) + 60, 400)
    seq = _lean_in(40, 1.6)
    plain = retarget(seq, char, canvas_size=canvas)
    boxed = retarget(seq, char, canvas_size=canvas, extent=extent)
    assert _moved_extent(char, plain, extent)[..., 1].min() < -20.0  # the horns leave
    horns = _moved_extent(char, boxed, extent)
    assert horns[..., 1].min() >= -2.0 and horns[..., 1].max() <= canvas[0] + 1.0
    assert boxed.min() >= 0 and boxed[..., 1].max() <= canvas[0] - 1
    np.testing.assert_allclose(boxed[0], char, atol=1e-9)  # the rest pose is a fixed point
    assert _width(boxed[-1]) > 1.2 * _width(char)  # the head still grows (1.25x free)
    assert not violation_frames(boxed).any()
    # keep_in_canvas applies the same rule to landmark frames
    kept = keep_in_canvas(retarget(seq, char), char, canvas, extent=extent)
    assert _moved_extent(char, kept, extent)[..., 1].min() >= -2.0


def test_extent_errors_name_the_input():
    char = template_face(200.0, (200.0, 260.0))
    with pytest.raises(ValueError, match="`extent` needs `canvas_size`"):
        retarget(DRIVER, char, extent=[[0.0, 0.0]])
    with pytest.raises(ValueError, match=r"`extent` must be \(K, 2\)"):
        retarget(DRIVER, char, canvas_size=(400, 400), extent=[1.0, 2.0, 3.0])
    with pytest.raises(ValueError, match="`extent` point 1 is not finite"):
        keep_in_canvas(char, char, (400, 400), extent=[[0.0, 0.0], [np.nan, 1.0]])


def test_an_extent_on_the_canvas_edge_leaves_that_side_to_the_landmarks():
    # a character filling its image (its silhouette's box is the canvas): the extent would
    # pin the head, and the dropping jaw would lose its push; such sides are ignored
    char = template_face(200.0, (200.0, 200.0))
    canvas = (int(np.floor(char[:, 1].max())) + 40, 400)
    h, w = canvas
    full = np.array([[0.0, 0.0], [w - 1.0, 0.0], [w - 1.0, h - 1.0], [0.0, h - 1.0]])
    k = np.arange(30)
    seq = open_mouth(np.repeat(DRIVER[None], 30, axis=0), 3.0 * np.sin(np.pi * k / 29))
    seq = seq + np.array([15.0, -10.0]) * np.sin(np.pi * k / 29)[:, None, None]
    plain = retarget(seq, char, canvas_size=canvas)
    np.testing.assert_array_equal(retarget(seq, char, canvas_size=canvas, extent=full), plain)
    # with room on the left only, only the left side is held by the extent
    left = full + np.array([[30.0, 0.0], [0.0, 0.0], [0.0, 0.0], [30.0, 0.0]])
    going = seq + np.array([-150.0, 0.0]) * (k / 29)[:, None, None]  # the head moves left
    free = retarget(going, char, canvas_size=canvas)
    held = retarget(going, char, canvas_size=canvas, extent=left)
    assert _moved_extent(char, free, left[[0, 3]])[..., 0].min() < -10.0
    assert _moved_extent(char, held, left[[0, 3]])[..., 0].min() >= -2.0
