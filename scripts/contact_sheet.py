"""Contact sheets of gallery sources with their 68 landmarks drawn, for checking by eye.

Dev-time script. Two kinds of source directory:

* ``twemoji``: ``<code>.svg`` plus ``keypoints.json`` (points for every face, usable or not;
  excluded faces get a red label) from ``scripts/derive_twemoji_landmarks.py``;
* ``human``: images (``.png``/``.jpg``) with a ``.pts`` beside each.

Points are coloured by the paper's five parts (face boundary, eyebrows, nose, eyes, mouth)
and joined by the iBUG polylines.

Usage::

    uv run python scripts/contact_sheet.py gallery_src/twemoji   # -> contact_sheet.png
    uv run python scripts/contact_sheet.py gallery_src/human --cell 256
"""

from __future__ import annotations

import argparse
import io
import json
import sys
from pathlib import Path

import cairosvg
import numpy as np
from faceshot_retarget import atomic_write, ibug68, read_pts
from numpy.typing import NDArray
from PIL import Image, ImageDraw

__all__ = ["PART_COLOURS", "draw_landmarks", "main"]

#: RGB per paper part, in :data:`faceshot_retarget.ibug68.PARTS` order.
PART_COLOURS = {
    "face_boundary": (0, 160, 255),
    "eyebrows": (255, 140, 0),
    "nose": (0, 200, 80),
    "eyes": (230, 0, 200),
    "mouth": (230, 20, 20),
}
_CLOSED = {"right_eye", "left_eye", "outer_lips", "inner_lips"}


def draw_landmarks(im: Image.Image, pts: NDArray[np.float64], radius: float = 1.6) -> Image.Image:
    """Copy of ``im`` (RGB) with ``pts`` (68, 2) pixel (x, y) drawn by part."""
    out = im.convert("RGB")
    d = ImageDraw.Draw(out)
    part_of = np.asarray(ibug68.PART_OF_POINT)
    colours = list(PART_COLOURS.values())
    for name, s in ibug68.GROUPS.items():
        idx = list(range(s.start, s.stop))
        if name in _CLOSED:
            idx.append(s.start)
        c = colours[int(part_of[s.start])]
        d.line([tuple(pts[i]) for i in idx], fill=c, width=1)
    for (x, y), p in zip(pts.tolist(), part_of.tolist(), strict=True):
        d.ellipse(
            [x - radius, y - radius, x + radius, y + radius], fill=colours[p], outline=(0, 0, 0)
        )
    return out


def _twemoji_items(src: Path, cell: int) -> list[tuple[str, Image.Image, bool]]:
    doc = json.loads((src / "keypoints.json").read_text())
    size = doc["image_size"][1]
    items = []
    for code, face in doc["faces"].items():
        png = cairosvg.svg2png(url=str(src / f"{code}.svg"), output_width=cell, output_height=cell)
        rgba = Image.open(io.BytesIO(png)).convert("RGBA")
        im = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        im.alpha_composite(rgba)
        if "points" in face:
            s = cell / size
            pts = (np.asarray(face["points"]) + 0.5) * s - 0.5
            im = draw_landmarks(im, pts)
        items.append((code, im.convert("RGB"), bool(face.get("usable"))))
    return items


def _human_items(src: Path, cell: int) -> list[tuple[str, Image.Image, bool]]:
    items = []
    for path in sorted([*src.glob("*.png"), *src.glob("*.jpg")]):
        pts_path = path.with_suffix(".pts")
        if not pts_path.exists() or path.name.startswith("contact_sheet"):
            continue
        im = Image.open(path).convert("RGB")
        pts = read_pts(pts_path).points[0]
        s = cell / max(im.size)
        im = draw_landmarks(im, pts, radius=1.6 / s).resize(
            (max(1, round(im.width * s)), max(1, round(im.height * s))), Image.Resampling.LANCZOS
        )
        items.append((path.stem, im, True))
    return items


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("src", type=Path, help="gallery_src/twemoji or gallery_src/human")
    ap.add_argument("--cell", type=int, default=160, help="cell size in pixels")
    ap.add_argument("--cols", type=int, default=8)
    ap.add_argument("--out", type=Path, default=None, help="default: <src>/contact_sheet.png")
    args = ap.parse_args(argv)

    is_twemoji = (args.src / "keypoints.json").exists()
    items = (_twemoji_items if is_twemoji else _human_items)(args.src, args.cell)
    if not items:
        print(f"nothing to draw in {args.src}", file=sys.stderr)
        return 1
    label = 14
    rows = -(-len(items) // args.cols)
    sheet = Image.new("RGB", (args.cols * args.cell, rows * (args.cell + label)), "white")
    d = ImageDraw.Draw(sheet)
    for i, (name, im, ok) in enumerate(items):
        x, y = (i % args.cols) * args.cell, (i // args.cols) * (args.cell + label)
        sheet.paste(im, (x, y))
        d.text(
            (x + 3, y + args.cell),
            name + ("" if ok else "  EXCLUDED"),
            fill=(0, 0, 0) if ok else (220, 0, 0),
        )
    out = args.out or args.src / "contact_sheet.png"
    buf = io.BytesIO()
    sheet.save(buf, format="PNG", optimize=True)
    atomic_write(out, lambda f: f.write(buf.getvalue()))
    print(f"wrote {out} ({len(items)} faces, {len(buf.getvalue()) / 1e6:.2f} MB)", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
