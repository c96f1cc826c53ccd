"""``faceshot.batch``: many characters x many driving videos, on a local pool or a Ray cluster.

Work shared across jobs:

* driving landmarks are computed once per driving video and option set, and cached on
  disk by content hash (``cache_dir``; reused by later batches);
* character landmarks are computed once per character image (cached the same way);
* each worker loads the models and the gallery once (:class:`BatchWorker`).

The driver (this module) plans the jobs, hands the landmark tasks and then the render
tasks to the engine as their inputs become ready, writes one results line per finished job
and draws one progress bar. Nothing here decides *where* a task runs: the engine does
(``concurrent.futures`` processes, or Ray's scheduler for the actors).

Resuming: every output is written to a temporary file, its content hash and the job's
parameter hash are written beside it (``.NAME.faceshot-batch.json``), then it is renamed
into place. A rerun skips a job whose output exists with a record that matches both its
parameters and its bytes; anything else is redone. So an output is never written twice,
whatever moment a run was killed at.

Interrupts: Ctrl-C or SIGTERM stops the workers (the running tasks are interrupted and
remove their temporary files; the driver then removes any a killed worker left), records
the jobs that were running as ``interrupted`` and raises :class:`BatchInterrupted`.
"""

from __future__ import annotations

import datetime as _dt
import hashlib
import json
import os
import pickle
import signal
import threading
import time
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any, overload

from faceshot._batch_jobs import Job, cross_product, faceshot_options, normalise_options, read_jobs
from faceshot._batch_worker import (
    LocalPool,
    Pool,
    RayPool,
    Task,
    TaskResult,
    file_digest,
    read_sidecar,
    stale_temporaries,
)
from faceshot.errors import BatchError

__all__ = ["BatchInterrupted", "BatchResults", "JobResult", "batch", "default_cache_dir"]

#: Options that do not change what ``FaceShot.drive`` returns (left out of its cache key).
#: Any other option, including ones added later, is part of the key: a new option can
#: cost a recomputation, never a stale result.
_NOT_DRIVING = frozenset(
    {"expression_scale", "translation_scale", "smooth", "animator", "mofa_weights", "max_side"}
)
#: Options that do not change the character's landmarks (``face`` picks the driving face).
_NOT_CHARACTER = frozenset(
    {
        "expression_scale",
        "translation_scale",
        "smooth",
        "animator",
        "mofa_weights",
        "detector",
        "max_lost_frames",
        "face",
    }
)
#: Job statuses.
STATUSES = ("ok", "failed", "skipped", "interrupted", "pending")


def default_cache_dir() -> Path:
    """``$FACESHOT_CACHE`` or ``$XDG_CACHE_HOME/faceshot/landmarks`` (``~/.cache/...``)."""
    env = os.environ.get("FACESHOT_CACHE")
    if env:
        return Path(env)
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "faceshot" / "landmarks"


@dataclass(frozen=True)
class JobResult:
    """One row of the results table.

    Attributes:
        index: the job's position in the batch (0-based).
        character: character image path.
        driving: driving video path.
        output: output video path.
        options: the job's ``FaceShot`` options.
        status: ``"ok"``, ``"failed"``, ``"skipped"`` (output complete and verified from an
            earlier run), ``"interrupted"`` (handed to a worker when the batch was stopped;
            nothing of it is left) or ``"pending"`` (its landmarks were not ready yet).
        error: one-line message for ``"failed"``.
        error_type: the exception's class name for ``"failed"``.
        timings: seconds: ``driving`` and ``character`` (the shared landmark stages this job
            used; 0.0 when they came from the cache), ``retarget``, ``render`` (+ encode).
        landmarks: how the shared stages were obtained: ``"computed"`` (for this job),
            ``"reused"`` (computed for another job of this batch) or ``"cache"`` (on disk).
        frames: frames written.
        worker: ``host:pid`` that rendered it.
        key: the job's parameter hash (inputs' content, options, faceshot version).
    """

    index: int
    character: str
    driving: str
    output: str
    options: dict[str, Any]
    status: str
    error: str | None = None
    error_type: str | None = None
    timings: dict[str, float] = field(default_factory=dict)
    landmarks: dict[str, str] = field(default_factory=dict)
    frames: int | None = None
    worker: str | None = None
    key: str | None = None

    def as_record(self, run: str) -> dict[str, Any]:
        """The JSON object written to the results file."""
        return {
            "job": self.index,
            "status": self.status,
            "character": self.character,
            "driving": self.driving,
            "output": self.output,
            "options": self.options,
            "error": self.error,
            "error_type": self.error_type,
            "timings": {k: round(v, 4) for k, v in self.timings.items()},
            "landmarks": self.landmarks,
            "frames": self.frames,
            "worker": self.worker,
            "key": self.key,
            "run": run,
            "finished": _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds"),
        }


class BatchResults(Sequence[JobResult]):
    """The results table of a batch: one :class:`JobResult` per job, in job order.

    Attributes:
        results_path: the JSONL file the rows were appended to (``None``: none written).
        wall: wall-clock seconds of the batch.
        engine: ``"local"`` or ``"ray"``.
        workers: number of workers.
        interrupted: the batch was stopped before the end.
    """

    def __init__(
        self,
        rows: Sequence[JobResult],
        *,
        results_path: Path | None,
        wall: float,
        engine: str,
        workers: int,
        interrupted: bool = False,
    ) -> None:
        self._rows = tuple(rows)
        self.results_path = results_path
        self.wall = wall
        self.engine = engine
        self.workers = workers
        self.interrupted = interrupted

    @overload
    def __getitem__(self, i: int) -> JobResult: ...
    @overload
    def __getitem__(self, i: slice) -> Sequence[JobResult]: ...
    def __getitem__(self, i: int | slice) -> JobResult | Sequence[JobResult]:
        return self._rows[i]

    def __len__(self) -> int:
        return len(self._rows)

    def __repr__(self) -> str:
        return f"BatchResults({self.summary()})"

    @property
    def counts(self) -> dict[str, int]:
        """Number of jobs per status (every status in :data:`STATUSES`, zeros included)."""
        return {s: sum(r.status == s for r in self._rows) for s in STATUSES}

    @property
    def failed(self) -> list[JobResult]:
        """The failed jobs."""
        return [r for r in self._rows if r.status == "failed"]

    def summary(self) -> str:
        """``"16 jobs: 14 ok, 1 skipped, 1 failed in 73.2 s (2 local workers)"``."""
        parts = [f"{n} {s}" for s, n in self.counts.items() if n]
        return (
            f"{len(self)} jobs: {', '.join(parts) or 'none'} in {self.wall:.1f} s "
            f"({self.workers} {self.engine} worker{'s' if self.workers != 1 else ''})"
        )

    def to_records(self) -> list[dict[str, Any]]:
        """The rows as JSON-ready dicts."""
        return [r.as_record("") for r in self._rows]


class BatchInterrupted(KeyboardInterrupt):
    """The batch was stopped by Ctrl-C or SIGTERM; ``results`` holds the table so far."""

    def __init__(self, results: BatchResults) -> None:
        super().__init__(results.summary())
        self.results = results


# ------------------------------------------------------------------ keys and the cache


def _hash(payload: Mapping[str, Any]) -> str:
    return hashlib.sha256(json.dumps(payload, sort_keys=True, default=repr).encode()).hexdigest()


class _Digests:
    """Content hashes of input files, each file read once per batch."""

    def __init__(self) -> None:
        self._memo: dict[tuple[str, int, int], str] = {}

    def __call__(self, path: Path) -> str:
        st = path.stat()
        key = (str(path), st.st_size, st.st_mtime_ns)
        if key not in self._memo:
            self._memo[key] = file_digest(path)
        return self._memo[key]


class _LandmarkCache:
    """Pickled results of the landmark stages, by key; in memory, and on disk when a
    directory is given (atomic writes; an unreadable entry is a miss)."""

    def __init__(self, directory: Path | None) -> None:
        self.directory = directory
        self._memory: dict[tuple[str, str], Any] = {}
        if directory is not None:
            try:
                directory.mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                raise BatchError(
                    f"cache directory {str(directory)!r} cannot be created: {exc.strerror or exc}"
                ) from None

    def _file(self, kind: str, key: str) -> Path:
        assert self.directory is not None
        return self.directory / f"{kind}-{key}.pkl"

    def get(self, kind: str, key: str) -> tuple[bool, Any]:
        if (kind, key) in self._memory:
            return True, self._memory[(kind, key)]
        if self.directory is None:
            return False, None
        try:
            with open(self._file(kind, key), "rb") as f:
                envelope = pickle.load(f)
        except FileNotFoundError:
            return False, None
        except Exception:  # truncated, or written by an incompatible version: recompute
            return False, None
        if not isinstance(envelope, dict) or envelope.get("key") != key:
            return False, None
        self._memory[(kind, key)] = envelope["value"]
        return True, envelope["value"]

    def put(self, kind: str, key: str, value: Any) -> None:
        self._memory[(kind, key)] = value
        if self.directory is None:
            return
        from faceshot_retarget import atomic_write

        from faceshot import __version__

        data = pickle.dumps(
            {"key": key, "kind": kind, "faceshot": __version__, "value": value},
            protocol=pickle.HIGHEST_PROTOCOL,
        )
        try:
            atomic_write(self._file(kind, key), lambda f: f.write(data))
        except OSError:  # a full or read-only cache costs a recomputation next time, not the batch
            pass


# ------------------------------------------------------------------ the results file


class _Recorder:
    """Appends one JSON line per finished job (flushed and synced), under an exclusive lock
    so two batches never share a results file."""

    def __init__(self, path: Path | None, run: str) -> None:
        self.path = path
        self.run = run
        self._f: IO[str] | None = None
        if path is None:
            return
        if not path.parent.is_dir():
            raise BatchError(
                f"results file {str(path)!r}: directory {str(path.parent)!r} does not exist"
            )
        self._f = open(path, "a", encoding="utf-8")
        try:
            import fcntl

            fcntl.flock(self._f.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except ImportError:  # not POSIX: no lock
            pass
        except OSError:
            self._f.close()
            self._f = None
            raise BatchError(
                f"results file {str(path)!r} is in use by another running batch"
            ) from None

    def write(self, row: JobResult) -> None:
        if self._f is None:
            return
        line = json.dumps(row.as_record(self.run)) + "\n"
        with _Deferred():  # a Ctrl-C never cuts a line in half
            self._f.write(line)
            self._f.flush()
            os.fsync(self._f.fileno())

    def close(self) -> None:
        if self._f is not None:
            self._f.close()
            self._f = None


# ------------------------------------------------------------------ planning


@dataclass
class _Plan:
    job: Job
    index: int
    options: dict[str, Any]
    key: str = ""
    driving_key: str = ""
    character_key: str = ""
    result: JobResult | None = None


def _full_options(job: Job) -> dict[str, Any]:
    """The job's options with every ``FaceShot`` default filled in (equal settings, equal keys)."""
    full = {
        name: (None if p.default is p.empty else p.default)
        for name, p in faceshot_options().items()
    }
    full.update(job.kwargs)
    return full


def _row(plan: _Plan, status: str, **kw: Any) -> JobResult:
    j = plan.job
    return JobResult(
        plan.index,
        str(j.character),
        str(j.driving),
        str(j.output),
        dict(j.options),
        status,
        key=plan.key or None,
        **kw,
    )


def _fail(plan: _Plan, exc: BaseException | str, error_type: str | None = None) -> JobResult:
    if isinstance(exc, BaseException):
        from faceshot.cli import _one_line

        return _row(plan, "failed", error=_one_line(exc), error_type=type(exc).__name__)
    return _row(plan, "failed", error=exc, error_type=error_type)


def _check_inputs(job: Job) -> None:
    from faceshot.errors import CharacterImageError, DrivingVideoError

    if not job.character.exists():
        raise CharacterImageError(f"character image {str(job.character)!r} does not exist")
    if not job.character.is_file():
        raise CharacterImageError(f"character image {str(job.character)!r} is not a file")
    if not job.driving.exists():
        raise DrivingVideoError(f"driving video {str(job.driving)!r} does not exist")
    if not job.driving.is_file():
        raise DrivingVideoError(f"driving video {str(job.driving)!r} is not a file")
    if job.landmarks is not None and not job.landmarks.is_file():
        from faceshot_retarget import LandmarkFileError

        raise LandmarkFileError(f"landmarks {str(job.landmarks)!r}: file does not exist")


def _verified(output: Path, key: str) -> bool | None:
    """``True``: ``output`` is complete and was written for ``key``; ``False``: it is one of
    ours but stale or damaged (redo); ``None``: it exists with no record (not ours)."""
    record = read_sidecar(output)
    if record is None:
        return None
    try:
        return bool(
            record.get("key") == key
            and output.stat().st_size == record.get("size")
            and file_digest(output) == record.get("sha256")
        )
    except OSError:
        return False


def _plan(
    jobs: Sequence[Job], *, overwrite: bool, audio: bool, crf: int, reproducible: bool
) -> tuple[list[_Plan], list[str]]:
    """Check every job, compute its keys, and settle those that need no work.

    Returns:
        The plans (``result`` set for jobs already failed or skipped) and a list of
        problems that stop the whole batch (duplicate outputs).
    """
    from faceshot import FaceShot, __version__
    from faceshot.errors import OutputPathError

    digest = _Digests()
    problems: list[str] = []
    seen: dict[str, Job] = {}
    for job in jobs:
        out = os.path.normcase(str(job.output))
        if out in seen:
            problems.append(
                f"{job.source or job.output}: output {str(job.output)!r} is also the output of {seen[out].source}"
            )
        seen.setdefault(out, job)
    plans = [_Plan(job, i, _full_options(job)) for i, job in enumerate(jobs)]
    for plan in plans:
        job = plan.job
        try:
            FaceShot(**job.kwargs, progress=False)  # validates option values; loads nothing
            _check_inputs(job)
            if job.output.suffix.lower() != ".mp4":
                raise OutputPathError(
                    f"output {str(job.output)!r} must end in .mp4 (H.264 MP4); got suffix {job.output.suffix!r}"
                )
            for item in (job.character, job.driving, job.landmarks):
                if item is not None and job.output.exists() and os.path.samefile(job.output, item):
                    raise OutputPathError(
                        f"output {str(job.output)!r} is the input file {str(item)!r}; refusing to overwrite it"
                    )
            job.output.parent.mkdir(parents=True, exist_ok=True)
            char_digest, drive_digest = digest(job.character), digest(job.driving)
            lm_digest = digest(job.landmarks) if job.landmarks is not None else None
        except Exception as exc:
            plan.result = _fail(plan, exc)
            continue
        opts = plan.options
        plan.driving_key = _hash(
            {
                "kind": "driving",
                "video": drive_digest,
                "faceshot": __version__,
                "options": {k: v for k, v in opts.items() if k not in _NOT_DRIVING},
            }
        )
        plan.character_key = _hash(
            {
                "kind": "character",
                "image": char_digest,
                "landmarks": lm_digest,
                "faceshot": __version__,
                "options": {k: v for k, v in opts.items() if k not in _NOT_CHARACTER},
            }
        )
        plan.key = _hash(
            {
                "character": char_digest,
                "driving": drive_digest,
                "landmarks": lm_digest,
                "options": opts,
                "audio": bool(audio),
                "crf": int(crf),
                "reproducible": bool(reproducible),
                "faceshot": __version__,
            }
        )
        if job.output.exists():
            state = _verified(job.output, plan.key)
            if state:
                plan.result = _row(plan, "skipped")
                continue
            if state is None and not overwrite:
                plan.result = _fail(
                    plan,
                    OutputPathError(
                        f"output {str(job.output)!r} already exists and was not written by faceshot batch; "
                        "remove it or pass --overwrite"
                    ),
                )
                continue
        for tmp in stale_temporaries(job.output):  # left by a killed run
            tmp.unlink(missing_ok=True)
    return plans, problems


# ------------------------------------------------------------------ the driver


def _collect_jobs(
    jobs: str | os.PathLike[str] | Iterable[Job | Mapping[str, Any]] | None,
    characters: Any,
    drivings: Any,
    output_dir: str | os.PathLike[str] | None,
    options: Mapping[str, Any] | None,
) -> tuple[list[Job], Path | None]:
    """The jobs, and the default results path."""
    if jobs is not None and (characters is not None or drivings is not None):
        raise BatchError("give either `jobs` or `characters` and `drivings`, not both")
    if jobs is None:
        if characters is None or drivings is None or output_dir is None:
            raise BatchError("a cross product needs `characters`, `drivings` and `output_dir`")
        out = Path(output_dir)
        return cross_product(
            characters, drivings, out, options=options
        ), out.absolute() / "batch-results.jsonl"
    base = dict(
        normalise_options(options or {}, "options")
    )  # paths relative to the current directory
    if isinstance(jobs, (str, os.PathLike)):
        p = Path(jobs)
        return read_jobs(p, output_dir=output_dir, defaults=base), p.absolute().with_name(
            p.stem + ".results.jsonl"
        )
    out_list: list[Job] = []
    for i, item in enumerate(jobs):
        if isinstance(item, Job):
            merged = {**base, **item.kwargs}
            out_list.append(
                Job(
                    Path(item.character).absolute(),
                    Path(item.driving).absolute(),
                    Path(item.output).absolute(),
                    normalise_options(merged, item.source or f"job {i}"),
                    item.landmarks,
                    item.source or f"job {i}",
                )
            )
        elif isinstance(item, Mapping):
            from faceshot._batch_jobs import _job_from_record

            out_list.append(
                _job_from_record(
                    item,
                    Path.cwd(),
                    f"job {i}",
                    Path(output_dir).absolute() if output_dir else None,
                    base,
                )
            )
        else:
            raise BatchError(f"job {i}: expected a Job or a mapping; got {type(item).__name__}")
    if not out_list:
        raise BatchError("`jobs` is empty")
    return out_list, None


def _sigterm(signum: int, frame: Any) -> None:
    raise KeyboardInterrupt("SIGTERM")


class _SigtermAsInterrupt:
    """In the main thread: SIGTERM raises KeyboardInterrupt like Ctrl-C (restored on exit)."""

    def __enter__(self) -> _SigtermAsInterrupt:
        self._old: tuple[Any, Any] | None = None
        if threading.current_thread() is threading.main_thread():
            self._old = (signal.getsignal(signal.SIGINT), signal.getsignal(signal.SIGTERM))
            signal.signal(signal.SIGTERM, _sigterm)
        return self

    def reinstall(self) -> None:
        """Take SIGINT/SIGTERM back after ``ray.init`` (Ray's own handlers end the process
        at once, leaving the running tasks' temporary files)."""
        if self._old is not None:
            signal.signal(signal.SIGINT, self._old[0])
            signal.signal(signal.SIGTERM, _sigterm)

    def __exit__(self, *exc: object) -> None:
        if self._old is not None:
            signal.signal(signal.SIGINT, self._old[0])
            signal.signal(signal.SIGTERM, self._old[1])


class _Deferred:
    """In the main thread: SIGINT/SIGTERM are held back (delivered on exit)."""

    _SIGNALS = frozenset({signal.SIGINT, signal.SIGTERM})

    def __enter__(self) -> None:
        self._active = (
            hasattr(signal, "pthread_sigmask")
            and threading.current_thread() is threading.main_thread()
        )
        if self._active:
            signal.pthread_sigmask(signal.SIG_BLOCK, self._SIGNALS)

    def __exit__(self, *exc: object) -> None:
        if self._active:
            signal.pthread_sigmask(signal.SIG_UNBLOCK, self._SIGNALS)


class _Shielded:
    """In the main thread: ignore SIGINT/SIGTERM while the interrupt is being cleaned up."""

    def __enter__(self) -> None:
        self._old: tuple[Any, Any] | None = None
        if threading.current_thread() is threading.main_thread():
            self._old = (signal.getsignal(signal.SIGINT), signal.getsignal(signal.SIGTERM))
            signal.signal(signal.SIGINT, signal.SIG_IGN)
            signal.signal(signal.SIGTERM, signal.SIG_IGN)

    def __exit__(self, *exc: object) -> None:
        if self._old is not None:
            signal.signal(signal.SIGINT, self._old[0])
            signal.signal(signal.SIGTERM, self._old[1])


class _Driver:
    """Feeds the engine: landmark tasks first, each render as soon as both its inputs exist."""

    def __init__(
        self,
        plans: list[_Plan],
        pool: Pool,
        cache: _LandmarkCache,
        recorder: _Recorder,
        audio: bool,
        crf: int,
        reproducible: bool,
        bar: Any,
    ) -> None:
        self.plans = plans
        self.pool = pool
        self.cache = cache
        self.recorder = recorder
        self.audio = audio
        self.crf = crf
        self.reproducible = reproducible
        self.bar = bar
        self._ids = iter(range(1 << 62))
        self.tasks: dict[int, tuple[str, str | int]] = {}  # task id -> (kind, key | job index)
        self.handles: dict[tuple[str, str], Any] = {}  # (kind, key) -> pool handle of the value
        self.errors: dict[tuple[str, str], tuple[str, str | None]] = {}
        self.prep_seconds: dict[tuple[str, str], float] = {}
        self.prep_source: dict[tuple[str, str], str] = {}
        self.claimed: set[tuple[str, str]] = set()
        self.rendering: set[int] = set()
        self.prep_total = 0
        self.prep_done = 0

    # -- bookkeeping
    def finish(self, plan: _Plan, row: JobResult) -> None:
        plan.result = row
        self.recorder.write(row)
        self.bar.update(1)
        self._postfix()

    def _postfix(self) -> None:
        done = [p.result.status for p in self.plans if p.result is not None]
        text = f"ok {done.count('ok')} failed {done.count('failed')}"
        if done.count("skipped"):
            text += f" skipped {done.count('skipped')}"
        if self.prep_done < self.prep_total:
            text += f" | landmarks {self.prep_done}/{self.prep_total}"
        self.bar.set_postfix_str(text, refresh=False)

    def _deps(self, plan: _Plan) -> tuple[tuple[str, str], tuple[str, str]]:
        return ("driving", plan.driving_key), ("character", plan.character_key)

    # -- scheduling
    def start(self) -> None:
        for plan in self.plans:
            if plan.result is not None:
                continue
            for kind, key in self._deps(plan):
                if (kind, key) in self.handles or (kind, key) in self.claimed:
                    continue
                found, value = self.cache.get(kind, key)
                if found:
                    self.handles[(kind, key)] = self.pool.put(value)
                    self.prep_source[(kind, key)] = "cache"
                    self.prep_seconds[(kind, key)] = 0.0
                    continue
                self.claimed.add((kind, key))
                job = plan.job
                task = Task(
                    next(self._ids),
                    kind,
                    job.options,
                    character=str(job.character),
                    driving=str(job.driving),
                    landmarks=str(job.landmarks) if job.landmarks is not None else None,
                )
                self.tasks[task.id] = (kind, key)
                self.prep_total += 1
                self.pool.submit(task)
        self._postfix()
        self._release()

    def _release(self) -> None:
        """Submit every render whose inputs are ready; fail those whose inputs failed."""
        for plan in self.plans:
            if plan.result is not None or plan.index in self.rendering:
                continue
            deps = self._deps(plan)
            failed = next((d for d in deps if d in self.errors), None)
            if failed is not None:
                msg, etype = self.errors[failed]
                self.finish(plan, _fail(plan, msg, etype))
                continue
            if all(d in self.handles for d in deps):
                job = plan.job
                task = Task(
                    next(self._ids),
                    "render",
                    job.options,
                    character=str(job.character),
                    driving=str(job.driving),
                    landmarks=str(job.landmarks) if job.landmarks is not None else None,
                    output=str(job.output),
                    key=plan.key,
                    audio=self.audio,
                    crf=self.crf,
                    reproducible=self.reproducible,
                )
                self.tasks[task.id] = ("render", plan.index)
                self.rendering.add(plan.index)
                self.pool.submit(task, self.handles[deps[0]], self.handles[deps[1]])

    def step(self, timeout: float = 0.5) -> bool:
        """Handle finished tasks; ``False`` when nothing is left to do."""
        for task, res in self.pool.wait(timeout):
            kind, ref = self.tasks.pop(task.id)
            if isinstance(res, KeyboardInterrupt):
                raise KeyboardInterrupt
            if kind == "render":
                self._rendered(self.plans[int(ref)], res)
            else:
                self._prepared(kind, str(ref), res)
        self._release()
        return bool(self.tasks)

    def _prepared(self, kind: str, key: str, res: TaskResult | BaseException) -> None:
        self.prep_done += 1
        if isinstance(res, BaseException):
            from faceshot.cli import _one_line

            self.errors[(kind, key)] = (_one_line(res), type(res).__name__)
            return
        if not res.ok:
            self.errors[(kind, key)] = (res.error or "failed", res.error_type)
            return
        self.cache.put(kind, key, res.value)
        self.handles[(kind, key)] = self.pool.put(res.value)
        self.prep_seconds[(kind, key)] = res.seconds.get(kind, 0.0)
        self.prep_source[(kind, key)] = "computed"

    def _rendered(self, plan: _Plan, res: TaskResult | BaseException) -> None:
        self.rendering.discard(plan.index)
        timings: dict[str, float] = {}
        sources: dict[str, str] = {}
        for kind, key in self._deps(plan):
            timings[kind] = self.prep_seconds.get((kind, key), 0.0)
            source = self.prep_source.get((kind, key), "computed")
            sources[kind] = source
            if source == "computed":  # the next job using it reuses it
                self.prep_source[(kind, key)] = "reused"
        if isinstance(res, BaseException):
            self.finish(plan, _fail(plan, res))
            return
        timings.update(res.seconds)
        if not res.ok:
            self.finish(
                plan,
                _row(
                    plan,
                    "failed",
                    error=res.error,
                    error_type=res.error_type,
                    timings=timings,
                    landmarks=sources,
                    worker=res.worker,
                ),
            )
            return
        self.finish(
            plan,
            _row(
                plan,
                "ok",
                timings=timings,
                landmarks=sources,
                frames=res.value["frames"],
                worker=res.worker,
            ),
        )

    def interrupted(self) -> None:
        """After the workers are stopped: remove what the running renders left, mark them."""
        for plan in self.plans:
            if plan.result is not None:
                continue
            if plan.index in self.rendering:
                for tmp in stale_temporaries(plan.job.output):
                    tmp.unlink(missing_ok=True)
                plan.result = _row(plan, "interrupted")
                self.recorder.write(plan.result)
            else:
                plan.result = _row(plan, "pending")


def batch(
    jobs: str | os.PathLike[str] | Iterable[Job | Mapping[str, Any]] | None = None,
    *,
    characters: str | os.PathLike[str] | Iterable[str | os.PathLike[str]] | None = None,
    drivings: str | os.PathLike[str] | Iterable[str | os.PathLike[str]] | None = None,
    output_dir: str | os.PathLike[str] | None = None,
    results: str | os.PathLike[str] | None = None,
    options: Mapping[str, Any] | None = None,
    workers: int | None = None,
    ray: bool | str | None = None,
    ray_cpus: float = 1.0,
    ray_gpus: float = 0.0,
    cache_dir: str | os.PathLike[str] | None = None,
    cache: bool = True,
    overwrite: bool = False,
    audio: bool = True,
    crf: int = 18,
    reproducible: bool = True,
    progress: bool = True,
) -> BatchResults:
    """Animate many characters with many driving videos; resumable, on a pool or on Ray.

    Args:
        jobs: a jobs file (``.csv``, ``.jsonl``; see :mod:`faceshot._batch_jobs`), or
            :class:`Job` objects / mappings with ``character``, ``driving``, ``output`` and
            options. ``None`` with ``characters`` and ``drivings``: their cross product.
        characters: directory of character images (or a list of files) for a cross product.
        drivings: directory of driving videos (or a list of files) for a cross product.
        output_dir: where cross-product outputs (``<character>__<driving>.mp4``) and jobs
            without an ``output`` go; created if missing.
        results: results JSONL, appended to (default: ``JOBS.results.jsonl`` beside a jobs
            file, ``OUTPUT_DIR/batch-results.jsonl`` for a cross product, none for a list).
        options: ``FaceShot(...)`` keyword arguments for every job (a job's own override).
        workers: local processes (default: the number of cores) or Ray actors (default:
            the cluster's CPUs // ``ray_cpus``).
        ray: ``None``/``False``: local process pool; ``True``: Ray (a Ray already initialised
            in this process, else ``RAY_ADDRESS``, else a new local instance); a string:
            the address of a running cluster (``"auto"``, ``"HOST:PORT"``).
        ray_cpus: CPUs per Ray actor (also its thread count).
        ray_gpus: GPUs per Ray actor.
        cache_dir: landmark cache directory (default :func:`default_cache_dir`).
        cache: keep the landmark cache on disk (``False``: in memory for this batch only).
        overwrite: replace existing outputs that this tool did not write (outputs it wrote
            are always replaced when their job changed).
        audio: copy each driving video's audio.
        crf: x264 quality (0..51).
        reproducible: byte-identical outputs for identical inputs, on any engine or node
            (x264's macroblock-tree rate control is not reproducible; off, files are about
            1.5x larger at the same ``crf``). ``False``: smaller files, bytes may differ
            between runs (a rerun still skips finished jobs: it checks the bytes written).
        progress: one progress bar on stderr.

    Returns:
        :class:`BatchResults`, one row per job in job order.

    Raises:
        BatchError: the batch cannot start (bad jobs file, unknown option, two jobs with one
            output, results file in use). A bad input only fails its own job.
        BatchInterrupted: Ctrl-C or SIGTERM (a ``KeyboardInterrupt``; ``.results`` holds the
            table); no partial output is left.
    """
    t0 = time.perf_counter()
    if not 0 <= int(crf) <= 51:
        raise BatchError(f"`crf` must be in [0, 51]; got {crf!r}")
    if workers is not None and int(workers) < 1:
        raise BatchError(f"`workers` must be >= 1; got {workers!r}")
    if output_dir is not None:
        Path(output_dir).mkdir(parents=True, exist_ok=True)
    job_list, default_results = _collect_jobs(jobs, characters, drivings, output_dir, options)
    results_path = Path(results).absolute() if results is not None else default_results
    plans, problems = _plan(
        job_list, overwrite=overwrite, audio=audio, crf=crf, reproducible=reproducible
    )
    if problems:
        raise BatchError(
            problems[0] + (f" (and {len(problems) - 1} more)" if len(problems) > 1 else "")
        )
    run = _dt.datetime.now(_dt.UTC).strftime("%Y%m%dT%H%M%S.%fZ")
    recorder = _Recorder(results_path, run)
    from tqdm.auto import tqdm

    bar = tqdm(total=len(plans), desc="batch", unit="job", disable=not progress, dynamic_ncols=True)
    pool: Pool | None = None
    driver: _Driver | None = None
    engine, n_workers = ("ray" if ray else "local"), 0
    try:
        for plan in plans:
            if plan.result is not None:
                recorder.write(plan.result)
                bar.update(1)
        todo = [p for p in plans if p.result is None]
        store = _LandmarkCache(
            None if not cache else Path(cache_dir) if cache_dir is not None else default_cache_dir()
        )
        with _SigtermAsInterrupt() as signals:
            try:
                if todo:
                    if ray:
                        pool = RayPool(
                            ray if isinstance(ray, str) else None, workers, ray_cpus, ray_gpus
                        )
                        signals.reinstall()
                    else:
                        pool = LocalPool(
                            min(int(workers or os.cpu_count() or 1), max(1, len(todo)))
                        )
                    n_workers = pool.workers
                    driver = _Driver(plans, pool, store, recorder, audio, crf, reproducible, bar)
                    driver.start()
                    while driver.step():
                        pass
                    pool.stop()
                    pool = None
            except KeyboardInterrupt:
                with _Shielded():
                    if pool is not None:
                        pool.stop(interrupt=True)
                        pool = None
                    if driver is not None:
                        driver.interrupted()
                    rows = [p.result or _row(p, "pending") for p in plans]
                    res = BatchResults(
                        rows,
                        results_path=recorder.path,
                        wall=time.perf_counter() - t0,
                        engine=engine,
                        workers=n_workers,
                        interrupted=True,
                    )
                raise BatchInterrupted(res) from None
    finally:
        if pool is not None:
            pool.stop(interrupt=True)
        bar.close()
        recorder.close()
    rows = [p.result or _row(p, "pending") for p in plans]
    return BatchResults(
        rows,
        results_path=recorder.path,
        wall=time.perf_counter() - t0,
        engine=engine,
        workers=n_workers,
    )


def iter_failed(results: BatchResults) -> Iterator[str]:
    """One line per failed job: ``job 3 (cat.png x clip.mp4): <error>``."""
    for r in results.failed:
        yield f"job {r.index} ({Path(r.character).name} x {Path(r.driving).name}): {r.error}"
