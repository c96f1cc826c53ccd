"""Character-landmark benchmark: leave-one-style-out 5-point error, levers, human photos, speed.

Run from the repository root (features come from the on-disk tap cache of ``bench/_taps.py``,
filled on first use: ~1 h on the shared 2-core machine, then ~10 min to load; each setting
takes 3-10 min)::

    uv run python bench/matching.py                          # every setting, human photos, speed
    uv run python bench/matching.py --levers before protos   # chosen settings only
    uv run python bench/matching.py --quick                  # 8 faces per style
    uv run python bench/matching.py --sheets DIR             # contact sheets of the shipped setting
    uv run python bench/matching.py --noface                 # the matcher on face-free images

Data (``gallery_src/<style>/``, see ``gallery_src/README.md`` for sources and licences):
five emoji styles (218 faces, 56 animals), each with 5-point ground truth in
``keypoints5.json`` (eye centres, nose or null, mouth corners; conventions in
``scripts/annotate_keypoints.py``) and 68-point pseudo-annotations (``<name>.pts``) used only
to build galleries.

Protocols (no figure here is measured on a gallery that contains the image scored):

* **held-out (leave-one-style-out)**: for each style S the gallery is built from the other
  styles (plus the human domain) and every face of S is matched; the figure pools all styles.
* **in-sample (leave-one-image-out)**: the gallery holds every style, the scored image left out.
* error per point = distance / ground-truth inter-eye distance (between the eye centres);
  ``mean`` averages the available points (a missing nose is not scored), ``PCK@0.10`` is the
  share of points within 0.10; predicted eye centre = mean of points 36-41 / 42-47, nose =
  point 30, mouth corners = points 48 and 54. ``animals``: the mean over animal faces.
* settings (``SETTINGS``): ``before`` is the previous release (Twemoji + human gallery, no
  search, mean references); the next six add one lever each to the one above; the last ones
  are side checks; ``radius`` adds a wider local search after the global one to ``protos``,
  ``clamp`` a looser prior clamp to ``radius`` (the settings before them run with the old
  values, radius 0.25 and clamp 0.15) and ``drawn`` re-places the eyes and lips of ``clamp``'s
  matches on the drawn marks (``faceshot_landmarks.read_drawn_marks``, as
  ``locate_and_match`` does). ``SHIPPED`` names the setting the package defaults and the
  shipped gallery implement (``faceshot bench`` reports it too).

Human photos: 68-point NME (outer eye corners) of ``FaceShot``'s default path on the shared
images (``packages/faceshot-landmarks/tests/data/human68``), as given, as a square crop of 4
face widths round the face, and that crop pasted off-centre at 1/3 of the height of a
1920x1080 textured canvas.

Speed: one 512x512 character through ``FaceShot.match`` (localisation + features + matching)
against a bare whole-image ``extract`` + ``match``, median of 5, wall and process CPU time, same
process (the machine is shared).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

ROOT = Path(__file__).resolve().parents[1]
SRC = ROOT / "gallery_src"
STYLES = ("twemoji", "noto", "noto-v1", "emojione", "fxemoji")
KEYS = ("right_eye", "left_eye", "nose", "mouth_right", "mouth_left")
sys.path.insert(0, str(ROOT / "scripts"))


@dataclass
class Face:
    """One evaluation face: (512, 512, 3) render, (5, 2) truth (NaN: no nose), 68-pt pseudo-annotation."""

    style: str
    name: str
    rgb: NDArray[np.uint8]
    truth: NDArray[np.float64]
    animal: bool
    pts68: NDArray[np.float64] | None


def load_faces(styles: tuple[str, ...] = STYLES, limit: int | None = None) -> list[Face]:
    """Every annotated face of the styles (``limit`` per style)."""
    from annotate_keypoints import render
    from faceshot_retarget import load_landmarks

    out = []
    for style in styles:
        if not (SRC / style / "keypoints5.json").is_file():  # a style not annotated yet
            continue
        doc = json.loads((SRC / style / "keypoints5.json").read_text())
        names = [
            n
            for n, r in sorted(doc["faces"].items())
            if "exclude" not in r and not r.get("problems")
        ]
        if limit:
            names = names[:: max(1, len(names) // limit)][:limit]
        for name in names:
            rec = doc["faces"][name]
            truth = np.array(
                [
                    rec["points"][k] if rec["points"][k] is not None else [np.nan, np.nan]
                    for k in KEYS
                ],
                float,
            )
            pts = SRC / style / f"{name}.pts"
            pts68 = np.asarray(load_landmarks(pts).points[0]) if pts.is_file() else None
            out.append(
                Face(
                    style,
                    name,
                    render(SRC / style / rec["file"]),
                    truth,
                    bool(rec.get("animal")),
                    pts68,
                )
            )
    return out


def five_points(p: NDArray[np.float64]) -> NDArray[np.float64]:
    """(5, 2) eye centres, nose (30), mouth corners (48, 54) of a (68, 2) prediction."""
    return np.stack([p[36:42].mean(0), p[42:48].mean(0), p[30], p[48], p[54]])


def errors5(pred68: NDArray[np.float64], truth: NDArray[np.float64]) -> NDArray[np.float64]:
    """(5,) per-point error / ground-truth inter-eye distance (NaN where there is no truth)."""
    iod = float(np.linalg.norm(truth[1] - truth[0]))
    return np.linalg.norm(five_points(pred68) - truth, axis=1) / iod


def summarise(errs: NDArray[np.float64]) -> dict[str, float]:
    """mean, PCK@0.10, eyes, nose, mouth means of an (n, 5) error array."""
    ok = ~np.isnan(errs)
    return {
        "mean": float(np.nanmean(errs)),
        "pck10": float((errs[ok] <= 0.10).mean()),
        "eyes": float(np.nanmean(errs[:, :2])),
        "nose": float(np.nanmean(errs[:, 2])) if ok[:, 2].any() else float("nan"),
        "mouth": float(np.nanmean(errs[:, 3:])),
    }


# --------------------------------------------------------------------------- galleries


def build_gallery(
    domains: dict[str, list[tuple[Any, NDArray[np.float64]]]],
    backbone: str,
    config: dict[str, Any],
    *,
    prototypes: int = 0,
) -> Any:
    """An in-memory :class:`faceshot_landmarks.Gallery`: domain -> [(features, (68, 2) points)];
    ``prototypes`` > 0 also stores that many per-landmark prototypes per domain (as
    :func:`faceshot_landmarks.add_domain` does)."""
    from faceshot_landmarks import (
        DomainData,
        Gallery,
        landmark_features,
        landmark_prototypes,
        reference_vectors,
    )
    from faceshot_landmarks._gallery import _part_embeddings

    data = {}
    channels = 0
    for name, items in domains.items():
        if not items:
            continue
        feats = [f for f, _ in items]
        pts = np.stack([p for _, p in items])
        refs = reference_vectors(feats, pts)
        channels = refs.shape[1]
        sizes = np.array([f.image_size for f in feats], np.int64)
        wh = sizes[:, ::-1].astype(np.float64)
        protos = (
            landmark_prototypes(landmark_features(feats, pts), prototypes) if prototypes else None
        )
        data[name] = DomainData(refs, _part_embeddings(refs), pts / wh[:, None, :], sizes, protos)
    return Gallery(Path("<memory>"), backbone, config, channels, data)


def human_items(extractor: Any, flip: bool) -> list[tuple[Any, NDArray[np.float64]]]:
    from build_default_gallery import collect, load_pair
    from faceshot_landmarks.testing import flip_example

    out = []
    for image, pts in collect(SRC / "human"):
        rgb, p = load_pair(image, pts)
        out.append((extractor.extract(rgb), p))
        if flip:
            fi, fp = flip_example(rgb, p)
            out.append((extractor.extract(fi), fp))
    return out


class Features:
    """Feature maps of every face (and its mirror), extracted once."""

    def __init__(self, extractor: Any, faces: list[Face], flips: bool) -> None:
        from faceshot_landmarks.testing import flip_example

        self.extractor = extractor
        self.plain: dict[tuple[str, str], Any] = {}
        self.mirror: dict[tuple[str, str], tuple[Any, NDArray[np.float64] | None]] = {}
        for f in faces:
            self.plain[(f.style, f.name)] = extractor.extract(f.rgb)
            if flips:
                fi, fp = (
                    flip_example(f.rgb, f.pts68)
                    if f.pts68 is not None
                    else (f.rgb[:, ::-1].copy(), None)
                )
                self.mirror[(f.style, f.name)] = (extractor.extract(np.ascontiguousarray(fi)), fp)


def style_items(
    faces: list[Face],
    feats: Features,
    styles: set[str],
    *,
    flip: bool,
    skip: tuple[str, str] | None = None,
) -> dict[str, list[tuple[Any, NDArray[np.float64]]]]:
    out: dict[str, list[tuple[Any, NDArray[np.float64]]]] = {}
    for f in faces:
        if f.style not in styles or f.pts68 is None or (f.style, f.name) == skip:
            continue
        items = out.setdefault(f.style, [])
        items.append((feats.plain[(f.style, f.name)], f.pts68))
        if flip and (f.style, f.name) in feats.mirror:
            mf, mp = feats.mirror[(f.style, f.name)]
            if mp is not None:
                items.append((mf, mp))
    return out


# --------------------------------------------------------------------------- evaluation


def predict(feature: Any, mirror: Any, gallery: Any, config: Any, *, flip_test: bool) -> Any:
    """The :class:`faceshot_landmarks.MatchResult` of one face (flip-consistent when asked)."""
    from faceshot_landmarks import match, match_flip_consistent

    if flip_test and mirror is not None:
        return match_flip_consistent(feature, mirror, gallery, config=config)
    return match(feature, gallery, config=config)


def evaluate(
    faces: list[Face],
    feats: Features,
    human: list[tuple[Any, NDArray[np.float64]]],
    *,
    gallery_styles: tuple[str, ...] | None,
    held_out: bool,
    flip_gallery: bool,
    flip_test: bool,
    config: Any,
    merge_domains: bool = False,
    prototypes: int = 0,
    drawn: bool = False,
) -> dict[str, Any]:
    """Errors per face under one setting. ``gallery_styles``: the styles a gallery may hold
    (``None``: all); held out: the face's own style is removed, else only the face itself.
    ``drawn``: the eyes and lips are then re-placed on the drawn marks as ``locate_and_match``
    does (:func:`faceshot_landmarks.read_drawn_marks`)."""
    from faceshot_landmarks import read_drawn_marks

    allowed = set(STYLES if gallery_styles is None else gallery_styles)
    extractor = feats.extractor
    rows = []
    scores: list[float] = []  # median match similarity per face (the no-face test's statistic)
    cache: dict[str, Any] = {}
    for f in faces:
        styles = allowed - {f.style} if held_out else allowed
        key = ",".join(sorted(styles))
        if held_out and key in cache:
            gallery = cache[key]
        else:
            domains = style_items(
                faces,
                feats,
                styles,
                flip=flip_gallery,
                skip=None if held_out else (f.style, f.name),
            )
            if merge_domains:
                domains = {"emoji": [it for items in domains.values() for it in items]}
            domains = {**domains, "human": human}
            gallery = build_gallery(
                domains, extractor.backbone, extractor.config, prototypes=prototypes
            )
            if held_out:
                cache[key] = gallery
        mirror = feats.mirror.get((f.style, f.name), (None, None))[0]
        res = predict(feats.plain[(f.style, f.name)], mirror, gallery, config, flip_test=flip_test)
        pred = read_drawn_marks(f.rgb, res.points) if drawn else np.asarray(res.points)
        rows.append((f, pred, errors5(pred, f.truth)))
        scores.append(float(np.median(res.scores)))
    return {"rows": rows, "scores": scores}


def report(label: str, result: dict[str, Any], *, per_style: bool = False) -> dict[str, Any]:
    rows = result["rows"]
    errs = np.stack([r[2] for r in rows])
    animal = np.array([r[0].animal for r in rows])
    s = summarise(errs)
    a = summarise(errs[animal]) if animal.any() else {"mean": float("nan")}
    line = (
        f"{label:<44} mean {s['mean']:.3f}  PCK@0.10 {s['pck10']:.2f}  eyes {s['eyes']:.3f}  "
        f"nose {s['nose']:.3f}  mouth {s['mouth']:.3f}  animals {a['mean']:.3f} (n={len(rows)}, {int(animal.sum())} animal)"
    )
    print(line, flush=True)
    out = {"all": s, "animals": a, "per_style": {}}
    for style in STYLES:
        m = np.array([r[0].style == style for r in rows])
        if m.any():
            st = summarise(errs[m])
            out["per_style"][style] = st
            if per_style:
                print(
                    f"    {style:<10} mean {st['mean']:.3f}  PCK@0.10 {st['pck10']:.2f}  eyes {st['eyes']:.3f}  "
                    f"nose {st['nose']:.3f}  mouth {st['mouth']:.3f}  (n={int(m.sum())})",
                    flush=True,
                )
    return out


def contact_sheet(result: dict[str, Any], path: Path, cell: int = 256, cols: int = 6) -> None:
    """Held-out predictions: the 68-point contours (red lines), the five scored points (red
    dots) and the five truth points (green rings); each cell is labelled with its mean error."""
    import cv2
    from faceshot_retarget.ibug68 import FACE_OUTLINE  # noqa: F401  (documented layout)

    chains = [
        range(0, 17),
        range(17, 22),
        range(22, 27),
        range(27, 31),
        range(31, 36),
        [*range(36, 42), 36],
        [*range(42, 48), 42],
        [*range(48, 60), 48],
        [*range(60, 68), 60],
    ]
    rows = sorted(result["rows"], key=lambda r: -float(np.nanmean(r[2])))
    n = len(rows)
    r_ = max(1, (n + cols - 1) // cols)
    canvas = np.full((r_ * (cell + 16), cols * cell, 3), 255, np.uint8)
    for k, (f, pred, err) in enumerate(rows):
        s = cell / f.rgb.shape[1]
        im = cv2.resize(
            f.rgb, (cell, round(f.rgb.shape[0] * s)), interpolation=cv2.INTER_AREA
        ).copy()
        p = (np.asarray(pred) + 0.5) * s - 0.5
        for ch in chains:
            cv2.polylines(
                im,
                [np.round(p[list(ch)] * 16).astype(np.int32)],
                False,
                (220, 0, 0),
                1,
                cv2.LINE_AA,
                shift=4,
            )
        for q in five_points(np.asarray(pred)):
            q = (q + 0.5) * s - 0.5
            cv2.circle(im, (round(q[0]), round(q[1])), 3, (230, 0, 0), -1, cv2.LINE_AA)
        for q in f.truth:
            if np.isfinite(q).all():
                q = (q + 0.5) * s - 0.5
                cv2.circle(im, (round(q[0]), round(q[1])), 5, (0, 170, 0), 2, cv2.LINE_AA)
        y, x = divmod(k, cols)
        canvas[
            y * (cell + 16) + 16 : y * (cell + 16) + 16 + im.shape[0], x * cell : (x + 1) * cell
        ] = im[:cell]
        cv2.putText(
            canvas,
            f"{f.style}/{f.name[:22]} {np.nanmean(err):.2f}",
            (x * cell + 2, y * (cell + 16) + 12),
            cv2.FONT_HERSHEY_SIMPLEX,
            0.38,
            (0, 0, 0),
            1,
        )
    path.parent.mkdir(parents=True, exist_ok=True)
    cv2.imwrite(str(path), cv2.cvtColor(canvas, cv2.COLOR_RGB2BGR))


# --------------------------------------------------------------------------- human photos, speed


def human_figures(fs: Any) -> dict[str, float]:
    import faceshot_landmarks as fl
    from faceshot_landmarks.testing import face_crop, place_on_canvas, textured_canvas
    from faceshot_retarget import read_pts

    data = ROOT / "packages" / "faceshot-landmarks" / "tests" / "data" / "human68"
    canvas = textured_canvas((1080, 1920), seed=3)
    out: dict[str, float] = {}
    for stem, fname in (("einstein", "einstein.jpg"), ("takeo", "takeo.ppm")):
        img = fl.read_image(data / fname)
        gt = read_pts(data / f"{stem}.pts").points[0]
        crop, cgt = face_crop(
            img, gt, factor=4.0 * float(np.ptp(gt[:, 0])) / float(max(np.ptp(gt, axis=0)))
        )
        for label, (im, truth) in {
            "photo": (img, gt),
            "crop": (crop, cgt),
            "canvas": place_on_canvas(crop, cgt, canvas, height=360, centre=(1430.0, 690.0)),
        }.items():
            res = fs.match(im)
            out[f"{stem}/{label}"] = fl.nme(res.points, truth)
            out[f"{stem}/{label}/path"] = res.path  # type: ignore[assignment]
    return out


def noface_figures(fs: Any) -> dict[str, Any]:
    """The matcher path on face-free images (``bench/data/nonface``, synthetic blank, noise and
    texture) and on a cat photo: median match similarity, or the one-line :class:`NoFaceError`."""
    import cv2
    import faceshot_landmarks as fl
    from faceshot_landmarks.testing import textured_canvas

    data = ROOT / "bench" / "data"
    images = {
        p.name: cv2.cvtColor(cv2.imread(str(p)), cv2.COLOR_BGR2RGB)
        for p in sorted((data / "nonface").glob("*.png"))
    }
    images["blank"] = np.full((384, 384, 3), 250, np.uint8)
    images["noise"] = np.random.default_rng(0).integers(0, 256, (384, 384, 3), dtype=np.uint8)
    images["textured_canvas"] = textured_canvas((540, 960), seed=3)
    images["chelsea.png (cat: a face)"] = cv2.cvtColor(
        cv2.imread(str(data / "chelsea.png")), cv2.COLOR_BGR2RGB
    )
    out: dict[str, Any] = {}
    for name, im in images.items():
        try:
            res = fs.match(im, human="matcher")
            out[name] = float(np.median(res.scores))
        except fl.NoFaceError as exc:
            out[name] = f"NoFaceError: {exc}"
    return out


def speed(fs: Any, rgb: NDArray[np.uint8], reps: int = 5) -> dict[str, float]:
    """Median wall and process-CPU seconds of ``FaceShot.match`` (localisation + features +
    matching) and of a bare whole-image ``extract`` + ``match`` on one image, same process.

    The machine is shared: wall time there depends on the other jobs' load; process CPU time
    (all threads) does much less, and CPU / 2 is what two idle cores would need at best.
    """
    from faceshot_landmarks import match

    ex, gallery = fs.extractor, fs.gallery
    fs.match(rgb)
    new, old, new_cpu, old_cpu = [], [], [], []
    for _ in range(reps):
        t, c = time.perf_counter(), time.process_time()
        fs.match(rgb)
        new.append(time.perf_counter() - t)
        new_cpu.append(time.process_time() - c)
        t, c = time.perf_counter(), time.process_time()
        match(ex.extract(rgb), gallery)
        old.append(time.perf_counter() - t)
        old_cpu.append(time.process_time() - c)
    med = {
        k: float(np.median(v))
        for k, v in {
            "match_s": new,
            "bare_s": old,
            "match_cpu_s": new_cpu,
            "bare_cpu_s": old_cpu,
        }.items()
    }
    return {**med, "ratio": med["match_s"] / med["bare_s"]}


#: Cumulative held-out settings: each adds one lever to the one above it (``gallery``: the
#: styles a gallery may hold, ``None`` = all; ``merge``: the styles as one ``emoji`` domain;
#: ``protos``: per-landmark prototypes per domain; ``mirror``: mirrored gallery images;
#: ``flip``: flip-consistent matching; ``gs``: the global part-structure search).
SETTINGS: dict[str, dict[str, Any]] = {
    "before": dict(gallery=("twemoji",), merge=False, gs=False, protos=0, mirror=False, flip=False),
    "styles": dict(gallery=None, merge=False, gs=False, protos=0, mirror=False, flip=False),
    "merged": dict(gallery=None, merge=True, gs=False, protos=0, mirror=False, flip=False),
    "search": dict(gallery=None, merge=True, gs=True, protos=0, mirror=False, flip=False),
    "protos": dict(gallery=None, merge=True, gs=True, protos=4, mirror=False, flip=False),
    "mirror": dict(gallery=None, merge=True, gs=True, protos=4, mirror=True, flip=False),
    "flip": dict(gallery=None, merge=True, gs=True, protos=4, mirror=True, flip=True),
    "protos-only": dict(gallery=None, merge=True, gs=False, protos=4, mirror=False, flip=False),
    "split+search+protos": dict(
        gallery=None, merge=False, gs=True, protos=4, mirror=False, flip=False
    ),
    "protos8": dict(gallery=None, merge=True, gs=True, protos=8, mirror=False, flip=False),
    "stride1": dict(
        gallery=None, merge=True, gs=True, protos=4, mirror=False, flip=False, stride=1
    ),
    "radius": dict(gallery=None, merge=True, gs=True, protos=4, mirror=False, flip=False, gr=0.35),
    "clamp": dict(
        gallery=None, merge=True, gs=True, protos=4, mirror=False, flip=False, gr=0.35, clamp=0.25
    ),
    "radius45": dict(
        gallery=None, merge=True, gs=True, protos=4, mirror=False, flip=False, gr=0.45
    ),
    "drawn": dict(
        gallery=None,
        merge=True,
        gs=True,
        protos=4,
        mirror=False,
        flip=False,
        gr=0.35,
        clamp=0.25,
        drawn=True,
    ),
}
LABELS = {
    "before": "before: twemoji+human gallery",
    "styles": "+ all other styles (one domain each)",
    "merged": "+ styles merged into one domain",
    "search": "+ global part-structure search",
    "protos": "+ 4 prototypes per landmark",
    "mirror": "+ mirrored gallery images",
    "flip": "+ flip-consistent matching",
    "protos-only": "merged + 4 prototypes, no search",
    "split+search+protos": "one domain per style + search + 4 protos",
    "protos8": "merged + search + 8 prototypes",
    "stride1": "merged + search + 4 protos, exhaustive search",
    "radius": "+ local search radius 0.35 after the search",
    "clamp": "+ prior clamp 0.25 (was 0.15)",
    "radius45": "merged + search + 4 protos, radius 0.45",
    "drawn": "+ eyes and lips on the drawn marks",
}
#: the shipped defaults (``faceshot_landmarks`` configs and ``scripts/build_default_gallery.py``).
SHIPPED = "drawn"


def run_setting(
    name: str,
    faces: list[Face],
    feats: Features,
    human: list[Any],
    human_f: list[Any],
    *,
    held_out: bool = True,
) -> dict[str, Any]:
    import faceshot_landmarks as fl

    kw = SETTINGS[name]
    return evaluate(
        faces,
        feats,
        human_f if kw["mirror"] else human,
        gallery_styles=kw["gallery"],
        held_out=held_out,
        flip_gallery=kw["mirror"],
        flip_test=kw["flip"],
        config=fl.MatcherConfig(
            global_search=kw["gs"],
            # the settings before "radius" and "clamp" use MatcherConfig's defaults (0.25, 0.15);
            # "clamp" is faceshot_landmarks.CHARACTER_MATCHER
            global_radius=kw.get("gr", 0.25),
            prior_clamp=kw.get("clamp", 0.15),
            **({"search_stride": kw["stride"]} if "stride" in kw else {}),
        ),
        merge_domains=kw["merge"],
        prototypes=kw["protos"],
        drawn=kw.get("drawn", False),
    )


def make_extractor(cache: bool) -> Any:
    """The default embedded extractor, or its exact rebuild from the on-disk tap cache
    (``bench/_taps.py``; features are computed once per image and reused across runs)."""
    if cache:
        sys.path.insert(0, str(ROOT / "bench"))
        from _taps import TapExtractor

        return TapExtractor()
    from faceshot_features import load_extractor

    return load_extractor("embedded")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument(
        "--quick", action="store_true", help="8 faces per style, levers before/styles/shipped only"
    )
    ap.add_argument(
        "--sheets",
        type=Path,
        default=None,
        help="contact sheets of the shipped setting's held-out predictions",
    )
    ap.add_argument("--json", type=Path, default=None, help="write every figure here")
    ap.add_argument(
        "--styles", nargs="*", default=list(STYLES), help="styles to use (default: all)"
    )
    ap.add_argument("--limit", type=int, default=None, help="faces per style")
    ap.add_argument(
        "--levers",
        nargs="*",
        default=None,
        help=f"settings to run (default: all; choices {list(SETTINGS)})",
    )
    ap.add_argument("--no-in-sample", action="store_true")
    ap.add_argument("--no-human", action="store_true")
    ap.add_argument("--no-speed", action="store_true")
    ap.add_argument(
        "--noface", action="store_true", help="also run the matcher path on face-free images"
    )
    ap.add_argument(
        "--no-cache",
        action="store_true",
        help="extract features afresh instead of using the tap cache",
    )
    args = ap.parse_args(argv)

    t0 = time.perf_counter()
    faces = load_faces(tuple(args.styles), limit=args.limit or (8 if args.quick else None))
    extractor = make_extractor(not args.no_cache)
    feats = Features(extractor, faces, flips=True)
    human = human_items(extractor, flip=False)
    human_f = human_items(extractor, flip=True)
    print(
        f"[data] {len(faces)} faces in {len({f.style for f in faces})} styles ({sum(f.animal for f in faces)} animals); "
        f"features in {time.perf_counter() - t0:.0f} s",
        flush=True,
    )
    figures: dict[str, Any] = {}
    levers = (
        args.levers
        if args.levers is not None
        else (["before", "styles", SHIPPED] if args.quick else list(SETTINGS))
    )
    shipped_rows = None
    for name in levers:
        t = time.perf_counter()
        res = run_setting(name, faces, feats, human, human_f)
        figures[f"held-out {name}"] = report(f"held-out {LABELS[name]}", res, per_style=True)
        print(f"    ({time.perf_counter() - t:.0f} s)", flush=True)
        if name == SHIPPED:
            shipped_rows = res
            sc = np.array(res["scores"])
            figures["held-out shipped median scores"] = {
                f.style + "/" + f.name: v for (f, _, _), v in zip(res["rows"], sc, strict=True)
            }
            print(
                f"    median match similarity per face: min {sc.min():.3f}  1st pct {np.percentile(sc, 1):.3f}  "
                f"median {np.median(sc):.3f} (the no-face threshold must stay below these)",
                flush=True,
            )
    if not args.no_in_sample:
        res = run_setting(SHIPPED, faces, feats, human, human_f, held_out=False)
        figures["in-sample shipped"] = report(
            f"in-sample (leave-one-image-out) {LABELS[SHIPPED]}", res, per_style=True
        )
    if args.sheets is not None and shipped_rows is not None:
        args.sheets.mkdir(parents=True, exist_ok=True)
        for style in STYLES:
            sub = {"rows": [r for r in shipped_rows["rows"] if r[0].style == style]}
            if sub["rows"]:
                contact_sheet(sub, args.sheets / f"heldout_{style}.png")
        print(f"[sheets] {args.sheets}", flush=True)

    if not (args.no_human and args.no_speed and not args.noface):
        from faceshot import FaceShot

        fs = FaceShot(progress=False)
    if not args.no_human:
        hum = human_figures(fs)
        figures["human"] = hum
        print(
            "[human] NME (68 pt, outer eye corners) by FaceShot.match: "
            + ", ".join(
                f"{k} {v:.3f}" if isinstance(v, float) else f"{k} {v}" for k, v in hum.items()
            ),
            flush=True,
        )
    if args.noface:
        nf = noface_figures(fs)
        figures["noface"] = nf
        for name, v in nf.items():
            print(
                f"[noface] {name:<28} "
                + (f"median match similarity {v:.3f}" if isinstance(v, float) else v),
                flush=True,
            )
    if not args.no_speed:
        sp = speed(fs, faces[0].rgb)
        figures["speed"] = sp
        print(
            f"[speed] 512x512 character: FaceShot.match (localise + features + match) {sp['match_s']:.2f} s wall, "
            f"{sp['match_cpu_s']:.2f} s CPU; bare whole-image extract + match {sp['bare_s']:.2f} s wall, "
            f"{sp['bare_cpu_s']:.2f} s CPU; ratio {sp['ratio']:.2f} (shared 2-core machine)",
            flush=True,
        )
    if args.json:
        args.json.write_text(json.dumps(figures, indent=1, default=str))
    return 0


if __name__ == "__main__":
    sys.exit(main())
