"""Driving landmarks of non-human videos: the appearance-guided matcher on every frame, fused
with optical flow through a shape model and a temporal filter (:func:`match_video`).

Algorithm of :func:`match_video` (all parameters in :class:`VideoMatchConfig`):

1. **Find the face.** The first frames are matched with the gallery (:func:`match`: per-part domain
   retrieval, Eq. 3-4, shape prior) until the mean peak similarity of the 68 matches reaches
   ``min_score``; the match is then repeated on a crop around it (the face at the gallery's scale;
   settings ``anchor_matcher``), together with the crop's mirror image
   (:func:`~faceshot_landmarks.match_flip_consistent`): every later frame carries this anchor's
   error along, so it gets the most careful match. On drawn art (``drawn_flat``) its eyes and lips
   are then re-placed on the drawn marks (``eyes``, :func:`eyes_on_drawing`; ``mouth``,
   :func:`mouth_on_drawing`). Its nose, which most characters do not draw, is placed from its eyes
   and outer lips: on drawn art by the gallery's rule for an undrawn nose (``nose``,
   :func:`nose_by_rule`), on photos by the gallery's shape statistics (``complete_points``,
   :class:`~faceshot_landmarks._shape_fit.ConditionalShape`). On drawn art again, its jaw is moved
   onto the drawn outline (``outline``, :func:`jaw_on_outline`) and its brows are placed by the
   gallery's rules: on a pair of drawn brows over the eyes, else by the rule for undrawn brows
   where the matched ones lie on no stroke (``brows``, :func:`brows_on_drawing`). No face within ``search_frames``
   frames raises :class:`NoFaceError` naming the video and the frames searched. Frames before the
   first face are filled with it and marked not visible.
2. **The video's own references.** The found frame becomes the *anchor*: its face crop is run
   through the backbone once more, at one cheap scale, and the features at the 68 points
   become this character's reference vectors (Eq. 4 with k = 1, the character itself as its
   gallery). The per-frame lookup never goes back to the gallery's domains unless the face is
   lost.
3. **Every frame**, two measurements of each point:

   * *flow*: dense optical flow (DIS) from the anchor frame straight to this frame (not chained
     frame to frame, so it does not drift), warm-started with the previous frame's flow; each
     point's information matrix is the anchor image's gradient structure tensor around it
     (:func:`structure_information`: a corner is known in both directions, an outline only
     across -- the along-edge part damped by the edge's coherence, since a curved outline
     seen through a small window still cannot tell motion along itself -- a flat patch not
     at all), rotated with the face and damped where the flow's
     photometric residual is large;
   * *match*: the frame is cropped around the flow's prediction of the face (crops of
     ``batch`` frames go through the backbone in one batched pass, at one scale), the 68
     references are matched inside a window around each predicted point, refined to sub-cell
     precision (:func:`similarity_map`, :func:`cosine_argmax`, :func:`refine_subpixel`), and
     weighted by their similarity.

   Both are fused per point, a shape model (this character's shape plus the gallery prior's
   deformation modes and two modes of the head turning in depth, ``parallax``,
   :class:`ShapeModel`) is fitted to them by robust generalised least
   squares (:func:`fit_shape_model`), and each point is the posterior of its measurements and
   the model (:func:`fuse_with_model`): measured where the image determines it, following the
   model where it does not. Each inner-lip point is finally fused with its anchor position
   moved like the outer lip beside it (:func:`lip_band`): a drawn mouth's inside is flat and
   its teeth edge stays with the upper jaw, so the inner lips' own measurements lag an opening.
4. **Lost and found.** When the matches no longer resemble the references (mean similarity
   below ``lost_score``) and the flow fails its photometric check on most points, the frame is
   lost; the gallery search of step 1 is retried every ``refind_every`` frames until the face
   is back, where tracking restarts. The anchor moves to the current frame when the face has
   rotated or scaled too far from it for the flow.
5. **Time.** Gaps of at most ``max_gap`` lost frames are interpolated, longer ones hold the last
   found frame (:func:`fill_gaps`; ``visible`` is False there), and a One-Euro filter
   on the head pose (:func:`smooth_pose`) smooths each run of found frames; the expression
   keeps its measured timing (an optional second filter on every point is off by default).

:func:`track_points` is the earlier tracker (frame 0 matched, then pyramidal Lucas-Kanade with a
forward-backward check; points that fail it are marked not visible and moved with the
similarity of the points that passed), kept as a public function and as the baseline the
benchmark (``bench/nonhuman.py``) compares against.
"""

from __future__ import annotations

import math
import os
from collections.abc import Iterable, Iterator, Sequence
from typing import Any, cast

import attrs
import numpy as np
from faceshot_retarget import Landmarks, OneEuroConfig, as_points, one_euro_filter
from faceshot_retarget.ibug68 import LIP_COLUMNS, LIP_SIDE_COLUMNS, NUM_POINTS
from numpy.typing import ArrayLike, NDArray

from faceshot_landmarks._classical import check_image
from faceshot_landmarks._detect import fill_gaps
from faceshot_landmarks._drawn_marks import (
    EyeConfig,
    MouthConfig,
    brows_on_drawing,
    eyes_on_drawing,
    mouth_on_drawing,
)
from faceshot_landmarks._features import (
    cells_to_pixels,
    normalize_features,
    pixels_to_cells,
    sample_features,
)
from faceshot_landmarks._lk import lk_forward_backward, lk_params
from faceshot_landmarks._locate import flat_fraction
from faceshot_landmarks._matcher import (
    CHARACTER_MATCHER,
    MatcherConfig,
    MatchResult,
    cosine_argmax,
    match,
    match_flip_consistent,
    refine_peaks,
    similarity_map,
)
from faceshot_landmarks._outline import (
    BrowConfig,
    OutlineConfig,
    jaw_on_outline,
    nose_by_rule,
)
from faceshot_landmarks._shape import similarity_fit
from faceshot_landmarks._shape_fit import (
    ConditionalShape,
    ShapeModel,
    fit_shape_model,
    fuse_with_model,
    sample_image,
    structure_information,
)
from faceshot_landmarks._video import iter_frames, probe_video
from faceshot_landmarks.errors import MatchingError, NoFaceError, VideoError

__all__ = [
    "TrackConfig",
    "VideoMatchConfig",
    "lip_band",
    "match_video",
    "smooth_pose",
    "track_points",
]


def _positive(instance: Any, attribute: Any, value: Any) -> None:
    if not value >= 1:
        raise ValueError(f"`{attribute.name}` must be >= 1; got {value!r}")


def _non_negative(instance: Any, attribute: Any, value: Any) -> None:
    if not value >= 0:
        raise ValueError(f"`{attribute.name}` must be >= 0; got {value!r}")


def _fraction(instance: Any, attribute: Any, value: Any) -> None:
    if not 0 < value < 1:
        raise ValueError(f"`{attribute.name}` must be in (0, 1); got {value!r}")


def _positive_real(instance: Any, attribute: Any, value: Any) -> None:
    if not (isinstance(value, (int, float)) and math.isfinite(value) and value > 0):
        raise ValueError(f"`{attribute.name}` must be a positive number; got {value!r}")


def _optional_positive_real(instance: Any, attribute: Any, value: Any) -> None:
    if value is not None:
        _positive_real(instance, attribute, value)


def _multiple_of_32(instance: Any, attribute: Any, value: Any) -> None:
    if not (isinstance(value, int) and value >= 64 and value % 32 == 0):
        raise ValueError(f"`{attribute.name}` must be a multiple of 32, at least 64; got {value!r}")


def _point_indices(instance: Any, attribute: Any, value: Any) -> None:
    if not all(isinstance(v, int) and 0 <= v < NUM_POINTS for v in value) or len(set(value)) != len(
        value
    ):
        raise ValueError(
            f"`{attribute.name}` must be distinct point indices in [0, {NUM_POINTS}); got {value!r}"
        )


@attrs.frozen
class TrackConfig:
    """Settings of :func:`track_points` (pyramidal Lucas-Kanade with forward-backward check).

    Attributes:
        window: LK window side in pixels.
        levels: pyramid levels above the base.
        fb_threshold: largest forward-backward error in pixels for a point to count as tracked.
    """

    window: int = attrs.field(default=21, validator=_positive)
    levels: int = attrs.field(default=3, validator=_non_negative)
    fb_threshold: float = attrs.field(default=1.0, validator=_non_negative)


def track_points(
    frames: Iterable[NDArray[np.uint8]],
    initial: ArrayLike,
    *,
    config: TrackConfig = TrackConfig(),
    progress: bool = True,
    total: int | None = None,
) -> tuple[NDArray[np.float64], NDArray[np.bool_]]:
    """Track 68 points through frames with pyramidal LK and a forward-backward check.

    Args:
        frames: iterable of (H, W, 3) uint8 RGB frames; the first is where ``initial`` lies.
        initial: (68, 2) float pixel points on the first frame.
        config: tracker settings.
        progress: tqdm bar on stderr.
        total: number of frames for the bar.

    Returns:
        ``(points, visible)``: (T, 68, 2) float64 pixels and (T, 68) bool (False where the
        forward-backward check failed; such points move with the similarity of the tracked
        ones, or stay when fewer than 3 points are tracked).

    Raises:
        VideoError: no frames.
    """
    import cv2
    from tqdm import tqdm

    p0 = as_points(initial, "initial")[0]
    lk = lk_params(config.window, config.levels)
    out: list[NDArray[np.float64]] = []
    vis: list[NDArray[np.bool_]] = []
    prev_grey: NDArray[np.uint8] | None = None
    cur = p0
    for frame in tqdm(frames, total=total, desc="tracking", unit="frame", disable=not progress):
        grey = np.asarray(
            cv2.cvtColor(check_image(frame, "frame"), cv2.COLOR_RGB2GRAY), dtype=np.uint8
        )
        if prev_grey is None:
            out.append(cur.copy())
            vis.append(np.ones(NUM_POINTS, bool))
        else:
            fwd, found, fb = lk_forward_backward(prev_grey, grey, cur, lk)
            good = found & (fb <= config.fb_threshold)
            new = fwd.astype(np.float64)
            if good.sum() >= 3:
                s, r, tr = similarity_fit(cur[good], new[good])
                moved = s * cur @ r.T + tr
            else:
                moved = cur
            cur = np.where(good[:, None], new, moved)
            out.append(cur.copy())
            vis.append(good)
        prev_grey = grey
    if not out:
        raise VideoError("no frames to track")
    return np.stack(out), np.stack(vis)


_SMOOTHING = OneEuroConfig(min_cutoff=2.0, beta=2.0)
#: Pose filter of match_video (tuned on the smiley clips: carphone jitter 0.0078 -> 0.0057 face
#: widths, synthetic 0.0076 -> 0.0070, mean error and mouth and eye correlations unchanged).
_POSE_SMOOTHING = OneEuroConfig(min_cutoff=2.0, beta=10.0)


@attrs.frozen
class VideoMatchConfig:
    """Settings of :func:`match_video` (see the module docs for the algorithm).

    Lengths called "face widths" are multiples of the distance between jaw points 0 and 16
    of the current estimate, so the settings do not depend on the video's resolution.

    Attributes:
        min_score: a gallery match counts as a face when the mean peak cosine similarity of
            its 68 points reaches this. With the embedded backbone, characters score 0.65-0.8
            and frames without a face (blank, noise, text, shapes) at most 0.45; other
            backbones may need another value.
        min_contrast: ... and when the grey levels inside the matched face's bounding box have at
            least this standard deviation (a blank or flat frame has no face, whatever a
            per-cell normalised descriptor makes of its noise).
        search_frames: frames searched for the first face before :class:`NoFaceError`.
        refind_every: while the face is lost, the gallery search runs on every this many
            frames (it costs a full two-scale feature pass).
        max_gap: longest run of lost frames (frames) that is linearly interpolated; longer
            runs hold the last found frame.
        refine_crop: repeat the first gallery match on a crop around the face scaled to
            ``refine_size`` pixels (the face then has the scale of the gallery's images;
            matches on small faces improve markedly).
        refine_margin: side of that crop over the longer side of the landmarks' box (the
            gallery's faces fill their images edge to edge, like ``LocateConfig.margin``; on
            the five smiley characters the anchor error is 0.028 face widths at 1.08 against
            0.030 at 1.2 and 0.032 at 1.35, flip-consistent).
        refine_size: side of that crop in pixels.
        refine_flip: match that crop and its left-right mirror and make them agree
            (:func:`~faceshot_landmarks.match_flip_consistent`; one more feature pass, once per
            found face): the anchor's error is carried by every later frame, and the two views'
            errors partly cancel.
        anchor_matcher: matcher settings of that crop's match only (``None``: the
            ``matcher_config`` of :func:`match_video`); the full-frame search, whose mean
            similarity decides whether a frame has a face (``min_score``, calibrated with the
            :class:`MatcherConfig` defaults), always uses ``matcher_config``. Default the
            still-image path's :data:`~faceshot_landmarks.CHARACTER_MATCHER` (wider local
            search, looser prior clamp): the anchor is a still-image match of frame 0. Chosen
            on the tuning style, where it improved every figure (``bench/nonhuman_ablation.py
            --frames 40``, face widths: smiley error 0.0315 -> 0.0309, frame 0 0.0250 ->
            0.0246, mouth / eye-opening correlation 0.969 -> 0.973 / 0.876 -> 0.937, mouth
            amplitude 0.906 -> 0.920); held out, the mouth-opening correlation rose
            (0.845 -> 0.912) and the error did not drop (0.0601 -> 0.0607: cat 0.0576 ->
            0.0603, creature 0.0619 -> 0.0610). Nor did these pay on smiley's frame 0
            (``bench/nonhuman_anchor.py``, synthetic clips, 0.0248 with the matcher defaults):
            the median of the matches of frames 0, 10, 20 and 30 brought into frame 0's pose
            (0.0331: later frames, turned and with the mouth open, match worse than the rest
            pose), nor the median or mean of crops at 3 or 5 margins in 0.96-1.2
            (0.0245-0.0254, for 3-5 times the anchor's cost).
        complete_points: points of the first match that are placed from the others
            (``complete_from``) by the gallery's shape statistics rather than by their own
            matches (:class:`~faceshot_landmarks._shape_fit.ConditionalShape`: the Gaussian
            conditional of the gallery's annotations); empty: none. Default the nose (27-35),
            which most characters do not draw (flat emoji, cats, creatures): its matches
            land on whatever lies between the eyes and the mouth. Chosen on the smiley
            style's anchors (nose error 0.039 -> 0.021 face widths; brows, jaw and inner lips
            completed the same way did not help there).
        complete_from: the points the completion is conditioned on (default the eyes and the
            outer lips, 36-59: what characters draw and the matcher finds best).
        complete_noise: measurement variance of those points in the conditional (canonical
            units: the known points' mean shape has unit norm); larger shrinks the prediction
            toward the gallery's mean layout (3e-3 chosen on the smiley anchors among 3e-4,
            1e-3, 3e-3).
        eyes: the found face's eyes are re-placed on the drawn eyes by the gallery's
            annotation rule (:func:`eyes_on_drawing`) before the nose is completed from them;
            ``None``: off. Settings chosen on the smiley style's anchors (eye error 0.019 ->
            0.002 face widths at frame 0) and on Twemoji gallery faces outside the held-out
            styles (displaced eyes: 0.046 -> 0.010).
        mouth: the found face's lips are re-placed on the drawn mouth by the gallery's
            annotation rule (:func:`mouth_on_drawing`) before the nose is completed from them;
            ``None``: off. The matcher's lips land near a drawn mouth but not on its corners
            and edges. Settings chosen on the smiley style's anchors (lip error 0.038 -> 0.011
            face widths at frame 0) and on Twemoji gallery faces outside the held-out styles
            (displaced lips: 0.084 -> 0.025).
        outline: the found face's jaw is then moved onto the drawn outline it lies along and
            spaced evenly from eye level round the chin (:func:`jaw_on_outline`, the gallery's
            annotation rule for the jaw); ``None``: off. On flat art the matcher slides the jaw
            along the outline. Settings chosen on the smiley style's anchors (jaw error 0.039 ->
            0.004 face widths at frame 0; held-out cats 0.046 -> 0.010, creatures 0.071 ->
            0.052, where the monkey's and ogre's matched jaws lie on ears and hair). Its rays
            start from the eye centres as the annotations measure them (:func:`eye_centres`:
            smiley anchors 0.0053 -> 0.0033). The face-region search
            (:class:`OutlineConfig` ``region``) stays off: it fixed the held-out monkey's jaw but
            cut the held-out cats' faces short at their whiskers.
        brows: its brows are then placed by the gallery's rules (:func:`brows_on_drawing`):
            on a pair of drawn brows over its eyes where there is one (``BrowConfig.drawn``,
            :func:`drawn_brows`), else matched brows that lie on no drawn stroke go over the
            eyes by the rule for undrawn brows (:func:`brows_where_undrawn`); ``None``: off.
            Most characters draw no brows, and the matcher places them on flat skin. On the
            smiley style's anchors (no drawn brows) brow error 0.019 -> 0.008 face widths; the
            stroke threshold was set on Twemoji gallery faces outside the benchmark. The drawn
            pair's search follows the Twemoji annotation's test (:func:`brow_over_eye`); on the
            17 Twemoji gallery faces with drawn brows outside the held-out styles (brows
            displaced by up to a quarter of their width, 256 px, JPEG) brow error 0.078 ->
            0.004 face widths, and no pair is found on the 29 without; held-out clips 0.0333 ->
            0.0311 (cats' brows 0.043 -> 0.008; ``bench/nonhuman_ablation.py``).
        nose: on drawn art, the found face's nose is then placed by the gallery's rule for an
            undrawn nose from its eyes and the top of its mouth (:func:`nose_by_rule`) instead of
            ``complete_points``' shape statistics; ``False``: off. On a driving video the nose
            only carries the head's pose, so the rule stands for drawn noses too. Chosen on the
            smiley style's anchors (nose error 0.0158 -> 0.0027 face widths at frame 0, with the
            eye and mouth steps on); held-out clips 0.0343 -> 0.0333
            (``bench/nonhuman_ablation.py``).
        drawn_flat: ``eyes``, ``mouth``, ``nose``, ``outline`` and ``brows`` apply only to drawn
            art: a found face whose box has at least this
            :func:`~faceshot_landmarks.flat_fraction` (the threshold of
            :class:`~faceshot_landmarks.LocateConfig` ``max_flat``). The benchmark's rendered
            emoji clips score 0.57-0.83 after H.264; the human test clip 0.05, on which the jaw
            and brow steps made the matcher's points worse against dlib's (jaw 0.067 -> 0.136
            face widths, brows 0.118 -> 0.151): a photo's outline has edges everywhere, and real
            brows are drawn by no rule.
        crop_size: side in pixels of the per-frame face crop fed to the backbone (a multiple
            of 32); the crop is also the single input scale of the per-frame feature pass.
        crop_margin: side of the per-frame crop over the longer side of the landmarks' box.
        batch: frames whose crops go through the backbone in one batched call.
        search_radius: radius, in face widths, of the window around each predicted point in
            which its reference is matched.
        flow_max_side: frames are downscaled for optical flow so their longer side is at most
            this many pixels.
        structure_sigma: window (Gaussian standard deviation), in face widths, of the
            structure tensor that weighs each flow measurement.
        structure_coherence: along-edge damping of that information (see
            :func:`structure_information`): an outline's flow and match say nothing about
            motion along the outline.
        flow_sigma: standard deviation, in face widths, of a flow measurement in a direction
            with full image structure.
        photometric_tolerance: grey-level residual (after warping by the flow, averaged over
            the same window) at which a point's flow information is damped by e^-1; points
            below it count as tracked for the lost test.
        match_sigma: standard deviation, in face widths, of a per-frame match with similarity
            1 (matches are ~4 px cells refined to sub-cell, so coarser than flow).
        match_coherence: the same along-edge damping for the per-frame matches (the
            similarity map's peak curvature is their structure tensor: a match on an outline
            slides along it).
        lip_band_sigma: each inner-lip point also gets a third measurement: its anchor
            position moved by the fused motion of the outer lip next to it (the lips are a
            band: when the lower lip drops its inner edge drops with it). The standard
            deviation, in face widths, of that measurement (:func:`lip_band`); ``None``: off.
            Drawn mouths have flat dark insides and teeth edges that belong to the upper jaw,
            where flow and matches of the inner lips lag the opening.
        match_floor: similarities at or below this give a match no weight; weights rise
            quadratically to 1 at similarity 1.
        parallax: the shape model also turns in depth (:meth:`ShapeModel.with_parallax`:
            points move across or down by their rough depth, :data:`FACE_DEPTH`, times the
            turn), with this standard deviation of the turn and the nod in radians; ``None``:
            off. The gallery's modes describe how characters differ, not how a head turns, and
            on flat art the nose and the jaw along its outline show no motion of their own.
            Chosen on the smiley style's clips (``bench/nonhuman_ablation.py``, 120 frames):
            error 0.0186 -> 0.0168 face widths (carphone clips 0.0232 -> 0.0196, nose motion
            0.028 -> 0.020; synthetic clips 0.0141 -> 0.0140), the same at 0.5 rad; held-out
            clips 0.0311 -> 0.0296, jitter 0.0051 -> 0.0053.
        model_sigma: standard deviation, in face widths, of a point about the fitted shape
            model (how far a measured point may leave the model).
        ridge: weight of the shape modes' prior (in units of their variances).
        lost_score: the face is lost when the mean similarity of the per-frame matches falls
            below this while fewer than ``lost_tracked`` of the points pass the flow's
            photometric check.
        lost_tracked: see ``lost_score``.
        reanchor_degrees: the anchor moves to the current frame when the face has rotated by
            more than this many degrees from it ...
        reanchor_scale: ... or its size changed by more than this factor ...
        reanchor_tracked: ... or fewer than this fraction of the points pass the photometric
            check.
        pose_smoothing: One-Euro filter on the head pose only (:func:`smooth_pose`: the
            similarity of each frame to the run's first, as log scale, angle in radians and
            centre in face widths), per run of found frames; the expression (the shape in the
            pose's frame) is left as measured, so fast mouth and lid motion keep their timing.
            ``None``: off.
        smoothing: One-Euro filter on the landmarks in face widths (``min_cutoff`` Hz,
            ``beta`` per face width per second), per run of found frames; ``None``: off.
    """

    min_score: float = attrs.field(default=0.5, validator=_fraction)
    min_contrast: float = attrs.field(default=8.0, validator=_positive_real)
    search_frames: int = attrs.field(default=30, validator=_positive)
    refind_every: int = attrs.field(default=5, validator=_positive)
    max_gap: int = attrs.field(default=15, validator=_non_negative)
    refine_crop: bool = True
    refine_margin: float = attrs.field(default=1.08, validator=_positive_real)
    refine_size: int = attrs.field(default=512, validator=_multiple_of_32)
    refine_flip: bool = True
    anchor_matcher: MatcherConfig | None = attrs.field(
        default=cast("MatcherConfig | None", CHARACTER_MATCHER),
        validator=attrs.validators.optional(attrs.validators.instance_of(MatcherConfig)),
    )
    complete_points: tuple[int, ...] = attrs.field(
        default=tuple(range(27, 36)), converter=tuple, validator=_point_indices
    )
    complete_from: tuple[int, ...] = attrs.field(
        default=tuple(range(36, 60)), converter=tuple, validator=_point_indices
    )
    complete_noise: float = attrs.field(default=3e-3, validator=_positive_real)
    eyes: EyeConfig | None = attrs.field(
        factory=EyeConfig,
        validator=attrs.validators.optional(attrs.validators.instance_of(EyeConfig)),
    )
    mouth: MouthConfig | None = attrs.field(
        factory=MouthConfig,
        validator=attrs.validators.optional(attrs.validators.instance_of(MouthConfig)),
    )
    outline: OutlineConfig | None = attrs.field(
        factory=OutlineConfig,
        validator=attrs.validators.optional(attrs.validators.instance_of(OutlineConfig)),
    )
    brows: BrowConfig | None = attrs.field(
        factory=BrowConfig,
        validator=attrs.validators.optional(attrs.validators.instance_of(BrowConfig)),
    )
    nose: bool = attrs.field(default=True, validator=attrs.validators.instance_of(bool))
    drawn_flat: float = attrs.field(default=0.5, validator=_fraction)
    crop_size: int = attrs.field(default=256, validator=_multiple_of_32)
    crop_margin: float = attrs.field(default=1.6, validator=_positive_real)
    batch: int = attrs.field(default=8, validator=_positive)
    search_radius: float = attrs.field(default=0.2, validator=_positive_real)
    flow_max_side: int = attrs.field(default=512, validator=_positive)
    structure_sigma: float = attrs.field(default=0.02, validator=_positive_real)
    structure_coherence: float = attrs.field(default=1.0, validator=_non_negative)
    flow_sigma: float = attrs.field(default=0.01, validator=_positive_real)
    photometric_tolerance: float = attrs.field(default=25.0, validator=_positive_real)
    match_sigma: float = attrs.field(default=0.08, validator=_positive_real)
    match_coherence: float = attrs.field(default=0.0, validator=_non_negative)
    match_floor: float = attrs.field(default=0.5, validator=_fraction)
    lip_band_sigma: float | None = attrs.field(default=0.01, validator=_optional_positive_real)
    parallax: float | None = attrs.field(default=0.3, validator=_optional_positive_real)
    model_sigma: float = attrs.field(default=0.05, validator=_positive_real)
    ridge: float = attrs.field(default=1.0, validator=_positive_real)
    lost_score: float = attrs.field(default=0.6, validator=_fraction)
    lost_tracked: float = attrs.field(default=0.5, validator=_fraction)
    reanchor_degrees: float = attrs.field(default=25.0, validator=_positive_real)
    reanchor_scale: float = attrs.field(default=1.3, validator=_positive_real)
    reanchor_tracked: float = attrs.field(default=0.6, validator=_fraction)
    pose_smoothing: OneEuroConfig | None = attrs.field(default=_POSE_SMOOTHING)
    smoothing: OneEuroConfig | None = attrs.field(default=None)


def face_width(points: ArrayLike) -> float:
    """Distance in pixels between jaw points 0 and 16 of a (68, 2) shape (at least 1)."""
    p = np.asarray(points, dtype=np.float64)
    return max(float(np.linalg.norm(p[16] - p[0])), 1.0)


def crop_transform(points: ArrayLike, margin: float, size: int) -> NDArray[np.float64]:
    """The (2, 3) affine map from frame pixels to a square crop around a shape.

    The crop is centred on the points' bounding box, its side is ``margin`` times the box's
    longer side (at least 8 pixels), and it is resampled to ``size`` x ``size`` pixels. Pixel
    centres follow the faceshot convention (origin at the top-left pixel centre): with
    ``k = size / side`` and ``e`` the crop's left edge, ``u = k (x + 0.5 - e) - 0.5``; the box
    centre maps to the crop centre ``(size - 1) / 2``.

    Args:
        points: (N, 2) float pixel (x, y).
        margin: crop side over the box's longer side (> 0).
        size: crop side in pixels.

    Returns:
        (2, 3) float64 ``[[k, 0, bx], [0, k, by]]``.
    """
    p = np.asarray(points, dtype=np.float64)
    lo, hi = p.min(axis=0), p.max(axis=0)
    side = max(float((hi - lo).max()) * margin, 8.0)
    edge = (lo + hi) / 2 + 0.5 - side / 2  # the crop's left/top edge, in frame pixel-edge units
    k = size / side
    return np.array([[k, 0.0, (0.5 - edge[0]) * k - 0.5], [0.0, k, (0.5 - edge[1]) * k - 0.5]])


def _apply(affine: NDArray[np.float64], points: NDArray[np.float64]) -> NDArray[np.float64]:
    return np.asarray(points @ affine[:, :2].T + affine[:, 2], dtype=np.float64)


def _unapply(affine: NDArray[np.float64], points: NDArray[np.float64]) -> NDArray[np.float64]:
    return np.asarray((points - affine[:, 2]) / np.diag(affine[:, :2]), dtype=np.float64)


def _warp(image: NDArray[np.uint8], affine: NDArray[np.float64], size: int) -> NDArray[np.uint8]:
    import cv2

    flags = cv2.INTER_AREA if affine[0, 0] < 1 else cv2.INTER_LINEAR
    return np.asarray(
        cv2.warpAffine(image, affine, (size, size), flags=flags, borderMode=cv2.BORDER_REPLICATE),
        dtype=np.uint8,
    )


def _extract_crops(extractor: Any, crops: Sequence[NDArray[np.uint8]], size: int) -> list[Any]:
    """Features of same-size crops: one batched single-scale pass when the extractor offers
    ``extract_stack`` (``faceshot_features.EmbeddedExtractor``), else one ``extract`` each."""
    stack = getattr(extractor, "extract_stack", None)
    if stack is not None:
        return list(stack(crops, input_sizes=(size,)))
    return [extractor.extract(c) for c in crops]


def local_match(
    features: Any,
    references: NDArray[np.float32],
    predicted: NDArray[np.float64],
    radius: float,
    config: MatcherConfig,
) -> tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.float64]]:
    """Match each reference inside a disc around its predicted point.

    Args:
        features: feature-like map (``.array`` (C, h, w), ``.image_size`` (H, W)).
        references: (68, C) float32 L2-normalised reference vectors.
        predicted: (68, 2) float pixel predictions in the features' image.
        radius: disc radius in pixels (the nearest cell is always searched).
        config: matcher settings (``exclusion``, ``refine_radius``, ``upsample``).

    Returns:
        ``(points, scores, curvature)``: (68, 2) float64 pixels of the refined matches, (68,)
        float64 their cosine similarity, and (68, 2, 2) float64 the negative Hessian of the
        similarity map at each peak cell (central differences, in cells^-2, eigenvalues clipped
        at 0): large across directions in which the match is sharply located, 0 along ridges
        and on flat maps.
    """
    arr = normalize_features(np.asarray(features.array, dtype=np.float32), axis=0)
    size = (int(features.image_size[0]), int(features.image_size[1]))
    h, w = arr.shape[1:]
    sim = similarity_map(references, arr)
    centre = pixels_to_cells(predicted, size, (h, w))
    rad = max(radius * w / size[1], 1.0)
    ii, jj = np.indices((h, w))
    inside = (jj[None] - centre[:, 0, None, None]) ** 2 + (
        ii[None] - centre[:, 1, None, None]
    ) ** 2 <= rad * rad
    near = np.clip(np.round(centre), 0, [w - 1, h - 1]).astype(np.intp)
    inside[np.arange(len(near)), near[:, 1], near[:, 0]] = True
    peaks, _, _ = cosine_argmax(np.where(inside, sim, -np.inf), exclusion=config.exclusion)
    cells, scores = refine_peaks(
        arr, sim, peaks, radius=config.refine_radius, upsample=config.upsample
    )
    return cells_to_pixels(cells, size, (h, w)), scores, peak_curvature(sim, peaks)


def peak_curvature(similarity: NDArray[np.float32], peaks: NDArray[np.intp]) -> NDArray[np.float64]:
    """Negative Hessian of similarity maps at given cells (central differences, border-clamped).

    Args:
        similarity: (N, h, w) float maps.
        peaks: (N, 2) int cell (j, i) per map.

    Returns:
        (N, 2, 2) float64 symmetric PSD (eigenvalues clipped at 0), in cells^-2.
    """
    s = np.asarray(similarity, dtype=np.float64)
    n, h, w = s.shape
    j, i = peaks[:, 0], peaks[:, 1]
    jm, jp = np.clip(j - 1, 0, w - 1), np.clip(j + 1, 0, w - 1)
    im, ip = np.clip(i - 1, 0, h - 1), np.clip(i + 1, 0, h - 1)
    k = np.arange(n)
    centre = s[k, i, j]
    dxx = s[k, i, jp] - 2 * centre + s[k, i, jm]
    dyy = s[k, ip, j] - 2 * centre + s[k, im, j]
    dxy = (s[k, ip, jp] - s[k, ip, jm] - s[k, im, jp] + s[k, im, jm]) / 4
    neg = -np.stack([np.stack([dxx, dxy], -1), np.stack([dxy, dyy], -1)], -2)
    vals, vecs = np.linalg.eigh(neg)
    return np.asarray(
        np.einsum("nij,nj,nkj->nik", vecs, np.clip(vals, 0.0, None), vecs), dtype=np.float64
    )


def _clip_eigen(
    matrices: NDArray[np.float64], high: float = 1.0, coherence: float = 0.0
) -> NDArray[np.float64]:
    """(N, 2, 2) symmetric matrices with eigenvalues clipped to [0, high], the smaller one first
    multiplied by ``(smaller / larger) ** coherence`` (see :func:`structure_information`)."""
    vals, vecs = np.linalg.eigh(matrices)
    vals = np.maximum(vals, 0.0)
    if coherence > 0:
        vals[:, 0] *= (vals[:, 0] / np.maximum(vals[:, 1], 1e-12)) ** coherence
    return np.asarray(
        np.einsum("nij,nj,nkj->nik", vecs, np.clip(vals, 0.0, high), vecs), dtype=np.float64
    )


#: Inner-lip points and the outer-lip points (averaged) whose motion they share (``LIP_COLUMNS``:
#: 61-63 with 50-52, 67-65 with 58-56; ``LIP_SIDE_COLUMNS``: the inner corners with 49/59, 53/55).
_INNER_LIP = np.concatenate([LIP_COLUMNS[:, 1], LIP_COLUMNS[:, 2], LIP_SIDE_COLUMNS[:, 1]])
_OUTER_OF_INNER = np.concatenate(
    [LIP_COLUMNS[:, [0, 0]], LIP_COLUMNS[:, [3, 3]], LIP_SIDE_COLUMNS[:, [0, 2]]]
)


def lip_band(
    points: ArrayLike, information: ArrayLike, anchor: ArrayLike, band_information: float
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Fuse each inner-lip point with its anchor position moved like the outer lip beside it.

    For inner-lip point ``i`` with outer neighbours ``o(i)`` (one or two points, averaged), the
    band measurement is ``a_i + mean(p_o - a_o)`` (``a`` the anchor frame's points, ``p`` this
    frame's measurements); it is combined with the point's own measurement as two Gaussians,
    ``p_i' = (G_i + lambda I)^-1 (G_i p_i + lambda b_i)``, and the information becomes
    ``G_i + lambda I``. Other points are unchanged.

    Args:
        points: (68, 2) float pixel measurements of this frame.
        information: (68, 2, 2) float PSD information of those measurements (pixels^-2).
        anchor: (68, 2) float pixel points of the anchor frame.
        band_information: ``lambda`` > 0, isotropic information of a band measurement
            (pixels^-2).

    Returns:
        ``(points, information)``: new (68, 2) and (68, 2, 2) float64 arrays.
    """
    p = np.array(points, dtype=np.float64)
    g = np.array(information, dtype=np.float64)
    a = np.asarray(anchor, dtype=np.float64)
    if not band_information > 0:
        raise ValueError(f"`band_information` must be > 0; got {band_information!r}")
    band = a[_INNER_LIP] + (p[_OUTER_OF_INNER] - a[_OUTER_OF_INNER]).mean(axis=1)
    gi = g[_INNER_LIP]
    lhs = gi + band_information * np.eye(2)[None]
    rhs = np.einsum("nab,nb->na", gi, p[_INNER_LIP]) + band_information * band
    p[_INNER_LIP] = np.linalg.solve(lhs, rhs[..., None])[..., 0]
    g[_INNER_LIP] = lhs
    return p, g


def _contrast(frame: NDArray[np.uint8], points: NDArray[np.float64]) -> float:
    """Standard deviation of the grey levels inside the points' bounding box."""
    h, w = frame.shape[:2]
    lo = np.clip(np.floor(points.min(axis=0)).astype(int), 0, [w - 1, h - 1])
    hi = np.clip(np.ceil(points.max(axis=0)).astype(int) + 1, lo + 1, [w, h])
    patch = frame[lo[1] : hi[1], lo[0] : hi[0]].astype(np.float32) @ np.array(
        [0.299, 0.587, 0.114], np.float32
    )
    return float(patch.std())


def _rotation_of(info: NDArray[np.float64], rot: NDArray[np.float64]) -> NDArray[np.float64]:
    return np.asarray(np.einsum("ab,nbc,dc->nad", rot, info, rot), dtype=np.float64)


def _completion(gallery: Any, config: VideoMatchConfig) -> ConditionalShape | None:
    """The conditional that places ``config.complete_points`` of a found face from
    ``config.complete_from``, learned on every annotation of the gallery (``None``: off)."""
    if not config.complete_points:
        return None
    if set(config.complete_points) & set(config.complete_from) or len(config.complete_from) < 2:
        raise ValueError(
            "VideoMatchConfig `complete_points` and `complete_from` must not overlap, and "
            f"`complete_from` needs at least 2 points; got {config.complete_points!r} and "
            f"{config.complete_from!r}"
        )
    shapes = np.concatenate([d.pixel_annotations() for d in gallery.domains.values()])
    return ConditionalShape.from_shapes(
        shapes, config.complete_from, config.complete_points, noise=config.complete_noise
    )


@attrs.define
class _Anchor:
    """The frame flow is measured from: flow-scale grey image, its points, their structure."""

    grey: NDArray[np.uint8]
    points: NDArray[np.float64]
    structure: NDArray[np.float64]
    width: float
    flow: NDArray[np.float32] | None = None


class _Tracker:
    """Per-video state of :func:`match_video` (frames are fed in chunks, in order)."""

    def __init__(
        self,
        name: str,
        extractor: Any,
        gallery: Any,
        matcher: MatcherConfig,
        config: VideoMatchConfig,
        size: tuple[int, int],
        frame_extractor: Any = None,
    ) -> None:
        import cv2

        self.name = name
        self.extractor = extractor
        self.frame_extractor = extractor if frame_extractor is None else frame_extractor
        self.gallery = gallery
        self.matcher = matcher
        self.anchor_matcher = matcher if config.anchor_matcher is None else config.anchor_matcher
        self.config = config
        self.size = size
        self.flow_scale = min(1.0, config.flow_max_side / max(size))
        self.dis: Any = cv2.DISOpticalFlow_create(cv2.DISOPTICAL_FLOW_PRESET_FAST)  # type: ignore[attr-defined]
        self.points: list[NDArray[np.float64] | None] = []
        self.first: int | None = None
        self.best_score = -np.inf
        self.best_frame = -1
        self.lost_since = 0
        self.anchor: _Anchor | None = None
        self.references: NDArray[np.float32] | None = None
        self.curvature_ref = 1.0
        self.model: ShapeModel | None = None
        self.prior = gallery.shape_prior()
        self.current: NDArray[np.float64] | None = None
        self.completion = _completion(gallery, config)

    # -------------------------------------------------------------- gallery search

    def _find(self, frame: NDArray[np.uint8]) -> NDArray[np.float64] | None:
        try:
            with np.errstate(all="ignore"):  # degenerate maps (a blank frame) mean no face
                result: MatchResult = match(
                    self.extractor.extract(frame), self.gallery, config=self.matcher
                )
        except (MatchingError, np.linalg.LinAlgError):
            return None
        score = float(np.mean(result.scores))
        if not math.isfinite(score):
            return None
        t = len(self.points)
        pts = np.asarray(result.points, dtype=np.float64)
        if _contrast(frame, pts) < self.config.min_contrast:  # a blank or flat frame
            score = min(score, 0.0)
        if score > self.best_score:
            self.best_score, self.best_frame = score, t
        if score < self.config.min_score:
            return None
        if self.config.refine_crop:
            refined = self._refine(frame, pts)
            pts = pts if refined is None else refined
        drawn = flat_fraction(frame, [*pts.min(axis=0), *pts.max(axis=0)]) >= self.config.drawn_flat
        if drawn and self.config.eyes is not None:
            pts = eyes_on_drawing(frame, pts, self.config.eyes)
        if drawn and self.config.mouth is not None:
            pts = mouth_on_drawing(frame, pts, self.config.mouth)
        if drawn and self.config.nose:
            pts = nose_by_rule(pts)
        elif self.completion is not None:
            pts = self.completion.predict(pts)
        if drawn and self.config.outline is not None:
            pts = jaw_on_outline(frame, pts, self.config.outline)
        if drawn and self.config.brows is not None:
            pts = brows_on_drawing(frame, pts, self.config.brows)
        return pts

    def _refine(
        self, frame: NDArray[np.uint8], pts: NDArray[np.float64]
    ) -> NDArray[np.float64] | None:
        """The gallery match repeated on a crop around ``pts`` (``refine_*`` settings, with
        ``anchor_matcher``), in frame pixels; ``None`` when it fails or scores below
        ``min_score``."""
        cfg = self.config
        affine = crop_transform(pts, cfg.refine_margin, cfg.refine_size)
        crop = _warp(frame, affine, cfg.refine_size)
        try:
            with np.errstate(all="ignore"):
                feats = self.extractor.extract(crop)
                again: MatchResult = (
                    match_flip_consistent(
                        feats,
                        self.extractor.extract(np.ascontiguousarray(crop[:, ::-1])),
                        self.gallery,
                        config=self.anchor_matcher,
                    )
                    if cfg.refine_flip
                    else match(feats, self.gallery, config=self.anchor_matcher)
                )
        except (MatchingError, np.linalg.LinAlgError):
            return None
        if float(np.mean(again.scores)) < cfg.min_score:
            return None
        return _unapply(affine, np.asarray(again.points, dtype=np.float64))

    def _grey(self, frame: NDArray[np.uint8]) -> NDArray[np.uint8]:
        import cv2

        grey = cv2.cvtColor(frame, cv2.COLOR_RGB2GRAY)
        if self.flow_scale < 1.0:
            h, w = grey.shape
            grey = cv2.resize(
                grey,
                (round(w * self.flow_scale), round(h * self.flow_scale)),
                interpolation=cv2.INTER_AREA,
            )
        return np.asarray(grey, dtype=np.uint8)

    def _to_flow(self, points: NDArray[np.float64]) -> NDArray[np.float64]:
        return (points + 0.5) * self.flow_scale - 0.5

    def _set_anchor(self, grey: NDArray[np.uint8], points: NDArray[np.float64]) -> None:
        width = face_width(points)
        sigma = max(self.config.structure_sigma * width * self.flow_scale, 0.5)
        structure = structure_information(
            grey, self._to_flow(points), sigma, coherence=self.config.structure_coherence
        )
        self.anchor = _Anchor(grey, points.copy(), structure, width)

    def _start(
        self, frame: NDArray[np.uint8], grey: NDArray[np.uint8], points: NDArray[np.float64]
    ) -> None:
        """Begin tracking at this frame: references from its crop, the shape model, the anchor."""
        cfg = self.config
        affine = crop_transform(points, cfg.crop_margin, cfg.crop_size)
        (feat,) = _extract_crops(
            self.frame_extractor, [_warp(frame, affine, cfg.crop_size)], cfg.crop_size
        )
        arr = normalize_features(np.asarray(feat.array, dtype=np.float32), axis=0)
        cells = pixels_to_cells(
            _apply(affine, points), (cfg.crop_size, cfg.crop_size), arr.shape[1:]
        )
        self.references = normalize_features(sample_features(arr, cells), axis=-1)
        _, _, curvature = local_match(
            feat, self.references, _apply(affine, points), 1.0, self.matcher
        )
        self.curvature_ref = max(
            float(np.percentile(np.trace(curvature, axis1=1, axis2=2), 75)), 1e-9
        )
        self.model = ShapeModel.around(points, self.prior)
        if cfg.parallax is not None:
            self.model = self.model.with_parallax(cfg.parallax)
        self._set_anchor(grey, points)
        self.current = points.copy()

    # -------------------------------------------------------------- per frame

    def _flow_measure(
        self, grey: NDArray[np.uint8]
    ) -> tuple[NDArray[np.float64], NDArray[np.float64], float]:
        """Flow from the anchor: (68, 2) points, (68, 2, 2) information (pixels^-2), tracked share."""
        import cv2

        anchor = self.anchor
        assert anchor is not None
        cfg = self.config
        flow = self.dis.calc(anchor.grey, grey, None if anchor.flow is None else anchor.flow.copy())
        anchor.flow = flow
        q = self._to_flow(anchor.points)
        moved = q + np.stack([sample_image(flow[..., 0], q), sample_image(flow[..., 1], q)], axis=1)
        h, w = grey.shape
        gx, gy = np.meshgrid(np.arange(w, dtype=np.float32), np.arange(h, dtype=np.float32))
        warped = cv2.remap(
            grey,
            gx + flow[..., 0],
            gy + flow[..., 1],
            cv2.INTER_LINEAR,
            borderMode=cv2.BORDER_REPLICATE,
        )
        diff = np.abs(warped.astype(np.float32) - anchor.grey.astype(np.float32))
        sigma = max(cfg.structure_sigma * anchor.width * self.flow_scale, 0.5)
        blurred: Any = cv2.GaussianBlur(diff, (0, 0), sigma)
        resid = sample_image(blurred, q)
        damp = np.exp(-((resid / cfg.photometric_tolerance) ** 2))
        points = (moved + 0.5) / self.flow_scale - 0.5
        weights = np.trace(anchor.structure, axis1=1, axis2=2) * damp + 1e-6
        _, rot, _ = similarity_fit(anchor.points, points, weights)
        sd = cfg.flow_sigma * anchor.width
        info = _rotation_of(anchor.structure, rot) * (damp / sd**2)[:, None, None]
        return points, info, float(np.mean(resid < cfg.photometric_tolerance))

    def _fit(self, y: NDArray[np.float64], info: NDArray[np.float64]) -> NDArray[np.float64]:
        """Shape-model fit and posterior of measurements (pixels)."""
        assert self.model is not None
        cfg = self.config
        width = face_width(self.current if self.current is not None else y)
        floor = np.eye(2)[None] * (1e-4 / width**2)  # keeps the fit well posed on flat faces
        fit = fit_shape_model(y, info + floor, self.model, ridge=cfg.ridge)
        lam = 1.0 / (cfg.model_sigma * width) ** 2
        return fuse_with_model(y, info * fit.weights[:, None, None], fit.points, lam)

    def _lose(self, t: int) -> None:
        self.anchor = None
        self.current = None
        self.lost_since = t

    def _searching(self, t: int) -> bool:
        if self.first is None:
            return t < self.config.search_frames
        return (t - self.lost_since) % self.config.refind_every == 0

    def feed(self, frames: Sequence[NDArray[np.uint8]]) -> None:
        """Process the next chunk of frames."""
        cfg = self.config
        pending: list[
            tuple[
                int,
                NDArray[np.uint8],
                NDArray[np.float64],
                NDArray[np.float64],
                float,
                NDArray[np.float64],
            ]
        ] = []
        todo = list(frames)
        while todo:
            frame = check_image(todo.pop(0), "frame")
            grey = self._grey(frame)
            t = len(self.points)
            if self.anchor is None:
                found = self._find(frame) if self._searching(t) else None
                self.points.append(found)
                if found is not None:
                    self.first = t if self.first is None else self.first
                    self._start(frame, grey, found)
                continue
            y, info, tracked = self._flow_measure(grey)
            try:
                predicted = self._fit(y, info)
            except MatchingError:
                predicted = y
            self.points.append(None)  # filled after the batched match
            pending.append((t, frame, y, info, tracked, predicted))
            if len(pending) == cfg.batch or not todo:
                rest = self._resolve(pending)
                pending = []
                if rest:  # the face was lost inside the batch: redo from that frame on
                    del self.points[rest[0][0] :]
                    todo = [f for _, f, *_ in rest] + todo

    def _resolve(self, pending: list[Any]) -> list[Any]:
        """Batched per-frame matching and fusion; returns the frames after a loss (to redo)."""
        cfg = self.config
        assert self.references is not None
        affines = [crop_transform(p[5], cfg.crop_margin, cfg.crop_size) for p in pending]
        crops = [_warp(p[1], a, cfg.crop_size) for p, a in zip(pending, affines, strict=True)]
        feats = _extract_crops(self.frame_extractor, crops, cfg.crop_size)
        for k, ((t, frame, y, info, tracked, predicted), affine, feat) in enumerate(
            zip(pending, affines, feats, strict=True)
        ):
            width = face_width(predicted)
            radius = cfg.search_radius * width * affine[0, 0]
            found, scores, curvature = local_match(
                feat, self.references, _apply(affine, predicted), radius, self.matcher
            )
            found = _unapply(affine, found)
            mean_score = float(np.mean(scores))
            if mean_score < cfg.lost_score and tracked < cfg.lost_tracked:
                self._lose(t)
                return pending[k:]
            conf = np.clip((scores - cfg.match_floor) / (1.0 - cfg.match_floor), 0.0, 1.0) ** 2
            sharp = _clip_eigen(curvature / self.curvature_ref, coherence=cfg.match_coherence)
            info_m = sharp * (conf / (cfg.match_sigma * width) ** 2)[:, None, None]
            total = info + info_m
            fused = np.linalg.solve(
                total + np.eye(2)[None] * 1e-12,
                (np.einsum("nab,nb->na", info, y) + np.einsum("nab,nb->na", info_m, found))[
                    ..., None
                ],
            )[..., 0]
            try:
                points = self._fit(fused, total)
            except MatchingError:
                self._lose(t)
                return pending[k:]
            if cfg.lip_band_sigma is not None:
                assert self.anchor is not None
                posterior = total + np.eye(2)[None] / (cfg.model_sigma * width) ** 2
                points, _ = lip_band(
                    points, posterior, self.anchor.points, 1.0 / (cfg.lip_band_sigma * width) ** 2
                )
            self.points[t] = points
            self.current = points
            self._maybe_reanchor(frame, points, tracked)
        return []

    def _maybe_reanchor(
        self, frame: NDArray[np.uint8], points: NDArray[np.float64], tracked: float
    ) -> None:
        anchor = self.anchor
        assert anchor is not None
        cfg = self.config
        scale, rot, _ = similarity_fit(anchor.points, points)
        degrees = abs(math.degrees(math.atan2(rot[1, 0], rot[0, 0])))
        if (
            degrees > cfg.reanchor_degrees
            or not 1 / cfg.reanchor_scale < scale < cfg.reanchor_scale
            or tracked < cfg.reanchor_tracked
        ):
            self._set_anchor(self._grey(frame), points)

    def result(self) -> tuple[NDArray[np.float64], NDArray[np.bool_]]:
        """(T, 68, 2) points (zeros where lost) and (T,) found mask."""
        found = np.array([p is not None for p in self.points], dtype=bool)
        pts = np.zeros((len(self.points), NUM_POINTS, 2))
        for t, p in enumerate(self.points):
            if p is not None:
                pts[t] = p
        return pts, found


def _smooth_runs(
    points: NDArray[np.float64], found: NDArray[np.bool_], fps: float, config: OneEuroConfig
) -> NDArray[np.float64]:
    """One-Euro filter, in face widths, over each run of found frames."""
    out = points.copy()
    edges = np.flatnonzero(np.diff(np.concatenate([[0], found.astype(np.int8), [0]])))
    for start, stop in zip(edges[0::2], edges[1::2], strict=True):
        seg = points[start:stop]
        width = float(np.median(np.linalg.norm(seg[:, 16] - seg[:, 0], axis=1)))
        width = max(width, 1.0)
        out[start:stop] = one_euro_filter(seg / width, fps=fps, config=config) * width
    return out


#: Points that move with the head but not with the mouth: the upper jaw (0-4, 12-16), brows,
#: nose and eyes (17-47).
_POSE_POINTS = np.r_[0:5, 12:48]


def smooth_pose(points: ArrayLike, *, fps: float, config: OneEuroConfig) -> NDArray[np.float64]:
    """One-Euro filter on the head pose of a landmark sequence, the expression untouched.

    Each frame ``p_t`` is split into the similarity ``S_t`` (scale ``s``, angle ``a``, centre
    ``c``) that best maps frame 0's rigid points onto it (all but the mouth and the lower jaw,
    :data:`_POSE_POINTS`, so opening the mouth is no pose change) and the residual shape
    ``S_t^-1(p_t)`` in frame 0's pose; the pose parameters ``(log s, a, c / w)`` (``w`` frame
    0's face width, angles unwrapped) are filtered over time, forwards and backwards with the
    mean of the two passes taken (their lags cancel, so motion at a steady speed keeps its
    timing), and the residual shapes are put back by the filtered similarities. Rigid head motion is where per-frame measurement noise shows most (every
    point moves together); mouth and lid motion are left as measured.

    Args:
        points: (T, 68, 2) float pixel landmarks.
        fps: frame rate (> 0).
        config: One-Euro settings; the parameters are in log units, radians and face widths
            (``beta`` per such unit per second).

    Returns:
        (T, 68, 2) float64 pixels.
    """
    p = as_points(points, "points")
    ref = p[0]
    width = face_width(ref)
    centre = ref.mean(axis=0)
    params = np.empty((len(p), 4))
    residual = np.empty_like(p)
    for t, frame in enumerate(p):
        scale, rot, shift = similarity_fit(ref[_POSE_POINTS], frame[_POSE_POINTS])
        params[t] = (
            math.log(max(scale, 1e-12)),
            math.atan2(rot[1, 0], rot[0, 0]),
            *((scale * centre @ rot.T + shift) / width),
        )
        residual[t] = (frame - shift) @ rot / scale  # back into frame 0's pose
    params[:, 1] = np.unwrap(params[:, 1])
    # both ways and averaged: the two passes lag in opposite directions, so steady motion keeps
    # its timing (the whole run is known; nothing waits for future frames)
    # and the run is first extended at both ends by its point reflection (half a second), so the
    # ends, where one pass has not settled, are not pulled back either
    pad = min(len(p) - 1, max(1, round(fps / 2)))
    ext = np.concatenate(
        [2 * params[0] - params[pad:0:-1], params, 2 * params[-1] - params[-2 : -pad - 2 : -1]]
    )
    forward = one_euro_filter(ext, fps=fps, config=config)
    backward = one_euro_filter(ext[::-1], fps=fps, config=config)[::-1]
    smooth = (0.5 * (forward + backward))[pad : pad + len(p)]
    scales = np.exp(smooth[:, 0])
    cos, sin = np.cos(smooth[:, 1]), np.sin(smooth[:, 1])
    rots = np.stack([np.stack([cos, -sin], -1), np.stack([sin, cos], -1)], -2)  # (T, 2, 2)
    moved = np.einsum("tab,tnb->tna", rots, residual - centre) * scales[:, None, None]
    return np.asarray(moved + smooth[:, None, 2:] * width, dtype=np.float64)


def _pose_runs(
    points: NDArray[np.float64], found: NDArray[np.bool_], fps: float, config: OneEuroConfig
) -> NDArray[np.float64]:
    """:func:`smooth_pose` over each run of found frames."""
    out = points.copy()
    edges = np.flatnonzero(np.diff(np.concatenate([[0], found.astype(np.int8), [0]])))
    for start, stop in zip(edges[0::2], edges[1::2], strict=True):
        out[start:stop] = smooth_pose(points[start:stop], fps=fps, config=config)
    return out


def _chunks(frames: Iterator[NDArray[np.uint8]], size: int) -> Iterator[list[NDArray[np.uint8]]]:
    chunk: list[NDArray[np.uint8]] = []
    for frame in frames:
        chunk.append(frame)
        if len(chunk) == size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def match_video(
    video: str | os.PathLike[str],
    extractor: Any,
    gallery: Any,
    *,
    matcher_config: MatcherConfig | None = None,
    config: VideoMatchConfig = VideoMatchConfig(),
    progress: bool = True,
    frame_extractor: Any = None,
) -> Landmarks:
    """Driving landmarks of a non-human video: the matcher on every frame, fused with optical
    flow through a shape model and a temporal filter (see the module docs).

    Args:
        video: path of a video file.
        extractor: duck-typed feature extractor (``.extract(image) -> FeatureMap``, compatible
            with ``gallery``); an ``extract_stack(images, input_sizes=...)`` method, when
            present, batches the per-frame crops through one single-scale pass.
        gallery: a loaded :class:`~faceshot_landmarks.Gallery`.
        matcher_config: :class:`~faceshot_landmarks.MatcherConfig` (``None``: defaults).
        config: video settings.
        progress: tqdm bar on stderr.
        frame_extractor: extractor of the per-frame face crops and of the video's own
            references (``None``: ``extractor``). Any backbone works, since frames are only
            compared with references from the same extractor; pass the embedded one
            (``faceshot_features.load_extractor("embedded")``) when ``extractor`` is a
            diffusion model, whose per-image inversion is far too slow for every frame.

    Returns:
        :class:`Landmarks` (T, 68, 2) float64 video pixels, ``image_size`` (H, W), ``visible``
        (T, 68) False on frames where no face was matched (filled, see :func:`fill_gaps`).

    Raises:
        NoFaceError: no face matched in the first ``config.search_frames`` frames (the message
            names the video, the frames searched and the best similarity found).
        VideoError: unreadable video or no frames.
    """
    from tqdm import tqdm

    name = str(video)
    info = probe_video(video)
    total, fps, size = info.frame_count, float(info.fps), info.size
    tracker = _Tracker(
        name, extractor, gallery, matcher_config or MatcherConfig(), config, size, frame_extractor
    )
    with tqdm(total=total, desc="landmarks (matcher)", unit="frame", disable=not progress) as bar:
        for chunk in _chunks(iter_frames(video), config.batch):
            tracker.feed(chunk)
            bar.update(len(chunk))
            if tracker.first is None and len(tracker.points) >= config.search_frames:
                break
    searched = min(len(tracker.points), config.search_frames)
    if not tracker.points:
        raise VideoError(f"video {name!r} has no frames")
    if tracker.first is None:
        raise NoFaceError(
            f"no face matched in video {name!r}: frames 0-{searched - 1} searched; best mean similarity "
            f"{tracker.best_score:.2f} (frame {tracker.best_frame}), a face needs {config.min_score:.2f}"
        )
    pts, found = tracker.result()
    if config.pose_smoothing is not None:  # before the gaps are filled from the runs' ends
        pts = _pose_runs(pts, found, fps, config.pose_smoothing)
    filled = fill_gaps(pts, found, max_gap=config.max_gap)
    if config.smoothing is not None:
        filled = _smooth_runs(filled, found, fps, config.smoothing)
    visible = np.repeat(found[:, None], NUM_POINTS, axis=1)
    return Landmarks(filled, size, visible)
