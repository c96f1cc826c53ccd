"""dlib on the shared human photos: test-time augmentation and the upright patch, old vs new.

68-point NME (inter-ocular, outer eye corners) per case, for each :func:`dlib_points` setting
(``tta``: box shifts/scalings + mirror; ``upright``: the face turned upright by a first
predictor run and its box resampled to at least ``DLIB_SIDE`` pixels). Cases: each photo as
given, a square crop of 4 face widths round the face, that crop at 1/3 of the height of a
1920x1080 textured canvas off-centre and centred (the figures of ``bench/matching.py``'s
human section), and, not used to choose any setting, 10 seeded random placements on the
canvas (height 300-440 px) and each photo turned by +-15 and +-30 degrees. Run from the
repository root::

    uv run python bench/human_tta.py
"""

import time
from pathlib import Path

import cv2
import faceshot_landmarks as fl
import numpy as np
from faceshot_landmarks import DlibLandmarker, LocateConfig, locate_and_match
from faceshot_landmarks.testing import face_crop, place_on_canvas, textured_canvas
from faceshot_retarget import read_pts

DATA = (
    Path(__file__).resolve().parents[1]
    / "packages"
    / "faceshot-landmarks"
    / "tests"
    / "data"
    / "human68"
)

SETTINGS = {
    "single": {"dlib_tta": False, "dlib_upright": False},
    "tta (old)": {"dlib_tta": True, "dlib_upright": False},
    "upright": {"dlib_tta": False, "dlib_upright": True},
    "tta+upright (new)": {"dlib_tta": True, "dlib_upright": True},
}


def turned(img: np.ndarray, gt: np.ndarray, deg: float) -> tuple[np.ndarray, np.ndarray]:
    """The photo turned by ``deg`` degrees (counter-clockwise on screen) about the face centre."""
    c = gt.mean(axis=0)
    m = cv2.getRotationMatrix2D((float(c[0]), float(c[1])), deg, 1.0)
    out = cv2.warpAffine(
        img, m, img.shape[1::-1], flags=cv2.INTER_CUBIC, borderMode=cv2.BORDER_REFLECT
    )
    return np.ascontiguousarray(out), gt @ m[:, :2].T + m[:, 2]


def cases() -> tuple[
    dict[str, tuple[np.ndarray, np.ndarray]], dict[str, tuple[np.ndarray, np.ndarray]]
]:
    canvas = textured_canvas((1080, 1920), seed=3)
    main, extra = {}, {}
    rng = np.random.default_rng(0)
    for stem, fname in (("einstein", "einstein.jpg"), ("takeo", "takeo.ppm")):
        img = fl.read_image(DATA / fname)
        gt = read_pts(DATA / f"{stem}.pts").points[0]
        crop, cgt = face_crop(
            img, gt, factor=4.0 * float(np.ptp(gt[:, 0])) / float(max(np.ptp(gt, axis=0)))
        )
        main[f"{stem}/photo"] = (img, gt)
        main[f"{stem}/crop"] = (crop, cgt)
        main[f"{stem}/canvas"] = place_on_canvas(
            crop, cgt, canvas, height=360, centre=(1430.0, 690.0)
        )
        main[f"{stem}/canvas-centre"] = place_on_canvas(
            crop, cgt, canvas, height=360, centre=(960.0, 540.0)
        )
        for i in range(10):
            h = int(rng.integers(300, 440))
            centre = (
                float(rng.uniform(h / 2 + 1, 1919 - h / 2)),
                float(rng.uniform(h / 2 + 1, 1079 - h / 2)),
            )
            extra[f"{stem}/place{i}"] = place_on_canvas(crop, cgt, canvas, height=h, centre=centre)
        for deg in (-30, -15, 15, 30):
            extra[f"{stem}/turn{deg:+d}"] = turned(img, gt, deg)
    return main, extra


def main() -> None:
    lm = DlibLandmarker()
    main_cases, extra = cases()
    every = {**main_cases, **extra}
    table: dict[str, dict[str, float]] = {}
    for name, kw in SETTINGS.items():
        t = time.perf_counter()
        row = {}
        for k, (im, gt) in every.items():
            try:
                r = locate_and_match(
                    im, None, None, config=LocateConfig(human="dlib", **kw), landmarker=lm, name=k
                )
            except fl.NoFaceError:
                continue  # dlib's detector misses it: same for every setting
            row[k] = fl.nme(r.points, gt)
        table[name] = row
        print(
            f"[{name}] {time.perf_counter() - t:.1f} s for {len(every)} images (shared machine)",
            flush=True,
        )
    names = list(SETTINGS)
    print(f"\n{'case':<24}" + "".join(f"{n:>19}" for n in names))
    for k in main_cases:
        print(f"{k:<24}" + "".join(f"{table[n].get(k, np.nan):>19.4f}" for n in names))

    def mean(n: str, keys: list[str]) -> float:
        return float(np.mean([table[n][k] for k in keys if k in table[n]]))

    groups = {
        "official mean (photo)": [k for k in main_cases if k.endswith("/photo")],
        "official mean (canvas)": [k for k in main_cases if k.endswith("/canvas")],
        "einstein, 4 cases": [k for k in main_cases if k.startswith("einstein")],
        "takeo, 4 cases": [k for k in main_cases if k.startswith("takeo")],
        "einstein, 10 placements": [k for k in extra if k.startswith("einstein/place")],
        "takeo, 10 placements": [k for k in extra if k.startswith("takeo/place")],
        "einstein, turned": [k for k in extra if k.startswith("einstein/turn")],
        "takeo, turned": [k for k in extra if k.startswith("takeo/turn")],
    }
    print()
    for g, keys in groups.items():
        found = sum(k in table[names[0]] for k in keys)
        print(f"{g + f' [{found}]':<30}" + "".join(f"{mean(n, keys):>19.4f}" for n in names))
    print("\nturned, per case:")
    for k in extra:
        if "/turn" in k and k in table[names[0]]:
            print(f"{k:<24}" + "".join(f"{table[n][k]:>19.4f}" for n in names))


if __name__ == "__main__":
    main()
