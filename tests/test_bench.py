"""``faceshot bench``: the expression-error metric and the --quick table/JSON."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from faceshot._bench import expression_error, track_grid


@pytest.fixture(scope="module")
def driving(demo_driving: Path) -> tuple[list[np.ndarray], np.ndarray]:
    from faceshot_animate import read_video
    from faceshot_landmarks import detect_video

    frames = list(read_video(demo_driving))
    points = np.asarray(detect_video(demo_driving, progress=False).points)[0]
    return frames, points


def test_expression_error_is_zero_for_the_same_video_and_not_for_a_still(
    driving: tuple[list[np.ndarray], np.ndarray],
) -> None:
    frames, points = driving
    same = expression_error(frames, points, frames, points)
    still = expression_error(frames, points, [frames[0]] * len(frames), points)
    assert same < 1e-12
    assert still > 1e-4


def test_the_metric_lives_in_faceshot_landmarks() -> None:
    import faceshot_landmarks

    assert expression_error is faceshot_landmarks.expression_error
    assert track_grid is faceshot_landmarks.track_grid


def test_track_grid_shapes(driving: tuple[list[np.ndarray], np.ndarray]) -> None:
    frames, _ = driving
    pts, ok = track_grid(frames[:5], np.array([60.0, 40.0, 110.0, 90.0]), n=4)
    assert pts.shape == (16, 5, 2) and ok.shape == (16,) and ok.dtype == bool
    np.testing.assert_allclose(pts[:, 0].min(axis=0), [60.0, 40.0])


@pytest.mark.slow
def test_bench_quick_prints_one_table_and_json(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from faceshot.cli import main

    out = tmp_path / "bench.json"
    assert main(["bench", "--quick", "--json", str(out)]) == 0
    table = capsys.readouterr().out
    result = json.loads(out.read_text())
    names = {
        "retarget frames/s",
        "detection fps",
        "matcher NME (human)",
        "emoji keypoint error",
        "animate fps",
        "end-to-end",
        "expression error",
        "identity similarity",
        "motion violations",
        "motion in canvas",
        "motion unexplained jump",
        "motion mouth corr",
    }
    names |= {
        "identity switches (two-person)",
        "cut precision",
        "cut recall",
        "detection / every-frame speed",
    }  # issue 10
    names |= {
        "matcher 5-pt error, held-out style",
        "matcher PCK@0.10, held-out style",  # issue 12
        "matcher 5-pt error, animals held-out",
        "matcher 5-pt error, in-sample",
    }
    names |= {
        "non-human driving error",
        "non-human mouth r",
        "non-human eye r",
        "non-human fps",
    }  # issue 18
    assert set(result["figures"]) == names
    for name in names:
        assert name in table
    figures = result["figures"]
    assert figures["retarget frames/s"]["value"] > 0 and figures["animate fps"]["value"] > 0
    assert 0 < figures["emoji keypoint error"]["value"] < 1
    assert 0 < figures["matcher NME (human)"]["value"] < 1
    assert figures["expression error"]["value"] is not None
    assert (
        figures["identity similarity"]["value"] is not None
        and figures["identity similarity"]["value"] > 0.8
    )
    assert (
        figures["motion violations"]["value"] == 0 and figures["motion in canvas"]["value"] == 1.0
    )
    assert (
        figures["motion unexplained jump"]["value"] <= 0.08
        and figures["motion mouth corr"]["value"] > 0.8
    )
    assert figures["identity switches (two-person)"]["value"] == 0
    assert figures["cut recall"]["value"] == 1.0 and figures["cut precision"]["value"] == 1.0
    assert 0 < figures["non-human driving error"]["value"] < 0.1
    assert figures["non-human mouth r"]["value"] > 0.8 and figures["non-human fps"]["value"] > 0


def test_render_figures_compare_both_animators_and_see_the_mouth() -> None:
    from faceshot_animate import load_image
    from faceshot_retarget import load_landmarks

    from faceshot._bench import format_render_table, render_figures

    demo = Path(__file__).resolve().parents[1] / "assets" / "demo"
    image = load_image(demo / "character.png")
    lm = load_landmarks(demo / "character.pts").points[0]
    width = float(np.linalg.norm(lm[16] - lm[0]))
    opening = 0.12 * width * np.sin(np.linspace(0, np.pi, 10)) ** 2
    seq = np.repeat(lm[None], 10, axis=0)
    seq[:, [65, 66, 67, 56, 57, 58], 1] += opening[:, None]
    seq[:, :, 0] += np.linspace(0, -4, 10)[:, None]  # a little head motion
    render = render_figures(image, seq, seq)
    assert set(render) == {"rig", "warp"}
    assert render["rig"]["rigidity_median"] > 0.97 and render["rig"]["fps"] > 0
    assert render["rig"]["mouth_corr"] > 0.5  # the opening is drawn
    assert "rigidity_median" in format_render_table(render)


def test_bench_inputs_ship_with_the_package_as_copies_of_the_repository_files() -> None:
    from faceshot._bench import bench_data_path

    repo = Path(__file__).resolve().parents[1]
    data = bench_data_path()
    copies = {
        "character.png": repo / "assets/demo/character.png",
        "character.pts": repo / "assets/demo/character.pts",
        "driving.mp4": repo / "assets/demo/driving.mp4",
        "astronaut_face.jpg": repo / "packages/faceshot-landmarks/tests/data/astronaut_face.jpg",
        "astronaut_face.pts": repo / "packages/faceshot-landmarks/tests/data/astronaut_face.pts",
    }
    for name, source in copies.items():
        assert (data / name).read_bytes() == source.read_bytes(), (
            f"faceshot/data/bench/{name} differs from {source}"
        )
    assert sum(p.stat().st_size for p in data.iterdir()) < 1 << 20  # small


def test_checkout_is_found_from_the_working_directory_only(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from faceshot._bench import find_checkout, run_bench

    repo = Path(__file__).resolve().parents[1]
    assert find_checkout(repo / "bench") == repo
    monkeypatch.chdir(tmp_path)
    assert find_checkout() is None  # the package's own location is never used
    with pytest.raises(
        FileNotFoundError, match=r"is not a faceshot checkout: missing gallery_src/README\.md"
    ):
        run_bench(repo=tmp_path)


def test_installed_code_never_reaches_into_the_repository() -> None:
    """No module of an installed package finds files relative to the repository (only its own
    package data) or puts repository folders on ``sys.path``."""
    import re

    repo = Path(__file__).resolve().parents[1]
    trees = [repo / "src" / "faceshot", *sorted((repo / "packages").glob("*/src"))]
    bad = re.compile(
        r"__file__\)?(\.resolve\(\))?\.parents|parents\[\d\]|sys\.path\.(insert|append)"
    )
    hits = [
        f"{p.relative_to(repo)}:{n}: {line.strip()}"
        for tree in trees
        for p in sorted(tree.rglob("*.py"))
        for n, line in enumerate(p.read_text(encoding="utf-8").splitlines(), 1)
        if bad.search(line) and not line.lstrip().startswith("#")
    ]
    assert not hits, "\n".join(hits)
