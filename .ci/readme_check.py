"""CI: every member installs alone from its wheel, and the code blocks of its README run.

For each member package (and the ``faceshot`` meta-package):

1. its wheel is built (``uv build --all-packages --wheel``);
2. a fresh virtual environment is made with the standard library's ``venv`` and the wheel is
   installed into it with plain ``pip``: the faceshot siblings it requires come from the built
   wheels (passed as files), every third-party package from the registry;
3. the ``python`` code blocks of its README are extracted and run, one fresh interpreter per
   block, in a folder holding the example files they name (``character.png``, ``driving.mp4``,
   ``driving.npy``, ``L.npy``, ...; made here from ``tests/data`` and ``assets/demo``). A block
   preceded by ``<!-- readme-check: skip (why) -->`` is skipped (GPU, weights); one preceded by
   ``<!-- readme-check: extras=a,b -->`` first installs those extras of the member (so the
   blocks before it prove the member works without them);
4. the meta-package runs ``faceshot animate`` on the demo pair and ``faceshot bench --quick``
   outside any checkout (the matcher-accuracy figures must be n/a there, the others measured).

It prints, per member: wheel size, installed size (site-packages growth), import time (median
of 3 fresh interpreters), blocks run and skipped, and seconds taken. Exit status 1 on any
failure, with the block's output.

Usage (from the repository root, after ``uv sync``)::

    uv run python .ci/readme_check.py [--members faceshot-retarget,faceshot-animate] [--keep DIR]
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import zipfile
from email.parser import Parser
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
MEMBERS = (
    "faceshot-retarget",
    "faceshot-landmarks",
    "faceshot-features",
    "faceshot-animate",
    "faceshot",
)
IMPORT_NAME = {m: m.replace("-", "_") for m in MEMBERS}
README = {m: ROOT / "packages" / m / "README.md" for m in MEMBERS[:-1]} | {
    "faceshot": ROOT / "README.md"
}
_FENCE = re.compile(r"^```python\s*$")
_MARK = re.compile(r"^<!--\s*readme-check:\s*(.*?)\s*-->\s*$")


def log(msg: str) -> None:
    print(msg, flush=True)


def run(
    cmd: list[str],
    *,
    cwd: Path | None = None,
    env: dict[str, str] | None = None,
    timeout: int = 1800,
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout)


def check(result: subprocess.CompletedProcess[str], what: str) -> None:
    if result.returncode != 0:
        log(
            f"FAILED: {what} (exit {result.returncode})\n--- stdout ---\n{result.stdout[-6000:]}\n--- stderr ---\n{result.stderr[-6000:]}"
        )
        raise SystemExit(1)


# ----------------------------------------------------------------------------- README blocks


def readme_blocks(path: Path) -> list[tuple[str, dict[str, str]]]:
    """The ``python`` fenced blocks of a Markdown file, each with its ``readme-check`` marks."""
    lines = path.read_text(encoding="utf-8").splitlines()
    blocks: list[tuple[str, dict[str, str]]] = []
    i = 0
    while i < len(lines):
        if _FENCE.match(lines[i]):
            marks: dict[str, str] = {}
            j = i - 1
            while j >= 0 and not lines[j].strip():
                j -= 1
            m = _MARK.match(lines[j]) if j >= 0 else None
            if m:
                for part in m.group(1).split(";"):
                    key, _, value = (
                        part.strip().partition(" ")
                        if part.strip().startswith("skip")
                        else part.strip().partition("=")
                    )
                    marks[key.strip()] = value.strip()
            end = next(k for k in range(i + 1, len(lines)) if lines[k].startswith("```"))
            blocks.append(("\n".join(lines[i + 1 : end]) + "\n", marks))
            i = end
        i += 1
    return blocks


# ----------------------------------------------------------------------------- fixtures


def make_fixtures(folder: Path) -> None:
    """The files the README examples name, made with the workspace's own packages."""
    import cairosvg
    import numpy as np
    from faceshot_landmarks import detect_video
    from faceshot_retarget import load_landmarks, retarget, save_landmarks

    folder.mkdir(parents=True, exist_ok=True)
    data = ROOT / "tests" / "data"
    for name in ("character.png", "character.pts", "driving.mp4"):
        shutil.copy(data / name, folder / name)
    shutil.copy(ROOT / "assets/demo/character.png", folder / "ref1.png")
    shutil.copy(ROOT / "assets/demo/character.pts", folder / "ref1.pts")
    twemoji = ROOT / "gallery_src" / "twemoji"
    cairosvg.svg2png(
        url=str(twemoji / "1f642.svg"),
        write_to=str(folder / "ref2.png"),
        output_width=512,
        output_height=512,
    )
    shutil.copy(twemoji / "1f642.pts", folder / "ref2.pts")
    driving = detect_video(folder / "driving.mp4", progress=False)
    save_landmarks(folder / "driving.npy", driving)
    np.save(folder / "L.npy", retarget(driving, load_landmarks(folder / "character.pts").points[0]))


# ----------------------------------------------------------------------------- wheels and venvs


def build_wheels(dist: Path) -> dict[str, Path]:
    check(run(["uv", "build", "--all-packages", "--wheel", "-o", str(dist)], cwd=ROOT), "uv build")
    wheels = {}
    for whl in sorted(dist.glob("*.whl")):
        with zipfile.ZipFile(whl) as z:
            meta = Parser().parsestr(
                z.read(next(n for n in z.namelist() if n.endswith(".dist-info/METADATA"))).decode()
            )
        wheels[meta["Name"]] = whl
    missing = set(MEMBERS) - set(wheels)
    if missing:
        log(f"FAILED: no wheel for {sorted(missing)}")
        raise SystemExit(1)
    return wheels


def siblings(wheels: dict[str, Path], name: str) -> list[str]:
    """``name`` and every faceshot package it requires (transitively), as wheel files."""
    todo, seen = [name], []
    while todo:
        n = todo.pop()
        if n in seen:
            continue
        seen.append(n)
        with zipfile.ZipFile(wheels[n]) as z:
            meta = Parser().parsestr(
                z.read(next(x for x in z.namelist() if x.endswith(".dist-info/METADATA"))).decode()
            )
        for req in meta.get_all("Requires-Dist") or []:
            dep = re.split(r"[\s\[<>=!~;]", req, maxsplit=1)[0]
            if dep in wheels and "extra ==" not in req:
                todo.append(dep)
    return [str(wheels[n]) for n in seen]


def site_size(venv: Path) -> int:
    site = next((venv / "lib").glob("python*/site-packages"))
    return sum(f.lstat().st_size for f in site.rglob("*") if f.is_file() and not f.is_symlink())


def import_time(python: Path, module: str) -> float:
    code = f"import time; t = time.perf_counter(); import {module}; print(time.perf_counter() - t)"
    times = []
    for _ in range(3):
        r = run([str(python), "-c", code])
        check(r, f"import {module}")
        times.append(float(r.stdout.strip().splitlines()[-1]))
    return statistics.median(times)


def pip_install(venv: Path, args: list[str], what: str) -> None:
    env = {**os.environ, "PIP_DISABLE_PIP_VERSION_CHECK": "1", "PIP_NO_INPUT": "1"}
    check(
        run(
            [str(venv / "bin" / "python"), "-m", "pip", "install", "--quiet", *args],
            env=env,
            timeout=3600,
        ),
        f"pip install {what}",
    )


def check_member(
    name: str, wheels: dict[str, Path], work: Path, fixtures: Path, base_python: str
) -> dict[str, object]:
    t0 = time.perf_counter()
    venv = work / f"venv-{name}"
    check(run([base_python, "-m", "venv", str(venv)]), f"venv for {name}")
    python = venv / "bin" / "python"
    empty = site_size(venv)
    extras = (
        "[cpu]" if name == "faceshot" else ""
    )  # the meta-package's README set-up names a FAISS extra
    files = siblings(wheels, name)
    pip_install(venv, [files[0] + extras, *files[1:]], name)
    installed = site_size(venv) - empty
    seconds_install = time.perf_counter() - t0
    imp = import_time(python, IMPORT_NAME[name])
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("VIRTUAL_ENV", "UV_", "PYTHONPATH"))
    }
    env |= {"HF_HUB_OFFLINE": "1", "PATH": f"{venv / 'bin'}{os.pathsep}{env.get('PATH', '')}"}
    ran, skipped = 0, 0
    cwd = work / f"run-{name}"
    shutil.copytree(fixtures, cwd)
    for k, (code, marks) in enumerate(readme_blocks(README[name]) if name != "faceshot" else []):
        if "skip" in marks:
            skipped += 1
            log(f"  {name} block {k + 1}: skipped ({marks['skip'].strip('()')})")
            continue
        if marks.get("extras"):
            pip_install(venv, [f"{wheels[name]}[{marks['extras']}]"], f"{name}[{marks['extras']}]")
        script = cwd / f"readme_block_{k + 1}.py"
        script.write_text(code, encoding="utf-8")
        r = run([str(python), script.name], cwd=cwd, env=env)
        check(r, f"{README[name].relative_to(ROOT)} block {k + 1}:\n{code}")
        ran += 1
        log(f"  {name} block {k + 1}: ok")
    if name == "faceshot":
        ran += check_meta(cwd, env)
    return {
        "member": name,
        "wheel_MB": wheels[name].stat().st_size / 1e6,
        "installed_MB": installed / 1e6,
        "import_s": imp,
        "blocks_run": ran,
        "blocks_skipped": skipped,
        "install_s": seconds_install,
        "total_s": time.perf_counter() - t0,
    }


def check_meta(cwd: Path, env: dict[str, str]) -> int:
    """The meta-package's command line from the installed wheel, outside any checkout."""
    steps = [
        ["faceshot", "--version"],
        ["faceshot", "animate", "character.png", "driving.mp4", "-o", "out.mp4", "--no-progress"],
        ["faceshot", "bench", "--quick", "--json", "bench.json"],
    ]
    for cmd in steps:
        r = run(cmd, cwd=cwd, env=env)
        check(r, " ".join(cmd))
        log(f"  faceshot: {' '.join(cmd)}: ok")
    figures = json.loads((cwd / "bench.json").read_text())["figures"]
    missing = [
        n
        for n, f in figures.items()
        if f["value"] is None and not f["note"].startswith("repo-only")
    ]
    repo_only = [n for n, f in figures.items() if f["note"].startswith("repo-only")]
    from faceshot._bench import REPO_FIGURES  # the checkout's list; the wheel must agree

    if missing or sorted(repo_only) != sorted(REPO_FIGURES) or not (cwd / "out.mp4").is_file():
        log(
            f"FAILED: faceshot bench from the wheel: figures without a value {missing}, repo-only {repo_only}"
        )
        raise SystemExit(1)
    return len(steps)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--members", default=",".join(MEMBERS), help="comma-separated (default: all)"
    )
    parser.add_argument(
        "--keep", type=Path, help="work folder to keep (default: a temporary one, removed)"
    )
    parser.add_argument(
        "--python",
        default=getattr(sys, "_base_executable", sys.executable),
        help="interpreter the venvs are made from (default: this one's base)",
    )
    parser.add_argument("--json", type=Path, help="also write the table as JSON")
    args = parser.parse_args(argv)
    members = [m.strip() for m in args.members.split(",") if m.strip()]
    unknown = sorted(set(members) - set(MEMBERS))
    if unknown:
        parser.error(f"unknown members {unknown}; expected some of {list(MEMBERS)}")
    t0 = time.perf_counter()
    work = args.keep or Path(tempfile.mkdtemp(prefix="faceshot-readme-check-"))
    work.mkdir(parents=True, exist_ok=True)
    try:
        wheels = build_wheels(work / "dist")
        make_fixtures(work / "fixtures")
        rows = []
        for name in members:
            log(f"{name}: fresh venv, pip install from its wheel")
            rows.append(check_member(name, wheels, work, work / "fixtures", args.python))
    finally:
        if args.keep is None:
            shutil.rmtree(work, ignore_errors=True)
    log("")
    log(
        f"{'member':<20} {'wheel MB':>8} {'installed MB':>12} {'import s':>8} {'blocks':>6} {'skipped':>7} {'install s':>9} {'total s':>7}"
    )
    for r in rows:
        log(
            f"{r['member']:<20} {r['wheel_MB']:>8.2f} {r['installed_MB']:>12.1f} {r['import_s']:>8.3f} {r['blocks_run']:>6} "
            f"{r['blocks_skipped']:>7} {r['install_s']:>9.1f} {r['total_s']:>7.1f}"
        )
    log(
        f"all members installed alone and their README blocks ran in {time.perf_counter() - t0:.0f} s"
    )
    if args.json:
        args.json.write_text(json.dumps(rows, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
