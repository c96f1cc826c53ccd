"""Helpers shared by the ``landmarks``, ``match`` and ``gallery`` subcommands (not a command).

Heavy imports happen inside the functions so ``faceshot --help`` stays fast.
"""

from __future__ import annotations

from typing import Any

__all__ = ["extractor_for_gallery", "make_extractor"]


def make_extractor(name: str, config: dict[str, Any] | None = None) -> Any:
    """An extractor by CLI name: ``classical`` (built in) or a ``faceshot_features`` name.

    Raises:
        FaceshotLandmarksError: the learned backbone is not available in this install.
    """
    from faceshot_landmarks import CLASSICAL_BACKBONE, ClassicalExtractor, FaceshotLandmarksError

    if name in ("classical", CLASSICAL_BACKBONE):
        cfg = dict(config or {})
        if "sigmas" in cfg:
            cfg["sigmas"] = tuple(cfg["sigmas"])
        return ClassicalExtractor(**cfg)
    try:
        from faceshot_features import load_extractor
    except ImportError:
        raise FaceshotLandmarksError(
            f"backbone {name!r} needs faceshot_features.load_extractor, which is not available "
            "in this install; use --backbone classical"
        ) from None
    from faceshot_features import backbone_for_id

    return load_extractor(backbone_for_id(name) or name)


def extractor_for_gallery(gallery: Any, override: str | None = None) -> Any:
    """The extractor matching a gallery's recorded backbone (or ``override``)."""
    from faceshot_landmarks import CLASSICAL_BACKBONE

    name = override or gallery.backbone
    if name in ("classical", CLASSICAL_BACKBONE):
        return make_extractor(CLASSICAL_BACKBONE, gallery.backbone_config)
    return make_extractor(name)
