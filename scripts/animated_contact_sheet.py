"""Contact sheet: eight different characters driven by the same clip, frame by frame.

Usage: uv run python scripts/animated_contact_sheet.py [-o assets/contact_sheet.png]
    [--animator rig|warp] [--frames 6] [--tile 128] [--driving assets/demo/driving.mp4]
    [--characters gallery_src/twemoji/1f479.svg ...]

Top row: the driving clip. Below, one row per character (Twemoji faces of
``gallery_src/twemoji`` and the human photos of ``gallery_src/human``, with their
annotated landmarks), animated as ``FaceShot.animate`` does (room around the face,
``FaceShot.retarget`` kept in the canvas) with the chosen CPU animator, at evenly spaced
frames. RGBA characters are shown over white.
"""

from __future__ import annotations

import argparse
import io
import sys
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw

ROOT = Path(__file__).resolve().parents[1]
#: Eight characters of different kinds: smiley (the demo), cat, monkey, moon, pumpkin,
#: alien, a surprised face, and a photo.
CHARACTERS = (
    "gallery_src/twemoji/1f603.svg",
    "gallery_src/twemoji/1f63a.svg",
    "gallery_src/twemoji/1f435.svg",
    "gallery_src/twemoji/1f31d.svg",
    "gallery_src/twemoji/1f383.svg",
    "gallery_src/twemoji/1f47d.svg",
    "gallery_src/twemoji/1f62e.svg",
    "gallery_src/human/astronaut.png",
)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("-o", "--output", type=Path, default=ROOT / "assets" / "contact_sheet.png")
    ap.add_argument("--animator", choices=("rig", "warp"), default="rig")
    ap.add_argument("--frames", type=int, default=6, help="columns (evenly spaced frames)")
    ap.add_argument("--tile", type=int, default=128, help="tile size in pixels")
    ap.add_argument("--driving", type=Path, default=ROOT / "assets" / "demo" / "driving.mp4")
    ap.add_argument(
        "--characters",
        nargs="+",
        default=list(CHARACTERS),
        help="character images with a .pts beside each, relative to the checkout or absolute "
        "(default: the eight of the README sheet)",
    )
    ap.add_argument(
        "--colors", type=int, default=256, help="palette colours of the PNG (0: full RGB)"
    )
    args = ap.parse_args(argv)

    from faceshot_animate import RigAnimator, WarpAnimator, composite_over, read_video
    from faceshot_landmarks import detect_video
    from faceshot_retarget import atomic_write, load_landmarks

    from faceshot import FaceShot

    fs = FaceShot(progress=False)
    drv = np.asarray(detect_video(args.driving, progress=False).points)
    picks = np.linspace(0, len(drv) - 1, args.frames).round().astype(int).tolist()
    tile = args.tile
    label = 14
    rows: list[tuple[str, list[Image.Image]]] = []
    driving = [f for i, f in enumerate(read_video(args.driving)) if i in picks]
    rows.append(("driving", [_fit(Image.fromarray(f), tile) for f in driving]))
    for rel in args.characters:
        path = ROOT / rel
        # as FaceShot.animate does: room around the face, the silhouette kept in the canvas
        staged, lms = fs._stage_and_retarget(
            fs.load(path), load_landmarks(path.with_suffix(".pts")).points[0], drv, 30.0
        )
        character = staged.canvas
        animator = RigAnimator() if args.animator == "rig" else WarpAnimator()
        tiles = []
        for t, frame in enumerate(animator.animate(character.image, lms, fps=30.0)):
            if t in picks:
                tiles.append(_fit(Image.fromarray(np.asarray(composite_over(frame))), tile))
        rows.append((path.stem, tiles))
    sheet = Image.new("RGB", (args.frames * tile, len(rows) * (tile + label)), "white")
    draw = ImageDraw.Draw(sheet)
    for r, (name, tiles) in enumerate(rows):
        y = r * (tile + label)
        draw.text(
            (3, y + 1),
            f"{name}  ({args.animator})" if r else f"driving: {args.driving.name}, frames {picks}",
            fill=(0, 0, 0),
        )
        for c, im in enumerate(tiles):
            sheet.paste(im, (c * tile, y + label))
    buf = io.BytesIO()
    if args.colors:  # flat art survives a 256-colour palette; the file is a third the size
        sheet = sheet.quantize(
            colors=args.colors, method=Image.Quantize.MEDIANCUT, dither=Image.Dither.FLOYDSTEINBERG
        )
    sheet.save(buf, format="PNG", optimize=True)
    atomic_write(args.output, lambda f: f.write(buf.getvalue()))
    print(f"wrote {args.output} ({len(buf.getvalue()) / 1e3:.0f} kB)", file=sys.stderr)
    return 0


def _fit(im: Image.Image, tile: int) -> Image.Image:
    """``im`` scaled to fit a tile x tile square, centred on white."""
    s = tile / max(im.size)
    small = im.resize(
        (max(1, round(im.width * s)), max(1, round(im.height * s))), Image.Resampling.LANCZOS
    )
    out = Image.new("RGB", (tile, tile), "white")
    out.paste(small, ((tile - small.width) // 2, (tile - small.height) // 2))
    return out


if __name__ == "__main__":
    raise SystemExit(main())
