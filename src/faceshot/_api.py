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
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from faceshot._io import Character, check_output_path, default_gallery_path, load_character
from faceshot.errors import CharacterImageError, DrivingVideoError, WeightsUnavailableError

__all__ = ["BACKBONES", "AnimateResult", "FaceShot", "longest_run"]

#: ``backbone`` names -> the backbone id their galleries record.
BACKBONES = {"embedded": "embedded-mobilenetv2", "sd15-ip": "sd15-ip", "sd21": "sd21"}
_ANIMATORS = ("rig", "warp", "mofa")
_DETECTORS = ("dlib", "matcher")


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
        character: (68, 2) float64 character landmarks in the working image's pixels.
        driving: (T, 68, 2) float64 driving landmarks in driving-video pixels.
        landmarks: (T, 68, 2) float64 retargeted character landmarks.
        timings: seconds per stage, in order (the character and driving landmark stages
            run concurrently, so they overlap).
        wall: wall-clock seconds of the whole call.
        original_size: (H, W) of the character file's pixels.
        scale: working pixels per character-file pixel (1.0 unless downscaled).
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

    def character_landmarks(self) -> Any:
        """The character's landmarks in the character file's pixels, as ``Landmarks``
        (what ``--landmarks`` reads back)."""
        from faceshot_retarget import Landmarks

        pts = (np.asarray(self.character, dtype=np.float64) + 0.5) / self.scale - 0.5
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
        detector: driving landmarks by ``"dlib"`` (human faces) or ``"matcher"`` (match frame
            0 with the gallery, then optical-flow tracking; any face).
        translation_scale: driver head translation factor, a number or ``"face"`` (scaled by
            the ratio of face widths); default 1.0, the paper's Eq. 5 (pixel translation).
        expression_scale: factor on the local (expression) motion; 1.0 = the paper, < 1
            tames exaggerated expressions (``RetargetConfig.expression_scale``).
        smooth: One-Euro temporal filter on the retargeted landmarks (default on: driving
            detections jitter by about a pixel, which the character would amplify).
        max_lost_frames: longest run of driving frames without a face that is bridged (by
            interpolation); a longer one is an error.
        max_side: raster characters with a longer side are downscaled to this many pixels.
        progress: tqdm bars on stderr.
        device: torch device for the sd* backbones and MOFA (default: CUDA when available).
    """

    def __init__(
        self,
        backbone: str | Any = "embedded",
        gallery: str | os.PathLike[str] | Any | None = None,
        animator: str | Any = "rig",
        *,
        mofa_weights: str | os.PathLike[str] | None = None,
        backbone_weights: str | os.PathLike[str] | None = None,
        detector: str = "dlib",
        translation_scale: float | str = 1.0,
        expression_scale: float = 1.0,
        smooth: bool = True,
        max_lost_frames: int = 15,
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
        if max_lost_frames < 0:
            raise ValueError(f"`max_lost_frames` must be >= 0; got {max_lost_frames}")
        self._backbone = backbone
        self._gallery_arg = gallery
        self._animator_arg = animator
        self.mofa_weights = mofa_weights if mofa_weights is not None else os.environ.get("FACESHOT_MOFA_WEIGHTS")
        self.backbone_weights = backbone_weights
        self.detector = detector
        self.translation_scale = translation_scale
        self.expression_scale = float(expression_scale)
        self.smooth = smooth
        self.max_lost_frames = int(max_lost_frames)
        self.max_side = int(max_side)
        self.progress = bool(progress)
        self.device = device
        self._extractor: Any = None if isinstance(backbone, str) else backbone
        self._gallery: Any = None if gallery is None or isinstance(gallery, (str, os.PathLike)) else gallery

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
    def extractor(self) -> Any:
        """The feature extractor (loaded on first use; ``faceshot_features.load_extractor``)."""
        if self._extractor is None:
            from faceshot_features import load_extractor

            name = str(self._backbone)
            device = "cpu" if name == "embedded" else self._device()
            self._extractor = load_extractor(name, weights=self.backbone_weights, device=device)
        return self._extractor

    @property
    def gallery(self) -> Any:
        """The appearance gallery (loaded and verified on first use)."""
        if self._gallery is None:
            from faceshot_landmarks import GalleryError, load_gallery

            path = self._gallery_arg if self._gallery_arg is not None else default_gallery_path()
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

    def make_animator(self, output_size: tuple[int, int] | None = None) -> Any:
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
        from faceshot_animate.mofa import MofaAnimator

        return MofaAnimator(self.mofa_weights, device=self._device(), progress=self.progress)  # type: ignore[arg-type]

    # ------------------------------------------------------------------ stages

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
                raise CharacterImageError(f"`image` is {arr.shape[1]}x{arr.shape[0]} pixels; need at least 32x32")
            return Character(arr, None, arr.shape[:2], 1.0)
        return load_character(image, max_side=self.max_side)

    def match(self, image: str | os.PathLike[str] | NDArray[np.generic] | Character) -> Any:
        """The character's 68 landmarks by semantic matching against the gallery.

        Args:
            image: character file or (H, W[, 3|4]) array.

        Returns:
            ``faceshot_landmarks.MatchResult``: ``points`` (68, 2) float64 pixels of the
            (working) image, ``confidence`` (68,), ``domains`` per part.
        """
        from faceshot_landmarks import match

        character = self.load(image)
        gallery = self.gallery
        features = self.extractor.extract(character.rgb)
        return match(features, gallery)

    def drive(self, video: str | os.PathLike[str]) -> Any:
        """Driving landmarks of a video.

        Args:
            video: driving video file.

        Returns:
            ``faceshot_retarget.Landmarks`` (T, 68, 2) float64 video pixels with ``visible``.

        Raises:
            DrivingVideoError: no face, or the face is lost for more than ``max_lost_frames``
                consecutive frames (names the video and the frames).
        """
        from faceshot_landmarks import DetectConfig, NoFaceError, detect_video, match_video

        name = str(video)
        try:
            if self.detector == "dlib":
                config = DetectConfig(max_gap=self.max_lost_frames)
                lm = detect_video(video, config=config, progress=self.progress)
            else:
                lm = match_video(video, self.extractor, self.gallery, progress=self.progress)
        except NoFaceError as exc:
            raise DrivingVideoError(" ".join(str(exc).split())) from None
        if self.detector == "dlib" and lm.visible is not None:
            lost = np.asarray(~np.asarray(lm.visible).any(axis=1), dtype=bool)
            run, first, last = longest_run(lost)
            if run > self.max_lost_frames:
                raise DrivingVideoError(
                    f"driving video {name!r}: the face is lost in frames {first}-{last} ({run} frames; "
                    f"at most {self.max_lost_frames} are bridged)"
                )
        return lm

    def retarget(self, character: Any, driving: Any, *, reference: Any = None, fps: float = 25.0) -> NDArray[np.float64]:
        """Transfer the driving motion onto the character's landmarks (Eq. 5-6).

        Args:
            character: (68, 2) float64 character pixels (or ``Landmarks``/``MatchResult``).
            driving: (T, 68, 2) float64 driving pixels (or ``Landmarks``).
            reference: (68, 2) neutral driver frame (default: driving frame 0).
            fps: driving frame rate (for the optional smoothing).

        Returns:
            (T, 68, 2) float64 character pixels; frame 0 equals ``character``.
        """
        from faceshot_retarget import OneEuroConfig, RetargetConfig, retarget

        pts = getattr(character, "points", character)
        config = RetargetConfig(
            translation_scale=self.translation_scale,  # type: ignore[arg-type]
            expression_scale=self.expression_scale,
            smoothing=OneEuroConfig(min_cutoff=1.5, beta=0.02) if self.smooth else None,
            fps=float(fps),
        )
        return retarget(driving, pts, reference=reference, config=config)

    def render(
        self,
        image: str | os.PathLike[str] | NDArray[np.generic] | Character,
        landmarks: NDArray[np.float64],
        out: str | os.PathLike[str],
        *,
        fps: float = 25.0,
        audio_from: str | os.PathLike[str] | None = None,
        preview: str | os.PathLike[str] | None = None,
        driving_video: str | os.PathLike[str] | None = None,
        crf: int = 18,
    ) -> tuple[Path, Path | None]:
        """Animate the character along ``landmarks`` and encode H.264 (atomic writes).

        Args:
            image: character file, array or :class:`Character`.
            landmarks: (T, 68, 2) float64 character pixels; frame 0 = the character's own.
            out: output ``.mp4``.
            fps: frame rate.
            audio_from: file whose audio is copied in (``None``: silent).
            preview: optional second ``.mp4`` with driving | landmarks | result panels.
            driving_video: the driving video (needed for ``preview``).
            crf: x264 quality.

        Returns:
            ``(out, preview)`` paths.
        """
        from faceshot_animate import VideoWriter, read_video, render_pose_image, side_by_side
        from tqdm.auto import tqdm

        character = self.load(image)
        pts = np.asarray(landmarks, dtype=np.float64)
        if pts.ndim == 2:
            pts = pts[None]
        h, w = character.size
        frames = self.make_animator().animate(character.image, pts, fps=fps)
        with ExitStack() as stack:
            writer = stack.enter_context(VideoWriter(out, fps, audio_from=audio_from, crf=crf))
            pwriter = None
            driving: Iterator[NDArray[np.uint8]] | None = None
            if preview is not None:
                if driving_video is None:
                    raise ValueError("`preview` needs `driving_video`")
                pwriter = stack.enter_context(VideoWriter(preview, fps, audio_from=audio_from, crf=23))
                driving = read_video(driving_video)
            last: NDArray[np.uint8] | None = None
            thickness = max(1, round(h / 256))
            bar = tqdm(frames, total=len(pts), desc="render", unit="frame", disable=not self.progress)
            for t, frame in enumerate(bar):
                writer.write(frame)
                if pwriter is not None and driving is not None:
                    last = next(driving, last)
                    pose = render_pose_image(pts[min(t, len(pts) - 1)], (w, h), thickness=thickness)
                    panels = [p for p in (last, pose, frame) if p is not None]
                    pwriter.write(side_by_side(panels, height=h))
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
            preview: optional side-by-side panel video path.
            audio: copy the driving video's audio.
            crf: x264 quality.

        Returns:
            :class:`AnimateResult` with paths, landmarks and per-stage timings.
        """
        from faceshot_animate import probe_video

        timings: dict[str, float] = {}
        t0 = time.perf_counter()
        in_path = None if isinstance(image, np.ndarray) else image
        check_output_path(out, inputs=(in_path, video, landmarks if not isinstance(landmarks, np.ndarray) else None))
        if preview is not None:
            check_output_path(preview, inputs=(in_path, video, out))
            if os.path.abspath(preview) == os.path.abspath(out):
                from faceshot.errors import OutputPathError

                raise OutputPathError(f"preview {str(preview)!r} is the same path as the output")
        self.check_animator()
        character = self.load(image)
        user_pts = _user_landmarks(landmarks, character) if landmarks is not None else None
        if user_pts is None:
            if self._backbone != "embedded":
                _ = self.extractor  # missing GPU-path weights fail here, before the long stages
            _ = self.gallery  # verify before the long stages
        info = probe_video(video)
        fps = float(info.fps)
        timings["load inputs"] = time.perf_counter() - t0

        def character_branch() -> tuple[NDArray[np.float64], float]:
            start = time.perf_counter()
            pts = user_pts if user_pts is not None else self.character_landmarks(character)
            return pts, time.perf_counter() - start

        with ThreadPoolExecutor(max_workers=1) as pool:
            future = pool.submit(character_branch)
            t1 = time.perf_counter()
            try:
                driving = self.drive(video)
                drive_error: BaseException | None = None
            except BaseException as exc:  # report after the other branch has finished
                drive_error = exc
            t_drive = time.perf_counter() - t1
            char_pts, t_char = future.result()
            if drive_error is not None:
                raise drive_error
        timings["character landmarks" + (" (file)" if user_pts is not None else " (model + match)")] = t_char
        timings["driving landmarks"] = t_drive

        t2 = time.perf_counter()
        lms = self.retarget(char_pts, driving, fps=fps)
        timings["retarget"] = time.perf_counter() - t2

        t3 = time.perf_counter()
        audio_from = video if audio and info.has_audio else None
        out_path, prev_path = self.render(
            character, lms, out, fps=fps, audio_from=audio_from, preview=preview, driving_video=video, crf=crf
        )
        timings["render + encode"] = time.perf_counter() - t3
        return AnimateResult(
            output=out_path,
            preview=prev_path,
            frames=int(lms.shape[0]),
            fps=fps,
            character=char_pts,
            driving=np.asarray(driving.points),
            landmarks=lms,
            timings=timings,
            wall=time.perf_counter() - t0,
            original_size=character.original_size,
            scale=character.scale,
        )


def _user_landmarks(landmarks: str | os.PathLike[str] | NDArray[np.float64], character: Character) -> NDArray[np.float64]:
    """Read and check user-supplied character landmarks; scale them to the working image."""
    from faceshot_retarget import LandmarkShapeError, as_points, load_landmarks

    if isinstance(landmarks, np.ndarray):
        name = "`landmarks`"
        pts = as_points(landmarks, "landmarks")
        size = None
    else:
        name = f"landmarks {str(landmarks)!r}"
        if not Path(landmarks).is_file():
            raise LandmarkShapeError(f"{name}: file does not exist")
        lm = load_landmarks(landmarks)
        pts, size = lm.points, lm.image_size
    if pts.shape[0] != 1:
        raise LandmarkShapeError(f"{name}: expected one (68, 2) shape for the character; got {pts.shape[0]} frames")
    h0, w0 = character.original_size
    if size is not None and tuple(size) != (h0, w0):
        raise LandmarkShapeError(f"{name} belong to an image of (H, W) = {tuple(size)}; the character is {(h0, w0)}")
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
