import json
from pathlib import Path

import numpy as np
import pytest

from faceshot_retarget import (
    LandmarkFileError,
    Landmarks,
    LandmarkShapeError,
    atomic_write,
    ibug68,
    load_landmarks,
    read_pts,
    save_landmarks,
    template_face,
    write_pts,
)

DATA = Path(__file__).parent / "data"


def test_read_pts_converts_one_based_to_zero_based():
    lm = read_pts(DATA / "takeo.pts")
    first = [float(v) for v in (DATA / "takeo.pts").read_text().splitlines()[3].split()]
    assert lm.points.shape == (1, 68, 2) and lm.points.dtype == np.float64
    np.testing.assert_allclose(lm.points[0, 0], np.array(first) - 1.0)
    raw = read_pts(DATA / "takeo.pts", one_based=False)
    np.testing.assert_allclose(raw.points, lm.points + 1.0)


@pytest.mark.parametrize("suffix", [".pts", ".json", ".npy"])
def test_round_trip_is_exact(tmp_path, suffix):
    lm = read_pts(DATA / "takeo.pts")
    path = save_landmarks(tmp_path / f"x{suffix}", lm)
    back = load_landmarks(path)
    np.testing.assert_array_equal(back.points, lm.points)


def test_json_keeps_image_size_and_visibility(tmp_path):
    vis = np.ones((2, 68), bool)
    vis[1, 3] = False
    lm = Landmarks(np.stack([template_face(10.0)] * 2), image_size=(480, 640), visible=vis)
    back = load_landmarks(save_landmarks(tmp_path / "x.json", lm))
    assert back == lm and back.image_size == (480, 640)
    assert json.loads((tmp_path / "x.json").read_text())["format"] == "faceshot-landmarks"


def test_landmarks_are_read_only_copies():
    arr = template_face(50.0)
    lm = Landmarks(arr)
    arr[0, 0] = 1e6
    assert lm.points[0, 0, 0] != 1e6
    with pytest.raises(ValueError):
        lm.points[0, 0, 0] = 1.0
    assert lm.num_frames == 1 and len(lm) == 1


def test_landmarks_validation_messages():
    with pytest.raises(LandmarkShapeError, match=r"`points` must have shape"):
        Landmarks(np.zeros((67, 2)))
    with pytest.raises(LandmarkShapeError, match="image_size"):
        Landmarks(template_face(), image_size=(0, 5))
    with pytest.raises(LandmarkShapeError, match=r"`visible` must have shape \(1, 68\)"):
        Landmarks(template_face(), visible=np.ones(5, bool))


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("a.pts", "version: 1\nn_points: 68\n{\n1 2\n}\n", "n_points: 68 but the body has 1"),
        ("b.pts", "hello", "no '{' ... '}' block"),
        ("c.pts", "{\n" + "1 x\n" * 68 + "}\n", "not two numbers"),
        ("d.json", "{not json", "not valid JSON"),
        ("e.json", json.dumps({"points": [[1, 2]]}), "must have shape"),
        ("f.npy", b"garbage", "cannot read"),
        ("g.txt", "1 2", "unsupported landmark file type"),
    ],
)
def test_malformed_files_name_the_file(tmp_path, name, content, message):
    path = tmp_path / name
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content)
    with pytest.raises(LandmarkFileError, match=message) as info:
        load_landmarks(path)
    assert name in str(info.value)


def test_missing_file(tmp_path):
    with pytest.raises(LandmarkFileError, match="does not exist"):
        load_landmarks(tmp_path / "nope.pts")


def test_atomic_write_leaves_nothing_on_failure(tmp_path):
    target = tmp_path / "out.bin"

    def boom(f):
        f.write(b"partial")
        raise RuntimeError("killed")

    with pytest.raises(RuntimeError):
        atomic_write(target, boom)
    assert list(tmp_path.iterdir()) == []


def test_write_pts_refuses_sequences(tmp_path):
    with pytest.raises(LandmarkFileError, match="one frame"):
        write_pts(tmp_path / "x.pts", np.stack([template_face()] * 2))


def test_ibug68_layout_covers_every_point_once_per_group():
    covered = np.concatenate([np.arange(s.start, s.stop) for s in ibug68.GROUPS.values()])
    np.testing.assert_array_equal(np.sort(covered), np.arange(68))
    in_chains = np.unique(np.concatenate(list(ibug68.CHAINS.values())))
    np.testing.assert_array_equal(in_chains, np.arange(68))
    assert len(ibug68.CHAINS) == 13
    assert list(ibug68.PARTS) == ["face_boundary", "eyebrows", "nose", "eyes", "mouth"]
    np.testing.assert_array_equal(ibug68.part_indices("eyes"), np.arange(36, 48))
    with pytest.raises(KeyError, match="unknown part"):
        ibug68.part_indices("ears")


def test_atomic_write_gives_regular_permissions(tmp_path):
    import os
    import stat

    path = atomic_write(tmp_path / "x.bin", lambda f: f.write(b"1"))
    mask = os.umask(0o022)
    os.umask(mask)
    assert stat.S_IMODE(path.stat().st_mode) == 0o666 & ~mask
