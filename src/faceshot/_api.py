"""The :class:`FaceShot` pipeline: wiring of the four member packages (no maths here).

Stages (each usable alone)::

    character image --(faceshot_features extractor + faceshot_landmarks.match)--> R (68, 2)
    driving video   --(faceshot_landmarks.detect_video, dlib)----------------> D (T, 68, 2)
    R, D            --(faceshot_retarget.retarget)---------------------------> L (T, 68, 2)
    image, L        --(faceshot_animate RigAnimator | WarpAnimator | Mofa)----> frames --> H.264

:meth:`FaceShot.animate` runs the character branch (model load, features, matching) in a
worker thread while the driving landmarks are detected, then renders and encodes in one
streaming pass (with the side-by-side preview video when asked for).
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Iterator
from concurrent.futures import Future
from contextlib import ExitStack
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from faceshot_features import BACKBONE_IDS
from numpy.typing import NDArray

from faceshot._io import (
    MIN_SIDE,
    Character,
    Staged,
    check_driving_video,
    check_not_blank,
    check_output_path,
    default_gallery_path,
    load_character,
    stage_on_canvas,
)
from faceshot.errors import CharacterImageError, DrivingVideoError, WeightsUnavailableError

if TYPE_CHECKING:  # the members' types, for annotations only (imported when a stage runs)
    from faceshot_animate import Animator
    from faceshot_landmarks import DrivingLandmarks, Extractor, Gallery, MatchResult
    from faceshot_retarget import Landmarks

__all__ = ["BACKBONES", "MOTIONS", "AnimateResult", "FaceShot", "longest_run"]

#: ``backbone`` names -> the backbone id their galleries record: faceshot-features' registry.
BACKBONES = BACKBONE_IDS
_ANIMATORS = ("rig", "warp", "mofa")
_DETECTORS = ("dlib", "matcher")
#: ``motion`` regions (``faceshot_retarget.MOTION_REGIONS``).
MOTIONS = ("all", "expression", "pose", "eyes", "lips")


def longest_run(mask: NDArray[np.bool_]) -> tuple[int, int, int]:
    """Longest run of True in a 1-D mask: ``(length, first, last)`` (``(0, -1, -1)`` if none)."""
    m = np.concatenate([[False], np.asarray(mask, bool), [False]])
    edges = np.flatnonzero(np.diff(m.astype(np.int8)))
    if edges.size == 0:
        return 0, -1, -1
    starts, stops = edges[0::2], edges[1::2]
    k = int(np.argmax(stops - starts))
    return int(stops[k] - starts[k]), int(starts[k]), int(stops[k] - 1)


@dataclass
class AnimateResult:
    """What :meth:`FaceShot.animate` produced.

    Attributes:
        output: path of the written MP4.
        preview: path of the side-by-side preview MP4, or ``None``.
        frames: number of frames written.
        fps: frame rate (the driving video's).
        character: (68, 2) float64 character landmarks in canvas pixels (the output video's
            pixel frame: the working image shifted by ``offset``).
        driving: (T, 68, 2) float64 driving landmarks in driving-video pixels.
        driving_visible: (T, 68) bool, False where the driving person was absent (bridged or
            held points; what the retargeting eased towards neutral); all True when the
            driving landmarks came without a mask.
        landmarks: (T, 68, 2) float64 retargeted character landmarks, canvas pixels.
        timings: seconds per stage, in order (the character and driving landmark stages
            run concurrently, so they overlap).
        wall: wall-clock seconds of the whole call.
        original_size: (H, W) of the character file's pixels.
        scale: working pixels per character-file pixel (1.0 unless downscaled).
        offset: (x, y) canvas position of the working image's top-left pixel: (0, 0)
            unless the character was given room to move (``FaceShot(room=...)``).
        canvas_size: (H, W) of the canvas, the output video's size (before the animator's
            own output size, if any).
        cuts: the shot cuts the motion was re-anchored at.
    """

    output: Path
    preview: Path | None
    frames: int
    fps: float
    character: NDArray[np.float64]
    driving: NDArray[np.float64]
    landmarks: NDArray[np.float64]
    timings: dict[str, float] = field(default_factory=dict)
    wall: float = 0.0
    original_size: tuple[int, int] = (0, 0)
    scale: float = 1.0
    offset: tuple[int, int] = (0, 0)
    canvas_size: tuple[int, int] = (0, 0)
    cuts: tuple[int, ...] = ()
    driving_visible: NDArray[np.bool_] | None = None

    def character_landmarks(self) -> Landmarks:
        """The character's landmarks in the character file's pixels, as ``Landmarks``
        (what ``--landmarks`` reads back)."""
        from faceshot_retarget import Landmarks

        pts = np.asarray(self.character, dtype=np.float64) - np.asarray(
            self.offset, dtype=np.float64
        )
        pts = (pts + 0.5) / self.scale - 0.5
        return Landmarks(pts, self.original_size)

    def summary(self) -> str:
        """One line per stage plus the total, for the terminal."""
        width = max(len(k) for k in self.timings) if self.timings else 5
        lines = [f"  {k:<{width}}  {v:7.2f} s" for k, v in self.timings.items()]
        lines.append(f"  {'total (wall clock)':<{width}}  {self.wall:7.2f} s")
        return "\n".join(lines)


class FaceShot:
    """Bring a character to life from a driving video (FaceShot, ICLR 2025; training-free).

    Args:
        backbone: feature backbone for landmark matching: ``"embedded"`` (CPU MobileNetV2,
            no downloads), ``"sd15-ip"`` or ``"sd21"`` (GPU, local diffusion weights), or an
            extractor object with ``.extract(image)``.
        gallery: appearance gallery directory or a loaded ``faceshot_landmarks.Gallery``
            (default: the one shipped with the package, built for ``"embedded"``).
        animator: ``"rig"`` (default: CPU part-aware renderer), ``"warp"`` (CPU mesh warp,
            the first renderer), ``"mofa"`` (GPU, MOFA-Video weights) or an object
            following ``faceshot_animate.Animator``.
        mofa_weights: MOFA-Video-Hybrid directory for ``animator="mofa"`` (default: the
            ``FACESHOT_MOFA_WEIGHTS`` environment variable).
        backbone_weights: weights for the backbone (file for embedded, directory or id for sd*).
        detector: driving landmarks by ``"dlib"`` (human faces) or ``"matcher"`` (any face: the
            gallery matcher finds it, then every frame is matched and fused with optical flow,
            ``faceshot_landmarks.match_video``).
        translation_scale: driver head translation factor, a number or ``"face"`` (scaled by
            the ratio of face widths); default 1.0, the paper's Eq. 5 (pixel translation).
        motion: which motion drives the character: ``"all"`` (default), ``"expression"``
            (face parts, head still), ``"pose"`` (head only), ``"eyes"`` (lids and brows)
            or ``"lips"`` (mouth and jaw).
        retarget_mode: ``"constrained"`` (default: parts kept inside the face, bounded
            scale, re-anchored at cuts, canvas and rate limits) or ``"paper"`` (raw Eq. 5-6).
        room: room to move, in face-box widths: a character whose face box is closer than
            this to an image edge is animated on a larger canvas (that edge extended; see
            :func:`faceshot.give_room`), and the output video has the canvas's size.
            0 keeps the image's size. Default 0.2.
        expression_scale: factor on the local (expression) motion; 1.0 = the paper, < 1
            tames exaggerated expressions (``RetargetConfig.expression_scale``).
        smooth: One-Euro temporal filter on the retargeted landmarks (default on: driving
            detections jitter by about a pixel, which the character would amplify).
        max_lost_frames: longest run of driving frames without the driving person that is
            bridged by interpolation; longer runs hold the last pose, marked not visible (the
            retargeting eases them to neutral).
        face: which person drives, as an index into the faces found in the driving video
            (``faceshot landmarks detect --list-faces``); ``None``: the primary person (most
            frames x largest face). Another person never drives the character.
        max_side: raster characters with a longer side are downscaled to this many pixels.
        progress: tqdm bars on stderr.
        device: torch device for the sd* backbones and MOFA (default: CUDA when available).
    """

    def __init__(
        self,
        backbone: str | Extractor = "embedded",
        gallery: str | os.PathLike[str] | Gallery | None = None,
        animator: str | Animator = "rig",
        *,
        mofa_weights: str | os.PathLike[str] | None = None,
        backbone_weights: str | os.PathLike[str] | None = None,
        detector: str = "dlib",
        translation_scale: float | str = 1.0,
        motion: str = "all",
        retarget_mode: str = "constrained",
        room: float = 0.2,
        expression_scale: float = 1.0,
        smooth: bool = True,
        max_lost_frames: int = 15,
        face: int | None = None,
        max_side: int = 1024,
        progress: bool = True,
        device: str | None = None,
    ) -> None:
        if isinstance(backbone, str) and backbone not in BACKBONES:
            raise ValueError(f"`backbone` must be one of {sorted(BACKBONES)}; got {backbone!r}")
        if isinstance(animator, str) and animator not in _ANIMATORS:
            raise ValueError(f"`animator` must be one of {list(_ANIMATORS)}; got {animator!r}")
        if detector not in _DETECTORS:
            raise ValueError(f"`detector` must be one of {list(_DETECTORS)}; got {detector!r}")
        if motion not in MOTIONS:
            raise ValueError(f"`motion` must be one of {list(MOTIONS)}; got {motion!r}")
        if retarget_mode not in ("constrained", "paper"):
            raise ValueError(
                f"`retarget_mode` must be 'constrained' or 'paper'; got {retarget_mode!r}"
            )
        if not (np.isfinite(room) and room >= 0):
            raise ValueError(f"`room` must be a non-negative number of face widths; got {room!r}")
        if max_lost_frames < 0:
            raise ValueError(f"`max_lost_frames` must be >= 0; got {max_lost_frames}")
        _check_face(face)
        _check_range("expression_scale", expression_scale, 0.0, 10.0)
        if translation_scale != "face":
            _check_range("translation_scale", translation_scale, 0.0, 10.0, "or 'face'")
        _check_range("max_side", max_side, MIN_SIDE, float("inf"))
        self._backbone = backbone
        self._gallery_arg = gallery
        self._animator_arg = animator
        self.mofa_weights = (
            mofa_weights if mofa_weights is not None else os.environ.get("FACESHOT_MOFA_WEIGHTS")
        )
        self.backbone_weights = backbone_weights
        self.detector = detector
        self.translation_scale = translation_scale
        self.motion = motion
        self.retarget_mode = retarget_mode
        self.room = float(room)
        self.expression_scale = float(expression_scale)
        self.smooth = smooth
        self.max_lost_frames = int(max_lost_frames)
        self.face = face
        self.max_side = int(max_side)
        self.progress = bool(progress)
        self.device = device
        self._extractor: Extractor | None = None if isinstance(backbone, str) else backbone
        self._gallery: Gallery | None = (
            None if gallery is None or isinstance(gallery, (str, os.PathLike)) else gallery
        )
        self._landmarker: Any = None

    # ------------------------------------------------------------------ components

    @property
    def backbone_name(self) -> str:
        """The backbone id features carry (``"embedded-mobilenetv2"``, ``"sd21"``, ...)."""
        if isinstance(self._backbone, str):
            return BACKBONES[self._backbone]
        return str(getattr(self._backbone, "backbone", "custom"))

    def _device(self) -> str:
        if self.device is not None:
            return self.device
        import torch

        return "cuda" if torch.cuda.is_available() else "cpu"

    @property
    def extractor(self) -> Extractor:
        """The feature extractor (loaded on first use; ``faceshot_features.load_extractor``)."""
        if self._extractor is None:
            from faceshot_features import load_extractor

            name = str(self._backbone)
            device = "cpu" if name == "embedded" else self._device()
            self._extractor = load_extractor(name, weights=self.backbone_weights, device=device)
        return self._extractor

    @property
    def gallery(self) -> Gallery:
        """The appearance gallery (loaded and verified on first use)."""
        if self._gallery is None:
            from faceshot_landmarks import GalleryError, load_gallery

            arg = self._gallery_arg
            path = arg if isinstance(arg, (str, os.PathLike)) else default_gallery_path()
            if not Path(path).is_dir():
                raise GalleryError(f"gallery {str(path)!r} is not a directory")
            gallery = load_gallery(path)
            if gallery.backbone != self.backbone_name:
                raise GalleryError(
                    f"gallery {str(path)!r} was built with backbone {gallery.backbone!r}; backbone "
                    f"{self.backbone_name!r} needs a gallery built with it "
                    "(scripts/build_default_gallery.py --backbone ...)"
                )
            self._gallery = gallery
        return self._gallery

    def check_animator(self) -> None:
        """Fail early when the GPU animator cannot run (no weights directory, files, or GPU).

        Raises:
            WeightsUnavailableError: names what is missing.
        """
        if self._animator_arg != "mofa":
            return
        if not self.mofa_weights:
            raise WeightsUnavailableError(
                "animator 'mofa' needs MOFA-Video-Hybrid weights: pass --mofa-weights DIR (or set "
                "FACESHOT_MOFA_WEIGHTS) to a clone of https://huggingface.co/MyNiuuu/MOFA-Video-Hybrid"
            )
        weights = Path(self.mofa_weights)
        if not weights.is_dir():
            raise WeightsUnavailableError(
                f"MOFA weights directory {str(weights)!r} does not exist; expected a clone of "
                "https://huggingface.co/MyNiuuu/MOFA-Video-Hybrid"
            )
        if self._device() == "cpu":
            raise WeightsUnavailableError(
                f"animator 'mofa' (weights {str(weights)!r}) needs a CUDA GPU and none is available; "
                "use --animator rig"
            )
        from faceshot_animate.mofa import MofaWeightsError, check_mofa_layout

        try:
            check_mofa_layout(weights)
        except MofaWeightsError as exc:
            raise WeightsUnavailableError(" ".join(str(exc).split())) from None

    def make_animator(self, output_size: tuple[int, int] | None = None) -> Animator:
        """The animator object (``RigAnimator``, ``WarpAnimator``, ``MofaAnimator`` or the one given)."""
        if not isinstance(self._animator_arg, str):
            return self._animator_arg
        if self._animator_arg == "rig":
            from faceshot_animate import RigAnimator

            return RigAnimator(output_size=output_size)
        if self._animator_arg == "warp":
            from faceshot_animate import WarpAnimator

            return WarpAnimator(output_size=output_size)
        self.check_animator()
        import torch
        from faceshot_animate.mofa import MofaAnimator

        device = self._device()
        dtype = torch.float16 if device.startswith("cuda") else torch.float32  # fp16 on GPUs only
        weights = self.mofa_weights
        assert weights is not None  # check_animator() refused a missing one
        return MofaAnimator.from_pretrained(
            weights, device=device, dtype=dtype, progress=self.progress
        )

    # ------------------------------------------------------------------ stages

    @staticmethod
    def _check_face_possible(character: Character) -> None:
        """Refuse a blank or near-uniform character before any model runs."""
        name = (
            f"character image {str(character.path)!r}" if character.path is not None else "`image`"
        )
        check_not_blank(character.image, name)

    def load(self, image: str | os.PathLike[str] | NDArray[np.generic] | Character) -> Character:
        """Load a character image file (PNG/JPEG/SVG/...) or wrap an array (H, W[, 3|4])."""
        if isinstance(image, Character):
            return image
        if isinstance(image, np.ndarray):
            from faceshot_animate import FaceshotAnimateError, as_uint8_image

            try:
                arr = as_uint8_image(image, "image")
            except FaceshotAnimateError as exc:
                raise CharacterImageError(str(exc)) from None
            if min(arr.shape[:2]) < 32:
                raise CharacterImageError(
                    f"`image` is {arr.shape[1]}x{arr.shape[0]} pixels; need at least 32x32"
                )
            return Character(arr, None, arr.shape[:2], 1.0)
        return load_character(image, max_side=self.max_side)

    def match(
        self,
        image: str | os.PathLike[str] | NDArray[np.generic] | Character,
        *,
        face: int = 0,
        human: str = "auto",
    ) -> MatchResult:
        """The character's 68 landmarks: the face is located anywhere in the image, then a
        human photo goes to dlib's 68-point predictor and anything else to semantic matching
        against the gallery (``faceshot_landmarks.locate_and_match``).

        Args:
            image: character file or (H, W[, 3|4]) array.
            face: which face when there are several, 0 = the largest.
            human: ``"auto"`` (dlib when it finds a face), ``"dlib"`` or ``"matcher"``.

        Returns:
            ``faceshot_landmarks.MatchResult``: ``points`` (68, 2) float64 pixels of the
            (working) image, ``confidence`` (68,), ``domains`` per part, ``path``
            (``"dlib"`` or ``"matcher"``), ``face_box`` and ``warnings`` (weak parts).

        Raises:
            CharacterImageError: unreadable, or blank/near-uniform (nothing to match), before
                the backbone runs.
        """
        from faceshot_landmarks import LocateConfig, locate_and_match

        character = self.load(image)
        self._check_face_possible(character)
        name = str(character.path) if character.path is not None else "`image`"
        landmarker = None
        if human != "matcher":
            if self._landmarker is None:
                from faceshot_landmarks import DlibLandmarker

                self._landmarker = DlibLandmarker()
            landmarker = self._landmarker
        return locate_and_match(
            character.image,
            _LazyExtractor(self),
            self.gallery,
            face=face,
            config=LocateConfig(human=human),
            landmarker=landmarker,
            name=name,
        )

    def drive(self, video: str | os.PathLike[str], *, face: int | None = None) -> DrivingLandmarks:
        """Driving landmarks of one person of a video, with its shot cuts and the faces found.

        Args:
            video: driving video file.
            face: which person drives (index into the faces found; default: this object's
                ``face``, else the primary person). Only ``None`` or 0 with
                ``detector="matcher"`` (it follows the one face matched on frame 0).

        Returns:
            ``faceshot_landmarks.DrivingLandmarks``: ``landmarks`` (T, 68, 2) float64 video
            pixels with ``visible`` (False where the person is absent: bridged up to
            ``max_lost_frames`` frames, held beyond), ``cuts``, ``faces``, ``person``,
            ``fps``. It also behaves like its ``Landmarks`` (``.points``, ``.visible``).

        Raises:
            DrivingVideoError: no face in the video (names the video and the frames searched),
                or the chosen person is never found.
            FaceSelectionError: ``face`` is not one of the faces found (lists them).
        """
        from faceshot_landmarks import (
            DetectConfig,
            DrivingLandmarks,
            FaceTrack,
            NoFaceError,
            detect_driving,
            match_video,
            probe_video,
        )

        chosen = self.face if face is None else face
        _check_face(chosen)
        try:
            if self.detector == "dlib":
                config = DetectConfig(max_gap=self.max_lost_frames)
                return detect_driving(video, face=chosen, config=config, progress=self.progress)
            if chosen not in (None, 0):
                raise ValueError(
                    f"`face` {chosen} needs detector 'dlib'; the matcher follows the one face it matches on frame 0"
                )
            # per-frame crops: the embedded backbone (a diffusion inversion per frame is too slow)
            from faceshot_features import load_extractor

            frames = (
                None
                if self._backbone == "embedded"
                else load_extractor("embedded", device=self._device())
            )
            lm = match_video(
                video, self.extractor, self.gallery, progress=self.progress, frame_extractor=frames
            )
        except NoFaceError as exc:
            raise DrivingVideoError(" ".join(str(exc).split())) from None
        pts = np.asarray(lm.points)
        lo, hi = pts.min(axis=1), pts.max(axis=1)
        cx, cy = ((lo + hi) / 2).mean(axis=0)
        track = FaceTrack(
            index=0,
            first=0,
            last=lm.num_frames - 1,
            frames=lm.num_frames,
            detections=1,
            size=float(np.mean((hi - lo).max(axis=1))),
            centre=(float(cx), float(cy)),
            shots=1,
        )
        return DrivingLandmarks(
            landmarks=lm, cuts=(), faces=(track,), person=0, fps=float(probe_video(video).fps)
        )

    def retarget(
        self,
        driving: Any,
        character: Any,
        *,
        reference: Any = None,
        fps: float = 25.0,
        cuts: Any = None,
        canvas_size: tuple[int, int] | None = None,
        extent: Any = None,
    ) -> NDArray[np.float64]:
        """Transfer the driving motion onto the character's landmarks (Eq. 5-6, constrained).

        The argument order is ``faceshot_retarget.retarget``'s: ``(driving, character)``
        (before 0.2 this method took ``(character, driving)``; that order is refused with a
        one-line error when the shapes show it, so pass both by keyword when in doubt).

        Args:
            driving: (T, 68, 2) float64 driving pixels, a ``Landmarks`` (its ``visible`` mask
                marks frames where the driving person is absent), or a driving-detection
                result with ``.landmarks`` and ``.cuts`` (what :meth:`drive` returns).
            character: (68, 2) float64 character pixels (or ``Landmarks``/``MatchResult``).
            reference: (68, 2) neutral driver frame (default: estimated per shot; see
                ``faceshot_retarget.retarget``).
            fps: driving frame rate (for the optional smoothing).
            cuts: frame indices where a new shot starts (default: ``driving.cuts`` if it has
                them, else none): the motion is re-anchored there.
            canvas_size: (H, W) of the canvas the character is drawn on: its face is kept
                inside (default: no canvas limit).
            extent: (K, 2) pixel points of the character beyond its landmarks that move with
                its head and are kept inside the canvas too (``faceshot_animate.head_extent``:
                its silhouette's box); needs ``canvas_size``. Default: the landmarks alone.

        Returns:
            (T, 68, 2) float64 character pixels; frame 0 equals ``character``.

        Raises:
            TypeError: the arguments are in the old ``(character, driving)`` order (a
                detection result or a many-frame sequence as ``character`` with one frame as
                ``driving``).
        """
        from faceshot_retarget import RETARGET_SMOOTHING, RetargetConfig, retarget

        _check_retarget_order(driving, character)
        pts = getattr(character, "points", character)
        if cuts is None:
            cuts = tuple(getattr(driving, "cuts", ()) or ())
        driving = getattr(driving, "landmarks", driving)
        config = RetargetConfig(
            mode=self.retarget_mode,  # type: ignore[arg-type]
            motion=self.motion,  # type: ignore[arg-type]
            translation_scale=self.translation_scale,  # type: ignore[arg-type]
            expression_scale=self.expression_scale,
            smoothing=RETARGET_SMOOTHING if self.smooth else None,
            fps=float(fps),
        )
        return retarget(
            driving,
            pts,
            reference=reference,
            cuts=cuts,
            canvas_size=canvas_size,
            extent=extent,
            config=config,
        )

    def _stage_and_retarget(
        self, character: Character, landmarks: NDArray[np.float64], driving: Any, fps: float
    ) -> tuple[Staged, NDArray[np.float64]]:
        """The character staged as it is animated (:func:`faceshot._io.stage_on_canvas` with
        :attr:`room`) and the driving motion retargeted onto it, kept in that canvas with its
        silhouette: the one recipe of :meth:`animate` and ``faceshot batch``.

        Args:
            character: the loaded character.
            landmarks: (68, 2) float64 its landmarks, working-image pixels.
            driving: what :meth:`retarget` takes as ``driving`` (cuts are read from it).
            fps: the driving frame rate.

        Returns:
            ``(staged, landmarks)``: the staged canvas and (T, 68, 2) float64 canvas pixels.
        """
        staged = stage_on_canvas(character, landmarks, self.room)
        lms = self.retarget(
            driving,
            staged.landmarks,
            fps=fps,
            canvas_size=staged.canvas.size,
            extent=staged.extent,
        )
        return staged, lms

    def render(
        self,
        image: str | os.PathLike[str] | NDArray[np.generic] | Character,
        landmarks: NDArray[np.float64],
        out: str | os.PathLike[str],
        *,
        fps: float | None = None,
        audio_from: str | os.PathLike[str] | None = None,
        preview: str | os.PathLike[str] | None = None,
        driving_video: str | os.PathLike[str] | None = None,
        crf: int = 18,
        reproducible: bool = False,
    ) -> tuple[Path, Path | None]:
        """Animate the character along ``landmarks`` and encode H.264 (atomic writes).

        Args:
            image: character file, array or :class:`Character`.
            landmarks: (T, 68, 2) float64 character pixels; frame 0 = the character's own.
            out: output ``.mp4``.
            fps: frame rate (default: ``driving_video``'s exact rate, else 25).
            audio_from: file whose audio is copied in (``None``: silent).
            preview: optional second ``.mp4`` with driving | landmarks | result panels.
            driving_video: the driving video (needed for ``preview``).
            crf: x264 quality.
            reproducible: byte-identical video for identical inputs (x264 macroblock-tree
                off; larger files at the same ``crf``; ``VideoWriter(reproducible=...)``).

        Returns:
            ``(out, preview)`` paths.
        """
        from faceshot_animate import VideoWriter, preview_frame, probe_video, read_video
        from tqdm.auto import tqdm

        in_path = image if isinstance(image, (str, os.PathLike)) else getattr(image, "path", None)
        inputs = (in_path, audio_from, driving_video)
        check_output_path(out, inputs=inputs, option="`out`")
        if preview is not None:
            check_output_path(preview, inputs=(*inputs, out), option="`preview`")
            if os.path.abspath(preview) == os.path.abspath(out):
                from faceshot.errors import OutputPathError

                raise OutputPathError(f"`preview` {str(preview)!r} is the same path as `out`")
        rate: float | Fraction = (
            fps
            if fps is not None
            else (probe_video(driving_video).fps if driving_video is not None else 25.0)
        )
        character = self.load(image)
        pts = np.asarray(landmarks, dtype=np.float64)
        if pts.ndim == 2:
            pts = pts[None]
        frames = self.make_animator().animate(character.image, pts, fps=float(rate))
        with ExitStack() as stack:
            writer = stack.enter_context(
                VideoWriter(out, rate, audio_from=audio_from, crf=crf, reproducible=reproducible)
            )
            pwriter = None
            driving: Iterator[NDArray[np.uint8]] | None = None
            if preview is not None:
                if driving_video is None:
                    raise ValueError("`preview` needs `driving_video`")
                pwriter = stack.enter_context(
                    VideoWriter(preview, rate, audio_from=audio_from, crf=23)
                )
                driving = read_video(driving_video)
            last: NDArray[np.uint8] | None = None
            bar = tqdm(
                frames, total=len(pts), desc="render", unit="frame", disable=not self.progress
            )
            for t, frame in enumerate(bar):
                writer.write(frame)
                if pwriter is not None and driving is not None:
                    last = next(driving, last)
                    pwriter.write(preview_frame(frame, pts[min(t, len(pts) - 1)], last))
        return Path(out), (Path(preview) if preview is not None else None)

    # ------------------------------------------------------------------ end to end

    def character_landmarks(
        self,
        character: Character,
        landmarks: str | os.PathLike[str] | NDArray[np.float64] | None = None,
    ) -> NDArray[np.float64]:
        """(68, 2) character landmarks: from a file/array (scaled to the working image) or matched."""
        if landmarks is None:
            return np.asarray(self.match(character).points, dtype=np.float64)
        return _user_landmarks(landmarks, character)

    def animate(
        self,
        image: str | os.PathLike[str] | NDArray[np.generic],
        video: str | os.PathLike[str],
        out: str | os.PathLike[str],
        *,
        landmarks: str | os.PathLike[str] | NDArray[np.float64] | None = None,
        driving_landmarks: Any = None,
        preview: str | os.PathLike[str] | None = None,
        audio: bool = True,
        crf: int = 18,
    ) -> AnimateResult:
        """Character + driving video -> animated character video (the whole pipeline).

        Args:
            image: character file (PNG/JPEG/SVG/...) or (H, W[, 3|4]) array.
            video: driving video (a human face unless ``detector="matcher"``).
            out: output ``.mp4`` (written atomically; nothing is left behind on failure).
            landmarks: the character's 68 landmarks (file ``.pts``/``.json``/``.npy`` in the
                image's pixels, or a (68, 2) array) instead of matching.
            driving_landmarks: the driving video's landmarks instead of detecting them: what
                :meth:`drive` returns (its cuts are kept), a ``Landmarks`` (its ``visible``
                mask is kept), a (T, 68, 2) array in the video's pixels, or a landmark file
                (``.npy``/``.json``, e.g. from ``faceshot landmarks detect``).
            preview: optional side-by-side panel video path.
            audio: copy the driving video's audio.
            crf: x264 quality.

        Returns:
            :class:`AnimateResult` with paths, landmarks and per-stage timings.

        Raises:
            OutputPathError: ``out``/``preview`` break the output policy (wrong suffix, an
                input or a link to one, ...), before any work.
            CharacterImageError: unreadable, too small or large, or blank character.
            DrivingVideoError: no face, face lost too long, frames under 32 px or too large.
        """
        from faceshot_animate import probe_video

        timings: dict[str, float] = {}
        t0 = time.perf_counter()
        in_path = None if isinstance(image, np.ndarray) else image
        gallery_in = (
            self._gallery_arg if isinstance(self._gallery_arg, (str, os.PathLike)) else None
        )
        drv_in = driving_landmarks if isinstance(driving_landmarks, (str, os.PathLike)) else None
        user_in = landmarks if not isinstance(landmarks, np.ndarray) else None
        check_output_path(out, inputs=(in_path, video, user_in, drv_in, gallery_in))
        if preview is not None:
            check_output_path(preview, inputs=(in_path, video, out, drv_in, gallery_in))
            if os.path.abspath(preview) == os.path.abspath(out):
                from faceshot.errors import OutputPathError

                raise OutputPathError(f"preview {str(preview)!r} is the same path as the output")
        self.check_animator()
        character = self.load(image)
        self._check_face_possible(character)
        user_pts = _user_landmarks(landmarks, character) if landmarks is not None else None
        if user_pts is None:
            if self._backbone != "embedded":
                _ = self.extractor  # missing GPU-path weights fail here, before the long stages
            _ = self.gallery  # verify before the long stages
        info = probe_video(video)
        check_driving_video(video, info.size_wh)
        fps = float(info.fps)
        timings["load inputs"] = time.perf_counter() - t0

        def character_branch() -> tuple[NDArray[np.float64], float]:
            start = time.perf_counter()
            pts = user_pts if user_pts is not None else self.character_landmarks(character)
            return pts, time.perf_counter() - start

        future = _in_background(character_branch)
        t1 = time.perf_counter()
        try:
            driving = (
                self.drive(video) if driving_landmarks is None else _user_driving(driving_landmarks)
            )
            drive_error: BaseException | None = None
        except KeyboardInterrupt:
            raise  # Ctrl-C, SIGTERM: stop now (the worker is a daemon thread)
        except BaseException as exc:  # report after the other branch has finished
            drive_error = exc
        t_drive = time.perf_counter() - t1
        char_pts, t_char = future.result()
        if drive_error is not None:
            raise drive_error
        timings[
            "character landmarks" + (" (file)" if user_pts is not None else " (model + match)")
        ] = t_char
        timings["driving landmarks" + (" (given)" if driving_landmarks is not None else "")] = (
            t_drive
        )

        t2 = time.perf_counter()
        staged, lms = self._stage_and_retarget(character, char_pts, driving, fps)
        canvas, (dx, dy), char_pts = staged.canvas, staged.offset, staged.landmarks
        drv_lm = getattr(driving, "landmarks", driving)
        cuts = tuple(int(c) for c in (getattr(driving, "cuts", ()) or ()))
        timings["retarget"] = time.perf_counter() - t2

        t3 = time.perf_counter()
        audio_from = video if audio and info.has_audio else None
        out_path, prev_path = self.render(
            canvas,
            lms,
            out,
            fps=fps,
            audio_from=audio_from,
            preview=preview,
            driving_video=video,
            crf=crf,
        )
        timings["render + encode"] = time.perf_counter() - t3
        return AnimateResult(
            output=out_path,
            preview=prev_path,
            frames=int(lms.shape[0]),
            fps=fps,
            character=char_pts,
            driving=np.asarray(drv_lm.points),
            driving_visible=(
                np.ones(np.shape(drv_lm.points)[:2], bool)
                if drv_lm.visible is None
                else np.asarray(drv_lm.visible, bool)
            ),
            landmarks=lms,
            timings=timings,
            wall=time.perf_counter() - t0,
            original_size=character.original_size,
            scale=character.scale,
            offset=(dx, dy),
            canvas_size=canvas.size,
            cuts=cuts,
        )


def _user_driving(value: Any) -> Any:
    """``animate(driving_landmarks=...)`` as a ``Landmarks`` or a detection result (kept)."""
    from faceshot_retarget import Landmarks, load_landmarks

    if isinstance(value, (str, os.PathLike)):
        return load_landmarks(value)
    if hasattr(value, "landmarks") or isinstance(value, Landmarks):
        return value
    return Landmarks(np.asarray(value, dtype=np.float64))


def _num_frames(value: Any) -> int | None:
    """Frames of a landmark argument ((68, 2) -> 1, (T, 68, 2) -> T), ``None`` when unclear."""
    pts = getattr(value, "landmarks", value)
    try:
        arr = np.asarray(getattr(pts, "points", pts), dtype=np.float64)
    except (TypeError, ValueError):
        return None
    return 1 if arr.ndim == 2 else (int(arr.shape[0]) if arr.ndim == 3 else None)


def _check_retarget_order(driving: Any, character: Any) -> None:
    """Refuse ``FaceShot.retarget(character, driving)``, the order before 0.2."""
    n_char, n_drv = _num_frames(character), _num_frames(driving)
    if hasattr(character, "cuts") or (n_char is not None and n_char > 1 and n_drv == 1):
        raise TypeError(
            f"FaceShot.retarget takes (driving, character), as faceshot_retarget.retarget does; "
            f"got a {n_char}-frame sequence as `character` and {n_drv} frame(s) as `driving`: "
            "swap them (or pass driving=..., character=...)"
        )


def _check_face(face: object) -> None:
    if face is not None and (
        isinstance(face, bool) or not isinstance(face, (int, np.integer)) or face < 0
    ):
        raise ValueError(
            f"`face` must be a non-negative integer (an index into the faces found) or None; got {face!r}"
        )


class _LazyExtractor:
    """Loads the pipeline's extractor on the first ``extract`` (the dlib path never needs it)."""

    def __init__(self, owner: FaceShot) -> None:
        self._owner = owner

    def extract(self, image: NDArray[np.uint8]) -> Any:
        return self._owner.extractor.extract(image)


def _check_range(name: str, value: Any, lo: float, hi: float, extra: str = "") -> None:
    """Raise ``ValueError`` unless ``value`` is a finite number in [lo, hi]."""
    try:
        ok = bool(np.isfinite(float(value))) and lo <= float(value) <= hi
    except (TypeError, ValueError):
        ok = False
    if not ok:
        more = f" {extra}" if extra else ""
        raise ValueError(f"`{name}` must be a number in [{lo:g}, {hi:g}]{more}; got {value!r}")


def _in_background(fn: Any) -> Future[Any]:
    """Run ``fn()`` in a daemon thread (an interrupted process exits without waiting for it)."""
    future: Future[Any] = Future()

    def run() -> None:
        if not future.set_running_or_notify_cancel():
            return
        try:
            future.set_result(fn())
        except BaseException as exc:
            future.set_exception(exc)

    threading.Thread(target=run, name="faceshot-character", daemon=True).start()
    return future


def _user_landmarks(
    landmarks: str | os.PathLike[str] | NDArray[np.float64], character: Character
) -> NDArray[np.float64]:
    """Read and check user-supplied character landmarks; scale them to the working image."""
    from faceshot_retarget import (
        MAX_LANDMARK_FILE_BYTES,
        LandmarkFileError,
        LandmarkShapeError,
        as_points,
        input_file_problem,
        load_landmarks,
    )

    if isinstance(landmarks, np.ndarray):
        name = "`landmarks`"
        pts = as_points(landmarks, "landmarks")
        size = None
    else:
        name = f"landmarks {str(landmarks)!r}"
        problem = input_file_problem(landmarks, max_bytes=MAX_LANDMARK_FILE_BYTES)
        if problem is not None:
            raise LandmarkFileError(f"{name} {problem}")
        lm = load_landmarks(landmarks)
        pts, size = lm.points, lm.image_size
    if pts.shape[0] != 1:
        raise LandmarkShapeError(
            f"{name}: expected one (68, 2) shape for the character; got {pts.shape[0]} frames"
        )
    h0, w0 = character.original_size
    if size is not None and tuple(size) != (h0, w0):
        raise LandmarkShapeError(
            f"{name} belong to an image of (H, W) = {tuple(size)}; the character is {(h0, w0)}"
        )
    p = pts[0]
    lo = -0.25 * np.array([w0, h0])
    hi = 1.25 * np.array([w0, h0])
    outside = np.flatnonzero(((p < lo) | (p > hi)).any(axis=1))
    if outside.size:
        i = int(outside[0])
        raise LandmarkShapeError(
            f"{name}: point {i} at ({p[i, 0]:.1f}, {p[i, 1]:.1f}) lies far outside the {w0}x{h0} character image"
        )
    if character.scale != 1.0:
        p = (p + 0.5) * character.scale - 0.5
    return np.array(p, dtype=np.float64)
