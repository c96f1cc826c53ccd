"""``faceshot export``: landmark sequences for other landmark-driven models.

Formats: ``mofa`` (MOFA-Video-Hybrid's ``landmarks.npy`` layout plus pose images),
``pose-png`` (coloured part polylines on black, one PNG per frame) and ``npy`` ((T, 68, 2)
float64 in faceshot's convention, rescaled). See :func:`faceshot_animate.export_sequence`.
"""

from __future__ import annotations

import argparse
from typing import Any

__all__ = ["register"]


def register(subparsers: Any) -> None:
    """Add the ``export`` command."""
    from faceshot.commands._args import number
    from faceshot.commands.render import parse_size

    p = subparsers.add_parser(
        "export",
        help="export landmarks L as pose images / .npy for MOFA-Video and similar models",
        description="Rescale the landmark sequence L to --size and write it as FORMAT.",
    )
    p.add_argument("landmarks", metavar="L", help="landmark sequence (.npy, .json or .pts)")
    p.add_argument("--format", required=True, choices=["mofa", "pose-png", "npy"])
    p.add_argument(
        "-o",
        "--output",
        required=True,
        metavar="OUT",
        help="a directory (mofa, pose-png) or a .npy file (npy)",
    )
    p.add_argument(
        "--size",
        type=parse_size,
        default=None,
        metavar="WxH",
        help="frame size of the export (default: --source-size)",
    )
    p.add_argument(
        "--source-size",
        type=parse_size,
        default=None,
        metavar="WxH",
        help="size of the image L belongs to (default: recorded in L's .json, else --size)",
    )
    p.add_argument(
        "--thickness",
        type=number(1, 64, integer=True),
        default=2,
        help="pose line width in pixels, 1..64 (default 2)",
    )
    p.add_argument(
        "--overwrite",
        action="store_true",
        help="replace an existing OUT that holds a previous export (never other files)",
    )
    p.add_argument("--no-progress", action="store_true", help="hide the progress bar")
    p.set_defaults(handler=_export)


def _export(args: argparse.Namespace) -> int:
    from faceshot_animate import export_sequence
    from faceshot_retarget import load_landmarks

    from faceshot._io import check_output_path

    npy = args.format == "npy"
    check_output_path(
        args.output,
        inputs=(args.landmarks,),
        suffixes=(".npy",) if npy else None,
        option="-o",
        what=None if not npy else "format npy",
        directory=not npy,
    )
    lm = load_landmarks(args.landmarks)
    source = args.source_size
    if source is None and lm.image_size is not None:
        source = (lm.image_size[1], lm.image_size[0])
    out = export_sequence(
        lm.points,
        args.output,
        format=args.format,
        size=args.size,
        source_size=source,
        thickness=args.thickness,
        overwrite=args.overwrite,
        progress=not args.no_progress,
    )
    print(f"{out}: {lm.num_frames} frames as {args.format}")
    return 0
