"""The 5-point ground truth of the evaluation styles (gallery_src/<style>/keypoints5.json).

Made and checked by eye with scripts/annotate_keypoints.py (conventions in its docstring); these
tests pin the properties the leave-one-style-out benchmark relies on.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[1]
STYLES = ("twemoji", "noto", "noto-v1", "emojione", "fxemoji")
KEYS = ("right_eye", "left_eye", "nose", "mouth_right", "mouth_left")


def _faces(style: str) -> dict[str, dict]:
    path = ROOT / "gallery_src" / style / "keypoints5.json"
    if not path.is_file():
        pytest.skip(f"{style}: no keypoints5.json")
    return json.loads(path.read_text())["faces"]


@pytest.mark.parametrize("style", STYLES)
def test_keypoints5_are_plausible(style: str) -> None:
    faces = _faces(style)
    usable = {n: f for n, f in faces.items() if "exclude" not in f and not f.get("problems")}
    assert len(usable) >= 25, f"{style}: only {len(usable)} usable faces"
    for name, f in usable.items():
        p = f["points"]
        assert list(p) == list(KEYS)
        assert (ROOT / "gallery_src" / style / f["file"]).is_file()
        pts = np.array([p[k] for k in KEYS if p[k] is not None], float)
        assert ((pts >= 0) & (pts <= 511)).all(), name
        re_, le_ = np.array(p["right_eye"]), np.array(p["left_eye"])
        iod = float(np.linalg.norm(le_ - re_))
        assert re_[0] < le_[0] and 40 < iod < 400, name  # subject's right eye on the image left
        mr, ml = np.array(p["mouth_right"]), np.array(p["mouth_left"])
        assert mr[0] < ml[0], name
        assert 0.5 * (mr[1] + ml[1]) > 0.5 * (re_[1] + le_[1]), name  # mouth below the eyes
        if p["nose"] is not None:
            assert min(re_[1], le_[1]) - 0.2 * iod < p["nose"][1] < max(mr[1], ml[1]) + 0.2 * iod, (
                name
            )
    for name, f in faces.items():
        if "exclude" in f:
            assert f["exclude"].strip(), name


def test_every_style_has_animals() -> None:
    total = 0
    for style in STYLES:
        path = ROOT / "gallery_src" / style / "keypoints5.json"
        if path.is_file():
            total += sum(
                1
                for f in json.loads(path.read_text())["faces"].values()
                if f.get("animal") and "exclude" not in f
            )
    assert total >= 20
