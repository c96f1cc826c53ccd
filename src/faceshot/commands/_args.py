"""Argument types shared by the subcommands: numbers checked against their documented ranges.

A value outside its range is a usage error naming the option, e.g.
``faceshot render: error: argument --fps: must be a number in [1, 240]; got '1e-9'``
(exit status 2), raised before any file is read.
"""

from __future__ import annotations

import argparse
import math
import os
from collections.abc import Callable, Sequence
from typing import Any

__all__ = [
    "CRF",
    "EXPRESSION_SCALE",
    "FPS",
    "MAX_FRAME_SIDE",
    "TRANSLATION_SCALE",
    "add_overwrite_argument",
    "check_outputs",
    "number",
]

#: Largest frame side (pixels) of a rendered or exported frame (``--size``).
MAX_FRAME_SIDE = 8192
#: Documented ranges (inclusive).
FPS = (1.0, 240.0)
CRF = (0, 51)
EXPRESSION_SCALE = (0.0, 10.0)
TRANSLATION_SCALE = (0.0, 10.0)


def _fmt(v: float) -> str:
    return f"{v:g}"


def number(lo: float, hi: float, *, integer: bool = False) -> Callable[[str], Any]:
    """An argparse ``type`` accepting a finite number (an int with ``integer``) in [lo, hi]."""
    kind = "an integer" if integer else "a number"

    def parse(text: str) -> int | float:
        try:
            value: float = int(text) if integer else float(text)
        except ValueError:
            raise argparse.ArgumentTypeError(
                f"must be {kind} in [{_fmt(lo)}, {_fmt(hi)}]; got {text!r}"
            ) from None
        if not math.isfinite(value) or not lo <= value <= hi:
            raise argparse.ArgumentTypeError(
                f"must be {kind} in [{_fmt(lo)}, {_fmt(hi)}]; got {text!r}"
            )
        return value

    parse.__name__ = "integer" if integer else "number"
    return parse


def check_outputs(
    outputs: Sequence[tuple[str, str | None, tuple[str, ...] | None, str | None]],
    inputs: Sequence[str | os.PathLike[str] | None],
    *,
    overwrite: bool | None = None,
) -> None:
    """Check every output of a command before any work: the output policy for each, no two
    outputs at the same path, and (``overwrite=False``) no existing file replaced.

    Args:
        outputs: ``(option, path or None, accepted suffixes or None, format)`` per output.
        inputs: the command's input paths.
        overwrite: the command's ``--overwrite`` (:func:`add_overwrite_argument`): False
            refuses an output that already exists; ``None`` (a command without the flag)
            does not look.

    Raises:
        faceshot.OutputPathError: the first problem, one line naming the option.
    """
    from faceshot._io import check_output_path
    from faceshot.errors import OutputPathError

    seen: dict[str, str] = {}
    for option, path, suffixes, what in outputs:
        if path is None:
            continue
        check_output_path(path, inputs=tuple(inputs), suffixes=suffixes, option=option, what=what)
        key = os.path.realpath(path)
        if key in seen:
            raise OutputPathError(
                f"{option} {path!r} is the same path as {seen[key]}; each output needs its own file"
            )
        seen[key] = option
        if overwrite is False and os.path.lexists(path):
            raise OutputPathError(
                f"{option} {path!r} already exists; pass --overwrite to replace it"
            )


def add_overwrite_argument(p: Any) -> None:
    """``--overwrite``: the one meaning across commands: an existing output is refused unless
    it is given, and then replaced atomically (never deleted before the new one is complete)."""
    p.add_argument(
        "--overwrite", action="store_true", help="replace existing outputs (refused otherwise)"
    )
