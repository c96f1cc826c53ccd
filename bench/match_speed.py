"""Speed of ``FaceShot.match`` on one 512x512 character, against a baseline source tree.

Run from the repository root::

    git archive main | tar -x -C /tmp/base            # the baseline, any commit
    uv run python bench/match_speed.py --baseline /tmp/base

Each round times this tree and the baseline in fresh subprocesses (the same Python, the same
venv; the baseline's ``src`` directories go first on ``PYTHONPATH``), one after the other, so
the load of a shared machine hits both alike; the figure is the ratio of the medians. Inside a
subprocess: one warm-up call, then ``--reps`` calls of ``FaceShot.match`` on the first
``gallery_src/noto`` face (dlib detection, then the matcher: localisation + features +
matching), median wall and process-CPU seconds (all threads); torch at its default thread count
unless ``--threads``.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
_SRCS = (
    "src",
    "packages/faceshot-retarget/src",
    "packages/faceshot-landmarks/src",
    "packages/faceshot-features/src",
    "packages/faceshot-animate/src",
)


def _image() -> np.ndarray:
    sys.path.insert(0, str(ROOT / "scripts"))
    from annotate_keypoints import render

    doc = json.loads((ROOT / "gallery_src" / "noto" / "keypoints5.json").read_text())
    name = sorted(n for n, r in doc["faces"].items() if "exclude" not in r)[0]
    return render(ROOT / "gallery_src" / "noto" / doc["faces"][name]["file"])


def measure(reps: int, threads: int | None = None) -> dict[str, float]:
    """Median wall / CPU seconds of ``FaceShot.match`` in this process (``threads``: torch's
    intra-op thread count, ``None``: its default)."""
    import torch

    import faceshot

    if threads is not None:
        torch.set_num_threads(threads)

    rgb = _image()
    fs = faceshot.FaceShot()
    fs.match(rgb)
    wall, cpu = [], []
    for _ in range(reps):
        t, c = time.perf_counter(), time.process_time()
        fs.match(rgb)
        wall.append(time.perf_counter() - t)
        cpu.append(time.process_time() - c)
    return {
        "wall_s": float(np.median(wall)),
        "cpu_s": float(np.median(cpu)),
        "source": str(Path(faceshot.__file__).resolve().parents[1]),
    }


def _child(tree: Path | None, reps: int, threads: int | None) -> dict[str, float]:
    env = dict(os.environ)
    if tree is not None:
        env["PYTHONPATH"] = os.pathsep.join(
            [str(tree / s) for s in _SRCS] + [env.get("PYTHONPATH", "")]
        )
    out = subprocess.run(
        [sys.executable, __file__, "--child", "--reps", str(reps)]
        + ([] if threads is None else ["--threads", str(threads)]),
        env=env,
        cwd=ROOT,
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    return json.loads(out.strip().splitlines()[-1])


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--baseline", type=Path, help="a source tree to compare against")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--reps", type=int, default=5)
    ap.add_argument("--threads", type=int, default=None, help="torch threads (default: torch's)")
    ap.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.child:
        print(json.dumps(measure(args.reps, args.threads)))
        return 0
    new, old = [], []
    for r in range(args.rounds):
        new.append(_child(None, args.reps, args.threads))
        if args.baseline is not None:
            old.append(_child(args.baseline.resolve(), args.reps, args.threads))
        print(f"[round {r}] this {new[-1]}" + (f"  baseline {old[-1]}" if old else ""), flush=True)
    load = os.getloadavg()[0]
    w = float(np.median([d["wall_s"] for d in new]))
    c = float(np.median([d["cpu_s"] for d in new]))
    threads = "default" if args.threads is None else args.threads
    line = (
        f"FaceShot.match 512x512 (torch threads {threads}): this tree {w:.2f} s wall, {c:.2f} CPU-s"
    )
    if old:
        wb = float(np.median([d["wall_s"] for d in old]))
        cb = float(np.median([d["cpu_s"] for d in old]))
        line += f"; baseline {wb:.2f} s wall, {cb:.2f} CPU-s; ratio this/baseline wall {w / wb:.2f}, CPU {c / cb:.2f}"
    print(line + f"  (load average {load:.1f} on {os.cpu_count()} cores)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
