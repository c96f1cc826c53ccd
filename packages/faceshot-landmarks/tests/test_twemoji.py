"""Real cartoon faces: Twemoji keypoints from SVG geometry and leave-one-out matching."""

from __future__ import annotations

import numpy as np
import pytest

import faceshot_landmarks as fl
from faceshot_landmarks.testing import MIRROR_68, flip_example, twemoji_keypoints


def test_keypoints_follow_the_svg_geometry(data_dir) -> None:
    pytest.importorskip("cairosvg")
    svg = (
        data_dir / "twemoji" / "1f610.svg"
    ).read_text()  # neutral face: eyes (11.5|24.5, 16.5), mouth bar x 10..26
    kp = twemoji_keypoints(svg, 360)
    s = 10.0  # 360 px / 36 units
    np.testing.assert_allclose(kp.right_eye, (11.5 * s - 0.5, 16.5 * s - 0.5))
    np.testing.assert_allclose(kp.left_eye, (24.5 * s - 0.5, 16.5 * s - 0.5))
    assert abs(kp.mouth_left[0] - 100) <= 2 and abs(kp.mouth_right[0] - 259) <= 2
    assert abs(kp.mouth_left[1] - 249.5) <= 2 and abs(kp.mouth_right[1] - 249.5) <= 2
    with pytest.raises(ValueError, match="eyes"):
        twemoji_keypoints(
            '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 36 36"><circle cx="18" cy="18" r="18" fill="#FFCC4D"/></svg>'
        )


def test_flip_example_is_an_involution() -> None:
    img = np.arange(5 * 7 * 3, dtype=np.uint8).reshape(5, 7, 3)
    pts = np.random.default_rng(0).uniform(0, 6, (68, 2))
    f_img, f_pts = flip_example(img, pts)
    b_img, b_pts = flip_example(f_img, f_pts)
    np.testing.assert_array_equal(b_img, img)
    np.testing.assert_allclose(b_pts, pts)
    np.testing.assert_array_equal(MIRROR_68[MIRROR_68], np.arange(68))


def test_leave_one_out_matching_on_twemoji(twemoji) -> None:
    ex = fl.ClassicalExtractor(size=128)
    names = sorted(twemoji)
    feats = {n: ex.extract(twemoji[n][0]) for n in names}
    errs = []
    for n in names:
        others = [m for m in names if m != n]
        refs = fl.reference_vectors(
            [feats[m] for m in others], np.stack([twemoji[m][2] for m in others])
        )
        prior = fl.ShapePrior.from_annotations(np.stack([twemoji[m][2] for m in others]))
        res = fl.match_references(feats[n], refs, prior=prior)
        kp = twemoji[n][1]
        eyes = np.stack([res.points[36:42].mean(0), res.points[42:48].mean(0)])
        truth_eyes = np.array([kp.right_eye, kp.left_eye])
        iod = np.linalg.norm(truth_eyes[0] - truth_eyes[1])
        corners = res.points[[48, 54]]
        truth_corners = np.array([kp.mouth_left, kp.mouth_right])
        errs.append(
            [
                *(np.linalg.norm(eyes - truth_eyes, axis=1) / iod),
                *(np.linalg.norm(corners - truth_corners, axis=1) / iod),
            ]
        )
    errs = np.array(errs)
    assert np.median(errs[:, :2]) < 0.05  # eye centres
    assert np.median(errs[:, 2:]) < 0.25  # mouth corners (varied mouth shapes)


def test_retrieval_between_human_and_cartoon_domains(tmp_path, twemoji, human68) -> None:
    pytest.importorskip("faiss")
    from faceshot_landmarks.testing import face_crop

    ex = fl.ClassicalExtractor()
    names = sorted(twemoji)
    held_out, rest = names[0], names[1:]
    g = tmp_path / "g"
    fl.add_domain(
        g,
        "emoji",
        [ex.extract(twemoji[n][0]) for n in rest],
        np.stack([twemoji[n][2] for n in rest]),
    )
    img, pts = face_crop(*human68["takeo"])
    f_img, f_pts = flip_example(img, pts)
    gallery = fl.add_domain(
        g, "human", [ex.extract(img), ex.extract(f_img)], np.stack([pts, f_pts])
    )
    emoji_target = fl.normalize_features(ex.extract(twemoji[held_out][0]).array)
    human_target = fl.normalize_features(ex.extract(face_crop(*human68["einstein"])[0]).array)
    assert gallery.retrieve(emoji_target) == ("emoji",) * 5
    assert gallery.retrieve(human_target) == ("human",) * 5
