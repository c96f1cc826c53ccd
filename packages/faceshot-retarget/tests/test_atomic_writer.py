"""The one atomic writer (issue 14): temporary file in the target directory, fsync, rename,
permissions from the umask; concurrent writers never leave a mixed file."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from faceshot_retarget import (
    AtomicOutputs,
    atomic_path,
    atomic_write,
    replace_atomically,
    save_landmarks,
    temp_dir_beside,
    template_face,
)
from faceshot_retarget import _io as io_module

FACE = template_face(100.0, (120.0, 120.0))


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.fixture(params=[0o022, 0o027, 0o002], ids=["umask022", "umask027", "umask002"])
def umask(request: pytest.FixtureRequest) -> object:
    old = os.umask(request.param)
    try:
        yield request.param
    finally:
        os.umask(old)


def test_every_writer_gives_the_umask_mode(tmp_path: Path, umask: int) -> None:
    file_mode, dir_mode = 0o666 & ~umask, 0o777 & ~umask
    atomic_write(tmp_path / "a.bin", lambda f: f.write(b"a"))
    with atomic_path(tmp_path / "b.mp4") as tmp:
        tmp.write_bytes(b"b")
    for suffix in (".npy", ".pts", ".json"):
        save_landmarks(tmp_path / f"c{suffix}", FACE)
    with AtomicOutputs() as outs:
        outs.write(tmp_path / "d.bin", lambda f: f.write(b"d"))
        outs.stage(tmp_path / "e.bin").write_bytes(b"e")
    built = temp_dir_beside(tmp_path / "f")
    (built / "inner.txt").write_text("f")
    replace_atomically(built, tmp_path / "f")
    files = sorted(p.name for p in tmp_path.iterdir())
    assert files == ["a.bin", "b.mp4", "c.json", "c.npy", "c.pts", "d.bin", "e.bin", "f"]
    for name in files:
        expected = dir_mode if name == "f" else file_mode
        assert _mode(tmp_path / name) == expected, (
            f"{name}: {oct(_mode(tmp_path / name))} != {oct(expected)}"
        )


def test_existing_file_mode_is_not_kept_the_umask_decides(tmp_path: Path) -> None:
    # Replacing a file gives the new file the umask's mode (like `cp` onto a new name, not
    # like writing in place): a 0600 leftover of an older version does not stay 0600.
    out = tmp_path / "x.bin"
    out.write_bytes(b"old")
    out.chmod(0o600)
    old = os.umask(0o022)
    try:
        atomic_write(out, lambda f: f.write(b"new"))
    finally:
        os.umask(old)
    assert out.read_bytes() == b"new" and _mode(out) == 0o644


def test_commit_flushes_the_file_and_its_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    synced: list[tuple[str, bool]] = []
    real = io_module._fsync

    def spy(path: str | os.PathLike[str], *, directory: bool = False) -> None:
        synced.append((Path(path).name, directory))
        real(path, directory=directory)

    monkeypatch.setattr(io_module, "_fsync", spy)
    atomic_write(tmp_path / "x.bin", lambda f: f.write(b"x"))
    assert len(synced) == 2
    assert (
        synced[0][0].startswith(".x.bin.") and synced[0][1] is False
    )  # the data, before the rename
    assert synced[1] == (tmp_path.name, True)  # then the directory entry
    synced.clear()
    with AtomicOutputs() as outs:
        outs.write(tmp_path / "y.bin", lambda f: f.write(b"y"))
        outs.write(tmp_path / "z.bin", lambda f: f.write(b"z"))
    assert [d for _, d in synced] == [False, False, True]


def test_failure_inside_atomic_path_leaves_the_destination_and_no_temporary(tmp_path: Path) -> None:
    out = tmp_path / "v.mp4"
    out.write_bytes(b"previous")
    with pytest.raises(RuntimeError, match="encoder died"), atomic_path(out) as tmp:
        tmp.write_bytes(b"half")
        raise RuntimeError("encoder died")
    assert out.read_bytes() == b"previous"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["v.mp4"]


_WRITER = textwrap.dedent(
    """
    import sys
    from faceshot_retarget import atomic_write

    path, tag, rounds = sys.argv[1], sys.argv[2].encode(), int(sys.argv[3])
    payload = tag * (1 << 20)  # 1 MiB of one byte: a mix of two writers is visible at once
    for _ in range(rounds):
        atomic_write(path, lambda f: [f.write(payload[i:i + 65536]) for i in range(0, len(payload), 65536)])
    """
)


def test_concurrent_writers_never_leave_a_mixed_file(tmp_path: Path) -> None:
    out = tmp_path / "shared.bin"
    tags = "ABCD"
    procs = [subprocess.Popen([sys.executable, "-c", _WRITER, str(out), tag, "15"]) for tag in tags]
    seen: set[bytes] = set()
    reads = 0
    while any(p.poll() is None for p in procs):
        try:
            data = out.read_bytes()
        except FileNotFoundError:
            continue
        reads += 1
        assert len(data) == 1 << 20, f"a reader saw {len(data)} bytes: a partial file"
        assert data.count(data[:1]) == len(data), "a reader saw bytes of two writers in one file"
        seen.add(data[:1])
    assert all(p.wait() == 0 for p in procs)
    final = out.read_bytes()
    assert (
        len(final) == 1 << 20
        and final.count(final[:1]) == len(final)
        and final[:1] in tags.encode()
    )
    assert sorted(p.name for p in tmp_path.iterdir()) == ["shared.bin"], (
        "temporary files left behind"
    )
    assert reads > 0 and seen <= set(tags.encode()[i : i + 1] for i in range(len(tags)))
