"""Full-size configurations of the diffusion feature recipes, as published, and builders.

Each ``<name>.json`` in this package is one model of the GPU recipes (``sd15-ip``: SD 1.5 U-Net,
VAE, text encoder, scheduler, IP-Adapter and its CLIP ViT-H/14 image encoder; ``sd21``: SD 2.1
U-Net, VAE, text encoder, scheduler) with:

* ``config``: the constructor arguments exactly as released (the repository's ``config.json``);
* ``source``: where the values were read (repository, revision, and the copy that was read);
* ``published``: what was published about the weights: the parameter count and, for each
  released safetensors file, its byte size and SHA-256 (from Git LFS pointers) and how its header
  was written. A safetensors file is 8 bytes + a JSON header naming every tensor with its shape +
  the tensor bytes, so its exact size pins the parameter count *and* the key set (names and
  shapes): :func:`safetensors_file_size` predicts it from a state dict.

Models are built on torch's ``meta`` device by default: no memory, no weights, a few tenths of a
second, which is how the ``full_size`` tests check the architecture on a CPU. The GPU benchmark
(``bench/features.py --random-full``) builds the same models on CUDA with random weights.

Example::

    from faceshot_features import full_size
    unet = full_size.build("sd15_unet")                  # meta device
    sum(p.numel() for p in unet.parameters())           # 859_520_964
"""

from __future__ import annotations

import copy
import hashlib
import json
import os
from collections.abc import Iterable, Mapping, Sequence
from functools import cache
from importlib import resources
from typing import Any

import torch

from faceshot_features._diffusion import DiffusionComponents
from faceshot_features.errors import FeatureConfigError

__all__ = [
    "MODELS",
    "RECIPES",
    "build",
    "components",
    "ip_adapter_state_dict",
    "parameter_count",
    "safetensors_file_size",
    "spec",
    "state_dict_digest",
]

#: Names of the model specs (one JSON file each).
MODELS: tuple[str, ...] = (
    "sd15_unet",
    "sd15_vae",
    "sd15_text_encoder",
    "sd15_scheduler",
    "ip_adapter_image_encoder",
    "ip_adapter_sd15",
    "sd21_unet",
    "sd21_vae",
    "sd21_text_encoder",
    "sd21_scheduler",
)

#: Models of each :data:`faceshot_features.PRESETS` recipe (unet, vae, text encoder, scheduler,
#: and for ``sd15-ip`` the image encoder and IP-Adapter).
RECIPES: dict[str, dict[str, str]] = {
    "sd15-ip": {
        "unet": "sd15_unet",
        "vae": "sd15_vae",
        "text_encoder": "sd15_text_encoder",
        "scheduler": "sd15_scheduler",
        "image_encoder": "ip_adapter_image_encoder",
        "ip_adapter": "ip_adapter_sd15",
    },
    "sd21": {
        "unet": "sd21_unet",
        "vae": "sd21_vae",
        "text_encoder": "sd21_text_encoder",
        "scheduler": "sd21_scheduler",
    },
}

#: Bytes per element of the safetensors dtype names used here.
_DTYPE_BYTES = {
    "F64": 8,
    "I64": 8,
    "F32": 4,
    "I32": 4,
    "F16": 2,
    "BF16": 2,
    "I16": 2,
    "U8": 1,
    "I8": 1,
    "BOOL": 1,
}


@cache
def _load(name: str) -> dict[str, Any]:
    if name not in MODELS:
        raise FeatureConfigError(f"`name` must be one of {list(MODELS)}; got {name!r}")
    text = resources.files(__name__).joinpath(f"{name}.json").read_text(encoding="utf-8")
    data: dict[str, Any] = json.loads(text)
    return data


def spec(name: str) -> dict[str, Any]:
    """The published facts of one model (a fresh copy of its JSON file).

    Args:
        name: one of :data:`MODELS`.

    Returns:
        ``{"name", "title", "class", "repo", "path", "source", "config", "published"}``;
        ``published`` is None for schedulers, else ``{"parameters", "parameters_source",
        "files"}`` (``parameters`` None where no figure was found).

    Raises:
        FeatureConfigError: unknown name.
    """
    return copy.deepcopy(_load(name))


def build(
    name: str,
    *,
    device: str | torch.device = "meta",
    dtype: torch.dtype | None = None,
    seed: int = 0,
) -> Any:
    """Build one full-size model from its published config, with random (or no) weights.

    Args:
        name: one of :data:`MODELS` except the schedulers.
        device: ``"meta"`` (default: shapes only, no memory) or a real device, where the
            model's own random initialisation runs (fast on CUDA).
        dtype: cast after building (None: float32).
        seed: torch seed used before building (ignored on ``meta``).

    Returns:
        The module (``ip_adapter_sd15``: the IP-Adapter state dict ``{"image_proj": {...},
        "ip_adapter": {...}}`` in the released key layout (:func:`ip_adapter_state_dict`), or
        empty tensors on ``meta``).

    Raises:
        FeatureConfigError: unknown name, or a scheduler name.
    """
    s = _load(name)
    cls = s["class"]
    dev = torch.device(device)
    if dev.type != "meta":
        torch.manual_seed(seed)
    if cls == "ip_adapter":
        unet = build(s["config"]["unet"], device="meta")
        enc = _load(s["config"]["image_encoder"])["config"]
        return ip_adapter_state_dict(
            unet,
            int(enc["projection_dim"]),
            int(s["config"]["num_tokens"]),
            device=dev,
            dtype=dtype or torch.float32,
            seed=seed,
        )
    from faceshot_features._extras import require_diffusion

    require_diffusion(f"full_size.build({name!r})")
    with torch.device(dev):
        if cls.startswith("diffusers."):
            import diffusers

            if "Scheduler" in cls:
                raise FeatureConfigError(
                    f"{name!r} is a scheduler config, not a model; use spec({name!r})['config']"
                )
            model = getattr(diffusers, cls.split(".", 1)[1]).from_config(s["config"])
        elif cls.startswith("transformers."):
            import transformers

            model_cls = getattr(transformers, cls.split(".", 1)[1])
            model = model_cls(model_cls.config_class(**s["config"]))
        else:  # pragma: no cover - the JSON files are part of the package
            raise FeatureConfigError(f"{name!r}: unknown class {cls!r}")
    # A few modules make tensors with the legacy ``torch.Tensor([...])`` constructor, which ignores
    # the device context (e.g. diffusers' AlphaBlender.mix_factor): move everything explicitly.
    torch.nn.Module.to(model, device=dev, dtype=dtype)
    return model.eval()


def ip_adapter_state_dict(
    unet: Any,
    image_embed_dim: int,
    num_tokens: int = 4,
    *,
    device: str | torch.device = "cpu",
    dtype: torch.dtype = torch.float32,
    seed: int = 0,
    scale: float = 0.02,
) -> dict[str, dict[str, torch.Tensor]]:
    """A random IP-Adapter state dict in the released ``ip-adapter_*`` key layout for ``unet``.

    ``image_proj``: ``proj.weight`` (num_tokens * cross_dim, image_embed_dim), ``proj.bias``,
    ``norm.weight``, ``norm.bias`` (cross_dim); ``ip_adapter``: ``{n}.to_k_ip.weight`` and
    ``{n}.to_v_ip.weight`` (hidden, cross_dim) for every cross-attention processor, ``n`` its index
    in ``unet.attn_processors`` (odd numbers, as in the released checkpoints). Weights are normal *
    ``scale``; the LayerNorm is the identity (ones, zeros).

    Args:
        unet: a ``UNet2DConditionModel`` (any device, meta included: only its config and
            processor names are read).
        image_embed_dim: CLIP image-embedding width (the encoder's ``projection_dim``).
        num_tokens: image tokens of the projection (4 for ``ip-adapter_sd15``).
        device: where the tensors are made; ``meta`` gives shapes only.
        dtype: tensor dtype.
        seed: seed of the random values (ignored on ``meta``).
        scale: standard deviation of the random weights.
    """
    dev = torch.device(device)
    gen = torch.Generator(device=dev).manual_seed(seed) if dev.type != "meta" else None

    def rand(*shape: int) -> torch.Tensor:
        if gen is None:
            return torch.empty(shape, device=dev, dtype=dtype)
        return (torch.randn(shape, generator=gen, device=dev) * scale).to(dtype)

    def const(value: float, n: int) -> torch.Tensor:
        return (
            torch.empty(n, device=dev, dtype=dtype)
            if gen is None
            else torch.full((n,), value, device=dev, dtype=dtype)
        )

    cross = int(unet.config.cross_attention_dim)
    blocks = list(unet.config.block_out_channels)
    image_proj = {
        "proj.weight": rand(num_tokens * cross, image_embed_dim),
        "proj.bias": rand(num_tokens * cross),
        "norm.weight": const(1.0, cross),
        "norm.bias": const(0.0, cross),
    }
    layers: dict[str, torch.Tensor] = {}
    for n, proc in enumerate(unet.attn_processors):
        if not proc.endswith("attn2.processor"):
            continue
        if proc.startswith("mid_block"):
            hidden = blocks[-1]
        elif proc.startswith("up_blocks"):
            hidden = blocks[::-1][int(proc.split(".")[1])]
        else:
            hidden = blocks[int(proc.split(".")[1])]
        layers[f"{n}.to_k_ip.weight"] = rand(hidden, cross)
        layers[f"{n}.to_v_ip.weight"] = rand(hidden, cross)
    return {"image_proj": image_proj, "ip_adapter": layers}


def parameter_count(model: Any) -> int:
    """Number of parameters of a module, or of the tensors of a (nested) state dict."""
    if isinstance(model, Mapping):
        return sum(
            parameter_count(v) if isinstance(v, Mapping) else int(v.numel()) for v in model.values()
        )
    return int(sum(p.numel() for p in model.parameters()))


def _flat(state: Mapping[str, Any], prefix: str = "") -> dict[str, torch.Tensor]:
    out: dict[str, torch.Tensor] = {}
    for k, v in state.items():
        if isinstance(v, Mapping):
            out.update(_flat(v, f"{prefix}{k}."))
        else:
            out[f"{prefix}{k}"] = v
    return out


def safetensors_file_size(
    tensors: Iterable[tuple[str, Sequence[int], str]],
    *,
    metadata: Mapping[str, str] | None = None,
    align: int = 8,
) -> int:
    """Exact byte size of a safetensors file holding these tensors.

    The format: an 8-byte little-endian header length, the JSON header (``__metadata__`` first if
    any, then for each tensor ``{"dtype", "shape", "data_offsets"}``, compact separators), padded
    with spaces to a multiple of ``align`` bytes, then the tensor bytes in the writer's order
    (larger dtypes first, then by name), which fixes every offset.

    Args:
        tensors: (name, shape, dtype) triples; dtype a safetensors name (``"F32"``, ``"F16"``,
            ``"BF16"``, ``"I64"``, ...).
        metadata: the ``__metadata__`` string map (diffusers and transformers write
            ``{"format": "pt"}``), or None for none.
        align: header padding; 8 for safetensors >= 0.3, 1 (no padding) for older writers.

    Returns:
        The file size in bytes.
    """
    items = [(str(n), [int(d) for d in shape], str(dt)) for n, shape, dt in tensors]
    items.sort(key=lambda t: (-_DTYPE_BYTES[t[2]], t[0]))
    header: dict[str, Any] = {}
    if metadata is not None:
        header["__metadata__"] = dict(metadata)
    offset = 0
    for n, shape, dt in items:
        size = _DTYPE_BYTES[dt]
        for d in shape:
            size *= d
        header[n] = {"dtype": dt, "shape": shape, "data_offsets": [offset, offset + size]}
        offset += size
    length = len(json.dumps(header, separators=(",", ":")).encode("utf-8"))
    length += (-length) % max(1, int(align))
    return 8 + length + offset


def state_dict_digest(state: Mapping[str, Any]) -> str:
    """SHA-256 of the sorted ``"<key> <d0>x<d1>x..."`` lines of a (nested) state dict: its key set and shapes."""
    flat = _flat(state)
    lines = "\n".join(f"{k} {'x'.join(str(int(d)) for d in flat[k].shape)}" for k in sorted(flat))
    return hashlib.sha256(lines.encode("utf-8")).hexdigest()


def components(
    recipe: str,
    tokenizer_dir: str | os.PathLike[str],
    *,
    device: str | torch.device = "meta",
    dtype: torch.dtype | None = None,
    seed: int = 0,
) -> DiffusionComponents:
    """Every model of a recipe at full size with random weights, for timing (or on ``meta`` for checks).

    The tokenizer is the tiny character vocabulary of :func:`faceshot_features.testing.tiny_tokenizer`
    with CLIP's 77-token length (the released BPE vocabulary is a download): token ids differ from
    the real ones, shapes and work do not.

    Args:
        recipe: ``"sd15-ip"`` or ``"sd21"``.
        tokenizer_dir: existing directory for the tokenizer files.
        device: where the models are built (``"cuda"`` for the benchmark).
        dtype: model dtype after building (None: float32).
        seed: torch seed.

    Returns:
        :class:`~faceshot_features.DiffusionComponents` (``sd15-ip`` with image encoder and a
        random IP-Adapter state dict).
    """
    if recipe not in RECIPES:
        raise FeatureConfigError(f"`recipe` must be one of {list(RECIPES)}; got {recipe!r}")
    from faceshot_features.testing import tiny_tokenizer

    names = RECIPES[recipe]
    kw: dict[str, Any] = {"device": device, "dtype": dtype, "seed": seed}
    image_encoder = ip = None
    if "image_encoder" in names:
        image_encoder = build(names["image_encoder"], **kw)
        ip = build(names["ip_adapter"], **kw)
    return DiffusionComponents(
        unet=build(names["unet"], **kw),
        vae=build(names["vae"], **kw),
        text_encoder=build(names["text_encoder"], **kw),
        tokenizer=tiny_tokenizer(tokenizer_dir, max_length=77),
        scheduler_config=spec(names["scheduler"])["config"],
        image_encoder=image_encoder,
        ip_adapter=ip,
    )
