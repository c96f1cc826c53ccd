"""SIGTERM, SIGHUP and Ctrl-C stop a command cleanly (issue #13).

A render is started in a separate ``faceshot`` process; once its hidden temporary video
exists (frames are being encoded), the signal is sent. The process must exit with
128 + the signal number within 2 s, print one line saying it was interrupted, and leave
nothing behind: no output, no temporary file. The same holds while an SVG is being
rendered in its child process (a long C call): the child is stopped too.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

LATENCY = 2.0


def _start(argv: list[str], cwd: Path) -> subprocess.Popen[str]:
    env = dict(os.environ, PYTHONUNBUFFERED="1")
    return subprocess.Popen(
        [sys.executable, "-m", "faceshot", *argv],
        cwd=cwd,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _wait_for(predicate, timeout: float = 120.0) -> None:  # type: ignore[no-untyped-def]
    t0 = time.monotonic()
    while not predicate():
        if time.monotonic() - t0 > timeout:
            raise AssertionError("the command did not reach the state in time")
        time.sleep(0.02)


def _children(pid: int) -> list[int]:
    try:
        text = Path(f"/proc/{pid}/task/{pid}/children").read_text()
    except OSError:
        return []
    return [int(c) for c in text.split()]


@pytest.fixture(scope="module")
def long_sequence(tmp_path_factory: pytest.TempPathFactory, demo_landmarks: Path) -> Path:
    from faceshot_retarget import load_landmarks

    ref = load_landmarks(demo_landmarks).points[0]
    seq = np.repeat(ref[None], 5000, axis=0)
    seq[:, 57, 1] += 6 * np.abs(np.sin(np.arange(5000) / 5))
    path = tmp_path_factory.mktemp("signals") / "long.npy"
    np.save(path, seq)
    return path


@pytest.mark.parametrize(
    "sig", [signal.SIGTERM, signal.SIGHUP, signal.SIGINT], ids=["SIGTERM", "SIGHUP", "SIGINT"]
)
def test_signal_mid_render_cleans_up(
    sig: signal.Signals, tmp_path: Path, demo_character: Path, long_sequence: Path
) -> None:
    out = tmp_path / "out"
    out.mkdir()
    proc = _start(
        [
            "render",
            str(demo_character),
            str(long_sequence),
            "-o",
            str(out / "o.mp4"),
            "--size",
            "256x256",
            "--no-progress",
        ],
        tmp_path,
    )
    try:
        _wait_for(lambda: any(".tmp" in n for n in os.listdir(out)) or proc.poll() is not None)
        assert proc.poll() is None, proc.communicate()[1]
        time.sleep(0.3)  # frames are being encoded
        sent = time.monotonic()
        proc.send_signal(sig)
        _, err = proc.communicate(timeout=30)
        latency = time.monotonic() - sent
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 128 + int(sig), err
    assert latency < LATENCY, f"exited {latency:.2f} s after {sig.name}"
    assert os.listdir(out) == [], "the output or a temporary file was left behind"
    lines = [ln for ln in err.splitlines() if ln.strip()]
    assert lines[-1] == f"faceshot render: interrupted ({sig.name})"
    assert "Traceback" not in err


def test_sigterm_stops_svg_rendering_in_its_child_process(
    tmp_path: Path, demo_driving: Path
) -> None:
    svg = tmp_path / "slow.svg"  # many seconds of parsing and drawing in the renderer process
    steps = " ".join(f"l{(i % 7) - 3} {(i % 5) - 2}" for i in range(600_000))
    svg.write_text(
        f"<svg xmlns='http://www.w3.org/2000/svg' width='512' height='512'><path d='M256 256 {steps}' stroke='black'/></svg>"
    )
    out = tmp_path / "out"
    out.mkdir()
    proc = _start(
        ["animate", str(svg), str(demo_driving), "-o", str(out / "o.mp4"), "--no-progress"],
        tmp_path,
    )
    try:
        _wait_for(lambda: bool(_children(proc.pid)) or proc.poll() is not None)
        assert proc.poll() is None, proc.communicate()[1]
        children = _children(proc.pid)
        time.sleep(0.5)  # the renderer is busy
        sent = time.monotonic()
        proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=30)
        latency = time.monotonic() - sent
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 143, err
    assert latency < LATENCY, f"exited {latency:.2f} s after SIGTERM"
    time.sleep(0.2)
    for child in children:
        assert (
            not Path(f"/proc/{child}").exists()
            or "zombie" in Path(f"/proc/{child}/status").read_text()
        ), "the SVG renderer survived"
    assert os.listdir(out) == []
    assert err.strip().splitlines()[-1] == "faceshot animate: interrupted (SIGTERM)"
