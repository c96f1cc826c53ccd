"""``load_extractor``: one entry point for every backbone, and the Eq. 3 pairing helper."""

from __future__ import annotations

import os
import threading
from collections.abc import Mapping, Sequence
from pathlib import Path
from types import MappingProxyType
from typing import Any

import numpy as np
from numpy.typing import NDArray

from faceshot_features._features import Features
from faceshot_features.errors import FeatureConfigError

__all__ = [
    "BACKBONES",
    "BACKBONE_IDS",
    "backbone_for_id",
    "clear_extractor_cache",
    "extract_pair",
    "load_extractor",
]

#: The backbone registry: every name :func:`load_extractor` accepts -> the backbone id its
#: :class:`Features` (and the galleries built from them) record. Every command-line choice
#: and API check of a backbone reads this table.
BACKBONE_IDS: Mapping[str, str] = MappingProxyType(
    {"embedded": "embedded-mobilenetv2", "sd15-ip": "sd15-ip", "sd21": "sd21"}
)
#: Names accepted by :func:`load_extractor`, in :data:`BACKBONE_IDS` order.
BACKBONES: tuple[str, ...] = tuple(BACKBONE_IDS)


def backbone_for_id(backbone_id: str) -> str | None:
    """The :func:`load_extractor` name whose features a recorded backbone id comes from.

    Matches on the family prefix (the name up to its first ``-``: ``embedded``, ``sd15``,
    ``sd21``), so ids recorded with a variant suffix still resolve.

    Args:
        backbone_id: e.g. ``"embedded-mobilenetv2"`` or ``"sd15-ip"``.

    Returns:
        A key of :data:`BACKBONE_IDS`, or ``None`` when no backbone family matches.
    """
    return next((n for n in BACKBONE_IDS if backbone_id.startswith(n.split("-")[0])), None)


# Models are loaded once per process: extractors are cached by their full argument set.
_LOCK = threading.Lock()
_EXTRACTORS: dict[tuple[Any, ...], Any] = {}


def clear_extractor_cache() -> None:
    """Forget the extractors (and their models) kept by :func:`load_extractor`."""
    with _LOCK:
        _EXTRACTORS.clear()


def load_extractor(
    name: str = "embedded",
    *,
    weights: str | os.PathLike[str] | None = None,
    device: str = "cpu",
    dtype: Any = None,
    local_files_only: bool = True,
    cache_dir: str | os.PathLike[str] | None = None,
    hf_cache_dir: str | os.PathLike[str] | None = None,
    ip_adapter: str | None = None,
    image_encoder: str | None = None,
    progress: bool | None = None,
    **options: Any,
) -> Any:
    """Build (or reuse) a feature extractor.

    Args:
        name: ``"embedded"`` (MobileNetV2, CPU default), ``"sd15-ip"`` (paper recipe: SD 1.5 +
            IP-Adapter) or ``"sd21"`` (official-code recipe: SD 2.1).
        weights: embedded: checkpoint file (default: the installed package's). sd*: diffusers
            pipeline directory or Hugging Face id (default: the preset's ``model_id``).
        device: torch device string.
        dtype: torch dtype for diffusion models (default float16 on CUDA, float32 on CPU;
            ``torch.bfloat16`` works too). Ignored by ``"embedded"`` (always float32).
        local_files_only: never download (default). False lets missing Hugging Face files
            download into the cache.
        cache_dir: optional directory of the on-disk *feature* cache.
        hf_cache_dir: Hugging Face cache to look in (default ``HF_HUB_CACHE``).
        ip_adapter: sd15-ip only: IP-Adapter checkpoint file or ``"owner/name/path"``.
        image_encoder: sd15-ip only: CLIP image-encoder directory or ``"owner/name/subdir"``.
        progress: diffusion inversion progress bar (None: only on a terminal).
        **options: embedded: ``input_sizes``, ``layers``, ``layer_weights``, ``center``, ``num_threads``;
            sd*: :class:`DiffusionConfig` fields (``prompt``, ``t``, ``num_inference_steps``,
            ``up_block``, ``image_size``, ``ip_adapter_scale``).

    Returns:
        An extractor with ``.backbone``, ``.config``, ``.extract`` and ``.extract_batch``. The same
        arguments return the same object within a process (models load once).

    Raises:
        FeatureConfigError: unknown name or option.
        WeightsNotFoundError: weights are not on this machine (message has the download command).
    """
    if name not in BACKBONES:
        raise FeatureConfigError(f"`name` must be one of {list(BACKBONES)}; got {name!r}")
    key = (
        name,
        str(weights),
        str(device),
        str(dtype),
        bool(local_files_only),
        str(cache_dir),
        str(hf_cache_dir),
        str(ip_adapter),
        str(image_encoder),
        progress,
        tuple(sorted((k, repr(v)) for k, v in options.items())),
    )
    with _LOCK:
        hit = _EXTRACTORS.get(key)
        if hit is not None:
            return hit
        extractor = _build(
            name,
            weights=weights,
            device=device,
            dtype=dtype,
            local_files_only=local_files_only,
            cache_dir=cache_dir,
            hf_cache_dir=hf_cache_dir,
            ip_adapter=ip_adapter,
            image_encoder=image_encoder,
            progress=progress,
            options=options,
        )
        _EXTRACTORS[key] = extractor
        return extractor


def _build(
    name: str,
    *,
    weights: Any,
    device: str,
    dtype: Any,
    local_files_only: bool,
    cache_dir: Any,
    hf_cache_dir: Any,
    ip_adapter: Any,
    image_encoder: Any,
    progress: bool | None,
    options: dict[str, Any],
) -> Any:
    if name == "embedded":
        from faceshot_features._embedded import EmbeddedExtractor

        allowed = {"input_sizes", "layers", "layer_weights", "num_threads", "center"}
        bad = sorted(set(options) - allowed)
        if bad:
            raise FeatureConfigError(
                f"unknown option(s) for 'embedded': {bad}; expected some of {sorted(allowed)}"
            )
        if ip_adapter is not None or image_encoder is not None:
            raise FeatureConfigError("`ip_adapter`/`image_encoder` apply to 'sd15-ip' only")
        return EmbeddedExtractor(weights=weights, device=device, cache_dir=cache_dir, **options)

    import dataclasses

    import torch

    from faceshot_features._extras import require_diffusion

    require_diffusion(f"backbone {name!r}")
    from faceshot_features._diffusion import PRESETS, DiffusionExtractor
    from faceshot_features._weights import load_sd_components

    preset = PRESETS[name]
    fields = {f.name for f in dataclasses.fields(preset)} - {"model_id", "ip_adapter_id"}
    bad = sorted(set(options) - fields)
    if bad:
        raise FeatureConfigError(
            f"unknown option(s) for {name!r}: {bad}; expected some of {sorted(fields)}"
        )
    if name == "sd21" and (ip_adapter is not None or image_encoder is not None):
        raise FeatureConfigError("`ip_adapter`/`image_encoder` apply to 'sd15-ip' only")
    dev = torch.device(device)
    if dtype is None:
        dtype = torch.float16 if dev.type == "cuda" else torch.float32
    model_id = str(weights) if weights is not None else preset.model_id
    ip_spec = (ip_adapter or preset.ip_adapter_id) if preset.ip_adapter_id else None
    config = dataclasses.replace(
        preset,
        model_id=_model_label(model_id),
        ip_adapter_id=_model_label(ip_spec) if ip_spec else None,
        **options,
    )
    components = load_sd_components(
        model_id,
        ip_adapter=ip_spec,
        image_encoder=image_encoder,
        dtype=dtype,
        cache_dir=hf_cache_dir,
        local_files_only=local_files_only,
        what="Stable Diffusion 1.5 + IP-Adapter (sd15-ip)"
        if name == "sd15-ip"
        else "Stable Diffusion 2.1 (sd21)",
    )
    return DiffusionExtractor(
        components,
        backbone=name,
        config=config,
        device=dev,
        dtype=dtype,
        cache_dir=cache_dir,
        progress=progress,
    )


def _model_label(model_id: str) -> str:
    """Local weights are recorded by their name only (configs must not embed local paths)."""
    p = Path(model_id).expanduser()
    return p.name if p.exists() else model_id


def extract_pair(
    extractor: Any,
    target: NDArray[np.uint8],
    references: Sequence[NDArray[np.uint8]],
) -> tuple[Features, list[Features]]:
    """Eq. 3 image-prompt pairing: features of a target and k references, in two batches.

    Each reference is extracted with the *target* as its image prompt (all k references in one
    batch), and the target with the references as its image prompt (their CLIP image
    embeddings averaged; for k = 1 this is exactly the reverse pairing). Extractors without
    image conditioning (``embedded``, ``sd21``) ignore the prompts.

    Args:
        extractor: an object returned by :func:`load_extractor` (or any with the protocol).
        target: (H, W, 3) uint8 RGB target (character) image.
        references: k >= 1 (H_i, W_i, 3) uint8 RGB reference (gallery) images.

    Returns:
        ``(target_features, [reference_features...])``.
    """
    refs = list(references)
    if not refs:
        raise FeatureConfigError("`references` must contain at least one image; got 0")
    ref_feats = extractor.extract_batch(refs, image_prompts=[target] * len(refs))
    tgt = extractor.extract(target, image_prompt=refs[0] if len(refs) == 1 else refs)
    return tgt, list(ref_feats)
