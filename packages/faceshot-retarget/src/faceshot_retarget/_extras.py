"""Optional dependencies ("extras") of the faceshot packages: one check, one message.

Every member package keeps its heavy or restricted dependencies behind an extra
(``faceshot-animate[mofa]``: torch, diffusers, transformers; ``faceshot-features[diffusion]``:
diffusers, transformers; ``faceshot-landmarks[dlib]``: dlib and its iBUG-trained model;
``faceshot[ui]``: gradio; ``faceshot[cluster]``: Ray). Code that needs one calls
:func:`require_extra` before importing it, so a missing extra is one line naming what to
install, never a traceback from deep inside an import.
"""

from __future__ import annotations

import importlib.util
from collections.abc import Iterable

from faceshot_retarget.errors import MissingExtraError

__all__ = ["missing_modules", "require_extra"]


def missing_modules(modules: Iterable[str]) -> list[str]:
    """The names in ``modules`` that are not installed, in order.

    Found with :func:`importlib.util.find_spec` (nothing is imported, so the check costs
    microseconds even for torch). A dotted name counts as missing when its top-level
    package is missing.
    """
    missing = []
    for name in modules:
        try:
            found = importlib.util.find_spec(name) is not None
        except (ImportError, ValueError):  # a dotted name whose parent is missing
            found = False
        if not found:
            missing.append(name)
    return missing


def _listed(names: list[str]) -> str:
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]


def require_extra(
    modules: Iterable[str],
    *,
    extra: str,
    what: str,
    error: type[Exception] = MissingExtraError,
) -> None:
    """Raise ``error`` (one line naming ``extra``) if any of ``modules`` is not installed.

    Args:
        modules: top-level import names needed (``("torch", "diffusers")``).
        extra: the requirement that installs them, as a user types it
            (``"faceshot-animate[mofa]"``).
        what: what needs them, for the message (``"MofaAnimator"``).
        error: the exception class to raise (a package's own, e.g. a backend error); it
            is called with the message.

    Raises:
        MissingExtraError: (or ``error``) e.g. ``"MofaAnimator needs torch and diffusers,
            which are not installed: pip install 'faceshot-animate[mofa]'"``.
    """
    missing = missing_modules(modules)
    if missing:
        verb = "which is" if len(missing) == 1 else "which are"
        raise error(f"{what} needs {_listed(missing)}, {verb} not installed: pip install '{extra}'")
