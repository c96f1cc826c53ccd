"""``faceshot match``: find 68 landmarks on any character image with a gallery."""

from __future__ import annotations

import argparse
from typing import Any

__all__ = ["register"]


def register(subparsers: Any) -> None:
    """Add the ``match`` command."""
    p = subparsers.add_parser(
        "match",
        help="match 68 landmarks onto an image with an appearance gallery",
        description="Extract features of IMAGE with the gallery's backbone, match the 68 iBUG "
        "landmarks (cosine argmax + sub-pixel refinement + shape prior) and write them.",
    )
    p.add_argument("image", metavar="IMAGE")
    p.add_argument(
        "--gallery", default=None, metavar="G", help="gallery directory (default: the bundled one)"
    )
    p.add_argument(
        "-o", "--output", required=True, metavar="R.pts", help=".pts, .json or .npy output"
    )
    p.add_argument("--plot", metavar="R.png", help="also write the image with the points drawn")
    p.add_argument(
        "--backbone", default=None, help="override the extractor (default: the gallery's)"
    )
    p.add_argument("--no-prior", action="store_true", help="skip the shape-prior regularisation")
    p.add_argument(
        "--face",
        type=int,
        default=0,
        metavar="N",
        help="which face when there are several, largest first (default 0: the largest)",
    )
    p.add_argument(
        "--human",
        choices=("auto", "dlib", "matcher"),
        default="auto",
        help="auto: dlib's 68-point predictor when dlib finds a human face, else the matcher (default)",
    )
    from faceshot.commands._args import add_overwrite_argument

    add_overwrite_argument(p)
    p.set_defaults(handler=_match)


def _match(args: argparse.Namespace) -> int:
    import sys
    from pathlib import Path

    import numpy as np
    from faceshot_landmarks import (
        CHARACTER_MATCHER,
        LocateConfig,
        MatcherConfig,
        load_gallery,
        locate_and_match,
    )
    from faceshot_retarget import AtomicOutputs, Landmarks, save_landmarks

    from faceshot._io import check_not_blank, default_gallery_path, load_character
    from faceshot.commands._args import check_outputs
    from faceshot.commands._landmarks_shared import extractor_for_gallery

    check_outputs(
        [
            ("-o", args.output, (".pts", ".json", ".npy"), None),
            ("--plot", args.plot, (".png", ".jpg", ".jpeg"), None),
        ],
        inputs=(args.image, args.gallery),
        overwrite=args.overwrite,
    )
    if args.face < 0:
        raise ValueError(f"`--face` must be >= 0; got {args.face}")
    gallery = load_gallery(args.gallery if args.gallery is not None else default_gallery_path())
    character = load_character(Path(args.image), max_side=1 << 16)
    check_not_blank(character.image, f"character image {args.image!r}")
    extractor = _Lazy(lambda: extractor_for_gallery(gallery, args.backbone))
    result = locate_and_match(
        character.image,
        extractor,
        gallery,
        face=args.face,
        config=LocateConfig(human=args.human),
        # without the prior, the search radius and clamp of CHARACTER_MATCHER play no part
        matcher=MatcherConfig(use_prior=False) if args.no_prior else CHARACTER_MATCHER,
        name=repr(args.image),
    )
    image = character.rgb
    with AtomicOutputs() as outs:  # both files or neither
        save_landmarks(outs.stage(args.output), Landmarks(result.points, image.shape[:2]))
        if args.plot:
            _plot(image, result, str(outs.stage(args.plot)))
    box = ", ".join(f"{v:.0f}" for v in result.face_box) if result.face_box else "whole image"
    if result.path == "dlib":
        how = "dlib 68-point predictor (human face)"
    else:
        parts = ", ".join(f"{k}={v}" for k, v in result.domain_of_part.items())
        how = f"matcher (median confidence {float(np.median(result.confidence)):.3f}; domains: {parts})"
    print(
        f"{args.output}: 68 points by {how}; face {args.face + 1} of {result.num_faces} at [{box}]"
    )
    warning = result.warning()
    if warning is not None:
        print(f"warning: {args.image}: {warning}", file=sys.stderr)
    return 0


class _Lazy:
    """An extractor built on the first ``extract`` (the dlib path never needs one)."""

    def __init__(self, make: Any) -> None:
        self._make = make
        self._ex: Any = None

    def extract(self, image: Any) -> Any:
        if self._ex is None:
            self._ex = self._make()
        return self._ex.extract(image)


def _plot(image: Any, result: Any, path: str) -> None:
    import cv2
    from faceshot_landmarks import draw_points
    from faceshot_retarget import atomic_write

    radius = max(1, round(max(image.shape[:2]) / 200))
    drawn = draw_points(image, result.points, radius=radius)
    suffix = "." + path.rsplit(".", 1)[-1] if "." in path else ".png"
    ok, buf = cv2.imencode(suffix, cv2.cvtColor(drawn, cv2.COLOR_RGB2BGR))
    if not ok:
        raise ValueError(f"`--plot` {path!r}: cannot encode an image with suffix {suffix!r}")
    atomic_write(path, lambda f: f.write(buf.tobytes()))
