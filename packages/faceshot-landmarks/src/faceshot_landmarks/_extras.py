"""The optional dependencies of faceshot-landmarks.

The matcher, the gallery and the tracking need none of them. dlib's detector, 68-point
predictor and face descriptor (driving videos of people, human photos) need the ``dlib``
extra, ``pip install 'faceshot-landmarks[dlib]'`` (dlib-bin and face-recognition-models,
whose 68-point model was trained on iBUG 300-W: non-commercial use only). The gallery's
domain search needs FAISS: the ``cpu`` or ``gpu`` extra.
"""

from __future__ import annotations

from faceshot_retarget import require_extra

from faceshot_landmarks.errors import BackendUnavailableError

__all__ = ["DLIB_EXTRA", "require_dlib"]

#: What installs dlib and its models.
DLIB_EXTRA = "faceshot-landmarks[dlib]"


def require_dlib(what: str, *, models: bool = False) -> None:
    """Raise :class:`BackendUnavailableError` (an ``ImportError``; one line naming
    :data:`DLIB_EXTRA`) when dlib (and, with ``models``, the ``face_recognition_models``
    package holding its model files) is not installed; ``what`` needs it."""
    modules = ("dlib", "face_recognition_models") if models else ("dlib",)
    require_extra(modules, extra=DLIB_EXTRA, what=what, error=BackendUnavailableError)
