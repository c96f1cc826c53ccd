"""Benchmark the CPU renderers: RigAnimator (part-aware, the default) against WarpAnimator
(piecewise-affine mesh warp, the baseline), measured in the same run on the same inputs.

Sections (each prints a table; ``--json`` writes everything):

1. **speed** at 512x512 (the demo character and a real photo, einstein, both driven
   by the demo clip): frames/s of each animator (wall clock and per CPU-second) and the
   ratio. The machine may be shared: compare the ratio, not the absolute numbers.
2. **emoji structure** on the Twemoji faces of the default gallery (``gallery_src/twemoji``,
   the 61 with landmarks), split into the faces the renderer was tuned on (:data:`TUNING`)
   and the held-out rest, each driven by the demo clip (carphone), by four synthetic driving
   sequences (zoom, fast turns, wide mouth, blinks), by the hard driving clips of the
   motion issue (``bench/motion.py``: multi-shot with cuts, a 2x lean-in, a worst-case
   expression, a joined take, absences; ``--no-hard`` leaves them out) and by any ``--clip``:
   silhouette rigidity (median and p10 over frames; of the foreground, as
   ``render_quality.py``, and of the outline, white enclosed by the character counted as
   character), palette fidelity, in-frame share,
   interior_change_p90 (the expression is drawn, not frozen) and the correlation between
   the driver's mouth opening and the dark area of the character's mouth (the motion is
   still there). Definitions: :mod:`faceshot_animate._quality` (the same as
   ``render_quality.py``). Per figure: median and worst character, and the share of
   characters meeting the targets (rigidity median >= 0.97, p10 >= 0.95, palette >= 0.98,
   in-frame 100 %).
3. **photos** (``gallery_src/human``: einstein, astronaut) driven by the same sequences:
   mean grey-level change of the pixels farther than a quarter face width from the head
   (:func:`faceshot_animate._quality.background_change`) and dlib face-descriptor
   similarity to the original (``dlib_face_recognition_resnet_model_v1.dat``). The head
   is, as the issue defines it, the head region from the landmarks plus colour
   segmentation (the rig's, hair included; the same region for both animators), at frame 0
   and moved by the head similarity to frame t, with the landmarks' head ovals; the
   figure with the ovals alone and the share of pixels counted are printed beside it.

Motion: the character landmarks come from :func:`character_motion`, the pipeline's
``FaceShot.retarget`` (cuts and absences passed on, the face kept inside the canvas).
Emoji are rendered on a transparent canvas with a margin (``--margin``, 25 % per side, what
the pipeline's ``--room`` hands the renderer), so a head that moves does not leave the
image; the demo clip is also run on the emoji's own canvas ("carphone (own canvas)", no
room: not what the pipeline does). Figures that depend on motion rather than rendering:
in-frame share (a head moved or grown past the canvas leaves the frame whatever the
renderer does) and, through cropping, rigidity on the own canvas.

Run:  uv run python bench/animate.py [--quick] [--clip PATH ...] [--json OUT.json]
      uv run python bench/animate.py --quick --characters all --animators rig --sections emoji
      (every face with landmarks on the quick clips, the rig only: about 40 min on 2 cores)
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import cv2
import numpy as np
from faceshot_animate import RigAnimator, WarpAnimator, build_rig, composite_over
from faceshot_animate._quality import (
    background_change,
    far_from_head,
    mouth_darkness,
    mouth_opening,
    pearson,
    structure_figures,
)
from faceshot_retarget import load_landmarks
from numpy.typing import NDArray

sys.path.insert(0, str(Path(__file__).resolve().parent))
from motion import Clip, synthetic_clips  # a sibling bench script

ROOT = Path(__file__).resolve().parents[1]
TWEMOJI = ROOT / "gallery_src" / "twemoji"
HUMAN = ROOT / "gallery_src" / "human"
DEMO = ROOT / "assets" / "demo"

#: Twemoji faces looked at while building and tuning the renderer (in-sample); every other
#: face with landmarks is held out.
TUNING = ("1f603", "1f642", "1f60a", "1f63a", "1f610", "1f435", "1f31d", "1f62e")
#: Quick mode: the tuning faces plus this many held-out ones.
QUICK_HELD_OUT = ("1f600", "1f61b", "1f622", "1f639")
TARGETS = {"rigidity_median": 0.97, "rigidity_p10": 0.95, "palette": 0.98, "in_frame": 1.0}
#: The same targets with rigidity measured on the outline (enclosed white filled in).
OUTLINE_TARGETS = {
    "outline_rigidity_median": 0.97,
    "outline_rigidity_p10": 0.95,
    "palette": 0.98,
    "in_frame": 1.0,
}
ANIMATORS: dict[str, Callable[[], Any]] = {"rig": RigAnimator, "warp": WarpAnimator}


# ------------------------------------------------------------------ driving sequences
def synthetic_driving(
    neutral: NDArray[np.float64], kind: str, frames: int = 60, fps: float = 30.0
) -> NDArray[np.float64]:
    """(T, 68, 2) driving landmarks: a neutral driver face doing one hard thing.

    Args:
        neutral: (68, 2) float64 a real driver's neutral landmarks (pixels of its video).
        kind: ``"zoom"`` (towards the camera to 1.35x and away to 0.75x), ``"turns"``
            (in-plane head turns of ±25° at 1.5 Hz with a sideways sway of 0.15 face
            widths), ``"mouth"`` (the mouth opens wide, 0.3 face widths, twice a second) or
            ``"blinks"`` (both eyes close fully, 2 blinks a second).
        frames: T.
        fps: frame rate the motions are timed for.
    """
    t = np.arange(frames) / fps
    seq = np.repeat(neutral[None], frames, axis=0).copy()
    width = float(np.linalg.norm(neutral[16] - neutral[0]))
    centre = neutral.mean(axis=0)
    if kind == "zoom":
        scale = (
            1.0
            + 0.35 * np.sin(np.pi * t / t[-1]) ** 2 * (t < t[-1] / 2)
            - 0.25 * np.sin(np.pi * t / t[-1]) ** 2 * (t >= t[-1] / 2)
        )
        seq = centre + (seq - centre) * scale[:, None, None]
    elif kind == "turns":
        angle = np.deg2rad(25.0) * np.sin(2 * np.pi * 1.5 * t)
        shift = 0.15 * width * np.sin(2 * np.pi * 0.75 * t)
        c, s = np.cos(angle)[:, None], np.sin(angle)[:, None]
        rel = seq - centre
        seq = (
            np.stack([c * rel[..., 0] - s * rel[..., 1], s * rel[..., 0] + c * rel[..., 1]], axis=2)
            + centre
        )
        seq[..., 0] += shift[:, None]
    elif kind == "mouth":
        amount = 0.3 * width * np.sin(2 * np.pi * 2.0 * t) ** 2
        seq[:, [65, 66, 67, 56, 57, 58], 1] += amount[:, None]
        seq[:, [55, 59], 1] += 0.7 * amount[:, None]
        seq[:, [61, 62, 63, 50, 51, 52], 1] -= 0.08 * amount[:, None]
        seq[:, 4:13, 1] += amount[:, None] * np.array([0.2, 0.4, 0.6, 0.8, 1.0, 0.8, 0.6, 0.4, 0.2])
    elif kind == "blinks":
        close = np.clip(1.0 - np.abs((t * 2.0) % 1.0 - 0.5) / 0.2, 0.0, 1.0)
        for up, lo in ((37, 41), (38, 40), (43, 47), (44, 46)):
            seq[:, up] += close[:, None] * (neutral[lo] - neutral[up])
    else:
        raise ValueError(f"unknown synthetic driving {kind!r}")
    return seq


#: The hard driving clips of the motion issue (``bench/motion.py``'s ``synthetic_clips``,
#: built from carphone's landmarks): cuts and absences are handed to the motion as the
#: pipeline does.
HARD_CLIPS = ("multi-shot", "lean-in 2x", "worst expression", "joined", "absences")


def driving_sets(clips: list[Path], quick: bool, hard: bool = True) -> dict[str, Clip]:
    """Name -> driving sequence: the demo clip, the synthetic ones, the motion issue's hard
    clips (``hard``) and ``clips``."""
    from faceshot_landmarks import detect_video

    out: dict[str, Clip] = {}
    lm = detect_video(DEMO / "driving.mp4", progress=False)
    carphone = np.asarray(lm.points)
    out["carphone"] = Clip("carphone", carphone[:60] if quick else carphone)
    for kind in ("zoom", "turns", "mouth", "blinks"):
        seq = synthetic_driving(carphone[0], kind, frames=30 if quick else 60)
        out[kind] = Clip(kind, seq)
    if hard:
        base = carphone[:60] if quick else carphone
        for clip in synthetic_clips(base, tuple(lm.image_size)):
            if clip.name in HARD_CLIPS:
                out[clip.name] = clip
    for path in clips:
        out[path.stem] = Clip(path.stem, np.asarray(detect_video(path, progress=False).points))
    return out


def character_motion(
    fs: Any,
    character: NDArray[np.float64],
    driving: Clip | NDArray[np.float64],
    fps: float = 30.0,
    canvas_size: tuple[int, int] | None = None,
    image: NDArray[np.uint8] | None = None,
) -> NDArray[np.float64]:
    """The character's landmarks for a driving sequence, as the pipeline makes them
    (``FaceShot.retarget``: cuts and absences passed on, the face kept inside
    ``canvas_size`` (H, W), with the silhouette of ``image`` (the canvas) when given, as
    ``FaceShot.animate`` does)."""
    from faceshot_animate import head_extent
    from faceshot_retarget import Landmarks

    if isinstance(driving, Clip):
        drv: Any = Landmarks(driving.points, visible=driving.visible)
        cuts = driving.cuts
    else:
        drv, cuts = driving, ()
    extent = None if image is None or canvas_size is None else head_extent(image, character)
    return np.asarray(
        fs.retarget(drv, character, fps=fps, cuts=cuts, canvas_size=canvas_size, extent=extent)
    )


# ------------------------------------------------------------------ characters
def emoji_characters(codes: list[str] | None, quick: bool) -> list[tuple[str, bool]]:
    """(code, held_out) of the Twemoji faces with landmarks."""
    have = sorted(p.stem for p in TWEMOJI.glob("*.pts"))
    if codes:
        chosen = [c for c in codes if c in have]
    elif quick:
        chosen = [c for c in have if c in TUNING or c in QUICK_HELD_OUT]
    else:
        chosen = have
    return [(c, c not in TUNING) for c in chosen]


def load_emoji(fs: Any, code: str) -> tuple[NDArray[np.uint8], NDArray[np.float64]]:
    image = fs.load(TWEMOJI / f"{code}.svg").image
    return image, load_landmarks(TWEMOJI / f"{code}.pts").points[0]


def render(
    animator: Any, image: NDArray[np.uint8], landmarks: NDArray[np.float64]
) -> Iterator[NDArray[np.uint8]]:
    """Frames over white (RGB), as the structure figures expect."""
    for frame in animator.animate(image, landmarks, fps=30.0):
        yield np.asarray(composite_over(frame))


def mouth_corr(
    frames: list[NDArray[np.uint8]], char_lms: NDArray[np.float64], drv: NDArray[np.float64]
) -> float:
    """Correlation of the driver's mouth opening with the character's dark mouth area
    (nan when the driver's mouth does not move)."""
    opening = mouth_opening(drv)
    if float(np.ptp(opening)) < 1e-3:
        return float("nan")
    dark = [mouth_darkness(f, char_lms[0], char_lms[t]) for t, f in enumerate(frames)]
    return pearson(opening, dark)


def score_emoji(
    frames: list[NDArray[np.uint8]],
    char_lms: NDArray[np.float64],
    drv: NDArray[np.float64],
    every: int,
) -> dict[str, float]:
    fig = structure_figures(frames, every=every)
    fig["mouth_corr"] = mouth_corr(frames, char_lms, drv)
    return fig


def with_margin(
    image: NDArray[np.uint8], landmarks: NDArray[np.float64], margin: float
) -> tuple[NDArray[np.uint8], NDArray[np.float64]]:
    """The character on a transparent canvas larger by ``margin`` of its size on each side
    (what a motion with a canvas margin hands the renderer), landmarks shifted with it."""
    if margin <= 0:
        return image, landmarks
    h, w = image.shape[:2]
    px, py = round(margin * w), round(margin * h)
    rgba = (
        image
        if image.shape[2] == 4
        else np.concatenate([image, np.full((h, w, 1), 255, np.uint8)], axis=2)
    )
    out = np.zeros((h + 2 * py, w + 2 * px, 4), np.uint8)
    out[py : py + h, px : px + w] = rgba
    return out, landmarks + np.array([px, py], dtype=np.float64)


# ------------------------------------------------------------------ sections
def speed(fs: Any, drv: Clip, repeats: int) -> dict[str, Any]:
    """Frames/s of both animators on the demo character and a real photo (einstein), 512x512.

    The photo takes the rig's photo path (a scene: head warped over an inpainted plate)."""
    sys.path.insert(0, str(ROOT / "bench"))
    cases = {}
    for name, path in (
        ("demo emoji (RGBA)", DEMO / "character.png"),
        ("photo, einstein (RGB)", HUMAN / "einstein.jpg"),
    ):
        image = fs.load(path).image
        pts = load_landmarks(path.with_suffix(".pts")).points[0]
        cases[name] = (image, character_motion(fs, pts, drv))
    out: dict[str, Any] = {}
    for name, (img, lms) in cases.items():
        row = {}
        for key, make in ANIMATORS.items():
            anim = make()
            for _ in anim.animate(img, lms[:3]):
                pass
            wall, cpu, n = 0.0, 0.0, 0
            for _ in range(repeats):
                t0, c0 = time.perf_counter(), time.process_time()
                n += sum(1 for _ in anim.animate(img, lms))
                wall += time.perf_counter() - t0
                cpu += time.process_time() - c0
            row[key] = {"fps_wall": n / wall, "fps_per_cpu_second": n / cpu}
        row["ratio_wall"] = row["rig"]["fps_wall"] / row["warp"]["fps_wall"]
        out[name] = row
    return out


def _score_character(
    job: tuple[str, bool, dict[str, Clip], int, float, tuple[str, ...]],
) -> list[dict[str, Any]]:
    """All rows of one character (a worker process's unit of work)."""
    from faceshot import FaceShot

    code, held_out, drivers, every, margin, animators = job
    cv2.setNumThreads(1)
    fs = FaceShot(progress=False)
    image, pts = load_emoji(fs, code)
    padded, padded_pts = with_margin(image, pts, margin)
    cases = [(name, drv, padded, padded_pts) for name, drv in drivers.items()]
    if margin > 0:
        cases.append(("carphone (own canvas)", drivers["carphone"], image, pts))
    rows = []
    for dname, drv, img, p0 in cases:
        lms = character_motion(fs, p0, drv, canvas_size=img.shape[:2], image=img)
        for key in animators:
            frames = list(render(ANIMATORS[key](), img, lms))
            fig = score_emoji(frames, lms, drv.points, every)
            rows.append(
                {"character": code, "held_out": held_out, "driving": dname, "animator": key, **fig}
            )
    return rows


def emoji_structure(
    drivers: dict[str, Clip],
    chars: list[tuple[str, bool]],
    every: int,
    margin: float,
    workers: int,
    progress: bool,
    animators: tuple[str, ...] = tuple(ANIMATORS),
) -> dict[str, Any]:
    """Per driver, animator and character: the structure figures, on a canvas with
    ``margin`` (every driver) and on the character's own canvas (the demo clip, as
    today's motion hands it over); characters are spread over ``workers`` processes (spawned:
    a forked child of a process whose OpenCV/torch thread pools already ran can deadlock), or
    scored in this process when ``workers`` is 1."""
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    jobs = [(code, held_out, drivers, every, margin, animators) for code, held_out in chars]
    rows: list[dict[str, Any]] = []
    if workers <= 1:
        results: Iterator[list[dict[str, Any]]] = map(_score_character, jobs)
        pool = None
    else:
        pool = ProcessPoolExecutor(
            max_workers=workers, mp_context=multiprocessing.get_context("spawn")
        )
        results = pool.map(_score_character, jobs)
    try:
        for k, result in enumerate(results):
            rows += result
            if progress:
                print(f"  [{k + 1}/{len(jobs)}] {jobs[k][0]}", file=sys.stderr, flush=True)
    finally:
        if pool is not None:
            pool.shutdown()
    return {"rows": rows}


def summarise(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Per (driving, animator, split): median / worst of each figure and target pass rates."""
    out = []
    keys = (
        "rigidity_median",
        "rigidity_p10",
        "outline_rigidity_median",
        "outline_rigidity_p10",
        "palette",
        "in_frame",
        "interior_change_p90",
        "mouth_corr",
    )
    groups: dict[tuple[str, str, str], list[dict[str, Any]]] = {}
    for r in rows:
        for split in ("held-out" if r["held_out"] else "in-sample", "all"):
            groups.setdefault((r["driving"], r["animator"], split), []).append(r)
    for (drv, anim, split), rs in sorted(groups.items()):
        entry: dict[str, Any] = {
            "driving": drv,
            "animator": anim,
            "split": split,
            "characters": len(rs),
        }
        for key in keys:
            vals = np.array([r[key] for r in rs], dtype=np.float64)
            vals = vals[np.isfinite(vals)]
            if not len(vals):
                entry[key] = {"median": float("nan"), "worst": float("nan")}
                continue
            entry[key] = {
                "median": float(np.median(vals)),
                "worst": float(vals.max() if key == "interior_change_p90" else vals.min()),
            }
        passes = [all(r[k] >= v for k, v in TARGETS.items()) for r in rs]
        entry["meets_all_targets"] = float(np.mean(passes))
        entry["meets_rendering_targets"] = float(
            np.mean([all(r[k] >= v for k, v in TARGETS.items() if k != "in_frame") for r in rs])
        )
        entry["meets_outline_targets"] = float(
            np.mean([all(r[k] >= v for k, v in OUTLINE_TARGETS.items()) for r in rs])
        )
        out.append(entry)
    return out


def photos(fs: Any, drivers: dict[str, Clip], every: int) -> list[dict[str, Any]]:
    """Background change and identity on the human photos, both animators."""
    import dlib
    from faceshot_landmarks import DlibLandmarker, predictor_path

    from faceshot._bench import face_recognition_model_path

    model = dlib.face_recognition_model_v1(str(face_recognition_model_path()))
    shape = dlib.shape_predictor(str(predictor_path()))
    finder = DlibLandmarker()

    def descriptor(img: NDArray[np.uint8], lm: NDArray[np.float64]) -> NDArray[np.float64] | None:
        """dlib descriptor of the detected face that overlaps the frame's landmark box most
        (a scene may hold other face-like things; none overlapping: ``None``)."""
        boxes = np.asarray(finder.detect_faces(img), dtype=np.float64).reshape(-1, 4)
        lo, hi = lm.min(axis=0), lm.max(axis=0)
        ix = np.clip(np.minimum(boxes[:, 2], hi[0]) - np.maximum(boxes[:, 0], lo[0]), 0, None)
        iy = np.clip(np.minimum(boxes[:, 3], hi[1]) - np.maximum(boxes[:, 1], lo[1]), 0, None)
        inter = ix * iy
        union = (
            (boxes[:, 2] - boxes[:, 0]) * (boxes[:, 3] - boxes[:, 1])
            + float(np.prod(hi - lo))
            - inter
        )
        if not len(boxes) or inter.max() <= 0:
            return None
        x0, y0, x1, y1 = (round(float(v)) for v in boxes[int(np.argmax(inter / union))])
        return np.asarray(
            model.compute_face_descriptor(img, shape(img, dlib.rectangle(x0, y0, x1, y1)))
        )

    out = []
    for path in (HUMAN / "einstein.jpg", HUMAN / "astronaut.png"):
        image = fs.load(path).image
        pts = load_landmarks(path.with_suffix(".pts")).points[0]
        ref = descriptor(np.ascontiguousarray(image[:, :, :3]), pts)
        # the head region (hair included) as the issue defines it: landmarks plus colour
        # segmentation (the rig's), the same for both animators
        head0 = build_rig(image, pts).head > 0.5
        for dname, drv in drivers.items():
            lms = character_motion(fs, pts, drv, canvas_size=image.shape[:2], image=image)
            for key, make in ANIMATORS.items():
                frames = [np.asarray(f)[:, :, :3] for f in make().animate(image, lms, fps=30.0)]
                change = [
                    background_change(frames[0], f, lms[0], lms[t], head0)
                    for t, f in enumerate(frames)
                    if t
                ]
                ovals = [
                    background_change(frames[0], f, lms[0], lms[t])
                    for t, f in enumerate(frames)
                    if t
                ]
                far = np.mean(
                    [
                        far_from_head(image.shape[:2], lms[0], lms[t], head0).mean()
                        for t in (1, len(lms) - 1)
                    ]
                )
                sims, missed = [], 0
                for t in range(1, len(frames), every):
                    d = descriptor(np.ascontiguousarray(frames[t]), lms[t])
                    if d is None or ref is None:
                        missed += 1
                        continue
                    sims.append(float(d @ ref / (np.linalg.norm(d) * np.linalg.norm(ref))))
                out.append(
                    {
                        "photo": path.stem,
                        "driving": dname,
                        "animator": key,
                        "background_change_mean": float(np.nanmean(change)),
                        "background_change_max": float(np.nanmax(change)),
                        "background_change_ovals": float(np.nanmean(ovals)),
                        "background_share": float(far),
                        "identity_mean": float(np.mean(sims)) if sims else float("nan"),
                        "identity_min": float(np.min(sims)) if sims else float("nan"),
                        "faces_missed": missed,
                        "mouth_corr": mouth_corr(frames, lms, drv.points),
                    }
                )
    return out


# ------------------------------------------------------------------ printing
def _print_speed(res: dict[str, Any]) -> None:
    print("\n== speed, 512x512 (same run; ratio = rig / warp wall-clock fps) ==")
    for name, row in res.items():
        print(
            f"{name:26s} rig {row['rig']['fps_wall']:7.1f} fps ({row['rig']['fps_per_cpu_second']:6.1f}/cpu-s)   "
            f"warp {row['warp']['fps_wall']:7.1f} fps ({row['warp']['fps_per_cpu_second']:6.1f}/cpu-s)   ratio {row['ratio_wall']:.2f}"
        )


def _print_summary(summary: list[dict[str, Any]]) -> None:
    print(
        "\n== emoji structure (median over characters / worst character; pass = share meeting targets) =="
    )
    head = f"{'driving':21s} {'anim':4s} {'split':9s} {'n':>3s}  {'rig.med':>11s} {'rig.p10':>11s} {'outl.med':>11s} {'outl.p10':>11s} {'palette':>11s} {'in-frame':>11s} {'int.chg90':>11s} {'mouth.r':>11s}  {'pass':>5s} {'pass*':>5s} {'pass°':>5s}"
    print(head)
    for e in summary:
        if e["split"] == "all":
            continue
        cells = " ".join(
            f"{e[k]['median']:5.3f}/{e[k]['worst']:5.3f}"
            for k in (
                "rigidity_median",
                "rigidity_p10",
                "outline_rigidity_median",
                "outline_rigidity_p10",
                "palette",
                "in_frame",
                "interior_change_p90",
                "mouth_corr",
            )
        )
        print(
            f"{e['driving']:21s} {e['animator']:4s} {e['split']:9s} {e['characters']:3d}  {cells}  {e['meets_all_targets']:5.2f} {e['meets_rendering_targets']:5.2f} {e['meets_outline_targets']:5.2f}"
        )
    print(
        "pass: all four targets; pass*: without in-frame (motion-dependent); pass°: all four "
        "with rigidity measured on the outline (outl.: white enclosed by the character, teeth "
        "and eye whites, filled in)"
    )


def _print_photos(rows: list[dict[str, Any]]) -> None:
    print(
        "\n== photos (background change: grey levels, > 1/4 face width from the head; identity: dlib cosine) =="
    )
    for r in rows:
        print(
            f"{r['photo']:10s} {r['driving']:9s} {r['animator']:4s}  background {r['background_change_mean']:5.2f} (max {r['background_change_max']:5.2f}, "
            f"ovals only {r['background_change_ovals']:5.2f}, {100 * r['background_share']:.0f} % of pixels)  "
            f"identity {r['identity_mean']:.3f} (min {r['identity_min']:.3f}, {r['faces_missed']} missed)  mouth r {r['mouth_corr']:.2f}"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="12 faces, shorter sequences")
    parser.add_argument(
        "--clip", type=Path, action="append", default=[], help="extra driving clip (repeatable)"
    )
    parser.add_argument(
        "--characters",
        nargs="*",
        help="Twemoji codes, or 'all' (default: all with landmarks; with --quick, the quick 12)",
    )
    parser.add_argument(
        "--animators",
        default="rig,warp",
        help="animators of the emoji section, comma-separated (default rig,warp; speed and "
        "photos always run both)",
    )
    parser.add_argument(
        "--margin",
        type=float,
        default=0.25,
        help="transparent canvas margin around the emoji, share of its size per side (default 0.25; 0: own canvas only)",
    )
    parser.add_argument(
        "--every",
        type=int,
        default=3,
        help="score every n-th frame (default 3, as render_quality.py)",
    )
    parser.add_argument(
        "--threads", type=int, default=2, help="cv2.setNumThreads for the speed section (default 2)"
    )
    parser.add_argument(
        "--workers", type=int, default=2, help="processes for the emoji section (default 2)"
    )
    parser.add_argument(
        "--sections",
        default="speed,emoji,photos",
        help="comma-separated subset of speed,emoji,photos",
    )
    parser.add_argument(
        "--hard",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="also drive with the motion issue's hard clips (multi-shot, lean-in 2x, worst "
        "expression, joined, absences; default on)",
    )
    parser.add_argument("--json", type=Path, help="write all figures here")
    parser.add_argument("--progress", action="store_true")
    args = parser.parse_args()
    cv2.setNumThreads(args.threads)
    from faceshot import FaceShot

    fs = FaceShot(progress=False)
    sections = set(args.sections.split(","))
    print(
        f"cpu cores: {os.cpu_count()}  load average: {', '.join(f'{v:.1f}' for v in os.getloadavg())}  cv2 threads: {cv2.getNumThreads()}"
    )
    drivers = driving_sets(args.clip, args.quick, args.hard)
    result: dict[str, Any] = {
        "quick": args.quick,
        "drivers": {k: len(v.points) for k, v in drivers.items()},
        "tuning": list(TUNING),
    }
    if "speed" in sections:
        result["speed"] = speed(fs, drivers["carphone"], 1 if args.quick else 3)
        _print_speed(result["speed"])
    if "emoji" in sections:
        codes = args.characters
        if codes == ["all"]:
            codes = sorted(p.stem for p in TWEMOJI.glob("*.pts"))
        chars = emoji_characters(codes, args.quick)
        animators = tuple(a for a in args.animators.split(",") if a)
        unknown = sorted(set(animators) - set(ANIMATORS))
        if unknown:
            parser.error(f"--animators: unknown {', '.join(unknown)}; choose from rig, warp")
        res = emoji_structure(
            drivers, chars, args.every, args.margin, args.workers, args.progress, animators
        )
        result["emoji"] = {"rows": res["rows"], "summary": summarise(res["rows"])}
        _print_summary(result["emoji"]["summary"])
    if "photos" in sections:
        result["photos"] = photos(fs, drivers, args.every)
        _print_photos(result["photos"])
    print(f"\nload average at the end: {', '.join(f'{v:.1f}' for v in os.getloadavg())}")
    if args.json:
        args.json.write_text(json.dumps(result, indent=1))
        print(f"wrote {args.json}")


if __name__ == "__main__":
    main()
