"""Five-point ground truth for character faces: proposals, snapping to the drawn shapes, review sheets.

Dev-time annotation tool (not shipped in any package). Conventions (all in 0-based pixels of the
512x512 cairosvg render, origin at the top-left pixel centre; "right" is the subject's right,
i.e. the image left):

* **eye centre** = centre of the whole eye shape: the middle column of the eye's filled mask and
  the middle of the mask in that column (the ellipse centre for elliptic eyes; the middle of the
  stroke at its apex for closed "^" eyes);
* **nose** = centroid of the nose pad or tip (``null`` where no nose is drawn, e.g. smileys);
* **mouth corners** = the ends of the lip line: the leftmost and rightmost pixel columns of the
  filled mouth mask (mean row there); for animals the ends of the upper-lip line.

How a point is found: a *seed* (a rough click, or the current matcher's prediction) is snapped to
the drawn shape under it: a flood fill in CIE Lab from the seed (fixed range, so gradients of a
single shape stay in), holes filled (pupil highlights, teeth); when the fill is not a plausible
part (too big: the seed hit the face; too small: an outline), the darkest pixel within a small
radius is tried instead. ``exact`` entries bypass snapping. Every result is drawn on contact
sheets (:func:`sheet`) and checked by eye; corrections go into ``annotations.json`` and the
tool is rerun.

Files per style folder (``gallery_src/<style>/``):

* ``annotations.json`` (hand-written): ``{"faces": {name: {"right_eye": [x, y], "left_eye":
  [x, y], "nose": [x, y] | "auto" | null, "mouth": [x, y], "exact": {key: [x, y]}, "flood": [role, ...] (flood from the seed itself), "exclude": reason,
  "animal": bool}}}``; keys left out fall back to the matcher's proposal;
* ``keypoints5.json`` (written): the five points per face, ``null`` for a missing nose, the
  ``animal`` flag, the masks' boxes and how each point was obtained.

Usage::

    uv run python scripts/annotate_keypoints.py gallery_src/noto          # propose + snap + sheet
    uv run python scripts/annotate_keypoints.py gallery_src/noto --no-match   # seeds from annotations.json only
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

import cv2
import numpy as np
from faceshot_landmarks import (
    INNER_CORNER_INSET,
    INNER_LIP_COLUMNS,
    INNER_LIP_INSET,
    mouth_is_open,
    ray_exit,
    resample_polyline,
    undrawn_brows,
)
from numpy.typing import NDArray
from scipy import ndimage

__all__ = ["KEYS", "SIZE", "annotate_style", "main", "render", "snap_region"]

SIZE = 512
#: The five keypoints, in the order of every array written.
KEYS = ("right_eye", "left_eye", "nose", "mouth_right", "mouth_left")
ROOT = Path(__file__).resolve().parents[1]


def render(path: Path, size: int = SIZE) -> NDArray[np.uint8]:
    """(size, size, 3) uint8 RGB render of an SVG (cairosvg) or a raster file, on white."""
    if path.suffix.lower() == ".svg":
        import cairosvg

        png = cairosvg.svg2png(url=str(path), output_width=size, output_height=size)
        im = cv2.imdecode(np.frombuffer(png, np.uint8), cv2.IMREAD_UNCHANGED)
    else:
        im = cv2.imread(str(path), cv2.IMREAD_UNCHANGED)
        im = cv2.resize(im, (size, size), interpolation=cv2.INTER_AREA)
    if im.ndim == 2:
        im = cv2.cvtColor(im, cv2.COLOR_GRAY2BGRA)
    if im.shape[2] == 3:
        im = cv2.cvtColor(im, cv2.COLOR_BGR2BGRA)
    a = im[..., 3:4].astype(np.float32) / 255.0
    rgb = cv2.cvtColor(
        np.round(im[..., :3] * a + 255.0 * (1 - a)).astype(np.uint8), cv2.COLOR_BGR2RGB
    )
    return np.ascontiguousarray(rgb)


def render_alpha(path: Path, size: int = SIZE) -> NDArray[np.uint8]:
    """(size, size) uint8 alpha channel of an SVG render (255 everywhere for raster files)."""
    if path.suffix.lower() != ".svg":
        return np.full((size, size), 255, np.uint8)
    import cairosvg

    png = cairosvg.svg2png(url=str(path), output_width=size, output_height=size)
    im = cv2.imdecode(np.frombuffer(png, np.uint8), cv2.IMREAD_UNCHANGED)
    return (
        np.ascontiguousarray(im[..., 3])
        if im.shape[2] == 4
        else np.full((size, size), 255, np.uint8)
    )


def _flood(
    lab: NDArray[np.uint8], seed: tuple[int, int], tol: tuple[int, int, int]
) -> NDArray[np.bool_]:
    h, w = lab.shape[:2]
    mask = np.zeros((h + 2, w + 2), np.uint8)
    flags = 8 | cv2.FLOODFILL_FIXED_RANGE | cv2.FLOODFILL_MASK_ONLY | (255 << 8)
    cv2.floodFill(lab.copy(), mask, seed, (0, 0, 0), tol, tol, flags)
    filled: NDArray[np.bool_] = ndimage.binary_fill_holes(mask[1:-1, 1:-1] > 0)
    return filled


def snap_region(
    rgb: NDArray[np.uint8],
    seed: NDArray[np.float64],
    role: str,
    tol: tuple[int, int, int] = (22, 14, 14),
    *,
    exact_seed: bool = False,
) -> tuple[NDArray[np.bool_] | None, str]:
    """The filled mask of the drawn part under ``seed`` (x, y), or ``None``; and how it was found.

    The darkest pixel within 3 % (eyes, nose) or 5 % (mouth) of the image size of the seed is
    flooded first, then the seed itself (``exact_seed``: only the seed). A part is plausible
    when its area is between 0.02 % and 10 % (eyes, nose) or 15 % (mouth) of the image and it
    does not touch the image border.
    """
    lab = cv2.cvtColor(rgb, cv2.COLOR_RGB2LAB)
    h, w = lab.shape[:2]
    hi = 0.15 if role == "mouth" else 0.10

    def ok(m: NDArray[np.bool_]) -> bool:
        frac = float(m.mean())
        border = m[0].any() or m[-1].any() or m[:, 0].any() or m[:, -1].any()
        return 2e-4 <= frac <= hi and not border

    x, y = (round(v) for v in np.clip(seed, 0, [w - 1, h - 1]))
    r = round((0.05 if role == "mouth" else 0.03) * w)
    y0, y1, x0, x1 = max(0, y - r), min(h, y + r + 1), max(0, x - r), min(w, x + r + 1)
    yy, xx = np.mgrid[y0:y1, x0:x1]
    disk = (yy - y) ** 2 + (xx - x) ** 2 <= r * r
    light = np.where(disk, lab[y0:y1, x0:x1, 0].astype(np.float64), np.inf)
    k = int(np.argmin(light))
    dy, dx = divmod(k, light.shape[1])
    # Eyes and lip lines are the darkest marks around them: try the darkest pixel near the
    # seed first (not the tongue, the muzzle or an eye white), then the seed itself.
    if exact_seed:
        order = [((x, y), "flood")]
    else:
        order = [((x0 + dx, y0 + dy), "darkest"), ((x, y), "flood")]
    for start, how in order:
        m = _flood(lab, start, tol)
        if ok(m):
            return m, how
    return None, "none"


def eye_centre(mask: NDArray[np.bool_]) -> NDArray[np.float64]:
    """Middle column of the mask and the middle of the mask in that column."""
    xs = np.nonzero(mask.any(axis=0))[0]
    cx = 0.5 * (xs[0] + xs[-1])
    col = np.nonzero(mask[:, round(cx)])[0]
    return np.array([cx, 0.5 * (col[0] + col[-1])], dtype=np.float64)


def centroid(mask: NDArray[np.bool_]) -> NDArray[np.float64]:
    ys, xs = np.nonzero(mask)
    return np.array([xs.mean(), ys.mean()], dtype=np.float64)


def nose_pad(mask: NDArray[np.bool_]) -> tuple[NDArray[np.bool_], bool]:
    """The nose pad of a nose drawn as one shape with the mouth strokes under it.

    An opening with a disk of 2.5 % of the image size removes strokes thinner than that; when
    it removes at least 20 % of the shape, the largest remaining blob is the pad.
    """
    r = max(1, round(0.025 * mask.shape[1]))
    yy, xx = np.mgrid[-r : r + 1, -r : r + 1]
    opened = ndimage.binary_opening(mask, structure=(xx**2 + yy**2) <= r * r)
    if opened.sum() == 0 or opened.sum() > 0.8 * mask.sum():
        return mask, False
    lab, n = ndimage.label(opened)
    sizes = ndimage.sum(opened, lab, np.arange(1, n + 1))
    return lab == 1 + int(np.argmax(sizes)), True


def mouth_corners(mask: NDArray[np.bool_]) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """(image-left end = iBUG 48, image-right end = iBUG 54), each the extreme column's mean row."""
    xs = np.nonzero(mask.any(axis=0))[0]
    left = np.array([xs[0], np.nonzero(mask[:, xs[0]])[0].mean()], dtype=np.float64)
    right = np.array([xs[-1], np.nonzero(mask[:, xs[-1]])[0].mean()], dtype=np.float64)
    return left, right


def _box(mask: NDArray[np.bool_]) -> list[int]:
    ys, xs = np.nonzero(mask)
    return [int(xs.min()), int(ys.min()), int(xs.max()), int(ys.max())]


def pseudo68(rec: dict[str, Any], silhouette: NDArray[np.bool_]) -> NDArray[np.float64]:
    """A 68-point iBUG pseudo-annotation from the five keypoints, the part boxes and the silhouette.

    For the gallery (Eq. 4 references and the shape prior), not for evaluation: eyes are
    ellipses fitting the eye boxes (points 36-47), the outer lips follow the mouth box through
    the measured corners (48-59), inner lips (60-67) follow the Twemoji derivation's rule (inset
    from the outer lips where the mouth is drawn open, on its centre line where closed), the nose tip
    (30) is the nose point (or 62 % of the way from the eye line to the mouth when no nose is
    drawn) with the bridge from the eye line and a short base arc, brows are placed above the
    eyes (``faceshot_landmarks.undrawn_brows``), the jaw follows the silhouette below eye
    level (rays from the eye midpoint, resampled to 17 points).
    """

    p = rec["points"]
    re_, le_ = np.array(p["right_eye"]), np.array(p["left_eye"])
    mr, ml = np.array(p["mouth_right"]), np.array(p["mouth_left"])
    iod = float(np.linalg.norm(le_ - re_))
    out = np.zeros((68, 2))
    t = np.array([np.pi, 2 * np.pi / 3, np.pi / 3, 0.0, -np.pi / 3, -2 * np.pi / 3])
    for sl, c, key in ((slice(36, 42), re_, "right_eye"), (slice(42, 48), le_, "left_eye")):
        box = rec.get("boxes", {}).get(key)
        rx, ry = (
            ((box[2] - box[0]) / 2 + 0.5, (box[3] - box[1]) / 2 + 0.5)
            if box
            else (0.18 * iod, 0.15 * iod)
        )
        out[sl] = np.stack([c[0] + rx * np.cos(t), c[1] - ry * np.sin(t)], axis=1)
    out[17:22] = undrawn_brows(out[36:42], iod)
    out[22:27] = undrawn_brows(out[42:48], iod)
    mbox = rec.get("boxes", {}).get("mouth")
    line_y = 0.5 * (mr[1] + ml[1])
    top, bot = (
        (float(mbox[1]), float(mbox[3])) if mbox else (line_y - 0.04 * iod, line_y + 0.04 * iod)
    )
    top, bot = min(top, line_y), max(bot, line_y)
    u = np.linspace(0.0, 1.0, 7)
    xs = mr[0] + u * (ml[0] - mr[0])
    base = mr[1] + u * (ml[1] - mr[1])
    bump = np.sin(np.pi * u)
    upper = np.stack([xs, base + (top - line_y) * bump], axis=1)
    lower = np.stack([xs, base + (bot - line_y) * bump], axis=1)
    out[48:55] = upper
    out[55:60] = lower[5:0:-1]
    # Inner lips by the Twemoji derivation's rule (derive_twemoji_landmarks): an open mouth's
    # sit INNER_LIP_INSET of its height inside the outer lips, closed lips' on the centre line.
    iu = INNER_LIP_COLUMNS
    ix = mr[0] + iu * (ml[0] - mr[0])
    ib = mr[1] + iu * (ml[1] - mr[1])
    up_t = ib + (top - line_y) * np.sin(np.pi * iu)  # the outer lips at those columns
    lo_b = ib + (bot - line_y) * np.sin(np.pi * iu)
    if rec.get("mouth_open", False):
        inset = INNER_LIP_INSET * (lo_b - up_t)
        ib_t, ib_b = up_t + inset, lo_b - inset
        corners = (mr + INNER_CORNER_INSET * (ml - mr), ml - INNER_CORNER_INSET * (ml - mr))
    else:
        ib_t = ib_b = 0.5 * (up_t + lo_b)
        corners = (mr, ml)
    out[60] = corners[0]
    out[61:64] = np.stack([ix, ib_t], axis=1)
    out[64] = corners[1]
    out[65:68] = np.stack([ix[::-1], ib_b[::-1]], axis=1)
    eye_mid = 0.5 * (re_ + le_)
    mouth_mid = 0.5 * (mr + ml)
    tip = (
        np.array(p["nose"])
        if p.get("nose") is not None
        else eye_mid + 0.62 * (np.array([mouth_mid[0], top]) - eye_mid)
    )
    lid_y = min(out[37:39, 1].mean(), out[43:45, 1].mean())
    out[27:31] = np.stack(
        [np.linspace(eye_mid[0], tip[0], 4), np.linspace(lid_y, tip[1], 4)], axis=1
    )
    w = np.linspace(-1.0, 1.0, 5)
    out[31:36] = np.stack([tip[0] + 0.2 * iod * w, tip[1] + 0.06 * iod - 0.04 * iod * w**2], axis=1)
    angles = np.linspace(np.pi, 0.0, 721)
    rim = ray_exit(ndimage.binary_fill_holes(silhouette), eye_mid, angles)
    out[0:17] = resample_polyline(rim, 17)
    return out


def _matcher_seeds(images: dict[str, NDArray[np.uint8]]) -> dict[str, dict[str, list[float]]]:
    """Rough seeds from the default gallery's whole-image match (no localisation, no flip):
    eye-contour means, nose tip 30 (33 base), mouth centre (mean of the outer lips)."""
    from faceshot_features import load_extractor
    from faceshot_landmarks import load_gallery, match

    from faceshot import default_gallery_path

    extractor = load_extractor("embedded")
    gallery = load_gallery(default_gallery_path())
    out = {}
    for name, rgb in images.items():
        p = np.asarray(match(extractor.extract(rgb), gallery).points)
        out[name] = {
            "right_eye": p[36:42].mean(0).tolist(),
            "left_eye": p[42:48].mean(0).tolist(),
            "nose": p[33].tolist(),
            "mouth": p[48:60].mean(0).tolist(),
        }
    return out


def annotate_face(
    rgb: NDArray[np.uint8], seeds: dict[str, Any], entry: dict[str, Any]
) -> dict[str, Any]:
    """Five keypoints of one face from seeds and the hand-written entry (see the module docs)."""
    exact = entry.get("exact", {})
    rec: dict[str, Any] = {"animal": bool(entry.get("animal", False)), "how": {}, "boxes": {}}
    pts: dict[str, list[float] | None] = {}
    for role in ("right_eye", "left_eye", "nose", "mouth"):
        if role == "nose" and "nose" in entry and entry["nose"] is None:
            pts["nose"] = None
            rec["how"]["nose"] = "not drawn"
            continue
        if role == "nose" and "nose" not in entry and "nose" not in exact:
            pts["nose"] = None
            rec["how"]["nose"] = "not drawn (no seed given)"
            continue
        if role == "mouth" and "mouth_right" in exact and "mouth_left" in exact:
            pts["mouth_right"], pts["mouth_left"] = exact["mouth_right"], exact["mouth_left"]
            rec["how"]["mouth"] = "exact"
            continue
        if role in exact:
            pts[role] = exact[role]
            rec["how"][role] = "exact"
            continue
        given = entry.get(role)
        seed = np.asarray(seeds.get(role) if given in (None, "auto") else given, dtype=np.float64)
        source = "matcher seed" if given in (None, "auto") else "seed"
        flood_only = role in entry.get("flood", ())
        mask, how = snap_region(rgb, seed, role, exact_seed=flood_only)
        if mask is None and role == "nose":
            pts["nose"] = None
            rec["how"]["nose"] = f"{source}: no plausible region (not scored)"
            continue
        if mask is None:
            rec["how"][role] = f"{source}: no plausible region"
            rec.setdefault("problems", []).append(role)
            if role == "mouth":
                pts["mouth_right"] = pts["mouth_left"] = None
            else:
                pts[role] = None
            continue
        rec["how"][role] = f"{source} + {how}"
        rec["boxes"][role] = _box(mask)
        if role == "mouth":
            a, b = mouth_corners(mask)
            pts["mouth_right"], pts["mouth_left"] = a.tolist(), b.tolist()
            box = rec["boxes"]["mouth"]
            rec["mouth_open"] = mouth_is_open(ndimage.binary_fill_holes(mask), box[0], box[2])
        elif role == "nose":
            pad, cut = nose_pad(mask)
            rec["how"][role] += " + mouth strokes cut off" if cut else ""
            pts["nose"] = centroid(pad).tolist()
        else:
            pts[role] = eye_centre(mask).tolist()
    # A symmetric face: an eye that did not snap is seeded at the mirror image of the other.
    for miss, other in (("right_eye", "left_eye"), ("left_eye", "right_eye")):
        if pts.get(miss) is None and pts.get(other) is not None and miss not in exact:
            w = rgb.shape[1]
            seed = np.array([w - 1 - pts[other][0], pts[other][1]])
            mask, how = snap_region(rgb, seed, miss)
            if mask is not None:
                pts[miss] = eye_centre(mask).tolist()
                rec["how"][miss] = f"mirror of the other eye + {how}"
                rec["boxes"][miss] = _box(mask)
                rec["problems"].remove(miss)
                if not rec["problems"]:
                    del rec["problems"]
    rec["points"] = {k: pts.get(k) for k in KEYS}
    return rec


def annotate_style(
    folder: Path, *, use_matcher: bool = True, write_pts_files: bool = True
) -> dict[str, Any]:
    """Annotate every image of a style folder; writes ``keypoints5.json`` (and, with
    ``write_pts_files``, a ``<name>.pts`` 68-point pseudo-annotation per usable face) and
    returns the document."""
    from faceshot_retarget import atomic_write, write_pts

    ann_path = folder / "annotations.json"
    hand = json.loads(ann_path.read_text())["faces"] if ann_path.is_file() else {}
    files = sorted(
        p
        for p in folder.iterdir()
        if p.suffix.lower() in (".svg", ".png") and not p.stem.startswith("contact_sheet")
    )
    images = {p.stem: render(p) for p in files}
    old = folder / "keypoints5.json"
    cached = json.loads(old.read_text()).get("matcher_seeds", {}) if old.is_file() else {}
    seeds: dict[str, Any] = {}
    if use_matcher:
        todo = {n: im for n, im in images.items() if n not in cached}
        seeds = {
            **{n: v for n, v in cached.items() if n in images},
            **(_matcher_seeds(todo) if todo else {}),
        }
    faces = {}
    for p in files:
        entry = hand.get(p.stem, {})
        if "exclude" in entry:
            faces[p.stem] = {"exclude": entry["exclude"]}
            if write_pts_files:
                (folder / f"{p.stem}.pts").unlink(missing_ok=True)
            continue
        rec = annotate_face(images[p.stem], seeds.get(p.stem, {}), entry)
        rec["file"] = p.name
        faces[p.stem] = rec
        pts_path = folder / f"{p.stem}.pts"
        if write_pts_files and not rec.get("problems"):
            alpha = render_alpha(p)
            write_pts(pts_path, pseudo68(rec, alpha >= 128))
        elif write_pts_files:
            pts_path.unlink(missing_ok=True)
    doc = {
        "format": "faceshot-keypoints5",
        "version": 1,
        "image_size": [SIZE, SIZE],
        "keys": list(KEYS),
        "convention": __doc__.split("Conventions")[1].split("How a point")[0].strip(),
        "faces": faces,
        "matcher_seeds": seeds,
    }
    atomic_write(folder / "keypoints5.json", lambda f: f.write(json.dumps(doc, indent=1).encode()))
    return doc


_COLOURS = {
    "right_eye": (255, 0, 255),
    "left_eye": (0, 160, 255),
    "nose": (0, 170, 0),
    "mouth_right": (230, 0, 0),
    "mouth_left": (255, 140, 0),
}


def sheet(
    folder: Path,
    doc: dict[str, Any],
    out: Path,
    cell: int = 256,
    cols: int = 5,
    only: list[str] | None = None,
) -> list[Path]:
    """Contact sheets (``4 * cols`` faces each): the render with a 64-px grid (lines labelled in
    512-px coordinates), the five points and the boxes of the snapped parts."""
    names = sorted(n for n in doc["faces"] if only is None or n in only)
    paths = []
    per = cols * 4
    for s in range(0, len(names), per):
        chunk = names[s : s + per]
        rows = (len(chunk) + cols - 1) // cols
        canvas = np.full((rows * (cell + 16), cols * cell, 3), 255, np.uint8)
        for k, name in enumerate(chunk):
            rec = doc["faces"][name]
            f = next(
                p
                for p in folder.iterdir()
                if p.stem == name and p.suffix.lower() in (".svg", ".png")
            )
            im = render(f)
            for g in range(64, SIZE, 64):
                im[g, :] = (im[g, :] * 0.6 + np.array([120, 120, 255]) * 0.4).astype(np.uint8)
                im[:, g] = (im[:, g] * 0.6 + np.array([120, 120, 255]) * 0.4).astype(np.uint8)
                cv2.putText(
                    im, str(g), (g + 2, 14), cv2.FONT_HERSHEY_SIMPLEX, 0.45, (60, 60, 200), 1
                )
                cv2.putText(
                    im, str(g), (2, g - 3), cv2.FONT_HERSHEY_SIMPLEX, 0.45, (60, 60, 200), 1
                )
            if "exclude" not in rec:
                for box in rec.get("boxes", {}).values():
                    cv2.rectangle(im, tuple(box[:2]), tuple(box[2:]), (90, 90, 90), 1)
                for key, p in rec["points"].items():
                    if p is not None:
                        c = (round(p[0]), round(p[1]))
                        cv2.circle(im, c, 7, (255, 255, 255), -1)
                        cv2.circle(im, c, 5, _COLOURS[key], -1)
            small = cv2.resize(im, (cell, cell), interpolation=cv2.INTER_AREA)
            r, c = divmod(k, cols)
            canvas[r * (cell + 16) + 16 : (r + 1) * (cell + 16), c * cell : (c + 1) * cell] = small
            label = (
                name[:30]
                + (" EXCL" if "exclude" in rec else "")
                + (" !" if rec.get("problems") else "")
            )
            cv2.putText(
                canvas,
                label,
                (c * cell + 2, r * (cell + 16) + 12),
                cv2.FONT_HERSHEY_SIMPLEX,
                0.38,
                (200, 0, 0) if ("exclude" in rec or rec.get("problems")) else (0, 0, 0),
                1,
            )
        path = out / f"{folder.name}_{'zoom_' if only else ''}{s // per}.png"
        cv2.imwrite(str(path), cv2.cvtColor(canvas, cv2.COLOR_RGB2BGR))
        paths.append(path)
    return paths


#: Twemoji code points of animal faces (for the ``animal`` flag).
TWEMOJI_ANIMALS = frozenset(
    "1f42d 1f42e 1f42f 1f430 1f431 1f434 1f435 1f436 1f437 1f438 1f439 1f43a 1f43b 1f43c 1f417 1f428 "
    "1f981 1f98a 1f984 1f648 1f649 1f64a 1f638 1f639 1f63a 1f63b 1f63c 1f63d 1f63e 1f63f 1f640".split()
)


def twemoji_keypoints5(folder: Path) -> dict[str, Any]:
    """``keypoints5.json`` for Twemoji from the SVG-derived ``keypoints.json`` (usable faces):
    eye centres and mouth corners measured from the vector geometry by
    ``scripts/derive_twemoji_landmarks.py`` (same conventions); no nose is drawn on these."""
    from faceshot_retarget import atomic_write

    src = json.loads((folder / "keypoints.json").read_text())["faces"]
    faces = {}
    for code, f in sorted(src.items()):
        if not f.get("usable"):
            faces[code] = {"exclude": f.get("reason", "not usable")}
            continue
        faces[code] = {
            "animal": code in TWEMOJI_ANIMALS,
            "how": {"all": "vector geometry (derive_twemoji_landmarks.py)"},
            "boxes": {
                "right_eye": f["right_eye_box"],
                "left_eye": f["left_eye_box"],
                "mouth": f["mouth_box"],
            },
            "points": {
                "right_eye": f["right_eye_centre"],
                "left_eye": f["left_eye_centre"],
                "nose": None,
                "mouth_right": f["mouth_right_corner"],
                "mouth_left": f["mouth_left_corner"],
            },
            "file": f"{code}.svg",
        }
    doc = {
        "format": "faceshot-keypoints5",
        "version": 1,
        "image_size": [SIZE, SIZE],
        "keys": list(KEYS),
        "convention": __doc__.split("Conventions")[1].split("How a point")[0].strip(),
        "faces": faces,
    }
    atomic_write(folder / "keypoints5.json", lambda f: f.write(json.dumps(doc, indent=1).encode()))
    return doc


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("folders", nargs="+", type=Path)
    ap.add_argument(
        "--no-match",
        action="store_true",
        help="no matcher proposals (seeds from annotations.json only)",
    )
    ap.add_argument("--sheets", type=Path, default=None, help="write review sheets here")
    ap.add_argument("--only", nargs="*", default=None, help="sheets of these faces only, larger")
    ap.add_argument(
        "--no-pts", action="store_true", help="do not write <name>.pts files (twemoji has its own)"
    )
    ap.add_argument(
        "--twemoji",
        action="store_true",
        help="convert twemoji's vector-derived keypoints.json instead",
    )
    args = ap.parse_args(argv)
    for folder in args.folders:
        if args.twemoji:
            doc = twemoji_keypoints5(folder)
        else:
            doc = annotate_style(
                folder, use_matcher=not args.no_match, write_pts_files=not args.no_pts
            )
        bad = [n for n, r in doc["faces"].items() if r.get("problems")]
        print(f"{folder.name}: {len(doc['faces'])} faces, problems: {bad}", file=sys.stderr)
        if args.sheets is not None:
            args.sheets.mkdir(parents=True, exist_ok=True)
            kw = {"cell": 384, "cols": 3, "only": args.only} if args.only else {}
            for p in sheet(folder, doc, args.sheets, **kw):
                print(p, file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
