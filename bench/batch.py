"""Benchmark ``faceshot batch`` against separate ``faceshot animate`` processes (issue #16).

Workload: 8 Twemoji characters (rendered at 512x512 from ``gallery_src/twemoji``, CC-BY 4.0)
x 2 driving clips = 16 jobs. Clips: ``assets/demo/driving.mp4`` (Carphone, 176x144, 120
frames) and a second clip derived from it here (mirrored left-right, cropped to 160x128).

Modes, all in one run (so machine load affects them alike; figures are ratios):
  1. separate    -- 16 ``faceshot animate`` processes, one after the other (today's loop);
  2. separate x2 -- the same 16 processes, two at a time (``--no-parallel-separate`` skips);
  3. batch -j1   -- ``faceshot batch`` on 1 worker, cold landmark cache;
  4. batch -j2   -- ``faceshot batch`` on 2 workers, cold landmark cache;
  5. batch warm  -- ``faceshot batch -j2`` again into new outputs with the cache of mode 4
     (``--warm``; the second batch of a studio that reuses its driving clips).

Every mode starts its own processes (imports and model loading included) and writes to its
own directory. Printed: wall seconds, jobs per minute, speed-up over ``separate`` (and over
``separate x2`` for the 2-worker modes), and the largest mean absolute difference between
the frames of a batch output and the separate output of the same job (the same pipeline
runs; encoding differs: batch encodes reproducibly).

Run:  uv run python bench/batch.py [--characters 8] [--warm] [--keep DIR] [--sheet PNG]
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
#: Smiley faces of gallery_src/twemoji with checked landmarks (a ``.pts``).
CHARACTERS = (
    "1f600",
    "1f603",
    "1f604",
    "1f609",
    "1f60a",
    "1f60b",
    "1f642",
    "1f610",
    "1f61b",
    "1f62e",
    "1f60f",
    "1f617",
)


def make_inputs(root: Path, n_characters: int) -> tuple[Path, Path]:
    """Characters and clips directories for the cross product."""
    import cairosvg
    from faceshot_animate import VideoWriter, probe_video, read_video

    chars, clips = root / "characters", root / "clips"
    chars.mkdir(parents=True)
    clips.mkdir()
    for code in CHARACTERS[:n_characters]:
        cairosvg.svg2png(
            url=str(REPO / "gallery_src" / "twemoji" / f"{code}.svg"),
            write_to=str(chars / f"{code}.png"),
            output_width=512,
            output_height=512,
        )
    demo = REPO / "assets" / "demo" / "driving.mp4"
    shutil.copy(demo, clips / "carphone.mp4")
    with VideoWriter(clips / "carphone_mirror_crop.mp4", probe_video(demo).fps) as writer:
        for frame in read_video(demo):
            writer.write(np.ascontiguousarray(frame[8:136, 8:168][:, ::-1]))
    return chars, clips


def run_separate(chars: Path, clips: Path, out: Path, parallel: int) -> float:
    """16 ``faceshot animate`` processes, ``parallel`` at a time; wall seconds."""
    out.mkdir()
    cmds = [
        [
            sys.executable,
            "-m",
            "faceshot",
            "animate",
            str(c),
            str(d),
            "-o",
            str(out / f"{c.stem}__{d.stem}.mp4"),
            "--no-progress",
        ]
        for c in sorted(chars.iterdir())
        for d in sorted(clips.iterdir())
    ]

    def one(cmd: list[str]) -> None:
        r = subprocess.run(cmd, capture_output=True, text=True)
        if r.returncode != 0:
            raise RuntimeError(f"{' '.join(cmd)} failed: {r.stderr.strip().splitlines()[-1:]}")

    t0 = time.perf_counter()
    with ThreadPoolExecutor(parallel) as pool:
        list(pool.map(one, cmds))
    return time.perf_counter() - t0


def run_batch(chars: Path, clips: Path, out: Path, cache: Path, workers: int) -> float:
    """One ``faceshot batch`` process over the cross product; wall seconds."""
    cmd = [
        sys.executable,
        "-m",
        "faceshot",
        "batch",
        "--characters",
        str(chars),
        "--drivings",
        str(clips),
        "-o",
        str(out),
        "--workers",
        str(workers),
        "--cache-dir",
        str(cache),
        "--no-progress",
    ]
    t0 = time.perf_counter()
    r = subprocess.run(cmd, capture_output=True, text=True)
    wall = time.perf_counter() - t0
    if r.returncode != 0:
        raise RuntimeError(f"faceshot batch failed ({r.returncode}): {r.stderr.strip()[-2000:]}")
    return wall


def frame_difference(a: Path, b: Path) -> float:
    """Largest per-frame mean absolute difference (grey levels) between two videos."""
    from faceshot_animate import read_video

    diffs = [
        float(np.abs(x.astype(np.int16) - y).mean())
        for x, y in zip(read_video(a), read_video(b), strict=True)
    ]
    return max(diffs)


def contact_sheet(
    outputs: list[Path], clips: Path, path: Path, frames: tuple[int, ...] = (0, 30, 60, 90, 119)
) -> None:
    """One row per output: the driving frames, then the animated character at ``frames``."""
    from faceshot_animate import read_video
    from PIL import Image, ImageDraw

    cell = 128
    rows = []
    for out in outputs:
        clip = clips / (out.stem.split("__", 1)[1] + ".mp4")
        drv = [f for t, f in enumerate(read_video(clip)) if t in frames]
        anim = [f for t, f in enumerate(read_video(out)) if t in frames]
        tiles = [
            Image.fromarray(f).resize((cell * f.shape[1] // f.shape[0], cell)) for f in drv[:1]
        ]
        tiles += [Image.fromarray(f).resize((cell, cell)) for f in anim]
        row = Image.new("RGB", (sum(t.width for t in tiles), cell + 14), "white")
        x = 0
        for t in tiles:
            row.paste(t, (x, 14))
            x += t.width
        ImageDraw.Draw(row).text(
            (2, 1),
            f"{out.stem}  (driving frame 0 | output frames {', '.join(map(str, frames))})",
            fill="black",
        )
        rows.append(row)
    sheet = Image.new("RGB", (max(r.width for r in rows), sum(r.height for r in rows)), "white")
    y = 0
    for r in rows:
        sheet.paste(r, (0, y))
        y += r.height
    sheet.save(path)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--characters", type=int, default=8, help="number of characters (default 8; x 2 clips)"
    )
    parser.add_argument(
        "--no-parallel-separate", action="store_true", help="skip the 'separate x2' mode"
    )
    parser.add_argument(
        "--warm", action="store_true", help="also time a second batch with a warm landmark cache"
    )
    parser.add_argument(
        "--keep",
        metavar="DIR",
        help="keep inputs and outputs in DIR (default: a temporary directory)",
    )
    parser.add_argument(
        "--sheet", metavar="PNG", help="write a contact sheet of the batch -j2 outputs"
    )
    args = parser.parse_args()

    root = Path(args.keep) if args.keep else Path(tempfile.mkdtemp(prefix="faceshot-bench-batch-"))
    if args.keep and root.exists() and any(root.iterdir()):
        sys.exit(f"--keep {str(root)!r} is not empty")
    try:
        chars, clips = make_inputs(root, args.characters)
        n = len(list(chars.iterdir())) * len(list(clips.iterdir()))
        print(
            f"{n} jobs: {len(list(chars.iterdir()))} characters (512x512) x {len(list(clips.iterdir()))} clips (120 frames); "
            f"{os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f} at start (shared machine: compare ratios)"
        )
        rows: list[tuple[str, float]] = []
        rows.append(("separate", run_separate(chars, clips, root / "separate", 1)))
        print(f"  separate     {rows[-1][1]:7.1f} s", flush=True)
        if not args.no_parallel_separate:
            rows.append(("separate x2", run_separate(chars, clips, root / "separate2", 2)))
            print(f"  separate x2  {rows[-1][1]:7.1f} s", flush=True)
        rows.append(("batch -j1", run_batch(chars, clips, root / "batch1", root / "cache1", 1)))
        print(f"  batch -j1    {rows[-1][1]:7.1f} s", flush=True)
        rows.append(("batch -j2", run_batch(chars, clips, root / "batch2", root / "cache2", 2)))
        print(f"  batch -j2    {rows[-1][1]:7.1f} s", flush=True)
        if args.warm:
            rows.append(
                ("batch -j2 warm", run_batch(chars, clips, root / "batch2w", root / "cache2", 2))
            )
            print(f"  batch warm   {rows[-1][1]:7.1f} s", flush=True)

        base = dict(rows)["separate"]
        base2 = dict(rows).get("separate x2")
        print(f"\nload average {os.getloadavg()[0]:.1f} at end\n")
        print(f"{'mode':<16}{'wall s':>9}{'jobs/min':>10}{'vs separate':>13}{'vs separate x2':>16}")
        for name, wall in rows:
            vs2 = f"{base2 / wall:15.2f}x" if base2 and "j2" in name else f"{'':>16}"
            print(f"{name:<16}{wall:9.1f}{60 * n / wall:10.2f}{base / wall:12.2f}x{vs2}")

        sep = root / "separate"
        worst = max(
            frame_difference(sep / p.name, p) for p in sorted((root / "batch2").glob("*.mp4"))
        )
        print(
            f"\nlargest per-frame mean |batch -j2 - separate| over the {n} outputs: {worst:.2f} grey levels"
        )
        sizes = [
            (p.stat().st_size, (sep / p.name).stat().st_size)
            for p in (root / "batch2").glob("*.mp4")
        ]
        print(
            f"output size batch/separate (reproducible encoding vs default): {sum(a for a, _ in sizes) / sum(b for _, b in sizes):.2f}"
        )
        if args.sheet:
            contact_sheet(sorted((root / "batch2").glob("*.mp4")), clips, Path(args.sheet))
            print(f"contact sheet: {args.sheet}")
    finally:
        if not args.keep:
            shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
