"""Workers of ``faceshot batch`` and the two engines that run them.

A :class:`BatchWorker` holds the pipeline for one process: each task gets a
:class:`faceshot.FaceShot` built from its job's options (construction loads nothing) and
handed the feature extractor and gallery this worker already loaded for the same model
options, so models load once per worker. It runs three kinds of :class:`Task`:

* ``"driving"``: ``FaceShot.drive(video)`` -- whatever it returns is handed back untouched
  (the driver caches it and passes it to every job using that video);
* ``"character"``: the character's (68, 2) landmarks (matched, or read from a file);
* ``"render"``: retarget + render + encode one job, written atomically, with a record of
  the output's content hash written beside it *before* the output appears.

Every task catches its own errors and returns them as one line in :class:`TaskResult`, so
one bad input fails only its own job.

Engines (both run the same :class:`BatchWorker`):

* :class:`LocalPool`: ``concurrent.futures.ProcessPoolExecutor`` (spawned processes);
* :class:`RayPool`: Ray actors (``faceshot[cluster]``), one per worker, on a local Ray
  instance or an existing cluster.

Interrupts: while a task runs, SIGINT and SIGTERM raise :class:`KeyboardInterrupt` in the
worker (so the video writer removes its temporary file); while idle, SIGINT only marks the
worker as stopping (it then refuses the tasks already queued to it) and SIGTERM ends it.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import shutil
import signal
import socket
import time
from collections import deque
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

__all__ = [
    "BatchWorker",
    "LocalPool",
    "RayPool",
    "Task",
    "TaskResult",
    "file_digest",
    "read_sidecar",
    "sidecar_path",
    "stale_temporaries",
]

#: Options whose value selects the models (extractor, gallery): instances agreeing on them
#: share the loaded objects.
_MODEL_OPTIONS = ("backbone", "backbone_weights", "device")
_GALLERY_OPTIONS = (*_MODEL_OPTIONS, "gallery")


def file_digest(path: str | os.PathLike[str]) -> str:
    """Hex SHA-256 of a file's bytes (read in 1 MiB chunks)."""
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def sidecar_path(output: Path) -> Path:
    """Where the completion record of ``output`` lives: ``.NAME.faceshot-batch.json`` beside it."""
    return output.with_name(f".{output.name}.faceshot-batch.json")


def _temp_output(output: Path) -> Path:
    token = hashlib.sha256(f"{os.getpid()}:{time.time_ns()}".encode()).hexdigest()[:8]
    return output.with_name(f".{output.name}.{token}.batch.mp4")


def stale_temporaries(output: Path) -> list[Path]:
    """Temporary files a killed batch may have left for ``output`` (never ``output`` itself).

    Patterns: ``.NAME.*.batch.mp4`` (the batch's own temporary video), ``..NAME.*.tmp.mp4``
    (the video writer's temporary file of that one), ``.NAME.*.tmp`` (the atomic copy into
    place) and ``.NAME.faceshot-batch.json.*.tmp`` (the record's atomic write).
    """
    import glob

    d, name = output.parent, glob.escape(output.name)
    side = glob.escape(sidecar_path(output).name)
    found: set[Path] = set()
    for pattern in (
        f".{name}.*.batch.mp4",
        f"..{name}.*.tmp.mp4",
        f".{name}.*.tmp",
        f".{side}.*.tmp",
    ):
        found.update(
            Path(p)
            for p in glob.glob(os.path.join(glob.escape(str(d)), pattern), include_hidden=True)
        )
    return sorted(found)


def read_sidecar(output: Path) -> dict[str, Any] | None:
    """The completion record beside ``output`` (``None`` when absent or unreadable)."""
    try:
        record = json.loads(sidecar_path(output).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return record if isinstance(record, dict) else None


@dataclass(frozen=True)
class Task:
    """One unit of worker work.

    Attributes:
        id: driver-side task id.
        kind: ``"driving"``, ``"character"`` or ``"render"``.
        options: ``FaceShot`` keyword arguments (sorted pairs of JSON scalars).
        character: character image path (``"character"``, ``"render"``).
        driving: driving video path (``"driving"``, ``"render"``).
        landmarks: character landmark file instead of matching (``"character"``).
        output: output ``.mp4`` (``"render"``).
        key: the job's parameter hash, recorded beside the output (``"render"``).
        audio: copy the driving video's audio (``"render"``).
        crf: x264 quality (``"render"``).
        reproducible: byte-identical video for identical inputs (``"render"``).
    """

    id: int
    kind: str
    options: tuple[tuple[str, Any], ...] = ()
    character: str | None = None
    driving: str | None = None
    landmarks: str | None = None
    output: str | None = None
    key: str | None = None
    audio: bool = True
    crf: int = 18
    reproducible: bool = True


@dataclass(frozen=True)
class TaskResult:
    """What a task gave back.

    Attributes:
        id: the task's id.
        ok: it succeeded.
        value: the drive result, (68, 2) float64 character points, or for a render
            ``{"frames": T, "sha256": ..., "size": bytes}``.
        error: one-line message when it failed.
        error_type: the exception's class name.
        seconds: wall-clock seconds per stage.
        worker: ``host:pid`` that ran it.
    """

    id: int
    ok: bool
    value: Any = None
    error: str | None = None
    error_type: str | None = None
    seconds: dict[str, float] = field(default_factory=dict)
    worker: str = ""


def _one_line(exc: BaseException) -> str:
    from faceshot.cli import _one_line as one_line

    return one_line(exc)


class BatchWorker:
    """The pipeline of one worker process (a local pool process or a Ray actor).

    Args:
        threads: CPU threads for torch/OpenCV in this process (``None``: library defaults).
            Equal thread counts make local and Ray runs bit-identical.
    """

    def __init__(self, threads: int | None = None) -> None:
        self.threads = threads
        if threads is not None:
            os.environ["OMP_NUM_THREADS"] = str(threads)  # read by torch at import
            import sys

            if "torch" in sys.modules:
                sys.modules["torch"].set_num_threads(threads)
            import cv2

            cv2.setNumThreads(threads)
        self._extractors: dict[tuple[Any, ...], Any] = {}
        self._galleries: dict[tuple[Any, ...], Any] = {}
        self.name = f"{socket.gethostname()}:{os.getpid()}"

    # -------------------------------------------------------------- pipeline objects

    def faceshot(self, options: tuple[tuple[str, Any], ...]) -> Any:
        """A ``FaceShot`` for one option set, given the extractor and gallery this worker has
        already loaded for the same model options (construction itself loads nothing)."""
        from faceshot._api import FaceShot

        kwargs = dict(options)
        mkey = tuple(kwargs.get(k) for k in _MODEL_OPTIONS)
        gkey = tuple(kwargs.get(k) for k in _GALLERY_OPTIONS)
        if mkey in self._extractors:
            kwargs["backbone"] = self._extractors[mkey]
        if gkey in self._galleries:
            kwargs["gallery"] = self._galleries[gkey]
        return FaceShot(**kwargs, progress=False)

    def _keep_models(self, options: tuple[tuple[str, Any], ...], fs: Any) -> None:
        """Remember the extractor and gallery ``fs`` has loaded, for the other option sets."""
        kwargs = dict(options)
        self._extractors.setdefault(tuple(kwargs.get(k) for k in _MODEL_OPTIONS), fs.extractor)
        self._galleries.setdefault(tuple(kwargs.get(k) for k in _GALLERY_OPTIONS), fs.gallery)

    # -------------------------------------------------------------- tasks

    def run(self, task: Task, driving: Any = None, character: Any = None) -> TaskResult:
        """Run one task; never raises for a bad input (the error comes back in the result).

        Args:
            task: what to do.
            driving: for ``"render"``: what ``FaceShot.drive`` returned for the video.
            character: for ``"render"``: (68, 2) float64 character points (working pixels).
        """
        seconds: dict[str, float] = {}
        try:
            with _Interruptible():
                value = self._dispatch(task, driving, character, seconds)
        except Exception as exc:
            return TaskResult(
                task.id, False, None, _one_line(exc), type(exc).__name__, seconds, self.name
            )
        return TaskResult(task.id, True, value, None, None, seconds, self.name)

    def _dispatch(self, task: Task, driving: Any, character: Any, seconds: dict[str, float]) -> Any:
        fs = self.faceshot(task.options)
        t0 = time.perf_counter()
        if task.kind == "driving":
            value = fs.drive(task.driving)
            if fs.detector != "dlib":
                self._keep_models(task.options, fs)
            seconds["driving"] = time.perf_counter() - t0
            return value
        if task.kind == "character":
            loaded = fs.load(task.character)
            points = fs.character_landmarks(loaded, task.landmarks)
            if task.landmarks is None:
                self._keep_models(task.options, fs)
            seconds["character"] = time.perf_counter() - t0
            return points
        if task.kind == "render":
            return self._render(fs, task, driving, character, seconds)
        raise ValueError(f"unknown task kind {task.kind!r}")

    def _render(
        self, fs: Any, task: Task, driving: Any, points: Any, seconds: dict[str, float]
    ) -> dict[str, Any]:
        from faceshot_animate import probe_video
        from faceshot_retarget import atomic_write

        from faceshot._io import check_output_path

        assert task.output is not None and task.character is not None and task.driving is not None
        out = Path(task.output)
        check_output_path(out, inputs=(task.character, task.driving, task.landmarks))
        fs.check_animator()
        t0 = time.perf_counter()
        loaded = fs.load(task.character)
        info = probe_video(task.driving)
        fps = float(info.fps)
        # staged and kept in the canvas exactly as FaceShot.animate does it
        staged, landmarks = fs._stage_and_retarget(loaded, points, driving, fps)
        t1 = time.perf_counter()
        seconds["retarget"] = t1 - t0
        tmp = _temp_output(out)
        try:
            audio_from = task.driving if task.audio and info.has_audio else None
            fs.render(
                staged.canvas,
                landmarks,
                tmp,
                fps=fps,
                audio_from=audio_from,
                crf=task.crf,
                reproducible=task.reproducible,
            )
            record = {
                "key": task.key,
                "sha256": file_digest(tmp),
                "size": tmp.stat().st_size,
                "frames": len(landmarks),
                "character": task.character,
                "driving": task.driving,
                "options": dict(task.options),
            }
            data = (json.dumps(record, indent=1) + "\n").encode()
            # the record first, then the output: an output under its final name always has
            # one. The copy through atomic_write also gives the file the usual permissions.
            atomic_write(sidecar_path(out), lambda f: f.write(data))
            with open(tmp, "rb") as src:
                atomic_write(out, lambda f: shutil.copyfileobj(src, f, 1 << 20))
        finally:
            tmp.unlink(missing_ok=True)
        seconds["render"] = time.perf_counter() - t1
        return {"frames": record["frames"], "sha256": record["sha256"], "size": record["size"]}


# ------------------------------------------------------------------ signals in workers


def _raise_interrupt(signum: int, frame: Any) -> None:
    # the first signal interrupts; later ones must not interrupt the clean-up it starts
    _STOPPING[0] = True
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    raise KeyboardInterrupt(f"signal {signum}")


def _note_stop(signum: int, frame: Any) -> None:
    """SIGINT while idle: run no further task (tasks already queued to this process are
    refused), without an exception in the pool's own loop."""
    _STOPPING[0] = True


class _Interruptible:
    """While a task runs (in the main thread of a pool process): SIGINT/SIGTERM raise
    KeyboardInterrupt; afterwards the idle behaviour is restored."""

    def __enter__(self) -> None:
        import threading

        self._active = threading.current_thread() is threading.main_thread() and _WORKER_SIGNALS[0]
        if self._active:
            signal.signal(signal.SIGINT, _raise_interrupt)
            signal.signal(signal.SIGTERM, _raise_interrupt)

    def __exit__(self, *exc: object) -> None:
        if self._active:
            _idle_signals()


#: Set in pool processes only (the worker owns its signals there); Ray actors keep Ray's.
_WORKER_SIGNALS = [False]
#: Set in a pool process once it was told to stop (per process; never reset: the pool ends).
_STOPPING = [False]


def _idle_signals() -> None:
    signal.signal(signal.SIGINT, _note_stop)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)


# ------------------------------------------------------------------ local engine

_LOCAL_WORKER: list[BatchWorker] = []


def _init_local(threads: int | None) -> None:
    _WORKER_SIGNALS[0] = True
    _idle_signals()
    _LOCAL_WORKER.append(BatchWorker(threads))


def _run_local(task: Task, driving: Any, character: Any) -> TaskResult:
    if _STOPPING[0]:
        raise KeyboardInterrupt("the batch is stopping")
    return _LOCAL_WORKER[0].run(task, driving, character)


Done = tuple[Task, "TaskResult | BaseException"]


class LocalPool:
    """A process pool sized to the cores (spawned processes, each one :class:`BatchWorker`).

    Args:
        workers: number of processes.
        threads: CPU threads per process (default: cores // workers, at least 1).
    """

    engine = "local"

    def __init__(self, workers: int, threads: int | None = None) -> None:
        self.workers = int(workers)
        self.threads = (
            threads if threads is not None else max(1, (os.cpu_count() or 1) // self.workers)
        )
        self._executor = self._start()
        self._futures: dict[Future[TaskResult], tuple[Task, Any, Any]] = {}
        self._attempts: dict[int, int] = {}

    def _start(self) -> ProcessPoolExecutor:
        import multiprocessing

        return ProcessPoolExecutor(
            self.workers,
            mp_context=multiprocessing.get_context("spawn"),
            initializer=_init_local,
            initargs=(self.threads,),
        )

    def put(self, value: Any) -> Any:
        """A handle of a value passed to many tasks (the value itself here)."""
        return value

    def submit(self, task: Task, driving: Any = None, character: Any = None) -> None:
        self._futures[self._executor.submit(_run_local, task, driving, character)] = (
            task,
            driving,
            character,
        )

    def in_flight(self) -> list[Task]:
        return [t for t, _, _ in self._futures.values()]

    def wait(self, timeout: float) -> list[Done]:
        """Finished tasks (waits up to ``timeout`` seconds for the first one)."""
        if not self._futures:
            return []
        done, _ = wait(list(self._futures), timeout=timeout, return_when=FIRST_COMPLETED)
        out: list[Done] = []
        broken: list[tuple[Task, Any, Any]] = []
        for fut in done:
            task, drv, ch = self._futures.pop(fut)
            try:
                out.append((task, fut.result()))
            except BrokenProcessPool:
                broken.append((task, drv, ch))
            except BaseException as exc:
                out.append((task, exc))
        if broken:
            # a worker died (killed, crashed, out of memory): every task in flight is lost;
            # each gets one more try on a fresh pool, then fails
            broken += list(self._futures.values())
            self._futures.clear()
            self._executor.shutdown(wait=False, cancel_futures=True)
            self._executor = self._start()
            for task, drv, ch in broken:
                self._attempts[task.id] = self._attempts.get(task.id, 0) + 1
                if self._attempts[task.id] > 1:
                    out.append(
                        (
                            task,
                            RuntimeError(
                                "a worker process died while running this task (killed, crashed or out of memory; "
                                "a script calling faceshot.batch needs `if __name__ == '__main__':`, as workers are spawned)"
                            ),
                        )
                    )
                else:
                    self.submit(task, drv, ch)
        return out

    def stop(self, interrupt: bool = False) -> None:
        """Shut the pool down; on ``interrupt`` the running tasks are interrupted first."""
        if interrupt:
            processes = getattr(self._executor, "_processes", None) or {}
            for proc in list(processes.values()):
                if proc.pid is not None and proc.is_alive():
                    try:
                        os.kill(proc.pid, signal.SIGINT)
                    except OSError:
                        pass
        self._executor.shutdown(wait=True, cancel_futures=True)
        self._futures.clear()


# ------------------------------------------------------------------ Ray engine


class RayPool:
    """Ray actors holding the models (``pip install 'faceshot[cluster]'``).

    Ray places the actors and runs their tasks; this class only keeps each actor busy with
    one task at a time (like ``ray.util.ActorPool``) and remembers which task is where.

    Args:
        address: ``None`` (a new local Ray instance, or ``RAY_ADDRESS``), ``"auto"`` or
            ``"HOST:PORT"`` of a running cluster. A Ray already initialised in this process
            is used as it is.
        workers: number of actors (default: the cluster's CPUs // ``cpus``).
        cpus: CPUs reserved per actor (also its torch/OpenCV thread count).
        gpus: GPUs per actor (for the GPU paths).

    Failures: a task whose actor dies (crash, out of memory, node lost) is retried once on
    another actor; an actor that fails twice is dropped; when none is left the batch stops
    with :class:`faceshot.BatchError` naming Ray's reason.
    """

    engine = "ray"

    def __init__(
        self, address: str | None, workers: int | None = None, cpus: float = 1.0, gpus: float = 0.0
    ) -> None:
        from faceshot.errors import BatchError

        # Ray's `uv run` hook (read when ray is imported) would ship the working directory to
        # every worker and start them with `uv run`; faceshot workers use the installed package
        os.environ.setdefault("RAY_ENABLE_UV_RUN_RUNTIME_ENV", "0")
        from faceshot_retarget import require_extra

        require_extra(("ray",), extra="faceshot[cluster]", what="--ray (Ray)", error=BatchError)
        import ray

        self._ray = ray
        self._started = False
        if not ray.is_initialized():
            try:
                ray.init(
                    address=address,
                    include_dashboard=False,
                    logging_level=logging.WARNING,
                    log_to_driver=True,
                )
            except Exception as exc:
                raise BatchError(
                    f"cannot start or reach Ray{f' at {address!r}' if address else ''}: {_one_line(exc)}"
                ) from None
            self._started = True
        resources = ray.cluster_resources()  # type: ignore[no-untyped-call, unused-ignore]
        for name, need in (("CPU", cpus), ("GPU", gpus)):
            if need > float(resources.get(name, 0.0)):
                self.stop()
                raise BatchError(
                    f"each Ray worker asks for {need:g} {name}s but the cluster has {float(resources.get(name, 0.0)):g}"
                )
        self.workers = (
            int(workers)
            if workers
            else max(1, int(float(resources.get("CPU", 1.0)) // max(cpus, 1e-9)))
        )
        actor = ray.remote(BatchWorker).options(
            num_cpus=cpus, num_gpus=gpus, max_restarts=1, max_task_retries=0
        )
        self._actors = [actor.remote(max(1, int(cpus))) for _ in range(self.workers)]
        self._idle: deque[Any] = deque(self._actors)
        self._queue: deque[tuple[Task, Any, Any]] = deque()
        self._refs: dict[Any, tuple[Task, Any, Any, Any]] = {}
        self._failures: dict[int, int] = {}
        self._attempts: dict[int, int] = {}

    def put(self, value: Any) -> Any:
        """Store a value once in the object store; tasks receive it by reference."""
        return self._ray.put(value)

    def submit(self, task: Task, driving: Any = None, character: Any = None) -> None:
        self._queue.append((task, driving, character))
        self._dispatch()

    def _dispatch(self) -> None:
        while self._idle and self._queue:
            actor = self._idle.popleft()
            task, drv, ch = self._queue.popleft()
            self._refs[actor.run.remote(task, drv, ch)] = (task, actor, drv, ch)

    def in_flight(self) -> list[Task]:
        return [t for t, _, _, _ in self._refs.values()] + [t for t, _, _ in self._queue]

    def wait(self, timeout: float) -> list[Done]:
        from faceshot.errors import BatchError

        if not self._refs:
            return []
        ready, _ = self._ray.wait(list(self._refs), num_returns=1, timeout=timeout)
        out: list[Done] = []
        last = ""
        for ref in ready:
            task, actor, drv, ch = self._refs.pop(ref)
            try:
                out.append((task, self._ray.get(ref)))
                self._idle.append(actor)
                continue
            except Exception as exc:  # the actor died or never started
                last = _one_line(exc)
            key = id(actor)
            self._failures[key] = self._failures.get(key, 0) + 1
            if self._failures[key] < 2:
                self._idle.append(actor)  # Ray restarts it once
            else:
                self._actors = [a for a in self._actors if a is not actor]
            self._attempts[task.id] = self._attempts.get(task.id, 0) + 1
            if self._attempts[task.id] < 2 and self._actors:
                self._queue.appendleft((task, drv, ch))
            else:
                out.append((task, RuntimeError(f"the Ray worker running this task failed: {last}")))
        if not self._actors:
            raise BatchError(f"every Ray worker failed; the last error: {last}")
        self._dispatch()
        return out

    def stop(self, interrupt: bool = False) -> None:
        """Kill the actors (a killed actor's temporary files are removed by the driver)."""
        for actor in getattr(self, "_actors", []):
            try:
                self._ray.kill(actor, no_restart=True)
            except Exception:  # already gone
                pass
        self._refs = {}
        self._queue = deque()
        if self._started:
            self._ray.shutdown()
            self._started = False


Pool = LocalPool | RayPool
