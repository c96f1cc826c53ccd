"""Write the hard driving clips of issue 10 with their ground truth (a few seconds, no downloads).

Clips (built by :mod:`faceshot_landmarks.clips` from the carphone sequence and the astronaut
portrait in ``packages/faceshot-landmarks/tests/data``; see the README there for licences):

* ``multishot.mp4``: 7 shots of 20 frames: carphone, zoomed 2x, mirrored, a still of another
  person (astronaut) under a synthetic head motion, cropped, a held carphone frame under a known
  similarity, carphone again. Truth: cut frames, segments, per-frame similarities of the stills.
* ``two_person.mp4``: carphone on the left, the astronaut (1.3x larger face) on the right, sliding
  out between frames 48 and 72. Truth: each person's half of the frame and presence per frame.
* ``expression.mp4``: the astronaut's mouth torn open to twice her own outer-lip height, twice,
  under a small head motion. Truth: the inner-lip opening per frame.

Each clip has ``<name>.json`` beside it. Usage::

    uv run python scripts/make_driving_clips.py OUT_DIR
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from faceshot_landmarks.clips import build_driving_clips

DATA = Path(__file__).resolve().parents[1] / "packages" / "faceshot-landmarks" / "tests" / "data"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("out", type=Path, help="output directory (created)")
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    t = time.perf_counter()
    clips = build_driving_clips(
        args.out, video=DATA / "carphone.mp4", still=DATA / "astronaut_face.jpg"
    )
    for path, truth in clips.values():
        print(
            f"{path}: {truth['frames']} frames"
            + (f", cuts {truth['cuts']}" if "cuts" in truth else "")
        )
    print(f"({time.perf_counter() - t:.1f} s)")


if __name__ == "__main__":
    main()
