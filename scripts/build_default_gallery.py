"""Build the appearance gallery shipped with ``faceshot`` (``src/faceshot/data/gallery``).

Dev-time script. Domains, each from a folder of ``gallery_src/`` whose images have same-stem
iBUG ``.pts`` files (1-based, read with :func:`faceshot_retarget.load_landmarks`):

* ``emoji``  <- ``gallery_src/twemoji``, ``noto``, ``noto-v1``, ``emojione``, ``fxemoji``: Twemoji
  SVGs rendered by cairosvg at 512 px (the render the landmarks were derived on, see
  ``scripts/derive_twemoji_landmarks.py``; only faces with a ``.pts``, those marked usable after
  the check by eye) pooled with the faces of four more emoji styles (npm Iconify sets, licences in
  ``gallery_src/README.md``) whose 68-point pseudo-annotations were made from their checked
  5-point ground truth by ``scripts/annotate_keypoints.py``.
* ``human``  <- ``gallery_src/human``: photographs with ground-truth 68-point annotations.

Each domain stores 4 per-landmark prototypes (``--prototypes``). The layout (one pooled emoji
domain, prototypes, no mirrored copies) is the one the leave-one-style-out benchmark
(``bench/matching.py``) measured best: pooling the styles with prototypes beat one domain per
style (held-out mean 0.067 vs 0.074), and mirrored copies (``--mirror``) changed nothing
(0.068).

Features come from :func:`faceshot_features.load_extractor` (``--backbone``, default the
embedded MobileNetV2); the gallery is written with :func:`faceshot_landmarks.add_domain` into
a temporary directory next to ``--out`` that then replaces ``--out``.

Usage::

    uv run python scripts/build_default_gallery.py
    uv run python scripts/build_default_gallery.py --backbone sd21 --out /data/gallery-sd21
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
from pathlib import Path

import numpy as np
from faceshot_retarget import load_landmarks
from tqdm import tqdm

from faceshot import load_character
from faceshot._gallery_recipe import DOMAINS, PROTOTYPES, annotated_sources
from faceshot._gallery_recipe import folder_pairs as collect

__all__ = ["DOMAINS", "collect", "main"]

ROOT = Path(__file__).resolve().parents[1]
# DOMAINS (domain -> source folders) and PROTOTYPES come from faceshot._gallery_recipe, shared
# with the benchmarks that rebuild this gallery with some sources left out.


def load_pair(image: Path, pts: Path) -> tuple[np.ndarray, np.ndarray]:
    """(H, W, 3) uint8 RGB image and its (68, 2) float64 landmarks (0-based pixels)."""
    character = load_character(image, max_side=1 << 16)
    points = load_landmarks(pts).points[0]
    return character.rgb, np.asarray(points, dtype=np.float64)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--src", type=Path, default=ROOT / "gallery_src")
    parser.add_argument("--out", type=Path, default=ROOT / "src" / "faceshot" / "data" / "gallery")
    parser.add_argument("--backbone", default="embedded", choices=("embedded", "sd15-ip", "sd21"))
    parser.add_argument("--device", default="cpu")
    parser.add_argument(
        "--mirror",
        action="store_true",
        help="also add every image mirrored left-right (points swapped)",
    )
    parser.add_argument(
        "--no-mirror", action="store_true", help=argparse.SUPPRESS
    )  # old command lines: now the default
    parser.add_argument(
        "--domains", nargs="*", default=list(DOMAINS), help="domains to build (default: all)"
    )
    parser.add_argument(
        "--prototypes",
        type=int,
        default=PROTOTYPES,
        help="per-landmark prototypes per domain (0: none)",
    )
    parser.add_argument(
        "--tap-cache",
        action="store_true",
        help="embedded backbone only: reuse bench/_taps.py's on-disk cache of the backbone's layer outputs "
        "(the same features, rebuilt exactly; much faster on a machine that already ran the benchmark)",
    )
    args = parser.parse_args(argv)

    from faceshot_features import load_extractor
    from faceshot_landmarks import add_domain
    from faceshot_retarget import replace_atomically

    if args.tap_cache:
        if args.backbone != "embedded":
            parser.error("--tap-cache needs --backbone embedded")
        sys.path.insert(0, str(ROOT / "bench"))
        from _taps import TapExtractor

        extractor = TapExtractor()
    else:
        extractor = load_extractor(args.backbone, device=args.device)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=".gallery.", dir=args.out.parent))
    build = tmp / "gallery"
    try:
        from faceshot_landmarks.testing import flip_example

        for domain in args.domains:
            folders = DOMAINS[domain]
            pairs = [(src.image, src.pts) for src in annotated_sources(args.src, (domain,))]
            if not pairs:
                print(
                    f"domain {domain!r}: no annotated images in {', '.join(folders)}; skipped",
                    file=sys.stderr,
                )
                continue
            feats, anns = [], []
            for image, pts in tqdm(pairs, desc=domain, unit="image"):
                rgb, points = load_pair(image, pts)
                feats.append(extractor.extract(rgb))
                anns.append(points)
                if args.mirror and not args.no_mirror:
                    mirrored, mpoints = flip_example(rgb, points)
                    feats.append(extractor.extract(mirrored))
                    anns.append(mpoints)
            add_domain(build, domain, feats, np.stack(anns), prototypes=args.prototypes)
            print(f"domain {domain!r}: {len(pairs)} images", file=sys.stderr)
        if not (build / "manifest.json").is_file():
            print("no domain was built", file=sys.stderr)
            return 1
        if args.out.exists():
            shutil.rmtree(args.out)
        replace_atomically(build, args.out)  # files flushed, then renamed into place
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    size = sum(f.stat().st_size for f in args.out.rglob("*") if f.is_file())
    print(f"wrote {args.out} ({size / 1e6:.2f} MB)", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
