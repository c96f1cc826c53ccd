"""The optional dependencies of faceshot-features.

The embedded MobileNetV2 backbone needs torch only (a dependency); the diffusion recipes
(``sd15-ip``, ``sd21``) need the ``diffusion`` extra: ``pip install 'faceshot-features[diffusion]'``.
"""

from __future__ import annotations

from faceshot_retarget import require_extra

__all__ = ["DIFFUSION_EXTRA", "DIFFUSION_MODULES", "require_diffusion"]

#: What installs the diffusion recipes' libraries.
DIFFUSION_EXTRA = "faceshot-features[diffusion]"
#: Import names the diffusion recipes need (besides torch).
DIFFUSION_MODULES = ("diffusers", "transformers", "safetensors", "huggingface_hub")


def require_diffusion(what: str) -> None:
    """Raise :class:`faceshot_retarget.MissingExtraError` (an ``ImportError``; one line naming
    :data:`DIFFUSION_EXTRA`) when a diffusion library is missing; ``what`` needs it."""
    require_extra(DIFFUSION_MODULES, extra=DIFFUSION_EXTRA, what=what)
