"""Motion figures of retargeting on real and hard driving sequences, before vs after (issue 10).

Usage:
    uv run python bench/motion.py [--clips A.mp4 B.mp4 ...] [--sheet OUT.png] [--json OUT.json]

For every driving clip and every character, the character's landmarks are retargeted twice,
as the pipeline (``faceshot animate``) does:

* **before** -- faceshot <= 0.1: raw Eq. 5-6 (``mode="paper"``), no cuts, no visibility,
  the character's own image as the canvas;
* **after** -- the constrained default: cuts and the ``visible`` mask passed on, the
  character given room to move and its silhouette's box to keep in the canvas
  (``faceshot._io.stage_on_canvas``, room 0.2, the pipeline's recipe) passed as
  ``canvas_size`` and ``extent``;

both with the pipeline's One-Euro smoothing. Figures per clip (``faceshot_retarget.motion_figures``,
the definitions of the project's motion check): violation frames (a mouth point outside the
face polygon or an inner-lip point outside the outer lips, 1 % face-width tolerance), share of
frames with the face box inside the canvas, the largest per-frame jump in face widths (and
the driver's own normalised jump at that frame), the largest jump where the driver itself
moved less than 0.08 face widths, and -- the figures a frozen character fails -- driver vs
character mouth-opening and head-angle correlations, pooled within shots (each shot's mean
removed: re-anchoring drops per-shot offsets on purpose), over all present frames and over
"settled" frames (the first 12 frames after each shot start or return left out: the
re-anchoring cross-fade).

Characters: Twemoji faces of the default gallery (SVG-derived ``.pts``, 512x512 renders)
and the README demo character. IN_SAMPLE were looked at while the defaults were chosen;
HELD_OUT (every 4th of the other usable faces) never were.

Clips: carphone (``assets/demo/driving.mp4``, dlib landmarks) and hard sequences synthesised
from its landmarks in code below (``synthetic_clips``): a multi-shot edit (zoomed 2x,
mirrored, shifted close-up, a still with synthetic head motion; cuts known), a gradual 2x
lean-in, a worst-case expression driver (mouth opening twice the driver's mouth height), a
joined clip (a second take spliced on), and absences (a short and a long one). Driving
*video* clips (e.g. the driving-detection generator's multi-shot and two-person clips) are
added with ``--clips``: they go through ``FaceShot.drive`` and its ``cuts`` if it has them.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

REPO = Path(__file__).resolve().parents[1]
TWEMOJI = REPO / "gallery_src" / "twemoji"
DEMO = REPO / "assets" / "demo"

#: Frames after each shot start / return left out of the "settled" correlations (the
#: re-anchoring cross-fade, ``RetargetConfig.reanchor_frames``).
SETTLE = 12

#: Looked at while tuning the defaults.
IN_SAMPLE = ("demo", "1f600", "1f62e", "1f431", "1f435")


def held_out() -> tuple[str, ...]:
    """Every 4th usable Twemoji face not in IN_SAMPLE (sorted codes): never used for tuning."""
    codes = sorted(p.stem for p in TWEMOJI.glob("*.pts") if p.stem not in IN_SAMPLE)
    return tuple(codes[1::4])


def load_character(name: str) -> tuple[Any, np.ndarray]:
    """(faceshot.Character, (68, 2) landmarks in its working-image pixels)."""
    from faceshot_retarget import load_landmarks

    from faceshot import load_character as load

    if name == "demo":
        return load(DEMO / "character.png"), load_landmarks(DEMO / "character.pts").points[0]
    return load(TWEMOJI / f"{name}.svg"), load_landmarks(TWEMOJI / f"{name}.pts").points[0]


# ----------------------------------------------------------------------------- clips
class Clip:
    """A driving landmark sequence with its shot cuts and visibility."""

    def __init__(
        self,
        name: str,
        points: np.ndarray,
        cuts: tuple[int, ...] = (),
        visible: np.ndarray | None = None,
    ) -> None:
        self.name, self.points, self.cuts = name, points, tuple(int(c) for c in cuts)
        self.visible = np.ones(points.shape[:2], bool) if visible is None else visible

    @property
    def present(self) -> np.ndarray:
        return np.asarray(self.visible.any(axis=1))


def _similarity(
    points: np.ndarray, scale: Any, angle: Any, centre: np.ndarray, shift: Any = (0.0, 0.0)
) -> np.ndarray:
    from faceshot_retarget.testing import apply_similarity

    return apply_similarity(
        points - centre, scale, angle, centre + np.asarray(shift, dtype=np.float64)
    )


def _mirror(points: np.ndarray, width: int) -> np.ndarray:
    from faceshot_retarget import ibug68

    flipped = points.copy()
    flipped[..., 0] = (width - 1) - points[..., 0]
    return flipped[:, ibug68.MIRROR]


def synthetic_clips(d: np.ndarray, size: tuple[int, int]) -> list[Clip]:
    """Hard driving sequences built from real landmarks ``d`` (T, 68, 2) of an (H, W) video."""
    from faceshot_retarget.testing import open_mouth

    h, w = size
    centre = np.array([(w - 1) / 2, (h - 1) / 2])
    t = len(d)
    q = t // 4
    k = np.arange(t, dtype=np.float64)
    # multi-shot: carphone | zoomed 2x | mirrored | shifted 1.5x close-up | still with head motion
    still_angle = 0.25 * np.sin(2 * np.pi * k[:q] / 40)
    still = _similarity(
        np.repeat(d[:1], q, axis=0),
        1.0,
        still_angle[:, None],
        d[0].mean(0),
        np.stack([8 * np.sin(2 * np.pi * k[:q] / 55), 4 * np.cos(2 * np.pi * k[:q] / 35)], 1)[
            :, None
        ],
    )
    parts = [
        d[:q],
        _similarity(d[q : 2 * q], 2.0, 0.0, centre),
        _mirror(d[2 * q : 3 * q], w),
        _similarity(d[:q], 1.5, 0.0, centre, (-30.0, 10.0)),
        still,
    ]
    multi = np.concatenate(parts)
    cuts = tuple(np.cumsum([len(p) for p in parts])[:-1])
    # gradual lean-in to 2x and back out
    zoom = 1.0 + np.sin(np.pi * k / (t - 1)) ** 2
    lean = _similarity(d, zoom[:, None, None], 0.0, centre)
    # worst case expression: the mouth opens up to twice the driver's own mouth height
    worst = open_mouth(d, 2.0 * np.clip(np.sin(2 * np.pi * k / 24), 0, None))
    # joined clips: a second take spliced on, shifted and a bit larger
    joined = np.concatenate([d, _similarity(d[::-1], 1.2, 0.1, centre, (15.0, -8.0))])
    # absences: a short and a long one (coordinates left as garbage zeros)
    absent = d.copy()
    vis = np.ones(d.shape[:2], bool)
    for a, b in ((20, 26), (50, 100)):
        vis[a:b] = False
        absent[a:b] = 0.0
    return [
        Clip("multi-shot", multi, cuts),
        Clip("lean-in 2x", lean),
        Clip("worst expression", worst),
        Clip("joined", joined, (t,)),
        Clip("absences", absent, (), vis),
    ]


def carphone() -> tuple[np.ndarray, tuple[int, int], np.ndarray]:
    """Driving landmarks of the README demo clip (dlib), its (H, W), visibility."""
    from faceshot_landmarks import detect_video

    lm = detect_video(DEMO / "driving.mp4", progress=False)
    return np.asarray(lm.points), tuple(lm.image_size), np.asarray(lm.visible)  # type: ignore[return-value]


def video_clip(path: Path) -> Clip:
    """A driving video through FaceShot.drive (cuts used when the result has them)."""
    from faceshot import FaceShot

    drv = FaceShot(progress=False, max_lost_frames=10**6).drive(path)
    lm = getattr(drv, "landmarks", drv)
    vis = np.asarray(lm.visible) if lm.visible is not None else None
    return Clip(path.name, np.asarray(lm.points), tuple(getattr(drv, "cuts", ())), vis)


# ----------------------------------------------------------------------------- runs
def run_pair(
    clip: Clip, character: Any, pts: np.ndarray, fps: float = 25.0
) -> dict[str, dict[str, Any]]:
    """Before/after retargeting of one clip onto one character: figures and landmarks."""
    from faceshot_retarget import RETARGET_SMOOTHING, Landmarks, motion_figures, retarget

    from faceshot._io import stage_on_canvas

    smooth = RETARGET_SMOOTHING
    # before: absent frames held at the last detection (what bridging gaps amounts to)
    idx = np.maximum.accumulate(np.where(clip.present, np.arange(len(clip.present)), 0))
    before = retarget(clip.points[idx], pts, mode="paper", smoothing=smooth, fps=fps)
    staged = stage_on_canvas(character, pts, 0.2)
    canvas, (dx, dy) = staged.canvas, staged.offset
    t0 = time.process_time()
    after = retarget(
        Landmarks(clip.points, visible=clip.visible),
        staged.landmarks,
        cuts=clip.cuts,
        canvas_size=canvas.size,
        extent=staged.extent,
        smoothing=smooth,
        fps=fps,
    )
    cpu = time.process_time() - t0
    out = {}
    for when, lms, size in (("before", before, character.size), ("after", after, canvas.size)):
        fig = motion_figures(clip.points, lms, size, present=clip.present, cuts=clip.cuts)
        settled = motion_figures(
            clip.points, lms, size, present=clip.present, cuts=clip.cuts, settle=SETTLE
        )
        fig["mouth_corr_settled"], fig["angle_corr_settled"] = (
            settled["mouth_corr"],
            settled["angle_corr"],
        )
        out[when] = fig
    out["after"]["cpu_s"] = cpu
    out["before"]["landmarks"], out["after"]["landmarks"] = before, after
    out["after"]["canvas"], out["after"]["offset"] = canvas, (dx, dy)
    return out


def summarise(rows: list[dict[str, Any]]) -> dict[str, Any]:
    """Aggregate figures over characters: totals, worst and mean values."""
    frames = sum(r["frames"] for r in rows)
    return {
        "characters": len(rows),
        "violation_frames": int(sum(r["violations"] for r in rows)),
        "violation_share": sum(r["violations"] for r in rows) / max(frames, 1),
        "in_canvas_mean": float(np.mean([r["in_canvas"] for r in rows])),
        "in_canvas_min": float(np.min([r["in_canvas"] for r in rows])),
        "max_jump": float(np.max([r["max_jump"] for r in rows])),
        "driver_jump_there": float(
            rows[int(np.argmax([r["max_jump"] for r in rows]))]["driver_jump_there"]
        ),
        "max_unexplained_jump": float(np.max([r["max_unexplained_jump"] for r in rows])),
        "unexplained_jump_frames": int(sum(r["unexplained_jump_frames"] for r in rows)),
        "mouth_corr_mean": float(np.mean([r["mouth_corr"] for r in rows])),
        "mouth_corr_min": float(np.min([r["mouth_corr"] for r in rows])),
        "angle_corr_mean": float(np.mean([r["angle_corr"] for r in rows])),
        "angle_corr_min": float(np.min([r["angle_corr"] for r in rows])),
        "mouth_corr_settled_mean": float(np.mean([r["mouth_corr_settled"] for r in rows])),
        "angle_corr_settled_mean": float(np.mean([r["angle_corr_settled"] for r in rows])),
        "angle_corr_settled_min": float(np.min([r["angle_corr_settled"] for r in rows])),
    }


def contact_sheet(
    path: Path, clip: Clip, chars: list[str], frames: list[int], results: dict[str, Any]
) -> None:
    """Rows: each character before (own canvas) and after (room canvas), rendered with the
    current WarpAnimator at the chosen frames (frame 0 first), scaled to 160 px high."""
    import cv2
    from faceshot_animate import WarpAnimator, composite_over

    rows = []
    for name in chars:
        character, _ = load_character(name)
        for when in ("before", "after"):
            res = results[name][when]
            image = res["canvas"].image if when == "after" else character.image
            lms = res["landmarks"][[0, *frames]]
            tiles = []
            for f in WarpAnimator().animate(image, lms):
                rgb = composite_over(f, (235, 235, 235))
                scale = 160 / rgb.shape[0]
                tile = cv2.resize(
                    rgb, (round(rgb.shape[1] * scale), 160), interpolation=cv2.INTER_AREA
                )
                tile[:, -2:] = 255
                tiles.append(tile)
            row = np.concatenate(tiles, axis=1)
            cv2.putText(
                row,
                f"{name} {when}",
                (4, 14),
                cv2.FONT_HERSHEY_SIMPLEX,
                0.45,
                (200, 0, 0),
                1,
                cv2.LINE_AA,
            )
            rows.append(row)
    width = max(r.shape[1] for r in rows)
    rows = [np.pad(r, ((0, 2), (0, width - r.shape[1]), (0, 0)), constant_values=255) for r in rows]
    from PIL import Image

    Image.fromarray(np.concatenate(rows, axis=0)).save(path)
    print(f"contact sheet: {path} ({clip.name}, frames {[0, *frames]})")


def fmt(s: dict[str, Any]) -> str:
    return (
        f"viol {s['violation_frames']:4d} ({100 * s['violation_share']:5.1f}%)  "
        f"in-canvas {100 * s['in_canvas_mean']:5.1f}% (min {100 * s['in_canvas_min']:5.1f}%)  "
        f"jump {s['max_jump']:.3f} (drv {s['driver_jump_there']:.3f}) unexpl {s['max_unexplained_jump']:.3f} "
        f"[{s['unexplained_jump_frames']}]  mouth r {s['mouth_corr_mean']:.3f} (min {s['mouth_corr_min']:.3f}) "
        f"settled {s['mouth_corr_settled_mean']:.3f}  angle r {s['angle_corr_mean']:.3f} "
        f"(min {s['angle_corr_min']:.3f}) settled {s['angle_corr_settled_mean']:.3f} (min {s['angle_corr_settled_min']:.3f})"
    )


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--clips", nargs="*", type=Path, default=[], help="extra driving videos (FaceShot.drive)"
    )
    parser.add_argument(
        "--sheet",
        type=Path,
        help="write a contact sheet (PNG) of a few characters on the multi-shot clip",
    )
    parser.add_argument(
        "--sheet-clip", default="multi-shot", help="clip of the contact sheet (default multi-shot)"
    )
    parser.add_argument("--json", type=Path, help="write the figures as JSON")
    parser.add_argument(
        "--quick", action="store_true", help="2 in-sample and 3 held-out characters"
    )
    args = parser.parse_args(argv)

    d, size, vis = carphone()
    clips = [Clip("carphone", d, (), vis), *synthetic_clips(d, size)]
    clips += [video_clip(p) for p in args.clips]
    groups = {"in-sample": list(IN_SAMPLE), "held-out": list(held_out())}
    if args.quick:
        groups = {"in-sample": groups["in-sample"][:2], "held-out": groups["held-out"][:3]}
    loaded = {n: load_character(n) for g in groups.values() for n in g}

    report: dict[str, Any] = {"groups": groups, "clips": {}}
    sheet_results: dict[str, Any] = {}
    cpu, frames = 0.0, 0
    for clip in clips:
        print(
            f"\n== {clip.name}: {len(clip.points)} frames, cuts {list(clip.cuts)}, absent {int((~clip.present).sum())}"
        )
        report["clips"][clip.name] = {}
        for group, names in groups.items():
            per = {n: run_pair(clip, *loaded[n]) for n in names}
            for r in per.values():
                cpu += r["after"]["cpu_s"]
                frames += r["after"]["frames"]
            if clip.name == args.sheet_clip:
                sheet_results.update(per)
            summary = {
                when: summarise([per[n][when] for n in names]) for when in ("before", "after")
            }
            report["clips"][clip.name][group] = summary
            for when in ("before", "after"):
                print(f"  {group:9s} {when:6s} {fmt(summary[when])}")
    print(
        f"\nafter: {frames} frames retargeted in {cpu:.2f} CPU s ({frames / max(cpu, 1e-9):,.0f} frames/s incl. smoothing)"
    )
    if args.sheet:
        chars = [
            groups["in-sample"][0],
            groups["in-sample"][min(3, len(groups["in-sample"]) - 1)],
            *groups["held-out"][:2],
        ]
        clip = next(c for c in clips if c.name == args.sheet_clip)
        picks = [int(v) for v in np.linspace(0, len(clip.points) - 1, 8)[1:]]
        contact_sheet(args.sheet, clip, chars, picks, sheet_results)
    if args.json:
        args.json.write_text(json.dumps(report, indent=2))
    return report


if __name__ == "__main__":
    sys.path.insert(0, str(REPO / "src"))
    main()
