"""faceshot-landmarks benchmark: detection speed, dlib NME, matcher NME and Twemoji keypoint error.

Run from the repository root::

    uv run python bench/landmarks.py            # both descriptors when faceshot_features exists
    uv run python bench/landmarks.py --classical-only

Figures printed (no assertions):
1. driving-landmark detection fps on carphone.mp4 (176x144, 120 frames): dlib detection + flow-
   predicted shape-predictor tracking (the default) vs detector on every frame; decode included,
   model loading excluded.
2. dlib NME (IOD, points 36/45) on the human68 images (einstein, takeo).
3. matcher NME on human68: gallery from the *other* human image (+ its mirror, k = 2); the target
   is a square face crop (side 1.8x the ground-truth landmark box, as a face-centred character
   image would be); NME in crop pixels.
4. matcher error on Twemoji smileys, leave-one-out: a gallery of the other smileys with
   geometric 68-point pseudo-annotations; error of the eye centres (mean of 36-41, 42-47) and the
   mouth corners (48, 54) against keypoints derived from the SVG geometry, normalised by the
   true inter-eye distance.
Descriptors: the classical baseline (ClassicalExtractor, no learning) and, when importable,
``faceshot_features.load_extractor("embedded")`` (ImageNet MobileNetV2). Data come from
packages/faceshot-landmarks/tests/data (copies with licence lines).
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path
from typing import Any

import faceshot_landmarks as fl
import numpy as np
from faceshot_landmarks.testing import (
    face_crop,
    flip_example,
    render_svg,
    twemoji_keypoints,
    twemoji_pseudo68,
)
from faceshot_retarget import read_pts

DATA = Path(__file__).resolve().parents[1] / "packages" / "faceshot-landmarks" / "tests" / "data"


def bench_detection() -> None:
    video = DATA / "carphone.mp4"
    lm = fl.DlibLandmarker()
    fl.detect_video(video, landmarker=lm, progress=False)  # warm-up
    t = time.perf_counter()
    res = fl.detect_video(video, landmarker=lm, progress=False)
    dt = time.perf_counter() - t
    vis = res.visible.all(axis=1).mean() if res.visible is not None else 1.0
    print(
        f"[detect] carphone {res.num_frames} frames, tracking: {res.num_frames / dt:.1f} fps "
        f"({1000 * dt / res.num_frames:.2f} ms/frame), {100 * vis:.0f}% frames confirmed"
    )
    t = time.perf_counter()
    n = found = 0
    for frame in fl.iter_frames(video):
        found += lm.detect(frame) is not None
        n += 1
    dt = time.perf_counter() - t
    print(f"[detect] carphone detector on every frame: {n / dt:.1f} fps, face found in {found}/{n}")


def human68() -> dict[str, tuple[np.ndarray, np.ndarray]]:
    h = DATA / "human68"
    return {
        "einstein": (fl.read_image(h / "einstein.jpg"), read_pts(h / "einstein.pts").points[0]),
        "takeo": (fl.read_image(h / "takeo.ppm"), read_pts(h / "takeo.pts").points[0]),
    }


def bench_dlib_nme(data: dict[str, tuple[np.ndarray, np.ndarray]]) -> None:
    lm = fl.DlibLandmarker()
    # Evaluation protocol: the detected face overlapping the ground-truth box.
    errs = {n: fl.nme(lm.detect(img, retry=True, near=gt), gt) for n, (img, gt) in data.items()}
    print(
        "[dlib] NME "
        + ", ".join(f"{n} {e:.4f}" for n, e in errs.items())
        + f"; mean {np.mean(list(errs.values())):.4f}"
    )


def bench_matcher_human(
    data: dict[str, tuple[np.ndarray, np.ndarray]], extractor: Any, label: str
) -> None:
    crops = {n: face_crop(*v) for n, v in data.items()}
    out = []
    times = []
    for target in crops:
        ((src_img, src_pts),) = [v for n, v in crops.items() if n != target]
        f_img, f_pts = flip_example(src_img, src_pts)
        feats = [extractor.extract(src_img), extractor.extract(f_img)]
        refs = fl.reference_vectors(feats, np.stack([src_pts, f_pts]))
        prior = fl.ShapePrior.from_annotations(np.stack([src_pts, f_pts]))
        tf = extractor.extract(crops[target][0])
        t = time.perf_counter()
        raw = fl.match_references(tf, refs, config=fl.MatcherConfig(use_prior=False))
        reg = fl.match_references(tf, refs, prior=prior)
        times.append(time.perf_counter() - t)
        gt = crops[target][1]
        out.append((target, fl.nme(raw.points, gt), fl.nme(reg.points, gt)))
    text = ", ".join(f"{n} {a:.3f} / {b:.3f}" for n, a, b in out)
    print(
        f"[match/{label}] human68 NME raw / with shape prior: {text}; "
        f"mean {np.mean([o[1] for o in out]):.3f} / {np.mean([o[2] for o in out]):.3f} "
        f"(match {1000 * np.mean(times) / 2:.1f} ms per call)"
    )


def bench_twemoji(extractor: Any, label: str, size: int = 256) -> None:
    items = {}
    for p in sorted((DATA / "twemoji").glob("*.svg")):
        svg = p.read_text(encoding="utf-8")
        kp = twemoji_keypoints(svg, size)
        items[p.stem] = (render_svg(svg, size), kp, twemoji_pseudo68(kp))
    feats = {n: extractor.extract(v[0]) for n, v in items.items()}
    rows = []
    for n in items:
        others = [m for m in items if m != n]
        refs = fl.reference_vectors(
            [feats[m] for m in others], np.stack([items[m][2] for m in others])
        )
        prior = fl.ShapePrior.from_annotations(np.stack([items[m][2] for m in others]))
        kp = items[n][1]
        truth = np.array([kp.right_eye, kp.left_eye, kp.mouth_left, kp.mouth_right])
        iod = np.linalg.norm(truth[0] - truth[1])
        row = []
        for use_prior in (False, True):
            res = fl.match_references(
                feats[n], refs, prior=prior, config=fl.MatcherConfig(use_prior=use_prior)
            )
            p = res.points
            pred = np.stack([p[36:42].mean(0), p[42:48].mean(0), p[48], p[54]])
            e = np.linalg.norm(pred - truth, axis=1) / iod
            row += [e[:2].mean(), e[2:].mean()]
        rows.append(row)
    r = np.array(rows)
    print(
        f"[match/{label}] Twemoji leave-one-out ({len(items)} smileys, {size} px), error / inter-eye distance, "
        f"mean (median): eyes raw {r[:, 0].mean():.3f} ({np.median(r[:, 0]):.3f}), "
        f"mouth corners raw {r[:, 1].mean():.3f} ({np.median(r[:, 1]):.3f}); "
        f"with prior eyes {r[:, 2].mean():.3f} ({np.median(r[:, 2]):.3f}), mouth {r[:, 3].mean():.3f} ({np.median(r[:, 3]):.3f})"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--classical-only", action="store_true")
    args = parser.parse_args()
    bench_detection()
    data = human68()
    bench_dlib_nme(data)
    extractors: list[tuple[str, Any]] = [("classical baseline descriptor", fl.ClassicalExtractor())]
    if not args.classical_only:
        try:
            from faceshot_features import load_extractor

            extractors.append(
                ("embedded MobileNetV2 (faceshot_features)", load_extractor("embedded"))
            )
        except ImportError as exc:
            print(
                f"[match] faceshot_features embedded backbone unavailable ({exc}); classical descriptor only"
            )
    for label, ex in extractors:
        print(f"[match] descriptor: {label}, backbone id {ex.backbone}")
        bench_matcher_human(data, ex, ex.backbone)
        bench_twemoji(ex, ex.backbone)


if __name__ == "__main__":
    main()
