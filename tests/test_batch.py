"""``faceshot batch`` / ``faceshot.batch`` (issue #16).

Real inputs, small: Twemoji characters at 160 px (CC-BY 4.0, from ``gallery_src``) and the
30-frame Carphone clip of ``tests/data`` plus a mirrored copy written here. The 6-job batch
holds one corrupt video and one image with no face (a blank canvas); it runs on the local
process pool and on a local Ray instance started on 127.0.0.1 with 2 CPUs, and both must
write byte-identical videos. The resume test interrupts a run with Ctrl-C, kills the next
one with SIGKILL, and checks that the third run writes each remaining output exactly once.
"""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

import faceshot
from faceshot import BatchError, Job
from faceshot._batch import _verified
from faceshot._batch_jobs import _cell, cross_product, read_jobs
from faceshot._batch_worker import file_digest, read_sidecar, sidecar_path, stale_temporaries

REPO = Path(__file__).parents[1]
TWEMOJI = REPO / "gallery_src" / "twemoji"
GOOD = ("grin__talk", "grin__mirror", "smile__talk", "smile__mirror")


def _render_svg(svg: Path, out: Path, side: int = 160) -> Path:
    import cairosvg

    cairosvg.svg2png(url=str(svg), write_to=str(out), output_width=side, output_height=side)
    return out


def _mirror(src: Path, out: Path) -> Path:
    """A second driving clip: the Carphone clip mirrored left-right."""
    from faceshot_animate import VideoWriter, probe_video, read_video

    with VideoWriter(out, probe_video(src).fps) as writer:
        for frame in read_video(src):
            writer.write(np.ascontiguousarray(frame[:, ::-1]))
    return out


@pytest.fixture(scope="module")
def inputs(
    tmp_path_factory: pytest.TempPathFactory, demo_character: Path, demo_driving: Path
) -> Path:
    """grin.png, smile.png, blank.png; talk.mp4, mirror.mp4, corrupt.mp4; jobs.csv (6 jobs)."""
    from PIL import Image

    root = tmp_path_factory.mktemp("batch_inputs")
    shutil.copy(demo_character, root / "grin.png")
    _render_svg(TWEMOJI / "1f60a.svg", root / "smile.png")
    Image.new("RGB", (160, 160), (255, 255, 255)).save(root / "blank.png")  # no face
    shutil.copy(demo_driving, root / "talk.mp4")
    _mirror(demo_driving, root / "mirror.mp4")
    (root / "corrupt.mp4").write_bytes(demo_driving.read_bytes()[:1500])  # truncated container
    (root / "jobs.csv").write_text(
        "character,driving,output,expression_scale\n"
        "grin.png,talk.mp4,out/grin__talk.mp4,\n"
        "grin.png,mirror.mp4,out/grin__mirror.mp4,0.5\n"
        "smile.png,talk.mp4,out/smile__talk.mp4,\n"
        "smile.png,mirror.mp4,out/smile__mirror.mp4,\n"
        "grin.png,corrupt.mp4,out/grin__corrupt.mp4,\n"
        "blank.png,talk.mp4,out/blank__talk.mp4,\n"
    )
    return root


def _copy_inputs(inputs: Path, dest: Path) -> Path:
    shutil.copytree(inputs, dest, ignore=shutil.ignore_patterns("out", "*.jsonl"))
    return dest


def _records(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


@pytest.fixture(scope="module")
def animated(inputs: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """``FaceShot.animate`` of each good character with talk.mp4: what the batch must render."""
    out = tmp_path_factory.mktemp("animated")
    fs = faceshot.FaceShot(progress=False)
    return {
        name: fs.animate(inputs / f"{name}.png", inputs / "talk.mp4", out / f"{name}.mp4").output
        for name in ("grin", "smile")
    }


def _check_six(root: Path, results: list[dict], animated: dict[str, Path]) -> dict[str, str]:
    """The 6-job batch's outcome; returns output stem -> sha256."""
    from faceshot_animate import probe_video, read_video

    by_out = {Path(r["output"]).stem: r for r in results}
    assert set(by_out) == {*GOOD, "grin__corrupt", "blank__talk"}
    for stem in GOOD:
        assert by_out[stem]["status"] == "ok", by_out[stem]
    bad_video = by_out["grin__corrupt"]
    assert (
        bad_video["status"] == "failed"
        and "corrupt.mp4" in bad_video["error"]
        and "\n" not in bad_video["error"]
    )
    no_face = by_out["blank__talk"]
    assert (
        no_face["status"] == "failed"
        and "blank.png" in no_face["error"]
        and "no face" in no_face["error"]
    )
    out = root / "out"
    visible = sorted(p.name for p in out.iterdir() if not p.name.startswith("."))
    assert visible == sorted(f"{s}.mp4" for s in GOOD)  # nothing for the failed jobs
    hidden = sorted(p.name for p in out.iterdir() if p.name.startswith("."))
    assert hidden == sorted(f".{s}.mp4.faceshot-batch.json" for s in GOOD)  # no temporary file
    digests = {}
    for stem in GOOD:
        video = out / f"{stem}.mp4"
        info = probe_video(video)
        # the canvas FaceShot.animate stages (room around the face), not the 160 px image
        reference = animated[stem.split("__")[0]]
        assert info.frame_count == 30 and info.size == probe_video(reference).size
        frames = list(read_video(video))
        if stem.endswith("__talk"):  # the same job as FaceShot.animate: the same frames
            ref = list(read_video(reference))
            diffs = [
                np.abs(a.astype(int) - b.astype(int)).mean()
                for a, b in zip(frames, ref, strict=True)
            ]
            assert np.mean(diffs) < 1.0, np.mean(diffs)  # encoder settings differ, nothing else
        assert np.abs(frames[0].astype(int) - frames[-1].astype(int)).mean() > 0.5  # it moves
        assert read_sidecar(video)["sha256"] == file_digest(video)
        digests[stem] = file_digest(video)
    return digests


@pytest.fixture(scope="module")
def local_run(
    inputs: Path, tmp_path_factory: pytest.TempPathFactory
) -> tuple[Path, faceshot.BatchResults]:
    root = _copy_inputs(inputs, tmp_path_factory.mktemp("local") / "in")
    res = faceshot.batch(root / "jobs.csv", workers=2, cache_dir=root / "cache", progress=False)
    return root, res


# ---------------------------------------------------------------- end to end


@pytest.mark.slow
def test_local_pool_six_jobs(
    local_run: tuple[Path, faceshot.BatchResults], animated: dict[str, Path]
) -> None:
    root, res = local_run
    assert res.engine == "local" and res.workers == 2 and len(res) == 6
    assert res.counts["ok"] == 4 and res.counts["failed"] == 2
    records = _records(root / "jobs.results.jsonl")
    assert len(records) == 6
    _check_six(root, records, animated)
    # shared work: each driving video and each character image was processed once
    ok = [r for r in records if r["status"] == "ok"]
    for video in ("talk.mp4", "mirror.mp4"):
        sources = [r["landmarks"]["driving"] for r in ok if r["driving"].endswith(video)]
        assert sorted(sources) == ["computed", "reused"], sources
    for image in ("grin.png", "smile.png"):
        sources = [r["landmarks"]["character"] for r in ok if r["character"].endswith(image)]
        assert sorted(sources) == ["computed", "reused"], sources
    assert len(list((root / "cache").glob("driving-*.pkl"))) == 2
    assert len(list((root / "cache").glob("character-*.pkl"))) == 2
    # the per-job option reached the pipeline: same inputs, different expression scale
    grin = {r["options"].get("expression_scale") for r in ok if "grin" in r["output"]}
    assert grin == {None, 0.5}


@pytest.mark.slow
def test_rerun_skips_verified_outputs_and_redoes_damaged_ones(
    local_run: tuple[Path, faceshot.BatchResults],
) -> None:
    root, _ = local_run
    out = root / "out"
    before = {p.name: (p.stat().st_ino, p.stat().st_mtime_ns) for p in out.glob("*.mp4")}
    damaged = out / "smile__mirror.mp4"
    os.truncate(damaged, damaged.stat().st_size - 100)  # same name, not what was written
    res = faceshot.batch(root / "jobs.csv", workers=1, cache_dir=root / "cache", progress=False)
    status = {Path(r.output).stem: r.status for r in res}
    assert status == {
        "grin__talk": "skipped",
        "grin__mirror": "skipped",
        "smile__talk": "skipped",
        "smile__mirror": "ok",
        "grin__corrupt": "failed",
        "blank__talk": "failed",
    }
    redone = next(r for r in res if r.status == "ok")
    assert redone.landmarks == {"driving": "cache", "character": "cache"}  # from the landmark cache
    for p in out.glob("*.mp4"):
        if p.name != damaged.name:
            assert (p.stat().st_ino, p.stat().st_mtime_ns) == before[p.name]
    assert _verified(damaged, redone.key) is True


@pytest.mark.slow
@pytest.mark.skipif(
    importlib.util.find_spec("ray") is None,
    reason="Ray is the optional extra faceshot[cluster] (uv sync --extra cluster); CI installs it",
)
def test_ray_gives_identical_outputs(
    inputs: Path,
    local_run: tuple[Path, faceshot.BatchResults],
    animated: dict[str, Path],
    tmp_path: Path,
) -> None:
    """The same 6 jobs on a local Ray instance (127.0.0.1, 2 CPUs), through the CLI's --ray ADDRESS."""
    local_root, _ = local_run
    local = {p.stem: file_digest(p) for p in (local_root / "out").glob("*.mp4")}
    root = _copy_inputs(inputs, tmp_path / "in")
    env = {
        **os.environ,
        "RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER": "0",  # keep every Ray address on 127.0.0.1
        "RAY_AUTH_MODE": "token",  # Ray's default for a new cluster; a driver joining it must say so too
    }
    head = subprocess.Popen(
        [sys.executable, "-c", _RAY_HEAD],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    try:
        address = head.stdout.readline().strip() if head.stdout else ""
        assert address.startswith("127.0.0.1:"), (
            address,
            head.stderr.read() if head.poll() is not None and head.stderr else "",
        )
        run = subprocess.run(
            [
                sys.executable,
                "-m",
                "faceshot",
                "batch",
                str(root / "jobs.csv"),
                "--ray",
                address,
                "--workers",
                "2",
                "--cache-dir",
                str(root / "cache"),
                "--no-progress",
            ],
            capture_output=True,
            text=True,
            env=env,
            timeout=600,
        )
    finally:
        if head.stdin:
            head.stdin.close()  # the head shuts its Ray instance down and exits
        try:
            head.wait(timeout=60)
        except subprocess.TimeoutExpired:
            head.terminate()
            head.wait(timeout=30)
    assert run.returncode == 1, run.stderr  # 2 of 6 jobs fail
    assert "6 jobs: 4 ok, 2 failed" in run.stdout and "(2 ray workers)" in run.stdout, run.stdout
    lines = [ln for ln in run.stderr.splitlines() if ln.startswith("faceshot batch: job")]
    assert len(lines) == 2, run.stderr
    ray = _check_six(root, _records(root / "jobs.results.jsonl"), animated)
    assert ray == local  # byte-identical videos


_RAY_HEAD = """
import sys, ray
ray.init(num_cpus=2, _node_ip_address="127.0.0.1", include_dashboard=False,
         object_store_memory=128 * 2**20, logging_level="error")
print(ray.get_runtime_context().gcs_address, flush=True)
sys.stdin.read()  # until the test closes our stdin
ray.shutdown()
"""


@pytest.mark.slow
def test_interrupt_kill_and_resume_write_each_output_once(inputs: Path, tmp_path: Path) -> None:
    """Ctrl-C midway (clean stop), then SIGKILL midway, then a full run: each output is
    written by exactly one run and never rewritten; nothing partial is ever visible."""
    root = _copy_inputs(inputs, tmp_path / "in")
    for code, name in (("1f642", "calm"), ("1f60b", "yum")):
        _render_svg(TWEMOJI / f"{code}.svg", root / f"{name}.png")
    names = ("grin", "smile", "calm", "yum")
    (root / "jobs.jsonl").write_text(
        "".join(
            json.dumps(
                {"character": f"{c}.png", "driving": f"{d}.mp4", "output": f"out/{c}__{d}.mp4"}
            )
            + "\n"
            for c in names
            for d in ("talk", "mirror")
        )
    )
    results = root / "jobs.results.jsonl"
    outputs = [root / "out" / f"{c}__{d}.mp4" for c in names for d in ("talk", "mirror")]
    cmd = [
        sys.executable,
        "-m",
        "faceshot",
        "batch",
        str(root / "jobs.jsonl"),
        "--workers",
        "1",
        "--cache-dir",
        str(root / "cache"),
        "--no-progress",
    ]
    written: dict[str, tuple[int, int]] = {}  # output -> (inode, mtime) when first seen

    def stop_midway(sig: int) -> subprocess.CompletedProcess[str]:
        seen = len([r for r in _records(results) if r["status"] == "ok"]) if results.exists() else 0
        proc = subprocess.Popen(
            cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True
        )
        deadline = time.monotonic() + 300
        while time.monotonic() < deadline and proc.poll() is None:
            done = [r for r in _records(results) if r["status"] == "ok"] if results.exists() else []
            if len(done) > seen:
                os.killpg(
                    proc.pid, sig
                )  # the whole process group, as a terminal (or `kill -9 -PGID`) does
                break
            time.sleep(0.02)
        out, err = proc.communicate(timeout=120)
        return subprocess.CompletedProcess(cmd, proc.returncode, out, err)

    def check_consistent() -> None:
        for p in outputs:
            if p.exists():
                assert read_sidecar(p)["sha256"] == file_digest(p), p  # complete, never partial
                first = written.setdefault(p.name, (p.stat().st_ino, p.stat().st_mtime_ns))
                assert (p.stat().st_ino, p.stat().st_mtime_ns) == first, (
                    f"{p.name} was written twice"
                )

    run1 = stop_midway(signal.SIGINT)
    assert run1.returncode == 130, run1.stderr
    assert "interrupted" in run1.stderr and "Traceback" not in run1.stderr, run1.stderr
    assert not [
        p for p in (root / "out").iterdir() if p.name.endswith((".tmp", ".tmp.mp4", ".batch.mp4"))
    ]
    check_consistent()
    after1 = {p.name for p in outputs if p.exists()}
    assert 1 <= len(after1) < len(outputs), after1

    run2 = stop_midway(signal.SIGKILL)
    assert run2.returncode == -signal.SIGKILL
    check_consistent()
    after2 = {p.name for p in outputs if p.exists()}
    assert after1 < after2 < {p.name for p in outputs}, (after1, after2)

    run_id = {r["run"] for r in _records(results)}
    final = faceshot.batch(root / "jobs.jsonl", workers=1, cache_dir=root / "cache", progress=False)
    assert final.counts["failed"] == 0 and final.counts["ok"] + final.counts["skipped"] == len(
        outputs
    )
    check_consistent()
    new = [r for r in _records(results) if r["run"] not in run_id]
    for p in outputs:
        oks = [r for r in new if r["output"] == str(p) and r["status"] == "ok"]
        assert len(oks) == (0 if p.name in after2 else 1), (p.name, oks)
    assert not stale_temporaries(outputs[0]) and not [
        p for p in (root / "out").iterdir() if p.name.endswith((".tmp", ".tmp.mp4", ".batch.mp4"))
    ]


# ---------------------------------------------------------------- jobs, options, records (fast)


def test_jobs_file_formats_and_relative_paths(tmp_path: Path) -> None:
    (tmp_path / "jobs.csv").write_text(
        "# a comment row\ncharacter,driving,output,--expression-scale,translation-scale,smooth\n"
        "a.png,clips/d.mp4,out/x.mp4,0.5,face,false\n\n"
        "b.svg,/abs/e.mp4,,,,\n"
    )
    jobs = read_jobs(tmp_path / "jobs.csv", output_dir=tmp_path / "o")
    assert [j.character for j in jobs] == [tmp_path / "a.png", tmp_path / "b.svg"]
    assert (
        jobs[0].driving == tmp_path / "clips" / "d.mp4"
        and jobs[0].output == tmp_path / "out" / "x.mp4"
    )
    assert jobs[0].kwargs == {"expression_scale": 0.5, "translation_scale": "face", "smooth": False}
    assert jobs[1].kwargs == {} and jobs[1].output == tmp_path / "o" / "b__e.mp4"
    (tmp_path / "jobs.jsonl").write_text(
        json.dumps(
            {
                "character": "a.png",
                "driving": "d.mp4",
                "output": "x.mp4",
                "max_side": 256,
                "options": {"detector": "matcher"},
            }
        )
        + "\n\n"
    )
    (job,) = read_jobs(tmp_path / "jobs.jsonl")
    assert job.kwargs == {"detector": "matcher", "max_side": 256}


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (
            "character,driving,output,expresion_scale\na.png,d.mp4,x.mp4,1\n",
            "unknown option 'expresion_scale'; FaceShot options are: ",
        ),
        ("character,output\na.png,x.mp4\n", "no 'driving' column"),
        ("character,driving,output\na.png,d.mp4\n", "jobs.csv line 2: 2 cells; the header has 3"),
        (
            "character,driving,output,progress\na.png,d.mp4,x.mp4,true\n",
            "option 'progress' is set by the batch itself",
        ),
        ("character,driving\na.png,d.mp4\n", "jobs.csv line 2: 'output' is missing"),
        ("", "is empty"),
    ],
)
def test_bad_jobs_files_name_the_line(tmp_path: Path, content: str, message: str) -> None:
    (tmp_path / "jobs.csv").write_text(content)
    with pytest.raises(BatchError) as info:
        read_jobs(tmp_path / "jobs.csv")
    assert message in str(info.value)


def test_options_follow_faceshot_signature() -> None:
    """Options are read off FaceShot.__init__, so a new pipeline option needs no batch change."""
    import inspect

    from faceshot._batch_jobs import faceshot_options

    params = set(inspect.signature(faceshot.FaceShot.__init__).parameters) - {"self", "progress"}
    assert set(faceshot_options()) == params
    assert [_cell(s) for s in ("0.5", "3", "TRUE", "null", "face", " x.png ")] == [
        0.5,
        3,
        True,
        None,
        "face",
        "x.png",
    ]


def test_cross_product_and_duplicate_outputs(
    tmp_path: Path, demo_character: Path, demo_driving: Path
) -> None:
    chars, clips = tmp_path / "chars", tmp_path / "clips"
    chars.mkdir()
    clips.mkdir()
    for name in ("b.png", "a.png", "notes.txt"):
        shutil.copy(demo_character, chars / name)
    for name in ("d1.mp4", "d2.mov"):
        shutil.copy(demo_driving, clips / name)
    jobs = cross_product(chars, clips, tmp_path / "out", options={"expression-scale": 0.8})
    assert [j.output.name for j in jobs] == ["a__d1.mp4", "a__d2.mp4", "b__d1.mp4", "b__d2.mp4"]
    assert all(j.kwargs == {"expression_scale": 0.8} for j in jobs)
    same = Job(chars / "a.png", clips / "d1.mp4", tmp_path / "out" / "same.mp4")
    with pytest.raises(BatchError, match="is also the output of"):
        faceshot.batch([same, same], progress=False, cache=False)
    with pytest.raises(BatchError, match="unknown option 'colour'"):
        faceshot.batch([same], options={"colour": 1}, progress=False)


def test_inputs_and_outputs_checked_before_any_work(
    tmp_path: Path, demo_character: Path, demo_driving: Path
) -> None:
    """Missing inputs, a foreign file at an output path and a bad option value fail their own
    jobs before a worker starts; an existing file is never replaced without --overwrite."""
    foreign = tmp_path / "foreign.mp4"
    foreign.write_bytes(b"not ours")
    jobs = [
        {
            "character": str(tmp_path / "missing.png"),
            "driving": str(demo_driving),
            "output": str(tmp_path / "a.mp4"),
        },
        {
            "character": str(demo_character),
            "driving": str(tmp_path / "missing.mp4"),
            "output": str(tmp_path / "b.mp4"),
        },
        {"character": str(demo_character), "driving": str(demo_driving), "output": str(foreign)},
        {
            "character": str(demo_character),
            "driving": str(demo_driving),
            "output": str(tmp_path / "c.mp4"),
            "detector": "nose",
        },
        {
            "character": str(demo_character),
            "driving": str(demo_driving),
            "output": str(tmp_path / "d.mkv"),
        },
    ]
    res = faceshot.batch(jobs, progress=False, cache=False, results=tmp_path / "r.jsonl")
    assert [r.status for r in res] == ["failed"] * 5 and res.workers == 0  # no pool was started
    errors = [r.error or "" for r in res]
    assert "missing.png' does not exist" in errors[0]
    assert "missing.mp4' does not exist" in errors[1]
    assert (
        "already exists and was not written by faceshot batch" in errors[2]
        and "--overwrite" in errors[2]
    )
    assert "`detector` must be one of" in errors[3]
    assert "must end in .mp4" in errors[4]
    assert foreign.read_bytes() == b"not ours"
    assert len(_records(tmp_path / "r.jsonl")) == 5


def test_verification_and_stale_temporaries(tmp_path: Path) -> None:
    out = tmp_path / "x.mp4"
    assert _verified(out, "k") is None
    out.write_bytes(b"video bytes")
    assert _verified(out, "k") is None  # exists, not ours
    record = {"key": "k", "sha256": file_digest(out), "size": out.stat().st_size}
    sidecar_path(out).write_text(json.dumps(record))
    assert _verified(out, "k") is True
    assert _verified(out, "other parameters") is False
    out.write_bytes(b"video bytez")  # same size, other bytes
    assert _verified(out, "k") is False
    for name in (
        ".x.mp4.1a2b3c4d.batch.mp4",
        "..x.mp4.1a2b3c4d.batch.mp4.qz.tmp.mp4",
        ".x.mp4.ab12.tmp",
        "..x.mp4.faceshot-batch.json.zz.tmp",
        ".y.mp4.1a2b3c4d.batch.mp4",
        "x.mp4.tmp",
    ):
        (tmp_path / name).write_bytes(b"")
    assert sorted(p.name for p in stale_temporaries(out)) == [
        "..x.mp4.1a2b3c4d.batch.mp4.qz.tmp.mp4",
        "..x.mp4.faceshot-batch.json.zz.tmp",
        ".x.mp4.1a2b3c4d.batch.mp4",
        ".x.mp4.ab12.tmp",
    ]


def test_blank_character_image_is_refused_before_matching(tmp_path: Path) -> None:
    """The image with no face of the 6-job batch: a blank canvas fails matching with one line
    (before any model loads); loading it is fine (user landmarks may still animate it)."""
    from PIL import Image

    from faceshot import CharacterImageError, FaceShot, load_character
    from faceshot._io import check_not_blank

    Image.new("RGB", (64, 64), (30, 200, 90)).save(tmp_path / "flat.png")
    Image.new("RGBA", (64, 64), (0, 0, 0, 0)).save(tmp_path / "clear.png")
    fs = FaceShot(progress=False)
    with pytest.raises(
        CharacterImageError, match=r"flat.png' is blank: .*one colour \(30, 200, 90\)"
    ):
        fs.match(tmp_path / "flat.png")
    with pytest.raises(CharacterImageError, match=r"clear.png' is blank: "):
        fs.match(tmp_path / "clear.png")
    assert fs._extractor is None  # refused before the model was loaded
    assert load_character(tmp_path / "flat.png").size == (64, 64)
    speck = np.full((64, 64, 3), 255, np.uint8)
    speck[30:34, 30:34] = 0
    Image.fromarray(speck).save(tmp_path / "speck.png")
    check_not_blank(
        load_character(tmp_path / "speck.png").image, "speck"
    )  # anything drawn is accepted


def test_path_options_are_made_absolute(tmp_path: Path) -> None:
    """Workers (Ray actors) run elsewhere: a path option naming an existing directory is
    resolved against the jobs file; a model id stays as it is."""
    (tmp_path / "my_gallery").mkdir()
    (tmp_path / "jobs.jsonl").write_text(
        json.dumps(
            {
                "character": "a.png",
                "driving": "d.mp4",
                "output": "x.mp4",
                "gallery": "my_gallery",
                "backbone_weights": "org/model-id",
            }
        )
        + "\n"
    )
    (job,) = read_jobs(tmp_path / "jobs.jsonl")
    assert job.kwargs == {
        "gallery": str(tmp_path / "my_gallery"),
        "backbone_weights": "org/model-id",
    }
