"""Derive 68 iBUG landmarks for Twemoji faces from their SVG geometry.

Dev-time script (not shipped in any package). For each ``<code>.svg`` it renders every
drawable SVG element alone with cairosvg to a 512x512 coverage mask, works out which
element is visible at each pixel (painter's order), and measures:

* the **face**: the last-painted large non-ink element whose hole-filled mask contains the
  eyes and the mouth (the head, not the ears' inner parts, the mane or the muzzle);
* **ink groups**: 8-connected components of visible dark ("ink") pixels, joined by the small
  white shapes touching them (eye whites, teeth);
* the **eyes**: the lowest mirror-symmetric pair of ink groups above a centred mouth group;
* the **mouth**: the largest ink group below the eyes and between them;
* the **brows**, when a further symmetric pair sits just above the eyes (else derived).

The 68 points (0-based pixel (x, y) in the 512x512 render, origin at the top-left pixel
centre) are then fitted: eyes and mouth from column scans of the measured masks, jaw along
the lower face outline from eye level round the chin, brows measured or placed above the
eyes, nose interpolated between eyes and mouth. Faces whose geometry does not parse into
that layout, or that failed the check by eye on the contact sheet, are marked
``usable: false`` with a reason instead of being guessed.

Outputs in ``--out`` (default ``gallery_src/twemoji``): ``<code>.svg`` (copied from
``--src`` when given), ``<code>.pts`` (iBUG 1-based, written with
:func:`faceshot_retarget.write_pts`) for usable faces, and ``keypoints.json``.

Usage::

    uv run python scripts/derive_twemoji_landmarks.py --src /path/to/twemoji/svgs
    uv run python scripts/derive_twemoji_landmarks.py            # re-derive from the copies
"""

from __future__ import annotations

import argparse
import copy
import io
import json
import shutil
import sys
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import cairosvg
import numpy as np
from faceshot_landmarks import (
    brow_from_mask,
    brow_over_eye,
    column_scan,
    contour_points,
    mouth_from_mask,
    ray_exit,
    resample_polyline,
    undrawn_brows,
    undrawn_nose,
)
from faceshot_retarget import atomic_write, write_pts
from numpy.typing import NDArray
from PIL import Image
from scipy import ndimage
from tqdm import tqdm

__all__ = ["EXCLUDE", "FaceGeometry", "derive_face", "main"]

SIZE = 512
SVG_NS = "http://www.w3.org/2000/svg"
DRAWABLE = {"path", "circle", "ellipse", "rect", "polygon", "polyline", "line"}

#: Faces the geometry parses but which are wrong for a frontal 68-point layout, found by eye
#: on the contact sheet (code -> reason). Kept explicit so the exclusion list is reviewable.
EXCLUDE: dict[str, str] = {
    "1f31b": "crescent moon: profile view",
    "1f31e": "sun: eyes and mouth are orange, not dark marks",
    "1f42d": "mouse: no mouth drawn",
    "1f42e": "cow: no mouth drawn (muzzle with nostrils)",
    "1f430": "rabbit: no dark mouth (nose and teeth only)",
    "1f438": "frog: no mouth drawn",
    "1f439": "hamster: no mouth drawn",
    "1f47a": "tengu: white eyes and a nose over the mouth",
    "1f60d": "heart-shaped eyes",
    "1f631": "screaming: eyes are white shapes with no dark mark",
    "1f636": "no mouth",
    "1f63b": "cat with heart-shaped eyes",
    "1f640": "weary cat: eyes are white shapes with no dark mark",
    "1f643": "upside-down face",
    "1f916": "robot: eyes and mouth are not dark marks",
    "1f921": "clown: red mouth, not a dark mark",
    "1f984": "unicorn: profile view",
    "1f417": "boar: an ear is taken as an eye and the snout as the mouth",
    "1f428": "koala: inner ears taken as eyes, nose as mouth; no mouth drawn",
    "1f42f": "tiger: stripes taken as eyes",
    "1f434": "horse: profile view",
    "1f436": "dog: the nose is taken as the mouth (mouth is a thin line under it)",
    "1f437": "pig: a nostril is taken as the mouth; no mouth drawn",
    "1f43a": "wolf: the nose is taken as the mouth; no mouth drawn",
    "1f43b": "bear: the nose is taken as the mouth",
    "1f43c": "panda: the nose is taken as the mouth; eye patches, not eyes",
    "1f47b": "ghost: the face outline is the whole body (arm); eyes differ",
    "1f47f": "angry imp: eyes fused with thick brows into one shape",
    "1f480": "skull: the nose is taken as the mouth (teeth are not dark)",
    "1f624": "steam from nose: no mouth; the steam is taken as the mouth",
    "1f981": "lion: the nose is taken as the mouth",
    "1f98a": "fox: the nose is taken as the mouth; no mouth drawn",
}

_ROOT = Path(__file__).resolve().parents[1]


# --------------------------------------------------------------------------- SVG handling


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def _hex_rgb(colour: str | None) -> tuple[float, float, float] | None:
    if colour is None or not colour.startswith("#"):
        return None
    h = colour[1:]
    if len(h) == 3:
        h = "".join(c * 2 for c in h)
    return tuple(int(h[i : i + 2], 16) / 255.0 for i in (0, 2, 4))  # type: ignore[return-value]


@dataclass
class Leaf:
    """One drawable SVG element: effective fill colour and its rendered coverage mask."""

    index: int
    tag: str
    rgb: tuple[float, float, float]
    mask: NDArray[np.bool_]

    @property
    def value(self) -> float:  # HSV value
        return max(self.rgb)

    @property
    def saturation(self) -> float:
        v = max(self.rgb)
        return 0.0 if v == 0 else (v - min(self.rgb)) / v

    @property
    def is_ink(self) -> bool:
        """Dark marks: eyes, mouths, brows (#664500, #292F33, #67757F ...)."""
        return self.value <= 0.55

    @property
    def is_white(self) -> bool:
        """Near-white, unsaturated: eye whites, teeth."""
        return self.value >= 0.75 and self.saturation <= 0.15


def _render_alpha(root: ET.Element, size: int) -> NDArray[np.uint8]:
    png = cairosvg.svg2png(bytestring=ET.tostring(root), output_width=size, output_height=size)
    im = Image.open(io.BytesIO(png)).convert("RGBA")
    return np.asarray(im)[..., 3]


def leaves_of(svg_path: Path, size: int = SIZE) -> list[Leaf]:
    """Render each drawable element of ``svg_path`` alone; (size, size) bool masks."""
    ET.register_namespace("", SVG_NS)
    tree = ET.parse(svg_path)
    root = tree.getroot()
    parent = {c: p for p in root.iter() for c in p}
    drawables = [e for e in root.iter() if _local(e.tag) in DRAWABLE]
    out: list[Leaf] = []
    for k, elem in enumerate(drawables):
        fill = None
        node: ET.Element | None = elem
        while node is not None and fill is None:
            fill = node.get("fill")
            node = parent.get(node)
        rgb = _hex_rgb(fill) or (0.0, 0.0, 0.0)
        solo = copy.deepcopy(root)
        solo_draw = [e for e in solo.iter() if _local(e.tag) in DRAWABLE]
        solo_parent = {c: p for p in solo.iter() for c in p}
        for j, e in enumerate(solo_draw):
            if j != k:
                solo_parent[e].remove(e)
        mask = _render_alpha(solo, size) >= 128
        out.append(Leaf(k, _local(elem.tag), rgb, mask))
    return out


# --------------------------------------------------------------------------- measurement


@dataclass
class Group:
    """A connected feature blob (ink plus touching whites)."""

    mask: NDArray[np.bool_]
    ink_area: int

    def __post_init__(self) -> None:
        ys, xs = np.nonzero(self.mask)
        self.area = int(xs.size)
        self.x0, self.x1 = int(xs.min()), int(xs.max())
        self.y0, self.y1 = int(ys.min()), int(ys.max())
        self.cx, self.cy = float(xs.mean()), float(ys.mean())

    @property
    def width(self) -> int:
        return self.x1 - self.x0 + 1

    @property
    def height(self) -> int:
        return self.y1 - self.y0 + 1

    @property
    def bcx(self) -> float:
        return 0.5 * (self.x0 + self.x1)

    @property
    def bcy(self) -> float:
        return 0.5 * (self.y0 + self.y1)


# --------------------------------------------------------------------------- per face


@dataclass
class FaceGeometry:
    """Result of :func:`derive_face` for one SVG."""

    code: str
    usable: bool
    reason: str = ""
    points: NDArray[np.float64] | None = None  # (68, 2)
    keypoints: dict[str, Any] = field(default_factory=dict)


def _ink_groups(leaves: list[Leaf], size: int) -> list[Group]:
    """Visible ink components, joined by the small white shapes touching them.

    Ink pixels of one colour are split into 8-connected components (a lid line touching its
    pupil is one eye; a brow fused to an eye is cut off later by :func:`_eye_mask`), and a white
    component (eye white, teeth) joins every ink component it touches.
    An ink element keeps the pixels that later ink or white elements, or later shapes in a
    face colour (which carve marks, e.g. a crescent eye), paint over; pixels hidden only by
    other decorations (tears, hearts, tongues, blush) are given back to it, so a tear
    running over a mouth does not cut the mouth.
    """
    top = np.full((size, size), -1, dtype=np.int32)
    for leaf in leaves:
        top[leaf.mask] = leaf.index
    face_rgbs = {lf.rgb for lf in leaves if lf.mask.mean() >= 0.15}
    covered = [np.zeros((size, size), bool) for _ in leaves]
    acc = np.zeros((size, size), bool)
    for leaf in reversed(leaves):
        covered[leaf.index] = acc.copy()
        if leaf.is_ink or leaf.is_white or leaf.rgb in face_rgbs:
            acc |= leaf.mask
    eight = np.ones((3, 3), bool)
    ink_by_colour: dict[tuple[float, float, float], NDArray[np.bool_]] = {}
    for leaf in leaves:
        if not leaf.is_ink:
            continue
        lab, k = ndimage.label(leaf.mask & ~covered[leaf.index], structure=eight)
        areas = ndimage.sum(np.ones_like(lab), lab, np.arange(1, k + 1))
        lab[np.isin(lab, np.nonzero(areas > 0.15 * size * size)[0] + 1)] = 0  # a dark face
        prev = ink_by_colour.get(leaf.rgb, np.zeros((size, size), bool))
        ink_by_colour[leaf.rgb] = prev | (lab > 0)
    # Touching marks of one colour are one mark; marks of different colours stay apart (a
    # mouth drawn over a crater of the moon).
    labels = np.zeros((size, size), dtype=np.int32)
    n = 0
    for ink_c in ink_by_colour.values():
        lab, k = ndimage.label(ink_c & (labels == 0), structure=eight)
        labels[lab > 0] = lab[lab > 0] + n
        n += k
    small_white = [lf.index for lf in leaves if lf.is_white and lf.mask.mean() < 0.12]
    wlab, nw = ndimage.label(np.isin(top, small_white), structure=eight)
    parent = np.arange(n + 1)

    def find(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = int(parent[i])
        return i

    white_of: dict[int, list[int]] = {}
    for w in range(1, nw + 1):
        wm = wlab == w
        touched = np.unique(labels[ndimage.binary_dilation(wm, structure=eight) & (labels > 0)])
        if touched.size == 0:
            continue
        root = find(int(touched[0]))
        for t in touched[1:]:
            parent[find(int(t))] = root
        white_of.setdefault(int(touched[0]), []).append(w)
    roots = np.array([find(i) for i in range(n + 1)])
    groups = []
    min_area = 4e-4 * size * size
    for r in np.unique(roots[1:]):
        members = np.nonzero(roots == r)[0]
        ink = np.isin(labels, members)
        m = ink.copy()
        for mbr in members:
            for w in white_of.get(int(mbr), []):
                m |= wlab == w
        if m.sum() < min_area:
            continue
        groups.append(Group(m, int(ink.sum())))
    return groups


def _find_layout(
    groups: list[Group], size: int
) -> tuple[Group, Group, Group, tuple[Group, Group] | None] | None:
    """(right eye = image left, left eye, mouth, brows or None), or None if not found."""
    cands = [g for g in groups if g.area < 0.12 * size * size]
    pairs = []
    for i, a in enumerate(cands):
        for b in cands[i + 1 :]:
            a_, b_ = (a, b) if a.bcx < b.bcx else (b, a)
            span = b_.bcx - a_.bcx
            if span < 0.12 * size:
                continue
            if abs(a_.bcy - b_.bcy) > 0.25 * span:
                continue
            if abs(0.5 * (a_.bcx + b_.bcx) - size / 2) > 0.09 * size:
                continue
            if max(a_.area, b_.area) > 8 * min(a_.area, b_.area):
                continue
            if a_.x1 >= b_.x0:  # overlapping in x: not two eyes
                continue
            pairs.append((a_, b_))
    layouts = []
    for a, b in pairs:
        mid = 0.5 * (a.bcx + b.bcx)
        span = b.bcx - a.bcx
        eye_bottom = max(a.y1, b.y1)
        mouths = [
            g
            for g in groups
            if g is not a
            and g is not b
            and g.y0 > eye_bottom - 0.05 * span
            and g.bcy > eye_bottom
            and abs(g.bcx - mid) < 0.35 * span
        ]
        if not mouths:
            continue
        mouth = max(mouths, key=lambda g: g.area)
        layouts.append((a, b, mouth))
    if not layouts:
        return None
    # Eyes are a sizeable pair: drop pairs much smaller than the largest candidate (craters,
    # nostrils), then take the lowest valid pair (brows sit above the eyes).
    biggest = max(min(t[0].area, t[1].area) for t in layouts)
    layouts = [t for t in layouts if min(t[0].area, t[1].area) >= 0.3 * biggest]
    a, b, mouth = max(layouts, key=lambda t: 0.5 * (t[0].bcy + t[1].bcy))
    brows = None
    span = b.bcx - a.bcx
    above = [
        (p, q)
        for p, q in pairs
        if p is not a
        and q is not b
        and p is not b
        and q is not a
        and brow_over_eye(_bounds(a), _bounds(p), span)
        and brow_over_eye(_bounds(b), _bounds(q), span)
    ]
    if above:
        brows = max(above, key=lambda t: 0.5 * (t[0].bcy + t[1].bcy))
    return a, b, mouth, brows


def _face_mask(
    leaves: list[Leaf], probes: NDArray[np.float64], size: int
) -> tuple[NDArray[np.bool_], int] | None:
    """Hole-filled mask of the last-painted big non-ink element containing all ``probes``."""
    xi = np.clip(np.rint(probes[:, 0]).astype(int), 0, size - 1)
    yi = np.clip(np.rint(probes[:, 1]).astype(int), 0, size - 1)
    for leaf in reversed(leaves):
        area = float(leaf.mask.mean())
        if area < 0.15 or (leaf.is_ink and area < 0.3):
            continue
        filled = ndimage.binary_fill_holes(leaf.mask)
        if filled[yi, xi].all():
            return filled, leaf.index
    return None


def _disk(radius: int) -> NDArray[np.bool_]:
    yy, xx = np.mgrid[-radius : radius + 1, -radius : radius + 1]
    return (xx**2 + yy**2) <= radius**2


def _eye_mask(g: Group, size: int = SIZE) -> tuple[NDArray[np.bool_], bool]:
    """Hole-filled eye mask, with a brow stroke fused to it cut off.

    Some faces draw brow and eye as one subpath (a stroke running into a filled ellipse).
    A morphological opening with a disk wider than the stroke keeps the filled eye; it is
    used when it keeps a solid part (>= 25 %), removes a real stroke (>= 15 %) and that
    stroke lies partly (>= 20 %) above the solid part. Eyes that are strokes themselves
    (closed, winking) vanish under the opening and are kept as drawn.

    Returns:
        (H, W) bool mask and whether a fused stroke was cut off.
    """
    m = ndimage.binary_fill_holes(g.mask)
    opened = ndimage.binary_opening(m, structure=_disk(round(0.035 * size)))
    kept = opened.sum() / m.sum()
    if 0.25 <= kept <= 0.85:
        lab, n = ndimage.label(opened)
        sizes = ndimage.sum(opened, lab, index=np.arange(1, n + 1))
        solid = lab == (1 + int(np.argmax(sizes)))
        # Only a stroke running above the solid part is a brow; a lid line through the top
        # of a pupil (half-closed eyes) belongs to the eye.
        stroke_rows = np.nonzero(m & ~solid)[0]
        solid_top = int(np.nonzero(solid.any(axis=1))[0][0])
        if (stroke_rows < solid_top).mean() >= 0.2:
            return solid, True
    return m, False


def _eye_points(m: NDArray[np.bool_]) -> NDArray[np.float64]:
    """6 eye points, clockwise from the image-left corner (iBUG order for both eyes)."""
    return contour_points(m, n=6)


def _eye_centre(m: NDArray[np.bool_]) -> NDArray[np.float64]:
    """Middle of the eye's column scan at its mid column (the ellipse centre for ellipses)."""
    xs = np.nonzero(m.any(axis=0))[0]
    cx = 0.5 * (xs[0] + xs[-1])
    t, b = column_scan(m, np.array([cx]))
    return np.array([cx, 0.5 * (t[0] + b[0])])


def _bounds(g: Group) -> tuple[float, float, float, float]:
    """The group's inclusive box (x0, y0, x1, y1), pixels."""
    return float(g.x0), float(g.y0), float(g.x1), float(g.y1)


def _mouth_points(g: Group) -> tuple[NDArray[np.float64], NDArray[np.float64], bool]:
    """Outer lips (12, 2), inner lips (8, 2) and whether the mouth is open (the gallery's rule,
    :func:`faceshot_landmarks.mouth_from_mask`)."""
    return mouth_from_mask(g.mask)


def _jaw_points(face: NDArray[np.bool_], eye_y: float, mid_x: float) -> NDArray[np.float64]:
    """17 jaw points along the face outline below eye level, image left to right."""
    origin = np.array([mid_x, eye_y])
    angles = np.linspace(np.pi, 0.0, 721)  # left, down (+y), right
    rim = ray_exit(face, origin, angles)
    return resample_polyline(rim, 17)


def _why(code: str, found: str) -> str:
    """Exclusion reason: the reviewed one from :data:`EXCLUDE` plus what the geometry found."""
    return f"{EXCLUDE[code]} ({found})" if code in EXCLUDE else found


def _box(m: NDArray[np.bool_]) -> list[int]:
    ys, xs = np.nonzero(m)
    return [int(xs.min()), int(ys.min()), int(xs.max()), int(ys.max())]


def derive_face(svg_path: Path, size: int = SIZE) -> FaceGeometry:
    """Derive 68 points and keypoints for one Twemoji SVG."""
    code = svg_path.stem
    leaves = leaves_of(svg_path, size)
    groups = _ink_groups(leaves, size)
    layout = _find_layout(groups, size)
    if layout is None:
        return FaceGeometry(code, False, _why(code, "no eye pair above a centred mouth found"))
    reye, leye, mouth, brows = layout
    rmask, r_cut = _eye_mask(reye, size)
    lmask, l_cut = _eye_mask(leye, size)
    r_c, l_c = _eye_centre(rmask), _eye_centre(lmask)
    probes = np.array([r_c, l_c, [mouth.bcx, mouth.bcy]])
    fm = _face_mask(leaves, probes, size)
    if fm is None:
        return FaceGeometry(
            code, False, _why(code, "no face element containing the eyes and the mouth")
        )
    face, face_index = fm

    pts = np.zeros((68, 2), dtype=np.float64)
    pts[36:42] = _eye_points(rmask)
    pts[42:48] = _eye_points(lmask)
    iod = float(np.linalg.norm(l_c - r_c))
    if brows is not None:
        pts[17:22] = brow_from_mask(brows[0].mask)
        pts[22:27] = brow_from_mask(brows[1].mask)
    else:
        pts[17:22] = undrawn_brows(pts[36:42], iod)
        pts[22:27] = undrawn_brows(pts[42:48], iod)
    outer, inner, is_open = _mouth_points(mouth)
    pts[48:60] = outer
    pts[60:68] = inner

    eye_mid = 0.5 * (r_c + l_c)
    # Nose (not drawn): bridge from between the eyes to the tip 62 % of the way from the eye
    # line to the top of the mouth (point 51); base a short arc below the tip.
    pts[27:36] = undrawn_nose(pts[36:48], outer[3], np.stack([r_c, l_c]))
    pts[0:17] = _jaw_points(face, float(eye_mid[1]), float(eye_mid[0]))

    usable, reason = True, ""
    if not np.isfinite(pts).all():
        return FaceGeometry(code, False, "non-finite points (empty column scan)")
    if (pts < 0).any() or (pts > size - 1).any():
        usable, reason = False, _why(code, "points outside the image")
    elif code in EXCLUDE:
        usable, reason = False, EXCLUDE[code]

    ys, xs = np.nonzero(face)
    kp: dict[str, Any] = {
        "usable": usable,
        "reason": reason,
        "right_eye_centre": r_c.tolist(),
        "left_eye_centre": l_c.tolist(),
        "right_eye_box": _box(rmask),
        "left_eye_box": _box(lmask),
        "eye_fused_stroke_cut": [r_cut, l_cut],
        "mouth_right_corner": outer[0].tolist(),
        "mouth_left_corner": outer[6].tolist(),
        "mouth_top": pts[51].tolist(),
        "mouth_bottom": pts[57].tolist(),
        "mouth_box": [mouth.x0, mouth.y0, mouth.x1, mouth.y1],
        "mouth_open": is_open,
        "iod": float(np.linalg.norm(pts[45] - pts[36])),
        "face_box": [int(xs.min()), int(ys.min()), int(xs.max()), int(ys.max())],
        "face_element": face_index,
        "parts": {
            "face_boundary": "measured",
            "eyebrows": "measured" if brows is not None else "derived",
            "nose": "derived",
            "eyes": "measured",
            "mouth": "measured",
        },
    }
    return FaceGeometry(code, usable, reason, pts, kp)


# --------------------------------------------------------------------------- CLI


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument(
        "--src", type=Path, default=None, help="directory of Twemoji <code>.svg to copy in first"
    )
    ap.add_argument("--out", type=Path, default=_ROOT / "gallery_src" / "twemoji")
    ap.add_argument("--only", nargs="*", default=None, help="codes to process (default: all)")
    ap.add_argument("--no-progress", action="store_true")
    args = ap.parse_args(argv)

    args.out.mkdir(parents=True, exist_ok=True)
    if args.src is not None:
        for svg in sorted(args.src.glob("*.svg")):
            shutil.copyfile(svg, args.out / svg.name)
    svgs = sorted(args.out.glob("*.svg"))
    if args.only:
        svgs = [s for s in svgs if s.stem in set(args.only)]
    if not svgs:
        print(f"no .svg files in {args.out}", file=sys.stderr)
        return 1

    kp_path = args.out / "keypoints.json"
    faces: dict[str, dict[str, Any]] = {}
    if args.only and kp_path.exists():
        faces = json.loads(kp_path.read_text())["faces"]
    for svg in tqdm(svgs, desc="twemoji", file=sys.stderr, disable=args.no_progress):
        geo = derive_face(svg)
        pts_path = args.out / f"{geo.code}.pts"
        if geo.usable and geo.points is not None:
            write_pts(pts_path, geo.points)
        else:
            pts_path.unlink(missing_ok=True)
        faces[geo.code] = (
            geo.keypoints if geo.keypoints else {"usable": False, "reason": geo.reason}
        )
        if geo.points is not None:
            faces[geo.code]["points"] = geo.points.tolist()
    doc = {
        "format": "faceshot-twemoji-keypoints",
        "version": 1,
        "image_size": [SIZE, SIZE],
        "convention": (
            "0-based pixel (x, y) in the 512x512 cairosvg render of the 36x36 viewBox, origin at "
            "the top-left pixel centre; 'right'/'left' are the subject's (right = image left). "
            "points: the 68 iBUG points (also in <code>.pts, 1-based) - present for excluded "
            "faces too, for inspection only."
        ),
        "fields": {
            "usable": "false: not in the gallery (no .pts); 'reason' says why",
            "right_eye_centre, left_eye_centre": "middle of the eye mark at its mid column "
            "(the ellipse centre for elliptic eyes)",
            "right_eye_box, left_eye_box, mouth_box, face_box": "[x0, y0, x1, y1] pixel bounds",
            "mouth_right_corner, mouth_left_corner": "leftmost / rightmost mouth pixel column "
            "(= points 48 / 54)",
            "mouth_top, mouth_bottom": "mouth outline at the corners' mid column (= points 51 / 57)",
            "iod": "outer eye corner distance |p45 - p36|",
            "parts": "per paper part: 'measured' from the SVG geometry or 'derived' (placed)",
        },
        "source": "Twemoji 15.0.0 (npm @twemoji/svg), CC-BY 4.0",
        "faces": dict(sorted(faces.items())),
    }
    atomic_write(kp_path, lambda f: f.write(json.dumps(doc, indent=1).encode("utf-8")))
    n_ok = sum(1 for v in faces.values() if v.get("usable"))
    print(f"{n_ok} usable / {len(faces)} faces", file=sys.stderr)
    for code, v in sorted(faces.items()):
        if not v.get("usable"):
            print(f"  excluded {code}: {v.get('reason')}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
