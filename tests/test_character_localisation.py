"""Where the face of a character is: one part of a face is not taken for a whole face, and a
head on a body is still found (``faceshot_landmarks.LocateConfig.whole_crop_sizes``).

Characters are Twemoji (CC-BY 4.0, ``gallery_src/twemoji/README.md``). The robot 1f916 and
the weary cat 1f640 have no landmarks, so they are not in the default gallery."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from faceshot import FaceShot

_TWEMOJI = Path(__file__).resolve().parents[1] / "gallery_src" / "twemoji"


@pytest.fixture(scope="module")
def fs() -> FaceShot:
    return FaceShot(progress=False)


def test_a_robots_ringed_eye_is_not_taken_for_its_face(fs: FaceShot) -> None:
    """The first crop's match put all 68 points in the robot's left eye (a ring round a red
    disc); matched as one face, the crop puts one eye in each ring and the mouth on the grille."""
    from faceshot_landmarks import LocateConfig, locate_and_match

    robot = fs.load(_TWEMOJI / "1f916.svg")
    w = robot.rgb.shape[1]
    before = locate_and_match(
        robot.rgb, fs.extractor, fs.gallery, config=LocateConfig(whole_crop_sizes=None)
    )
    # the failure this guards: the whole 68-point face inside one eye ring (about 0.3 W wide)
    assert np.ptp(np.asarray(before.points)[:, 0]) < 0.35 * w
    pts = np.asarray(fs.match(robot).points)
    left, right = pts[36:42].mean(0), pts[42:48].mean(0)
    # the eye rings' centres sit at about 29 % and 71 % of the width, 37 % of the height
    assert abs(left[0] / w - 0.29) < 0.06 and abs(right[0] / w - 0.71) < 0.06
    assert abs(left[1] / w - 0.37) < 0.08 and abs(right[1] / w - 0.37) < 0.08
    mouth = pts[48:68].mean(0)
    assert 0.6 < mouth[1] / robot.rgb.shape[0] < 0.8  # the grille


def test_a_head_on_a_body_is_still_found(fs: FaceShot) -> None:
    """A face on top of a big body keeps the small-face path (re-crop round the head)."""
    import cv2
    from faceshot_retarget import load_landmarks

    cat = fs.load(_TWEMOJI / "1f63a.svg")
    truth = np.asarray(load_landmarks(_TWEMOJI / "1f63a.pts").points[0])
    head = cv2.resize(np.asarray(cat.image), (300, 300), interpolation=cv2.INTER_AREA)
    canvas = np.full((900, 600, 3), 255, np.uint8)
    cv2.ellipse(canvas, (300, 620), (220, 300), 0, 0, 360, (230, 120, 40), -1)
    cv2.rectangle(canvas, (60, 560), (540, 620), (230, 120, 40), -1)
    alpha = head[..., 3:4] / 255.0
    canvas[60:360, 150:450] = (
        head[..., :3] * alpha + canvas[60:360, 150:450] * (1 - alpha)
    ).astype(np.uint8)
    truth = truth * (300 / cat.image.shape[1]) + [150, 60]
    pts = np.asarray(fs.match(canvas).points)
    width = np.linalg.norm(truth[16] - truth[0])
    assert np.linalg.norm(pts - truth, axis=1).mean() / width < 0.05
