"""The shared file conventions: output policy, multi-file commit, input checks, bounded
landmark readers, EXIF orientation (issue #13)."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

import numpy as np
import pytest

from faceshot_retarget import (
    NAME_MAX,
    AtomicOutputs,
    LandmarkFileError,
    LandmarkShapeError,
    OutputPathError,
    apply_exif_orientation,
    as_points,
    atomic_write,
    check_output,
    input_file_problem,
    load_landmarks,
    save_landmarks,
    temp_dir_beside,
    temp_path_beside,
    template_face,
)

FACE = template_face(100.0, (120.0, 120.0))


# --------------------------------------------------------------------------- inputs


def test_input_file_problem_names_what_the_path_is(tmp_path: Path) -> None:
    (tmp_path / "dir").mkdir()
    os.mkfifo(tmp_path / "fifo")
    os.symlink("/dev/zero", tmp_path / "zero")
    os.symlink(tmp_path / "gone", tmp_path / "dangling")
    (tmp_path / "empty").write_bytes(b"")
    (tmp_path / "ok").write_bytes(b"12345")
    assert input_file_problem(tmp_path / "nope") == "does not exist"
    assert input_file_problem(tmp_path / "dangling") == "is a broken symbolic link"
    assert input_file_problem(tmp_path / "dir") == "is a directory, not a file"
    assert input_file_problem(tmp_path / "fifo") == "is a FIFO (named pipe), not a regular file"
    assert input_file_problem(tmp_path / "zero") == "is a character device, not a regular file"
    assert input_file_problem(tmp_path / "empty") == "is empty (0 bytes)"
    assert input_file_problem(tmp_path / "empty", allow_empty=True) is None
    assert input_file_problem(tmp_path / "ok") is None
    assert input_file_problem(tmp_path / "ok", max_bytes=4) == "is 5 bytes, above the 4 bytes limit"


# --------------------------------------------------------------------------- outputs


def test_output_may_not_be_an_input_or_a_link_to_one(tmp_path: Path) -> None:
    src = tmp_path / "in.npy"
    src.write_bytes(b"data")
    os.link(src, tmp_path / "hard.npy")
    os.symlink(src, tmp_path / "soft.npy")
    for out in (src, tmp_path / "hard.npy", tmp_path / "soft.npy"):
        with pytest.raises(OutputPathError, match="is the input file"):
            check_output(out, suffixes=(".npy",), inputs=(src,), option="-o")
    assert src.read_bytes() == b"data"
    assert (
        check_output(tmp_path / "new.npy", suffixes=(".npy",), inputs=(src, None))
        == tmp_path / "new.npy"
    )


def test_output_checks_suffix_directory_and_special_files(tmp_path: Path) -> None:
    with pytest.raises(
        OutputPathError, match=r"-o '.*x\.json' must end in \.npy \(format npy\); got '\.json'"
    ):
        check_output(tmp_path / "x.json", suffixes=(".npy",), option="-o", what="format npy")
    assert check_output(tmp_path / "X.NPY", suffixes=(".npy",))  # case-insensitive
    with pytest.raises(OutputPathError, match="no suffix"):
        check_output(tmp_path / "x", suffixes=(".npy",))
    with pytest.raises(OutputPathError, match=r"directory .* does not exist"):
        check_output(tmp_path / "sub" / "x.npy")
    (tmp_path / "d.npy").mkdir()
    with pytest.raises(OutputPathError, match="is a directory"):
        check_output(tmp_path / "d.npy")
    os.symlink("/dev/null", tmp_path / "null.npy")
    with pytest.raises(OutputPathError, match="not a regular file"):
        check_output(tmp_path / "null.npy")
    with pytest.raises(OutputPathError, match="the limit is 255"):
        check_output(tmp_path / ("n" * 300 + ".npy"))
    assert (
        list(p.name for p in tmp_path.iterdir() if p.name.startswith(".")) == []
    )  # the probe is gone


def test_directory_outputs_never_hold_an_input(tmp_path: Path) -> None:
    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "character.pts").write_text("x")
    with pytest.raises(OutputPathError, match="contains the input"):
        check_output(folder, inputs=(folder / "character.pts",), directory=True)
    with pytest.raises(OutputPathError, match="contains the input"):
        check_output(tmp_path, inputs=(folder / "character.pts",), directory=True)
    with pytest.raises(OutputPathError, match="inside the input folder"):
        check_output(folder / "out.npy", inputs=(folder,))
    (tmp_path / "file").write_text("x")
    with pytest.raises(OutputPathError, match="not a directory"):
        check_output(tmp_path / "file", directory=True)


def test_long_legal_names_are_writable(tmp_path: Path) -> None:
    name = "n" * 240 + ".npy"  # 244 bytes: legal, but .NAME.XXXXXXXX.tmp would not be
    out = check_output(tmp_path / name, suffixes=(".npy",))
    save_landmarks(out, FACE)
    np.testing.assert_array_equal(load_landmarks(out).points[0], FACE)
    for suffix in (".tmp", ".tmp.mp4"):
        tmp = temp_path_beside(tmp_path / ("m" * 250 + ".mp4"), suffix)
        assert len(os.fsencode(tmp.name)) <= NAME_MAX and tmp.name.endswith(suffix)
        tmp.unlink()
    d = temp_dir_beside(tmp_path / ("p" * 255))
    assert d.is_dir() and len(d.name) <= NAME_MAX
    d.rmdir()
    assert sorted(p.name for p in tmp_path.iterdir()) == [name]


def test_temp_files_get_the_umask_mode(tmp_path: Path) -> None:
    old = os.umask(0o027)
    try:
        tmp = temp_path_beside(tmp_path / "x.bin")
        assert stat.S_IMODE(tmp.stat().st_mode) == 0o640
        atomic_write(tmp_path / "y.bin", lambda f: f.write(b"1"))
        assert stat.S_IMODE((tmp_path / "y.bin").stat().st_mode) == 0o640
    finally:
        os.umask(old)


def test_atomic_write_missing_directory_is_an_output_and_a_landmark_error(tmp_path: Path) -> None:
    with pytest.raises(OutputPathError, match="does not exist") as info:
        atomic_write(tmp_path / "no" / "x", lambda f: f.write(b""))
    assert isinstance(info.value, LandmarkFileError)


# --------------------------------------------------------------------------- AtomicOutputs


def test_atomic_outputs_commit_all_together(tmp_path: Path) -> None:
    a, b = tmp_path / "a.npy", tmp_path / "b.txt"
    b.write_text("old")
    with AtomicOutputs() as outs:
        save_landmarks(outs.stage(a), FACE)
        outs.write(b, lambda f: f.write(b"new"))
        assert not a.exists() and b.read_text() == "old"  # nothing visible before the commit
    assert a.is_file() and b.read_text() == "new"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.npy", "b.txt"]


@pytest.mark.parametrize("error", [ValueError, KeyboardInterrupt])
def test_atomic_outputs_leave_none_on_failure(tmp_path: Path, error: type[BaseException]) -> None:
    a, b = tmp_path / "a.npy", tmp_path / "b.txt"
    b.write_text("old")
    with pytest.raises(error), AtomicOutputs() as outs:
        save_landmarks(outs.stage(a), FACE)
        outs.write(b, lambda f: f.write(b"new"))
        raise error("stop")
    assert not a.exists() and b.read_text() == "old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["b.txt"]


def test_atomic_outputs_roll_back_a_half_done_commit(tmp_path: Path) -> None:
    a, b = tmp_path / "a.txt", tmp_path / "b.txt"
    a.write_text("old a")
    outs = AtomicOutputs()
    outs.write(a, lambda f: f.write(b"new a"))
    outs.write(b, lambda f: f.write(b"new b"))
    b.mkdir()  # the second rename will fail
    (b / "keep").write_text("x")
    with pytest.raises(OSError):
        outs.commit()
    assert a.read_text() == "old a"  # restored from its backup
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.txt", "b.txt"]


# --------------------------------------------------------------------------- landmark readers


def _npy_header(path: Path, descr: str, shape: tuple[int, ...], data: bytes = b"") -> None:
    hdr = f"{{'descr': '{descr}', 'fortran_order': False, 'shape': {shape}, }}"
    hdr += " " * (117 - len(hdr)) + "\n"
    path.write_bytes(b"\x93NUMPY\x01\x00" + len(hdr).to_bytes(2, "little") + hdr.encode() + data)


def test_npy_headers_are_checked_before_any_allocation(tmp_path: Path) -> None:
    _npy_header(tmp_path / "huge.npy", "<f8", (10**12, 68, 2), bytes(100))
    with pytest.raises(
        LandmarkFileError,
        match=r"huge\.npy.*header promises .* MiB of data, the file holds 100 bytes",
    ):
        load_landmarks(tmp_path / "huge.npy")
    _npy_header(tmp_path / "obj.npy", "|O", (68, 2), bytes(100))
    with pytest.raises(LandmarkFileError, match=r"obj\.npy.* holds object values"):
        load_landmarks(tmp_path / "obj.npy")
    np.save(tmp_path / "bool.npy", np.ones((68, 2), bool))
    with pytest.raises(
        LandmarkFileError, match=r"bool\.npy' holds bool values; landmarks must be real numbers"
    ):
        load_landmarks(tmp_path / "bool.npy")
    np.save(tmp_path / "shape.npy", np.ones((5, 67, 2)))
    with pytest.raises(LandmarkFileError, match=r"has shape \(5, 67, 2\)"):
        load_landmarks(tmp_path / "shape.npy")
    np.save(tmp_path / "ints.npy", np.round(FACE).astype(np.int32))  # integers are fine
    assert load_landmarks(tmp_path / "ints.npy").points.dtype == np.float64


def test_landmark_files_are_regular_and_bounded(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import faceshot_retarget._io as io

    os.mkfifo(tmp_path / "f.npy")
    with pytest.raises(LandmarkFileError, match="FIFO"):
        load_landmarks(tmp_path / "f.npy")  # would block forever if opened
    (tmp_path / "d.json").mkdir()
    with pytest.raises(LandmarkFileError, match="is a directory"):
        load_landmarks(tmp_path / "d.json")
    save_landmarks(tmp_path / "ok.json", FACE)
    monkeypatch.setattr(io, "MAX_LANDMARK_FILE_BYTES", 1000)
    with pytest.raises(LandmarkFileError, match="above the 1000 bytes limit"):
        load_landmarks(tmp_path / "ok.json")


def test_json_nesting_infinities_and_types_name_the_file(tmp_path: Path) -> None:
    (tmp_path / "deep.json").write_text("[" * 200_000 + "]" * 200_000)
    with pytest.raises(LandmarkFileError, match=r"deep\.json': JSON nested too deeply"):
        load_landmarks(tmp_path / "deep.json")
    pts = FACE.tolist()
    doc = {"format": "faceshot-landmarks", "points": [pts], "image_size": [160, 160]}
    (tmp_path / "size.json").write_text(json.dumps(doc).replace("[160, 160]", "[1e400, 160]"))
    with pytest.raises(LandmarkFileError, match=r"size\.json'.*image_size"):
        load_landmarks(tmp_path / "size.json")
    (tmp_path / "half.json").write_text(json.dumps({**doc, "image_size": [160.5, 160]}))
    with pytest.raises(LandmarkFileError, match="image_size"):
        load_landmarks(tmp_path / "half.json")  # never truncated to 160
    (tmp_path / "vis.json").write_text(json.dumps({**doc, "visible": [[1] * 68]}))
    with pytest.raises(LandmarkFileError, match="true/false"):
        load_landmarks(tmp_path / "vis.json")
    (tmp_path / "bools.json").write_text(json.dumps([[[True, False]] * 68]))
    with pytest.raises(LandmarkFileError, match="must hold numbers"):
        load_landmarks(tmp_path / "bools.json")


def test_as_points_refuses_bool_arrays() -> None:
    with pytest.raises(LandmarkShapeError, match="real numbers"):
        as_points(np.ones((68, 2), bool))


# --------------------------------------------------------------------------- EXIF


def test_exif_orientation_turns_pixels_upright() -> None:
    # Stored 2x3 image; each orientation names how the stored pixels map to the upright view.
    a = np.arange(6).reshape(2, 3)
    expect = {
        1: [[0, 1, 2], [3, 4, 5]],
        2: [[2, 1, 0], [5, 4, 3]],
        3: [[5, 4, 3], [2, 1, 0]],
        4: [[3, 4, 5], [0, 1, 2]],
        5: [[0, 3], [1, 4], [2, 5]],
        6: [[3, 0], [4, 1], [5, 2]],  # stored rotated 90 degrees counter-clockwise
        7: [[5, 2], [4, 1], [3, 0]],
        8: [[2, 5], [1, 4], [0, 3]],
    }
    for orientation, want in expect.items():
        np.testing.assert_array_equal(
            apply_exif_orientation(a, orientation), want, err_msg=str(orientation)
        )
    assert apply_exif_orientation(a, None) is a and apply_exif_orientation(a, 42) is a
    rgb = np.zeros((2, 3, 3))
    assert apply_exif_orientation(rgb, 6).shape == (3, 2, 3)
