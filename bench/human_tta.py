"""dlib test-time augmentation on/off on the shared human photos: 68-point NME per case.

Cases: each photo as given, a square crop of 4 face widths round the face, and that crop at 1/3 of
the height of a 1920x1080 textured canvas, off-centre and centred. Run from the repository root::

    uv run python bench/human_tta.py
"""

import time
from pathlib import Path

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


def main() -> None:
    lm = DlibLandmarker()
    canvas = textured_canvas((1080, 1920), seed=3)
    cases = {}
    for stem, fname in (("einstein", "einstein.jpg"), ("takeo", "takeo.ppm")):
        img = fl.read_image(DATA / fname)
        gt = read_pts(DATA / f"{stem}.pts").points[0]
        crop, cgt = face_crop(
            img, gt, factor=4.0 * float(np.ptp(gt[:, 0])) / float(max(np.ptp(gt, axis=0)))
        )
        cases[f"{stem}/photo"] = (img, gt)
        cases[f"{stem}/crop"] = (crop, cgt)
        cases[f"{stem}/canvas"] = place_on_canvas(
            crop, cgt, canvas, height=360, centre=(1430.0, 690.0)
        )
        cases[f"{stem}/canvas-centre"] = place_on_canvas(
            crop, cgt, canvas, height=360, centre=(960.0, 540.0)
        )
    for tta in (False, True):
        errs = []
        t = time.perf_counter()
        for k, (im, gt) in cases.items():
            r = locate_and_match(
                im, None, None, config=LocateConfig(dlib_tta=tta), landmarker=lm, name=k
            )
            errs.append(fl.nme(r.points, gt))
            print(f"  tta={tta} {k} {r.path} {errs[-1]:.4f}")
        print(
            f"tta={tta}: mean {np.mean(errs):.4f} max {np.max(errs):.4f}  ({time.perf_counter() - t:.1f} s for {len(cases)})",
            flush=True,
        )


if __name__ == "__main__":
    main()
