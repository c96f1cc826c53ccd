"""Jobs of ``faceshot batch``: read a jobs file (CSV or JSONL) or a directory cross product.

A job is one character image animated by one driving video into one output video, with
per-job options that are passed to :class:`faceshot.FaceShot` as keyword arguments.

Jobs files:
    * **CSV** (``.csv``): a header row naming the columns, then one job per row;
    * **JSONL** (``.jsonl``/``.ndjson``): one JSON object per line.

    Columns / keys: ``character`` and ``driving`` (required), ``output`` (optional when an
    output directory is given: ``DIR/<character stem>__<driving stem>.mp4``), ``landmarks``
    (optional: the character's 68 points instead of matching, as in ``faceshot animate
    --landmarks``), and any keyword of ``FaceShot(...)`` (``expression_scale``,
    ``translation_scale``, ``detector``, ``max_side``, ...; spelled with ``_`` or ``-``, an
    optional leading ``--`` is dropped). A JSONL object may also nest them in ``"options"``.
    Option names are checked against ``FaceShot.__init__``'s signature, so options added to
    the pipeline later work here with no change. An empty CSV cell means "the default".
    CSV values are read as JSON scalars when they parse (``0.5``, ``3``, ``true``, ``null``),
    otherwise as text (``face``, a path). Rows whose first cell starts with ``#`` and blank
    lines are skipped.

    Relative paths are resolved against the jobs file's directory (so a jobs file travels
    with its data); every path is made absolute before work is distributed.

Cross product: every character image of one directory (``.png .jpg .jpeg .webp .bmp .gif
.tif .tiff .svg``) with every driving video of another (``.mp4 .mov .m4v .mkv .avi .webm``),
in name order, non-recursive.
"""

from __future__ import annotations

import csv
import inspect
import json
import math
import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from faceshot.errors import BatchError

__all__ = [
    "CHARACTER_SUFFIXES",
    "DRIVING_SUFFIXES",
    "Job",
    "cross_product",
    "faceshot_options",
    "normalise_options",
    "read_jobs",
]

CHARACTER_SUFFIXES = frozenset(
    {".png", ".jpg", ".jpeg", ".webp", ".bmp", ".gif", ".tif", ".tiff", ".svg"}
)
DRIVING_SUFFIXES = frozenset({".mp4", ".mov", ".m4v", ".mkv", ".avi", ".webm"})
#: Job fields that are not ``FaceShot`` options.
_FIELDS = ("character", "driving", "output", "landmarks")
#: ``FaceShot`` keywords a batch sets itself (one progress bar for the whole batch).
_RESERVED = frozenset({"progress"})


@dataclass(frozen=True)
class Job:
    """One unit of work of a batch.

    Attributes:
        character: character image (absolute path once planned).
        driving: driving video.
        output: output ``.mp4``.
        options: ``FaceShot(...)`` keyword arguments of this job (JSON scalars), sorted.
        landmarks: the character's landmark file (``.pts/.json/.npy``) instead of matching.
        source: where the job was declared, for messages (``"jobs.csv line 4"``).
    """

    character: Path
    driving: Path
    output: Path
    options: tuple[tuple[str, Any], ...] = ()
    landmarks: Path | None = None
    source: str = field(default="", compare=False)

    @property
    def kwargs(self) -> dict[str, Any]:
        """``options`` as a dict, ready for ``FaceShot(**job.kwargs)``."""
        return dict(self.options)


def faceshot_options() -> dict[str, inspect.Parameter]:
    """The keyword arguments ``FaceShot.__init__`` accepts (read from its signature), minus
    the ones a batch controls itself (``progress``)."""
    from faceshot._api import FaceShot

    params = inspect.signature(FaceShot.__init__).parameters
    return {
        name: p
        for name, p in params.items()
        if name != "self"
        and name not in _RESERVED
        and p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)
    }


def _option_name(raw: str) -> str:
    return raw.strip().lstrip("-").replace("-", "_")


def _scalar(value: Any, where: str, name: str) -> Any:
    """Check that an option value is a JSON scalar (it travels to workers and into records)."""
    if isinstance(value, os.PathLike):
        return os.fspath(value)
    if value is None or isinstance(value, (bool, int, str)):
        return value
    if isinstance(value, float):
        if not math.isfinite(value):
            raise BatchError(f"{where}: option {name!r} must be a finite number; got {value!r}")
        return value
    raise BatchError(
        f"{where}: option {name!r} must be a number, text, true/false or null; got {type(value).__name__} {value!r}"
    )


def normalise_options(
    options: Mapping[str, Any], where: str, base: Path | None = None
) -> tuple[tuple[str, Any], ...]:
    """Validate option names against ``FaceShot.__init__`` and values as JSON scalars.

    Args:
        options: name -> value (names with ``_`` or ``-``, optional leading ``--``).
        where: what the options belong to, for messages (``"jobs.csv line 4"``).
        base: directory relative paths are resolved against (default: the current one).
            A text value of an option annotated as a path (``os.PathLike``: ``gallery``,
            ``backbone_weights``, ...) that names an existing file or directory there is
            made absolute, so workers find it whatever their working directory; other text
            (a model id) is kept as it is.

    Returns:
        Sorted ``(name, value)`` pairs.

    Raises:
        BatchError: an unknown option (the message lists the known ones) or a value that
            is not a JSON scalar.
    """
    known = faceshot_options()
    out: dict[str, Any] = {}
    for raw, value in options.items():
        name = _option_name(str(raw))
        if name in _RESERVED:
            raise BatchError(
                f"{where}: option {name!r} is set by the batch itself and cannot be given per job"
            )
        if name not in known:
            raise BatchError(
                f"{where}: unknown option {raw!r}; FaceShot options are: {', '.join(sorted(known))}"
            )
        value = _scalar(value, where, name)
        if isinstance(value, str) and value and "PathLike" in str(known[name].annotation):
            candidate = Path(os.path.expanduser(value))
            candidate = candidate if candidate.is_absolute() else (base or Path.cwd()) / candidate
            if candidate.exists():
                value = str(candidate.absolute())
        out[name] = value
    return tuple(sorted(out.items()))


def _cell(text: str) -> Any:
    """A CSV cell as a JSON scalar when it parses as one, otherwise as text."""
    s = text.strip()
    low = s.lower()
    if low in ("true", "false"):
        return low == "true"
    try:
        value = json.loads(s)
    except ValueError:
        return s
    return value if value is None or isinstance(value, (bool, int, float)) else s


def _resolve(value: Any, base: Path, where: str, name: str) -> Path:
    if not isinstance(value, (str, os.PathLike)) or not str(value).strip():
        raise BatchError(f"{where}: {name!r} must be a file path; got {value!r}")
    p = Path(os.path.expanduser(str(value).strip()))
    return (p if p.is_absolute() else base / p).absolute()


def _job_from_record(
    record: Mapping[str, Any],
    base: Path,
    where: str,
    output_dir: Path | None,
    defaults: Mapping[str, Any],
) -> Job:
    rec = {_option_name(str(k)): v for k, v in record.items()}
    for name in ("character", "driving"):
        if rec.get(name) in (None, ""):
            raise BatchError(f"{where}: {name!r} is missing")
    character = _resolve(rec["character"], base, where, "character")
    driving = _resolve(rec["driving"], base, where, "driving")
    if rec.get("output") not in (None, ""):
        output = _resolve(rec["output"], base, where, "output")
    elif output_dir is not None:
        output = default_output(output_dir, character, driving)
    else:
        raise BatchError(
            f"{where}: 'output' is missing (give an output column or an output directory)"
        )
    landmarks = (
        _resolve(rec["landmarks"], base, where, "landmarks")
        if rec.get("landmarks") not in (None, "")
        else None
    )
    nested = rec.pop("options", None) or {}
    if not isinstance(nested, Mapping):
        raise BatchError(f"{where}: 'options' must be an object; got {nested!r}")
    options = dict(defaults)
    options.update({k: v for k, v in rec.items() if k not in _FIELDS and v != ""})
    options.update(nested)
    return Job(
        character, driving, output, normalise_options(options, where, base), landmarks, where
    )


def default_output(output_dir: Path, character: Path, driving: Path) -> Path:
    """``DIR/<character stem>__<driving stem>.mp4``."""
    return Path(output_dir).absolute() / f"{character.stem}__{driving.stem}.mp4"


def read_jobs(
    path: str | os.PathLike[str],
    *,
    output_dir: str | os.PathLike[str] | None = None,
    defaults: Mapping[str, Any] | None = None,
) -> list[Job]:
    """Read a CSV or JSONL jobs file.

    Args:
        path: ``.csv``, ``.jsonl`` or ``.ndjson`` file.
        output_dir: directory for jobs without an ``output`` (relative to the current
            directory, not the jobs file).
        defaults: options every job starts from (its own options override them).

    Returns:
        The jobs in file order, with absolute paths.

    Raises:
        BatchError: unreadable file, unknown format, malformed line, missing column,
            unknown option (names the file and line).
    """
    p = Path(path)
    if not p.is_file():
        raise BatchError(
            f"jobs file {str(p)!r} does not exist"
            if not p.exists()
            else f"jobs file {str(p)!r} is not a file"
        )
    base = p.parent.absolute()
    out_dir = Path(output_dir).absolute() if output_dir is not None else None
    suffix = p.suffix.lower()
    try:
        text = p.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise BatchError(
            f"cannot read jobs file {str(p)!r}: {' '.join(str(exc).split())}"
        ) from None
    jobs: list[Job] = []
    if suffix in (".jsonl", ".ndjson"):
        for n, line in enumerate(text.splitlines(), start=1):
            if not line.strip():
                continue
            where = f"{p.name} line {n}"
            try:
                record = json.loads(line)
            except ValueError as exc:
                raise BatchError(f"{where}: not valid JSON ({exc})") from None
            if not isinstance(record, dict):
                raise BatchError(f"{where}: expected a JSON object; got {type(record).__name__}")
            jobs.append(_job_from_record(record, base, where, out_dir, defaults or {}))
    elif suffix == ".csv":
        rows = list(csv.reader(text.splitlines()))
        header_at = next(
            (
                i
                for i, r in enumerate(rows)
                if any(c.strip() for c in r) and not r[0].lstrip().startswith("#")
            ),
            None,
        )
        if header_at is None:
            raise BatchError(f"jobs file {str(p)!r} is empty")
        header = [_option_name(c) for c in rows[header_at]]
        for col in ("character", "driving"):
            if col not in header:
                raise BatchError(
                    f"jobs file {str(p)!r}: the header has no {col!r} column; got {rows[header_at]}"
                )
        if len(set(header)) != len(header):
            raise BatchError(
                f"jobs file {str(p)!r}: repeated column in the header {rows[header_at]}"
            )
        for i in range(header_at + 1, len(rows)):
            row = rows[i]
            if not any(c.strip() for c in row) or row[0].lstrip().startswith("#"):
                continue
            where = f"{p.name} line {i + 1}"
            if len(row) != len(header):
                raise BatchError(f"{where}: {len(row)} cells; the header has {len(header)}")
            record = {
                k: _cell(v) if k not in _FIELDS else v.strip()
                for k, v in zip(header, row, strict=True)
            }
            jobs.append(_job_from_record(record, base, where, out_dir, defaults or {}))
    else:
        raise BatchError(
            f"jobs file {str(p)!r} must end in .csv, .jsonl or .ndjson; got suffix {p.suffix!r}"
        )
    if not jobs:
        raise BatchError(f"jobs file {str(p)!r} has no jobs")
    return jobs


def _listing(directory: str | os.PathLike[str], suffixes: frozenset[str], what: str) -> list[Path]:
    d = Path(directory)
    if not d.is_dir():
        raise BatchError(
            f"{what} directory {str(d)!r} does not exist"
            if not d.exists()
            else f"{what} path {str(d)!r} is not a directory"
        )
    files = sorted(
        f.absolute()
        for f in d.iterdir()
        if f.is_file() and f.suffix.lower() in suffixes and not f.name.startswith(".")
    )
    if not files:
        raise BatchError(
            f"{what} directory {str(d)!r} holds no {what} files ({' '.join(sorted(suffixes))})"
        )
    return files


def cross_product(
    characters: str | os.PathLike[str] | Iterable[str | os.PathLike[str]],
    drivings: str | os.PathLike[str] | Iterable[str | os.PathLike[str]],
    output_dir: str | os.PathLike[str],
    *,
    options: Mapping[str, Any] | None = None,
) -> list[Job]:
    """Every character with every driving video.

    Args:
        characters: a directory of character images, or a list of image files.
        drivings: a directory of driving videos, or a list of video files.
        output_dir: where ``<character stem>__<driving stem>.mp4`` are written.
        options: ``FaceShot`` options of every job.

    Returns:
        ``len(characters) * len(drivings)`` jobs, character-major, in name order.
    """
    chars = (
        _listing(characters, CHARACTER_SUFFIXES, "character")
        if isinstance(characters, (str, os.PathLike))
        else [Path(c).absolute() for c in characters]
    )
    drvs = (
        _listing(drivings, DRIVING_SUFFIXES, "driving")
        if isinstance(drivings, (str, os.PathLike))
        else [Path(d).absolute() for d in drivings]
    )
    opts = normalise_options(options or {}, "options")
    out = Path(output_dir).absolute()
    return [
        Job(c, d, default_output(out, c, d), opts, None, f"{c.name} x {d.name}")
        for c in chars
        for d in drvs
    ]
