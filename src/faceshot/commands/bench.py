"""``faceshot bench``: retarget/detection/animate throughput, matcher accuracy, expression
error (FaceShot §4.1 with LK tracks) and identity similarity, as one table (and JSON).

Runs from any install (its inputs ship in ``faceshot/data/bench``); the matcher-accuracy figures
also need a faceshot checkout (``gallery_src/``, ``bench/matching.py``): the current directory
when it is one, or ``--repo DIR``; without one they are ``n/a`` and one line says so.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

__all__ = ["register"]


def register(subparsers: Any) -> None:
    """Add the ``bench`` command."""
    p = subparsers.add_parser(
        "bench", help="measure speed and accuracy figures on this machine (one table)"
    )
    p.add_argument(
        "--quick",
        action="store_true",
        help="30 frames and 4 emoji faces (under a minute on 2 idle cores)",
    )
    p.add_argument("--json", metavar="OUT.json", help="also write the figures as JSON")
    p.add_argument(
        "--character",
        type=Path,
        help="character image (default: the demo character shipped with faceshot)",
    )
    p.add_argument(
        "--driving", type=Path, help="driving video (default: the demo clip shipped with faceshot)"
    )
    p.add_argument(
        "--repo",
        type=Path,
        metavar="DIR",
        help="a faceshot checkout, for the matcher-accuracy figures (default: the current directory "
        "or a parent, when it is one)",
    )
    p.add_argument("--no-progress", action="store_true", help="hide the progress bars")
    # before issue 15 the bars were off unless --progress; kept (a no-op) so scripts keep working
    p.add_argument("--progress", action="store_true", help=argparse.SUPPRESS)
    p.set_defaults(handler=_bench)


def _bench(args: argparse.Namespace) -> int:
    from faceshot_retarget import atomic_write

    from faceshot._bench import find_checkout, format_table, run_bench

    if args.json:
        from faceshot._io import check_output_path

        target = Path(args.json)
        if not (target.parent if str(target.parent) else Path(".")).is_dir():
            raise FileNotFoundError(
                f"--json {args.json!r}: directory {str(target.parent)!r} does not exist"
            )
        check_output_path(
            target,
            inputs=(args.character, args.driving),
            suffixes=(".json",),
            option="--json",
            what="JSON",
        )
    repo = args.repo if args.repo is not None else "auto"
    if repo == "auto" and find_checkout() is None:
        print(
            "faceshot bench: no faceshot checkout here (gallery_src/, bench/matching.py): the matcher-accuracy "
            "figures are n/a; run in a checkout or pass --repo DIR",
            file=sys.stderr,
        )
    result = run_bench(
        quick=args.quick,
        character=args.character,
        driving=args.driving,
        progress=not args.no_progress,
        repo=repo,
    )
    print(format_table(result))
    if args.json:
        text = json.dumps(result, indent=2).encode()
        atomic_write(args.json, lambda f: f.write(text))
    return 0
