"""Non-human driving: the frame-0 (anchor) match of ``match_video`` under variants, same clips.

Run from the repository root::

    uv run python bench/nonhuman_anchor.py --motion synthetic           # smiley, cat, creature
    uv run python bench/nonhuman_anchor.py --motion carphone --styles smiley
    uv run python bench/nonhuman_anchor.py --margins                   # crop-margin ensembles

Every later frame of :func:`~faceshot_landmarks.match_video` carries its anchor's error (the
benchmark ``bench/nonhuman_ablation.py`` finds it is most of the error), so this measures only
the anchor: the gallery search of ``match_video`` (``_Tracker._find``: full-frame match, crop,
flip-consistent crop match, nose completion) on frames of the clips of ``bench/nonhuman.py``
(40 frames; leave-style-out galleries; ``smiley`` the tuning style, ``cat`` and ``creature``
held out). Printed per character and per style (mean), in face widths of the known frame:

* default mode, on frame 0: ``base`` (:class:`VideoMatchConfig` defaults), ``char``
  (``anchor_matcher=CHARACTER_MATCHER``), ``noflip`` (``refine_flip=False``), ``nocrop``
  (``refine_crop=False``); and, for ``base`` and ``char``, the match of frames 0, 10, 20, 30
  each, brought into frame 0's pose by the known similarity of the rigid points (what tracking
  would do), then combined by median / mean over the four frames (a multi-frame anchor);
* ``--margins``: frame 0 matched with crop margins 0.96-1.2 and the median / mean of 3 or 5 of
  them.

No assertions. Figures of 2026-11-30 are in ``bench/nonhuman_ablation_last_run.txt``.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path
from typing import Any

import numpy as np

from faceshot._bench_nonhuman import (
    HELD_OUT,
    PROTOCOLS,
    STYLES,
    TUNING,
    carphone_landmarks,
    load_source,
    make_clip,
    motion_sequence,
    place_on_canvas,
    style_out_gallery,
)

_REPO = Path(__file__).resolve().parents[1]
KEYS = (0, 10, 20, 30)
MARGINS = (0.96, 1.02, 1.08, 1.14, 1.2)
COMBOS = {"3": (1.02, 1.08, 1.14), "5": MARGINS, "3wide": (0.96, 1.08, 1.2)}


def _error(points: Any, known: Any) -> float:
    """Mean point distance in face widths (jaw 0-16 of ``known``)."""
    w = float(np.linalg.norm(known[16] - known[0]))
    return float((np.linalg.norm(points - known, axis=1) / w).mean())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--styles", nargs="+", default=[*TUNING, *HELD_OUT], choices=sorted(STYLES))
    parser.add_argument("--motion", default="synthetic", choices=("synthetic", "carphone"))
    parser.add_argument("--margins", action="store_true", help="crop-margin ensembles instead")
    parser.add_argument(
        "--gallery",
        default="style",
        choices=PROTOCOLS,
        help="what the default gallery's recipe loses for a clip (faceshot._bench_nonhuman.PROTOCOLS)",
    )
    args = parser.parse_args(argv)

    from faceshot_features import load_extractor
    from faceshot_landmarks import CHARACTER_MATCHER, MatcherConfig, VideoMatchConfig, iter_frames
    from faceshot_landmarks._shape import similarity_fit
    from faceshot_landmarks._video_match import _POSE_POINTS, _Tracker

    ext = load_extractor("embedded")
    carphone = carphone_landmarks() if args.motion == "carphone" else None
    configs: dict[str, tuple[VideoMatchConfig, tuple[int, ...]]]
    if args.margins:
        configs = {f"m{m}": (VideoMatchConfig(refine_margin=m), (0,)) for m in MARGINS}
    else:
        configs = {
            "base": (VideoMatchConfig(), KEYS),
            "char": (VideoMatchConfig(anchor_matcher=CHARACTER_MATCHER), KEYS),
            "noflip": (VideoMatchConfig(refine_flip=False), (0,)),
            "nocrop": (VideoMatchConfig(refine_crop=False), (0,)),
        }
    cache: dict[tuple[str, str], Any] = {}
    rows: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory() as tmpdir:
        tmp = Path(tmpdir)
        for style in args.styles:
            gallery = style_out_gallery(
                style,
                ext,
                Path(tempfile.mkdtemp(dir=tmp)),
                cache,
                repo=_REPO,
                protocol=args.gallery,
            )
            for code in STYLES[style]:
                image, pts = load_source(code, repo=_REPO)
                seq, fps = motion_sequence(args.motion, pts, carphone, 40)
                img, truth = place_on_canvas(image, seq, 512)
                frames = list(iter_frames(make_clip(img, truth, tmp / f"{code}.mp4", fps=fps)))
                row: dict[str, Any] = {"style": style, "code": code}
                found: dict[str, Any] = {}
                for name, (cfg, keys) in configs.items():
                    tracker = _Tracker(
                        code, ext, gallery, MatcherConfig(), cfg, frames[0].shape[:2]
                    )
                    errs = []  # each key frame's match error, in frame 0's pose
                    for k in keys:
                        p = tracker._find(frames[k])
                        if p is None:
                            continue
                        s, r, _ = similarity_fit(truth[0][_POSE_POINTS], truth[k][_POSE_POINTS])
                        errs.append(((p - truth[k]) @ r) / s)
                    found[name] = truth[0] + errs[0]
                    row[name] = _error(found[name], truth[0])
                    if len(errs) > 1:
                        e = np.stack(errs)
                        row[name + "-median"] = _error(truth[0] + np.median(e, axis=0), truth[0])
                        row[name + "-mean"] = _error(truth[0] + e.mean(axis=0), truth[0])
                if args.margins:
                    for combo, ms in COMBOS.items():
                        stack = np.stack([found[f"m{m}"] for m in ms])
                        row["median" + combo] = _error(np.median(stack, axis=0), truth[0])
                        row["mean" + combo] = _error(stack.mean(axis=0), truth[0])
                rows.append(row)
                print(
                    f"{style:<8} {code:<6} "
                    + " ".join(
                        f"{k} {v:.4f}" for k, v in row.items() if k not in ("style", "code")
                    ),
                    flush=True,
                )
    print(f"\nmean per style, frame-0 error in face widths ({args.motion}):")
    for style in args.styles:
        rs = [r for r in rows if r["style"] == style]
        tag = "tuning" if style in TUNING else "held-out"
        print(
            f"{tag:<8} {style:<8} n={len(rs)} "
            + " ".join(
                f"{k} {np.mean([r[k] for r in rs]):.4f}"
                for k in rows[0]
                if k not in ("style", "code")
            )
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
