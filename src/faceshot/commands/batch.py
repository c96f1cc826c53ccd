"""``faceshot batch``: many characters x many driving videos, resumable, local or on Ray.

    faceshot batch jobs.csv                       # a jobs file (CSV or JSONL)
    faceshot batch --characters chars/ --drivings clips/ -o out/   # the cross product
    faceshot batch jobs.jsonl --ray               # Ray: a local instance or $RAY_ADDRESS
    faceshot batch jobs.jsonl --ray HOST:6379     # an existing Ray cluster

Exit status: 0 when every job is done (written now or verified from an earlier run),
1 when some failed (one line each on stderr; all in the results file), 130 on Ctrl-C.
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

__all__ = ["parse_set", "register"]


def register(subparsers: Any) -> None:
    """Add the ``batch`` command."""
    p = subparsers.add_parser(
        "batch",
        help="animate many characters with many driving videos (resumable; local pool or Ray)",
        description="Run many animate jobs with shared work: driving landmarks once per video (cached "
        "by content hash), character landmarks once per image, models once per worker. Jobs come "
        "from a CSV/JSONL file (columns character, driving, output, landmarks and any FaceShot "
        "option, e.g. expression_scale, detector) or from the cross product of two directories. "
        "Rerunning skips outputs that are complete and verified.",
    )
    p.add_argument(
        "jobs",
        nargs="?",
        metavar="JOBS",
        help="jobs file (.csv, .jsonl); relative paths are relative to it",
    )
    p.add_argument(
        "--characters",
        metavar="DIR",
        help="directory of character images (cross product with --drivings)",
    )
    p.add_argument(
        "--drivings",
        metavar="DIR",
        help="directory of driving videos (cross product with --characters)",
    )
    p.add_argument(
        "-o",
        "--output-dir",
        metavar="DIR",
        help="outputs of the cross product (CHAR__DRIVING.mp4) and of jobs with no output",
    )
    p.add_argument(
        "--results",
        metavar="R.jsonl",
        help="results file, appended to (default: JOBS.results.jsonl, or DIR/batch-results.jsonl)",
    )
    p.add_argument(
        "-s",
        "--set",
        dest="options",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="a FaceShot option for every job, e.g. --set expression_scale=0.7 --set detector=matcher (repeatable; a job's own value wins)",
    )
    p.add_argument(
        "-j",
        "--workers",
        type=int,
        metavar="N",
        help="worker processes or Ray actors (default: one per core)",
    )
    p.add_argument(
        "--ray",
        nargs="?",
        const=True,
        default=None,
        metavar="ADDRESS",
        help="run on Ray (pip install 'faceshot[cluster]'): no ADDRESS starts a local instance (or uses $RAY_ADDRESS); "
        "ADDRESS is a running cluster ('auto', HOST:PORT). Every node needs faceshot installed and the same paths",
    )
    p.add_argument(
        "--ray-cpus", type=float, default=1.0, metavar="C", help="CPUs per Ray actor (default 1)"
    )
    p.add_argument(
        "--ray-gpus", type=float, default=0.0, metavar="G", help="GPUs per Ray actor (default 0)"
    )
    p.add_argument(
        "--cache-dir",
        metavar="DIR",
        help="landmark cache (default: $FACESHOT_CACHE or ~/.cache/faceshot/landmarks)",
    )
    p.add_argument("--no-cache", action="store_true", help="keep the landmark cache in memory only")
    p.add_argument(
        "--overwrite",
        action="store_true",
        help="replace existing outputs not written by faceshot batch",
    )
    p.add_argument("--no-audio", action="store_true", help="do not copy the driving videos' audio")
    p.add_argument("--crf", type=int, default=18, help="x264 quality 0..51 (default 18)")
    p.add_argument(
        "--reproducible",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="byte-identical outputs for identical inputs on any engine (default; x264 mb-tree off, "
        "files ~1.5x larger); --no-reproducible: smaller files whose bytes vary from run to run",
    )
    p.add_argument("--no-progress", action="store_true", help="hide the progress bar")
    p.set_defaults(handler=_batch)


def parse_set(items: list[str]) -> dict[str, Any]:
    """``["expression_scale=0.7", "detector=matcher"]`` -> options (values read like CSV cells)."""
    from faceshot._batch_jobs import _cell
    from faceshot.errors import BatchError

    out: dict[str, Any] = {}
    for item in items:
        name, sep, value = item.partition("=")
        if not sep or not name.strip():
            raise BatchError(f"--set {item!r}: expected NAME=VALUE")
        out[name.strip()] = _cell(value)
    return out


def _batch(args: argparse.Namespace) -> int:
    from faceshot._batch import BatchInterrupted, batch, iter_failed
    from faceshot.errors import BatchError

    if args.jobs is None and not (args.characters and args.drivings):
        raise BatchError("give a jobs file, or --characters DIR --drivings DIR -o DIR")
    if args.jobs is None and not args.output_dir:
        raise BatchError("--characters/--drivings need -o/--output-dir")
    try:
        results = batch(
            args.jobs,
            characters=args.characters if args.jobs is None else None,
            drivings=args.drivings if args.jobs is None else None,
            output_dir=args.output_dir,
            results=args.results,
            options=parse_set(args.options),
            workers=args.workers,
            ray=args.ray,
            ray_cpus=args.ray_cpus,
            ray_gpus=args.ray_gpus,
            cache_dir=args.cache_dir,
            cache=not args.no_cache,
            overwrite=args.overwrite,
            audio=not args.no_audio,
            crf=args.crf,
            reproducible=args.reproducible,
            progress=not args.no_progress,
        )
    except BatchInterrupted as exc:
        res = exc.results
        print(
            f"faceshot batch: interrupted: {res.summary()}; no partial output left; rerun to resume",
            file=sys.stderr,
        )
        return 130
    for line in iter_failed(results):
        print(f"faceshot batch: {line}", file=sys.stderr)
    where = f"; results: {results.results_path}" if results.results_path else ""
    print(f"{results.summary()}{where}")
    return 1 if results.counts["failed"] else 0
