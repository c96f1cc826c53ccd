"""The optional dependencies of faceshot-landmarks.

The matcher, the gallery and the tracking need none of them. dlib's detector, 68-point
predictor and face descriptor (driving videos of people, human photos) need the ``dlib``
extra, ``pip install 'faceshot-landmarks[dlib]'`` (dlib-bin and face-recognition-models,
whose 68-point model was trained on iBUG 300-W: non-commercial use only). The gallery's
domain search needs FAISS: the ``cpu`` or ``gpu`` extra.
"""

from __future__ import annotations

import importlib.util
import os
from pathlib import Path

from faceshot_retarget import require_extra

from faceshot_landmarks.errors import BackendUnavailableError

__all__ = ["DLIB_EXTRA", "dlib_model_file", "require_dlib"]

#: What installs dlib and its models.
DLIB_EXTRA = "faceshot-landmarks[dlib]"


def require_dlib(what: str, *, models: bool = False) -> None:
    """Raise :class:`BackendUnavailableError` (an ``ImportError``; one line naming
    :data:`DLIB_EXTRA`) when dlib (and, with ``models``, the ``face_recognition_models``
    package holding its model files) is not installed; ``what`` needs it."""
    modules = ("dlib", "face_recognition_models") if models else ("dlib",)
    require_extra(modules, extra=DLIB_EXTRA, what=what, error=BackendUnavailableError)


def dlib_model_file(
    filename: str, kind: str, what: str, path: str | os.PathLike[str] | None = None
) -> Path:
    """Locate one of dlib's model files: ``path`` when given, else the copy inside the
    installed ``face_recognition_models`` package, found without importing it (its
    ``__init__`` imports ``pkg_resources``).

    Args:
        filename: the model's file name, e.g. ``shape_predictor_68_face_landmarks.dat``.
        kind: what the file is, for the message about a missing explicit ``path``.
        what: the feature that needs it, for the missing-extra message.
        path: an explicit model file.

    Raises:
        BackendUnavailableError: the file cannot be found.
    """
    if path is not None:
        p = Path(path)
        if not p.is_file():
            raise BackendUnavailableError(f"{kind} {str(p)!r} does not exist")
        return p
    require_dlib(what, models=True)
    spec = importlib.util.find_spec("face_recognition_models")
    for loc in (spec.submodule_search_locations or []) if spec else []:
        candidate = Path(loc) / "models" / filename
        if candidate.is_file():
            return candidate
    raise BackendUnavailableError(
        f"dlib model {filename} not found in the installed face_recognition_models package: "
        f"reinstall it (pip install --force-reinstall '{DLIB_EXTRA}'), or pass the model's path"
    )
