"""Make the README picture: driving frames (top) and the animated demo character (bottom).

Usage: uv run python scripts/readme_picture.py [-o assets/demo/result.png]
Runs the README's main command (`faceshot animate` on the demo assets) into a temporary
directory and tiles six evenly spaced frames of both videos.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
from pathlib import Path

import av
import numpy as np
from PIL import Image

ROOT = Path(__file__).resolve().parents[1]
DEMO = ROOT / "assets" / "demo"


def frames(path: Path, picks: list[int]) -> list[Image.Image]:
    with av.open(str(path)) as container:
        out = [
            f.to_image().convert("RGB")
            for i, f in enumerate(container.decode(video=0))
            if i in picks
        ]
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("-o", "--output", type=Path, default=DEMO / "result.png")
    parser.add_argument("--tile", type=int, default=250, help="tile height in pixels")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "out.mp4"
        subprocess.run(
            [
                sys.executable,
                "-m",
                "faceshot",
                "animate",
                str(DEMO / "character.png"),
                str(DEMO / "driving.mp4"),
                "-o",
                str(out),
                "--no-progress",
            ],
            check=True,
        )
        with av.open(str(out)) as c:
            count = c.streams.video[0].frames
        picks = np.linspace(0, count - 1, 6).round().astype(int).tolist()
        top, bottom = frames(DEMO / "driving.mp4", picks), frames(out, picks)
    h = args.tile
    top = [im.resize((round(im.width * h / im.height), h), Image.LANCZOS) for im in top]
    bottom = [im.resize((round(im.width * h / im.height), h), Image.LANCZOS) for im in bottom]
    col = max(im.width for im in top + bottom)
    sheet = Image.new("RGB", (col * len(top), 2 * h), "white")
    for row, ims in enumerate((top, bottom)):
        for k, im in enumerate(ims):  # one column per frame, tiles centred in it
            sheet.paste(im, (k * col + (col - im.width) // 2, row * h))
    sheet.save(args.output, optimize=True)
    print(f"wrote {args.output}")


if __name__ == "__main__":
    main()
