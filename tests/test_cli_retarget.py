"""`faceshot retarget` end to end on landmark files (no models involved)."""

import subprocess
import sys

import numpy as np
import pytest
from faceshot_retarget import read_npy, read_pts, retarget, template_face, write_npy, write_pts

from faceshot.cli import main


@pytest.fixture
def files(tmp_path):
    driving = np.repeat(template_face(100.0, (80.0, 70.0))[None], 4, axis=0)
    driving[1:, 57, 1] += np.array([2.0, 4.0, 6.0])
    target = template_face(250.0, (256.0, 256.0))
    d, t = tmp_path / "D.npy", tmp_path / "T.pts"
    write_npy(d, driving)
    write_pts(t, target)
    return driving, target, d, t


def test_retarget_command_matches_library(files, tmp_path):
    driving, _, d, t = files
    out = tmp_path / "OUT.npy"
    assert main(["retarget", "--driving", str(d), "--target", str(t), "-o", str(out)]) == 0
    expected = retarget(driving, read_pts(t))
    np.testing.assert_allclose(read_npy(out).points, expected)


def test_retarget_command_via_console_script(files, tmp_path):
    _, _, d, t = files
    out = tmp_path / "OUT.json"
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "faceshot",
            "retarget",
            "--driving",
            str(d),
            "--target",
            str(t),
            "-o",
            str(out),
            "--smooth",
        ],
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 0, proc.stderr
    assert out.exists()


def test_retarget_command_bad_input_is_one_line(files, tmp_path, capsys):
    _, _, d, _ = files
    bad = tmp_path / "bad.npy"
    np.save(bad, np.full((3, 68, 2), np.nan))
    before = bad.read_bytes()
    out = tmp_path / "OUT.npy"
    assert main(["retarget", "--driving", str(bad), "--target", str(d), "-o", str(out)]) == 1
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "not finite" in err and "bad.npy" in err
    assert bad.read_bytes() == before and not out.exists()
