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
    p.add_argument("--gallery", required=True, metavar="G", help="gallery directory")
    p.add_argument("-o", "--output", required=True, metavar="R.pts", help=".pts, .json or .npy output")
    p.add_argument("--plot", metavar="R.png", help="also write the image with the points drawn")
    p.add_argument("--backbone", default=None, help="override the extractor (default: the gallery's)")
    p.add_argument("--no-prior", action="store_true", help="skip the shape-prior regularisation")
    p.set_defaults(handler=_match)


def _match(args: argparse.Namespace) -> int:
    import numpy as np
    from faceshot_landmarks import MatcherConfig, load_gallery, match, read_image
    from faceshot_retarget import AtomicOutputs, Landmarks, save_landmarks

    from faceshot.commands._args import check_outputs
    from faceshot.commands._landmarks_shared import extractor_for_gallery

    check_outputs(
        [("-o", args.output, (".pts", ".json", ".npy"), None), ("--plot", args.plot, (".png", ".jpg", ".jpeg"), None)],
        inputs=(args.image, args.gallery),
    )
    gallery = load_gallery(args.gallery)
    image = read_image(args.image)
    extractor = extractor_for_gallery(gallery, args.backbone)
    result = match(extractor.extract(image), gallery, config=MatcherConfig(use_prior=not args.no_prior))
    with AtomicOutputs() as outs:  # both files or neither
        save_landmarks(outs.stage(args.output), Landmarks(result.points, image.shape[:2]))
        if args.plot:
            _plot(image, result, str(outs.stage(args.plot)))
    parts = ", ".join(f"{k}={v}" for k, v in result.domain_of_part.items())
    print(f"{args.output}: 68 points (median confidence {float(np.median(result.confidence)):.3f}); domains: {parts}")
    return 0


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
