"""Import boundary and public-API hygiene."""

from __future__ import annotations

import subprocess
import sys

import faceshot_landmarks


def test_import_does_not_load_torch_faiss_or_features() -> None:
    code = (
        "import sys, faceshot_landmarks, faceshot_landmarks.testing;"
        "from faceshot_landmarks import ClassicalExtractor, ShapePrior;"
        "bad = [m for m in ('torch', 'faceshot_features', 'faiss', 'dlib', 'mediapipe') if m in sys.modules];"
        "print(','.join(bad))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""


def test_matching_pipeline_never_imports_torch() -> None:
    code = (
        "import sys, numpy as np, faceshot_landmarks as fl\n"
        "from faceshot_landmarks.testing import synthetic_features\n"
        "f = synthetic_features(seed=1)\n"
        "pts = np.random.default_rng(0).uniform(5, 58, (68, 2))\n"
        "refs = fl.reference_vectors([f], pts)\n"
        "fl.match_references(f, refs, config=fl.MatcherConfig(use_prior=False))\n"
        "fl.ClassicalExtractor().extract(np.zeros((32, 32, 3), np.uint8))\n"
        "print('torch' in sys.modules)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_all_names_exist_and_are_sorted_unique() -> None:
    names = faceshot_landmarks.__all__
    assert len(names) == len(set(names))
    for name in names:
        assert hasattr(faceshot_landmarks, name), name
