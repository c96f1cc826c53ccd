"""Non-human driving: match_video with and without each of its anchor/lip steps, same clips.

Run from the repository root::

    uv run python bench/nonhuman_ablation.py                     # all styles, both motions
    uv run python bench/nonhuman_ablation.py --frames 40 --characters 3

The clips are those of ``bench/nonhuman.py`` (``faceshot._bench_nonhuman``: Twemoji characters
rendered along known sequences, leave-style-out galleries, ``smiley`` the tuning style, ``cat``
and ``creature`` held out); each clip is rendered once and tracked by :func:`match_video` under
each configuration below, so the figures differ only by the configuration:

* ``before``: :class:`VideoMatchConfig` as shipped, less the search for drawn brows and the
  parallax modes (``brows=BrowConfig(drawn=False), parallax=None``): the anchor's crop match with the still-image path's
  matcher settings, its eyes and lips re-placed on the drawn marks by the gallery's rules
  (:func:`~faceshot_landmarks.eyes_on_drawing`, :func:`~faceshot_landmarks.mouth_on_drawing`),
  on drawn art its nose placed by the gallery's rule for an undrawn nose
  (:func:`~faceshot_landmarks.nose_by_rule`), its jaw moved onto the drawn outline
  (:func:`~faceshot_landmarks.jaw_on_outline`), matched brows on no stroke placed by the
  gallery's rule for undrawn brows (:func:`~faceshot_landmarks.brows_where_undrawn`), the inner
  lips moved with the outer lips;
* ``brows``: a pair of drawn brows over the eyes, where there is one, carries the brows by the
  gallery's rule for drawn brows (:func:`~faceshot_landmarks.brows_on_drawing`);
* ``shipped``: :class:`VideoMatchConfig` as shipped now: also the tracker's shape model turning
  in depth (``parallax=0.3``: two modes moving each point across or down by its rough depth).

(Earlier runs' columns, ``nose`` / ``nose+band`` / ``default`` / ``char-anchor`` / ``outline`` /
``mouth`` / ``region``, measured the nose completion, the lip band, the anchor's matcher
settings, the jaw on the outline, the lips on the drawn mouth and the jaw from the face's colour
region; they are in the history of
``bench/nonhuman_ablation_last_run.txt``.)

Printed per group (mean over clips, face widths): error, frame-0 error, motion error, error by
part, mouth- and eye-opening correlation, recovered / known mouth-opening range (the motion is
still there), jitter, and frames per second (decode included) as a ratio to the first
configuration on the same clips in the same run. ``--sheets DIR`` writes a contact sheet per
held-out character (its carphone clip, frames 0, 1/3, 2/3 and last, known points and each
configuration's). No assertions.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

from faceshot._bench_nonhuman import (
    HELD_OUT,
    MOTIONS,
    PROTOCOLS,
    STYLES,
    TUNING,
    carphone_landmarks,
    contact_sheet,
    load_source,
    make_clip,
    motion_sequence,
    place_on_canvas,
    style_out_gallery,
)

_REPO = Path(__file__).resolve().parents[1]
KEYS = (
    "error",
    "error_first",
    "motion_error",
    "error_face_boundary",
    "error_eyebrows",
    "error_nose",
    "error_eyes",
    "error_mouth",
    "mouth_corr",
    "eye_corr",
    "mouth_amplitude",
    "jitter",
    "fps_ratio",
)


def configs() -> dict[str, Any]:
    from faceshot_landmarks import BrowConfig, VideoMatchConfig

    return {
        "before": VideoMatchConfig(brows=BrowConfig(drawn=False), parallax=None),
        "brows": VideoMatchConfig(parallax=None),
        "shipped": VideoMatchConfig(),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--styles", nargs="+", default=[*TUNING, *HELD_OUT], choices=sorted(STYLES))
    parser.add_argument("--motions", nargs="+", default=list(MOTIONS), choices=MOTIONS)
    parser.add_argument("--characters", type=int, default=None)
    parser.add_argument("--frames", type=int, default=None)
    parser.add_argument("--keep", type=Path, default=None, help="keep clips and points here")
    parser.add_argument("--sheets", type=Path, default=None, help="held-out contact sheets here")
    parser.add_argument(
        "--gallery",
        default="style",
        choices=PROTOCOLS,
        help="what the default gallery's recipe loses for a clip (faceshot._bench_nonhuman.PROTOCOLS)",
    )
    args = parser.parse_args(argv)

    from faceshot_features import load_extractor
    from faceshot_landmarks import match_video, track_figures

    t0 = time.perf_counter()
    ext = load_extractor("embedded")
    carphone = carphone_landmarks()
    cfgs = configs()
    rows: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory() as tmpdir:
        tmp = args.keep if args.keep is not None else Path(tmpdir)
        tmp.mkdir(parents=True, exist_ok=True)
        cache: dict[tuple[str, str], Any] = {}
        for style in args.styles:
            gallery = style_out_gallery(
                style,
                ext,
                Path(tempfile.mkdtemp(dir=tmp)),
                cache,
                repo=_REPO,
                protocol=args.gallery,
            )
            for code in STYLES[style][: args.characters]:
                image, pts = load_source(code, repo=_REPO)
                for motion in args.motions:
                    seq, fps = motion_sequence(motion, pts, carphone, args.frames)
                    img, truth = place_on_canvas(image, seq, 512)
                    path = make_clip(img, truth, tmp / f"{code}-{motion}.mp4", fps=fps)
                    row: dict[str, Any] = {"style": style, "code": code, "motion": motion}
                    row["points"] = {}
                    first = next(iter(cfgs))
                    for name, cfg in cfgs.items():
                        t1 = time.perf_counter()
                        got = np.asarray(
                            match_video(path, ext, gallery, config=cfg, progress=False).points
                        )
                        seconds = time.perf_counter() - t1
                        if args.keep is not None:
                            np.save(tmp / f"{code}-{motion}-{name}.npy", got)
                        fig = track_figures(got, truth)
                        fig["mouth_amplitude"] = fig["mouth_range"] / max(
                            fig["mouth_range_known"], 1e-9
                        )
                        fig["fps"] = len(got) / seconds
                        fig["fps_ratio"] = fig["fps"] / row[first]["fps"] if name != first else 1.0
                        row[name] = fig
                        row["points"][name] = got
                    if args.sheets is not None and motion == "carphone" and style in HELD_OUT:
                        args.sheets.mkdir(parents=True, exist_ok=True)
                        n = len(truth)
                        colours = [(0, 160, 0), (220, 0, 0), (230, 140, 0), (0, 90, 255)]
                        contact_sheet(
                            path,
                            [("known", truth, colours[0])]
                            + [
                                (c, row["points"][c], colours[1 + i % 3])
                                for i, c in enumerate(cfgs)
                            ],
                            [0, n // 3, 2 * n // 3, n - 1],
                            args.sheets / f"{style}-{code}.png",
                        )
                    del row["points"]
                    rows.append(row)
                    print(
                        f"{style:<8} {code:<6} {motion:<9} "
                        + "  ".join(
                            f"{n}: err {row[n]['error']:.3f} f0 {row[n]['error_first']:.3f} "
                            f"mouth r {row[n]['mouth_corr']:.2f} eye r {row[n]['eye_corr']:.2f} "
                            f"amp {row[n]['mouth_amplitude']:.2f} jit {row[n]['jitter']:.4f} "
                            f"fps {row[n]['fps']:.1f}"
                            for n in cfgs
                        ),
                        flush=True,
                    )
    print("\nmean per group (face widths; amplitude = recovered / known mouth-opening range):")
    groups: dict[str, list[dict[str, Any]]] = {}
    for row in rows:
        tag = "tuning" if row["style"] in TUNING else "held-out"
        for g in (f"{tag}: all", f"{tag}: {row['style']}", f"{tag}: {row['motion']}"):
            groups.setdefault(g, []).append(row)
    print(
        f"{'group':<22}{'config':<11}"
        + "".join(f"{k.removeprefix('error_')[:13]:>14}" for k in KEYS)
    )
    for g in sorted(groups, key=lambda n: (not n.startswith("tuning"), n)):
        for name in cfgs:
            vals = [np.nanmean([r[name][k] for r in groups[g]]) for k in KEYS]
            print(f"{g:<22}{name:<11}" + "".join(f"{v:14.4f}" for v in vals))
    print(
        f"\n({os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f}; {time.perf_counter() - t0:.0f} s)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
