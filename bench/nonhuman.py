"""Non-human driving videos with known answers: today's tracker vs ``match_video``.

Run from the repository root::

    uv run python bench/nonhuman.py                      # all styles and motions (slow)
    uv run python bench/nonhuman.py --characters 2 --frames 60 --sheets out/nonhuman
    uv run python bench/nonhuman.py --speed-only [--threads 1]   # frames/s at 512x512 only

What it does (see ``faceshot._bench_nonhuman`` for the details): Twemoji characters are
rendered (``WarpAnimator``, or ``--renderer module:Class``) along known landmark sequences --
carphone's dlib landmarks retargeted onto them and a synthetic sequence that opens the mouth
fully, blinks and turns the head -- on a 512x512 canvas; each clip is tracked by today's path
(gallery match on frame 0, then Lucas-Kanade) and by ``match_video``, with a gallery that never
contains the clip's style. The ``smiley`` style was used to tune ``VideoMatchConfig``; ``cat``
and ``creature`` were held out. The same motions rendered on a human photograph and tracked
by the human path (dlib) give the jitter bar.

Printed per clip and per style group (mean over clips): mean error and motion error (frame-0
offset removed) in face widths, the error by part (frame 0; jaw outline, brows, nose, eyes, mouth), correlation of mouth and of eye opening with the known ones,
jitter (mean second difference, face widths), frames per second (decode included; both
trackers in the same run, so machine load cancels out in their ratio). No assertions.
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

from faceshot._bench_nonhuman import (
    HELD_OUT,
    MOTIONS,
    PROTOCOLS,
    STYLES,
    TUNING,
    contact_sheet,
    run_nonhuman,
)

_REPO = Path(__file__).resolve().parents[1]

KEYS = ("error", "motion_error", "mouth_corr", "eye_corr", "jitter", "fps")
#: Where the error is: frame 0 (carried along by any tracker) and each part of the face.
PART_KEYS = (
    "error_first",
    "error_face_boundary",
    "error_eyebrows",
    "error_nose",
    "error_eyes",
    "error_mouth",
)


def _renderer(spec: str | None) -> Any:
    if spec is None:
        return None
    module, _, name = spec.partition(":")
    return getattr(importlib.import_module(module), name)()


def _config(no_completion: bool) -> Any:
    from faceshot_landmarks import VideoMatchConfig

    return VideoMatchConfig(complete_points=(), lip_band_sigma=None) if no_completion else None


def _group_table(
    clips: list[dict[str, Any]], human: dict[str, dict[str, float]], keys: tuple[str, ...] = KEYS
) -> str:
    lines = [
        f"{'group':<22} {'clips':>5}  " + "  ".join(f"{k.removeprefix('error_'):>19}" for k in keys)
    ]
    groups: dict[str, list[dict[str, Any]]] = {}
    for row in clips:
        tag = "tuning" if row["style"] in TUNING else "held-out"
        for key in (f"{tag}: {row['style']}", f"{tag}: all", f"{tag}: {row['motion']}"):
            groups.setdefault(key, []).append(row)
    for name in sorted(groups, key=lambda n: (not n.startswith("tuning"), n)):
        rows = groups[name]
        cells = []
        for k in keys:
            a = np.nanmean([r["today"][k] for r in rows])
            b = np.nanmean([r["matcher"][k] for r in rows])
            cells.append(f"{a:8.3f} -> {b:8.3f}")
        lines.append(f"{name:<22} {len(rows):>5}  " + "  ".join(cells))
    if keys != KEYS:
        return "\n".join(lines)
    lines.append("")
    for motion, fig in human.items():
        lines.append(
            f"human path (dlib on a human photo, same motion) {motion:<9}: error {fig['error']:.3f}, "
            f"mouth r {fig['mouth_corr']:.2f}, eye r {fig['eye_corr']:.2f}, jitter {fig['jitter']:.4f} "
            f"(known {fig['jitter_known']:.4f})"
        )
    return "\n".join(lines)


def _speed(frames: int, threads: int | None) -> None:
    """frames/s and CPU ms/frame of both trackers on one 512x512 clip, interleaved, best of 3."""
    import tempfile

    from faceshot_features import load_extractor
    from faceshot_landmarks import match_video
    from faceshot_landmarks.testing import synthetic_motion

    from faceshot._bench_nonhuman import (
        load_source,
        make_clip,
        place_on_canvas,
        style_out_gallery,
        today_path,
    )

    if threads is not None:
        import cv2
        import torch

        torch.set_num_threads(threads)
        cv2.setNumThreads(threads)
    ext = load_extractor("embedded")
    with tempfile.TemporaryDirectory() as tmpdir:
        tmp = Path(tmpdir)
        image, pts = load_source("1f431", repo=_REPO)
        img, seq = place_on_canvas(image, synthetic_motion(pts, frames))
        clip = make_clip(img, seq, tmp / "speed.mp4", fps=25.0)
        gallery = style_out_gallery("creature", ext, tmp, {}, repo=_REPO)
        runs: dict[str, list[tuple[float, float]]] = {
            "today (match frame 0 + LK)": [],
            "match_video": [],
        }
        for _ in range(3):
            for name, fn in (
                ("today (match frame 0 + LK)", lambda: today_path(clip, ext, gallery)),
                ("match_video", lambda: match_video(clip, ext, gallery, progress=False)),
            ):
                wall, cpu = time.perf_counter(), time.process_time()
                fn()
                runs[name].append(
                    (
                        frames / (time.perf_counter() - wall),
                        1000 * (time.process_time() - cpu) / frames,
                    )
                )
    print(
        f"speed, 512x512 clip, {frames} frames, decode included, best of 3; torch/OpenCV threads "
        f"{threads or 'default'}; load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs:"
    )
    for name, values in runs.items():
        fps = max(v[0] for v in values)
        cpu = min(v[1] for v in values)
        print(f"  {name:<27} {fps:6.1f} frames/s   {cpu:6.1f} CPU ms/frame")
    ratio = max(v[0] for v in runs["match_video"]) / max(
        v[0] for v in runs["today (match frame 0 + LK)"]
    )
    print(f"  match_video / today: {ratio:.2f}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--styles", nargs="+", default=[*TUNING, *HELD_OUT], choices=sorted(STYLES))
    parser.add_argument("--motions", nargs="+", default=list(MOTIONS), choices=MOTIONS)
    parser.add_argument(
        "--characters", type=int, default=None, help="at most this many characters per style"
    )
    parser.add_argument(
        "--frames", type=int, default=None, help="truncate every clip to this many frames"
    )
    parser.add_argument(
        "--renderer", default=None, help="module:Class of another animator (default WarpAnimator)"
    )
    parser.add_argument(
        "--sheets", type=Path, default=None, help="write contact sheets (PNG) into this directory"
    )
    parser.add_argument("--json", type=Path, default=None, help="write the figures as JSON")
    parser.add_argument(
        "--no-completion",
        action="store_true",
        help="match_video without the nose completion and the lip band "
        "(VideoMatchConfig(complete_points=(), lip_band_sigma=None)), the path before them, "
        "for before/after figures",
    )
    parser.add_argument(
        "--gallery",
        default="style",
        choices=PROTOCOLS,
        help="what the default gallery's recipe loses for a clip (faceshot._bench_nonhuman.PROTOCOLS)",
    )
    parser.add_argument("--speed-only", action="store_true", help="only the frames/s comparison")
    parser.add_argument("--speed-frames", type=int, default=120)
    parser.add_argument(
        "--threads",
        type=int,
        default=None,
        help="torch/OpenCV threads for --speed-only (default: theirs)",
    )
    args = parser.parse_args(argv)

    if args.speed_only:
        _speed(args.speed_frames, args.threads)
        return 0
    t0 = time.perf_counter()
    result = run_nonhuman(
        repo=_REPO,
        styles=args.styles,
        motions=args.motions,
        characters=args.characters,
        frames=args.frames,
        renderer=_renderer(args.renderer),
        config=_config(args.no_completion),
        workdir=Path(args.sheets) / "clips" if args.sheets else None,
        log=lambda line: print(line, flush=True),
        protocol=args.gallery,
    )
    print()
    print("mean per group, today -> match_video (face widths; r = Pearson correlation):")
    print(_group_table(result["clips"], result["human"]))
    print(
        "\nerror by part (frame 0's error, then each part over all frames), today -> match_video:"
    )
    print(_group_table(result["clips"], result["human"], PART_KEYS))
    print(
        f"\n({os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f}; {time.perf_counter() - t0:.0f} s)"
    )
    if args.sheets:
        args.sheets.mkdir(parents=True, exist_ok=True)
        for (code, motion), (truth, old, new, path) in result["points"].items():
            from faceshot_landmarks import mouth_opening

            opening = mouth_opening(truth)
            picks = sorted(
                {
                    0,
                    *np.linspace(0, len(truth) - 1, 8).round().astype(int).tolist(),
                    int(np.argmax(opening)),
                    int(np.argmin(opening)),
                }
            )[:12]
            contact_sheet(
                path,
                [
                    ("known", truth, (0, 170, 0)),
                    ("today", old, (230, 40, 40)),
                    ("match_video", new, (30, 60, 230)),
                ],
                picks,
                args.sheets / f"{code}-{motion}.png",
            )
        print(f"contact sheets in {args.sheets}")
    if args.json:
        rows = {"clips": result["clips"], "human": result["human"]}
        args.json.write_text(json.dumps(rows, indent=1, default=float))
    return 0


if __name__ == "__main__":
    sys.exit(main())
