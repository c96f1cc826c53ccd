"""Stable Diffusion features: DDIM inversion to t = 301, then one U-Net pass with a forward hook.

Recipes (FaceShot, ICLR 2025, §3.2 and its official code):

* ``sd15-ip`` (paper): Stable Diffusion 1.5 with IP-Adapter (``ip-adapter_sd15``, CLIP ViT-H/14
  image encoder) image prompts; Eq. 3 pairs the images: reference features are extracted with
  the *target* as image prompt and the target's with the references.
* ``sd21`` (official code): Stable Diffusion 2.1, no IP-Adapter, prompt "a photo of a face".

Both: the image is resized to 512 x 512 (each axis scaled separately, so the pixel <-> cell
mapping of :class:`~faceshot_features.Features` stays exact), encoded by the VAE (the posterior
*mean*, so extraction is deterministic), DDIM-inverted with :class:`diffusers.DDIMInverseScheduler`
on an N-step schedule (N = 50) up to the schedule timestep closest to t = 301, and passed once
more through the U-Net at that timestep; the output of ``unet.up_blocks[i]`` (default i = 1) is
captured by a forward hook and returned as the feature map (the rest of the U-Net is skipped).

Which timesteps: with SD's scheduler config (1000 training steps, ``timestep_spacing="leading"``,
``steps_offset=1``) the 50-step inverse schedule is 1, 21, 41, ..., 981; inversion runs the 16
steps 1, 21, ..., 301, after which the latent has the noise level of t = 301
(``alphas_cumprod[301]``), and the feature pass runs at t = 301: 17 U-Net calls per batch.
:func:`inversion_timesteps` gives the list for any schedule.

The paper's "layer 6": the SD U-Net decoder has 4 up-blocks of 3 layers (ResNet, plus
cross-attention in blocks 1-3) each; numbering those decoder layers 1..12, layer 6 is the last
layer of ``up_blocks[1]``, and the hook on ``up_blocks[1]`` returns its output after the block's
upsampler: 1280 channels at 1/16 of the input (32 x 32 for 512 x 512), as in DIFT and the
official FaceShot code.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator, Sequence
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from numpy.typing import NDArray

from faceshot_features._cache import FeatureCache
from faceshot_features._features import Features
from faceshot_features._image import as_rgb_image
from faceshot_features.errors import FeatureConfigError

__all__ = [
    "PRESETS",
    "DiffusionComponents",
    "DiffusionConfig",
    "DiffusionExtractor",
    "ddim_invert",
    "inversion_timesteps",
]

_CLIP_MEAN = (0.48145466, 0.4578275, 0.40821073)
_CLIP_STD = (0.26862954, 0.26130258, 0.27577711)


@dataclass(frozen=True)
class DiffusionConfig:
    """Configuration of a diffusion feature extractor.

    Attributes:
        model_id: id of the Stable Diffusion weights (recorded in :attr:`Features.config`).
        prompt: text prompt used for inversion and the feature pass.
        t: requested timestep of the feature pass (0..999); the closest timestep of the
            ``num_inference_steps`` schedule is used.
        num_inference_steps: length N of the DDIM schedule the inversion walks on.
        up_block: index i of ``unet.up_blocks[i]`` whose output is the feature.
        image_size: side (pixels) of the square U-Net input; a multiple of 8 times the VAE
            downsampling factor (512 for SD).
        ip_adapter_id: id of the IP-Adapter weights, or None for no IP-Adapter.
        ip_adapter_scale: IP-Adapter cross-attention scale (>= 0).
    """

    model_id: str = "stabilityai/stable-diffusion-2-1"
    prompt: str = "a photo of a face"
    t: int = 301
    num_inference_steps: int = 50
    up_block: int = 1
    image_size: int = 512
    ip_adapter_id: str | None = None
    ip_adapter_scale: float = 1.0

    def __post_init__(self) -> None:
        if not 0 <= int(self.t) < 1000:
            raise FeatureConfigError(f"`t` must be in 0..999; got {self.t}")
        if int(self.num_inference_steps) < 1:
            raise FeatureConfigError(
                f"`num_inference_steps` must be >= 1; got {self.num_inference_steps}"
            )
        if int(self.image_size) < 8 or int(self.image_size) % 8:
            raise FeatureConfigError(
                f"`image_size` must be a positive multiple of 8; got {self.image_size}"
            )
        if int(self.up_block) < 0:
            raise FeatureConfigError(f"`up_block` must be >= 0; got {self.up_block}")
        if not float(self.ip_adapter_scale) >= 0.0:
            raise FeatureConfigError(
                f"`ip_adapter_scale` must be >= 0; got {self.ip_adapter_scale}"
            )

    def to_dict(self) -> dict[str, Any]:
        """JSON-serialisable dict of the fields."""
        return asdict(self)


#: The two named recipes. ``sd15-ip`` is the paper's, ``sd21`` the official code's.
PRESETS: dict[str, DiffusionConfig] = {
    "sd15-ip": DiffusionConfig(
        model_id="stable-diffusion-v1-5/stable-diffusion-v1-5",
        ip_adapter_id="h94/IP-Adapter/models/ip-adapter_sd15.safetensors",
    ),
    "sd21": DiffusionConfig(model_id="stabilityai/stable-diffusion-2-1"),
}


@dataclass
class DiffusionComponents:
    """The models a :class:`DiffusionExtractor` runs (built from config or loaded).

    Attributes:
        unet: ``diffusers.UNet2DConditionModel``.
        vae: ``diffusers.AutoencoderKL``.
        text_encoder: ``transformers.CLIPTextModel``.
        tokenizer: ``transformers.CLIPTokenizer``.
        scheduler_config: the pipeline's scheduler config (dict or FrozenDict); an inverse DDIM
            scheduler is built from it.
        image_encoder: ``transformers.CLIPVisionModelWithProjection`` for IP-Adapter image
            prompts, or None.
        ip_adapter: IP-Adapter state dict ``{"image_proj": {...}, "ip_adapter": {...}}`` (the
            ``ip-adapter_sd15`` format), or None.
    """

    unet: Any
    vae: Any
    text_encoder: Any
    tokenizer: Any
    scheduler_config: Any
    image_encoder: Any = None
    ip_adapter: dict[str, dict[str, torch.Tensor]] | None = field(default=None, repr=False)


def _inverse_scheduler(scheduler_config: Any) -> Any:
    from diffusers import DDIMInverseScheduler

    cfg = dict(scheduler_config)
    cfg.pop("_class_name", None)
    cfg.pop("_diffusers_version", None)
    # DDIMInverseScheduler ignores DDIM-only keys; clip_sample must be off for SD latents.
    cfg["clip_sample"] = False
    return DDIMInverseScheduler.from_config(cfg)


def inversion_timesteps(scheduler: Any, num_inference_steps: int, t: int) -> list[int]:
    """Timesteps an inversion to ``t`` walks through, ending with the one closest to ``t``.

    Args:
        scheduler: a ``DDIMInverseScheduler`` (its timesteps are set here).
        num_inference_steps: schedule length N.
        t: requested timestep.

    Returns:
        Ascending list of ints; its last element is the schedule timestep closest to ``t``
        (ties go to the smaller one). After inversion the latent has that noise level.
    """
    scheduler.set_timesteps(int(num_inference_steps))
    steps = [int(v) for v in scheduler.timesteps]
    stop = int(np.argmin(np.abs(np.asarray(steps) - int(t))))
    return steps[: stop + 1]


def ddim_invert(
    eps: Callable[[torch.Tensor, int], torch.Tensor],
    latents: torch.Tensor,
    scheduler: Any,
    timesteps: Sequence[int],
    *,
    progress: bool | None = None,
) -> torch.Tensor:
    """Deterministic DDIM inversion of clean latents.

    Args:
        eps: model call ``eps(latents, t) -> model output`` (noise, or v for v-prediction
            models; the scheduler's ``prediction_type`` decides), same shape as ``latents``.
        latents: (B, 4, h, w) float32 clean (scaled) latents; not modified.
        scheduler: ``DDIMInverseScheduler`` whose timesteps were set for ``timesteps``.
        timesteps: ascending timesteps, e.g. from :func:`inversion_timesteps`.
        progress: show a tqdm bar on stderr (None: only on a terminal).

    Returns:
        (B, 4, h, w) float32 latents at the noise level of ``timesteps[-1]``.
    """
    from tqdm.auto import tqdm

    x = latents.float().clone()
    for t in tqdm(
        list(timesteps),
        desc="DDIM inversion",
        disable=None if progress is None else not progress,
        leave=False,
    ):
        out = eps(x, int(t)).float()
        x = scheduler.step(out, int(t), x).prev_sample.float()
    return x


class _StopForward(Exception):
    """Raised by the feature hook to skip the rest of the U-Net."""


@contextlib.contextmanager
def _capture(module: torch.nn.Module, store: list[torch.Tensor], stop: bool) -> Iterator[None]:
    def hook(_mod: torch.nn.Module, _inp: Any, out: Any) -> None:
        store.append(out[0] if isinstance(out, tuple) else out)
        if stop:
            raise _StopForward

    handle = module.register_forward_hook(hook)
    try:
        yield
    finally:
        handle.remove()


def _default_dtype(device: torch.device) -> torch.dtype:
    return torch.float16 if device.type == "cuda" else torch.float32


class DiffusionExtractor:
    """Dense Stable Diffusion features (DDIM inversion + U-Net up-block hook).

    Args:
        components: the models (:class:`DiffusionComponents`). They are moved to ``device`` /
            ``dtype`` and put in eval mode; the U-Net uses PyTorch SDPA attention processors
            (no xformers). If ``components.ip_adapter`` is set it is loaded into the U-Net.
        backbone: backbone id recorded in :class:`Features` (``"sd15-ip"``, ``"sd21"``, ...).
        config: recipe (:class:`DiffusionConfig`).
        device: torch device string (``"cpu"``, ``"cuda"``, ``"cuda:1"``).
        dtype: model dtype; default float16 on CUDA, float32 otherwise. Latents and the
            inversion arithmetic stay float32.
        cache_dir: optional on-disk feature cache directory (:class:`FeatureCache`).
        progress: tqdm bar for the inversion steps (None: only on a terminal).

    Attributes:
        backbone: the backbone id.
        config: JSON-serialisable configuration (recorded in every :class:`Features`).
    """

    def __init__(
        self,
        components: DiffusionComponents,
        *,
        backbone: str = "sd21",
        config: DiffusionConfig | None = None,
        device: str | torch.device = "cpu",
        dtype: torch.dtype | None = None,
        cache_dir: str | Path | None = None,
        progress: bool | None = None,
    ) -> None:
        from diffusers.models.attention_processor import AttnProcessor2_0

        self.backbone = str(backbone)
        self._cfg = config if config is not None else DiffusionConfig()
        self._device = torch.device(device)
        self._dtype = dtype if dtype is not None else _default_dtype(self._device)
        self._progress = progress
        self._cache = FeatureCache(cache_dir) if cache_dir is not None else None
        c = components
        self.unet = self._place(c.unet)
        self.vae = self._place(c.vae)
        self.text_encoder = self._place(c.text_encoder)
        self.tokenizer = c.tokenizer
        self.image_encoder = self._place(c.image_encoder) if c.image_encoder is not None else None
        self.scheduler = _inverse_scheduler(c.scheduler_config)
        n_up = len(self.unet.up_blocks)
        if self._cfg.up_block >= n_up:
            raise FeatureConfigError(
                f"`up_block` must be < {n_up} (the U-Net's up-blocks); got {self._cfg.up_block}"
            )
        multiple = 2 ** (len(self.vae.config.block_out_channels) - 1) * 2 ** (
            len(self.unet.down_blocks) - 1
        )
        if self._cfg.image_size % multiple:
            raise FeatureConfigError(
                f"`image_size` must be a multiple of {multiple} for these VAE/U-Net; got {self._cfg.image_size}"
            )
        self.unet.set_attn_processor(AttnProcessor2_0())
        self._prompt_cache: dict[str, torch.Tensor] = {}
        self._ip_loaded = False
        if c.ip_adapter is not None:
            self.load_ip_adapter(c.ip_adapter, scale=self._cfg.ip_adapter_scale)

    def _place(self, model: Any) -> Any:
        """Move a model to the device, cast only when its dtype differs, eval mode."""
        model = model.to(self._device)
        if next(model.parameters()).dtype != self._dtype:
            model = model.to(self._dtype)
        return model.eval()

    # ------------------------------------------------------------------ configuration
    @property
    def config(self) -> dict[str, Any]:
        """JSON-serialisable configuration (recipe, IP-Adapter state, dtype)."""
        d = self._cfg.to_dict()
        d["ip_adapter"] = self._ip_loaded
        if not self._ip_loaded:
            d["ip_adapter_id"] = None
            d["ip_adapter_scale"] = 0.0
        d["dtype"] = str(self._dtype).replace("torch.", "")
        d["timesteps"] = inversion_timesteps(
            self.scheduler, self._cfg.num_inference_steps, self._cfg.t
        )
        return d

    @property
    def recipe(self) -> DiffusionConfig:
        """The :class:`DiffusionConfig` in use."""
        return self._cfg

    @property
    def has_ip_adapter(self) -> bool:
        """Whether IP-Adapter weights are loaded into the U-Net."""
        return self._ip_loaded

    # ------------------------------------------------------------------ IP-Adapter
    def load_ip_adapter(
        self, state_dict: dict[str, dict[str, torch.Tensor]], *, scale: float | None = None
    ) -> None:
        """Load an IP-Adapter state dict into the U-Net's cross-attention processors.

        Args:
            state_dict: ``{"image_proj": {...}, "ip_adapter": {...}}`` in the ``ip-adapter_sd15``
                key layout (``proj.weight``, ``norm.weight``, ``1.to_k_ip.weight``, ...).
            scale: IP-Adapter scale; default the config's ``ip_adapter_scale``.

        Raises:
            FeatureConfigError: missing keys, or no image encoder to embed image prompts.
        """
        if not isinstance(state_dict, dict) or not {"image_proj", "ip_adapter"} <= set(state_dict):
            raise FeatureConfigError("`state_dict` must have keys 'image_proj' and 'ip_adapter'")
        if self.image_encoder is None:
            raise FeatureConfigError(
                "IP-Adapter needs `components.image_encoder` (CLIP vision model); got None"
            )
        if self._ip_loaded:
            self.unload_ip_adapter()
        try:
            self.unet._load_ip_adapter_weights([state_dict], low_cpu_mem_usage=False)
        except (KeyError, RuntimeError) as exc:
            raise FeatureConfigError(
                f"IP-Adapter state dict does not fit this U-Net: {exc}"
            ) from None
        self.unet = self._place(self.unet)
        self._ip_loaded = True
        self.set_ip_adapter_scale(self._cfg.ip_adapter_scale if scale is None else scale)

    def set_ip_adapter_scale(self, scale: float) -> None:
        """Set the IP-Adapter cross-attention scale of every processor (>= 0)."""
        from diffusers.models.attention_processor import IPAdapterAttnProcessor2_0

        if not self._ip_loaded:
            raise FeatureConfigError("no IP-Adapter is loaded; call load_ip_adapter() first")
        if not float(scale) >= 0.0:
            raise FeatureConfigError(f"`scale` must be >= 0; got {scale}")
        for proc in self.unet.attn_processors.values():
            if isinstance(proc, IPAdapterAttnProcessor2_0):
                proc.scale = [float(scale)] * len(proc.scale)
        self._cfg = replace(self._cfg, ip_adapter_scale=float(scale))

    def unload_ip_adapter(self) -> None:
        """Remove IP-Adapter weights: plain SDPA processors, no image projection."""
        from diffusers.models.attention_processor import AttnProcessor2_0

        self.unet.set_attn_processor(AttnProcessor2_0())
        self.unet.encoder_hid_proj = None
        self.unet.register_to_config(encoder_hid_dim_type=None)
        self._ip_loaded = False

    # ------------------------------------------------------------------ encoders
    def _prompt_embeds(self) -> torch.Tensor:
        prompt = self._cfg.prompt
        if prompt not in self._prompt_cache:
            tok = self.tokenizer(
                prompt,
                padding="max_length",
                max_length=self.tokenizer.model_max_length,
                truncation=True,
                return_tensors="pt",
            )
            with torch.inference_mode():
                emb = self.text_encoder(tok.input_ids.to(self._device))[0]
            self._prompt_cache = {prompt: emb}
        return self._prompt_cache[prompt]

    def _pixels(self, images: Sequence[NDArray[np.uint8]]) -> torch.Tensor:
        s = self._cfg.image_size
        out = []
        for im in images:
            x = (
                torch.from_numpy(np.array(im, dtype=np.uint8, copy=True))
                .to(self._device)
                .permute(2, 0, 1)[None]
                .float()
                / 255.0
            )
            out.append(
                F.interpolate(x, size=(s, s), mode="bilinear", antialias=True, align_corners=False)
            )
        return torch.cat(out) * 2.0 - 1.0

    def _clip_pixels(self, images: Sequence[NDArray[np.uint8]]) -> torch.Tensor:
        assert self.image_encoder is not None  # guaranteed by load_ip_adapter()
        s = int(self.image_encoder.config.image_size)
        mean = torch.tensor(_CLIP_MEAN, device=self._device).view(1, 3, 1, 1)
        std = torch.tensor(_CLIP_STD, device=self._device).view(1, 3, 1, 1)
        out = []
        for im in images:
            x = (
                torch.from_numpy(np.array(im, dtype=np.uint8, copy=True))
                .to(self._device)
                .permute(2, 0, 1)[None]
                .float()
                / 255.0
            )
            h, w = x.shape[-2:]
            r = s / min(h, w)  # short side to s, then centre crop (CLIPImageProcessor's recipe)
            nh, nw = max(s, round(h * r)), max(s, round(w * r))
            x = F.interpolate(x, size=(nh, nw), mode="bicubic", antialias=True, align_corners=False)
            top, left = (nh - s) // 2, (nw - s) // 2
            out.append(x[..., top : top + s, left : left + s].clamp(0, 1))
        return (torch.cat(out) - mean) / std

    def _image_embeds(
        self, prompts: Sequence[NDArray[np.uint8] | Sequence[NDArray[np.uint8]]]
    ) -> torch.Tensor:
        """(k, 1, D) CLIP image embeddings; a list of images as one prompt is averaged."""
        flat: list[NDArray[np.uint8]] = []
        groups: list[int] = []
        for p in prompts:
            ims = [p] if isinstance(p, np.ndarray) else list(p)
            flat += ims
            groups.append(len(ims))
        encoder = self.image_encoder
        assert encoder is not None  # guaranteed by load_ip_adapter()
        with torch.inference_mode():
            emb = encoder(self._clip_pixels(flat).to(self._dtype)).image_embeds
        parts = torch.split(emb, groups)
        return torch.stack([g.mean(0) for g in parts])[:, None]

    # ------------------------------------------------------------------ extraction
    def _run(
        self,
        images: Sequence[NDArray[np.uint8]],
        prompts: Sequence[NDArray[np.uint8] | Sequence[NDArray[np.uint8]]] | None,
    ) -> torch.Tensor:
        k = len(images)
        with torch.inference_mode():
            x = self._pixels(images).to(self._dtype)
            latents = self.vae.encode(x).latent_dist.mean.float() * float(
                self.vae.config.scaling_factor
            )
            text = self._prompt_embeds().expand(k, -1, -1)
            added: dict[str, Any] | None = None
            if self._ip_loaded:
                added = {
                    "image_embeds": [self._image_embeds(prompts if prompts is not None else images)]
                }

            def eps(lat: torch.Tensor, t: int) -> torch.Tensor:
                out: torch.Tensor = self.unet(
                    lat.to(self._dtype),
                    t,
                    encoder_hidden_states=text,
                    added_cond_kwargs=added,
                    return_dict=False,
                )[0]
                return out

            steps = inversion_timesteps(self.scheduler, self._cfg.num_inference_steps, self._cfg.t)
            noisy = ddim_invert(eps, latents, self.scheduler, steps, progress=self._progress)
            store: list[torch.Tensor] = []
            with _capture(self.unet.up_blocks[self._cfg.up_block], store, stop=True):
                try:
                    eps(noisy, steps[-1])
                except _StopForward:
                    pass
            return store[0].float()

    def extract(
        self,
        image: NDArray[np.uint8],
        *,
        image_prompt: NDArray[np.uint8] | Sequence[NDArray[np.uint8]] | None = None,
    ) -> Features:
        """Features of one image (see :meth:`extract_batch`)."""
        return self.extract_batch(
            [image], image_prompts=None if image_prompt is None else [image_prompt]
        )[0]

    def extract_batch(
        self,
        images: Sequence[NDArray[np.uint8]],
        *,
        image_prompts: Sequence[NDArray[np.uint8] | Sequence[NDArray[np.uint8]] | None]
        | None = None,
    ) -> list[Features]:
        """Features of k images, all k through the VAE and U-Net as one batch.

        Args:
            images: k (H_i, W_i, 3) uint8 RGB images (sizes may differ: each is resized to
                ``image_size`` squared).
            image_prompts: per image, the IP-Adapter image prompt: an (H, W, 3) uint8 image, a
                list of such images (their CLIP embeddings are averaged), or None (the image is
                its own prompt). Ignored without IP-Adapter. For Eq. 3 use :func:`extract_pair`.

        Returns:
            k :class:`Features`, ``array`` (C, h, w) float32 (1280 x 32 x 32 for SD at 512 with
            ``up_block=1``), not normalised; ``image_size`` is each input's (H, W).

        Batched results equal one-at-a-time results up to floating-point error.
        """
        ims = [as_rgb_image(im, name=f"images[{i}]") for i, im in enumerate(images)]
        if not ims:
            return []
        if image_prompts is not None and len(image_prompts) != len(ims):
            raise FeatureConfigError(
                f"`image_prompts` must have one entry per image ({len(ims)}); got {len(image_prompts)}"
            )
        prompts: list[Any] = []
        for i, im in enumerate(ims):
            p = image_prompts[i] if image_prompts is not None else None
            if p is None:
                p = im
            elif isinstance(p, np.ndarray):
                as_rgb_image(p, name=f"image_prompts[{i}]")
            else:
                p = [as_rgb_image(q, name=f"image_prompts[{i}][{j}]") for j, q in enumerate(p)]
                if not p:
                    raise FeatureConfigError(f"`image_prompts[{i}]` is an empty list")
            prompts.append(p)
        cfg = self.config
        results: list[Features | None] = [None] * len(ims)
        keys: list[str | None] = [None] * len(ims)
        if self._cache is not None:
            for i, im in enumerate(ims):
                pk = prompts[i] if self._ip_loaded else None
                keys[i] = FeatureCache.key(im, pk, self.backbone, cfg)
                results[i] = self._cache.get(keys[i])  # type: ignore[arg-type]
        todo = [i for i, r in enumerate(results) if r is None]
        if todo:
            arrays = self._run([ims[i] for i in todo], [prompts[i] for i in todo]).cpu().numpy()
            for n, i in enumerate(todo):
                feats = Features(
                    array=arrays[n], image_size=ims[i].shape[:2], backbone=self.backbone, config=cfg
                )
                results[i] = feats
                if self._cache is not None:
                    self._cache.put(keys[i], feats)  # type: ignore[arg-type]
        return [r for r in results if r is not None]
