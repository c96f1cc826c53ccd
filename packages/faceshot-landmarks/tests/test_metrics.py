"""NME."""

from __future__ import annotations

import numpy as np
import pytest
from faceshot_retarget import template_face

import faceshot_landmarks as fl


def test_nme_known_value() -> None:
    gt = template_face(100.0, (50.0, 50.0))
    iod = np.linalg.norm(gt[36] - gt[45])
    pred = gt + np.array([3.0, 4.0])  # every point off by 5 px
    assert fl.nme(pred, gt) == pytest.approx(5.0 / iod)
    assert fl.nme(gt, gt) == 0.0
    e = fl.point_errors(np.stack([gt, pred]), np.stack([gt, gt]))
    assert e.shape == (2, 68)
    assert fl.nme(np.stack([gt, pred]), np.stack([gt, gt])) == pytest.approx(2.5 / iod)


def test_nme_rejects_bad_input() -> None:
    gt = template_face(100.0)
    with pytest.raises(ValueError, match="same shape"):
        fl.nme(gt, np.stack([gt, gt]))
    flat = np.zeros((68, 2))
    with pytest.raises(ValueError, match="inter-ocular"):
        fl.nme(flat, flat)
