"""MOFA-Video-Hybrid's landmark ControlNet for SVD, rebuilt on diffusers' building blocks.

What it computes (MOFA-Video, Niu et al., ECCV 2024, landmark branch):

1. The first frame (RGB in [-1, 1]) is embedded to latent resolution (``controlnet_cond_embedding``,
   stride 8) and encoded further (``flow_encoder``) to strides 16, 32 and 64.
2. Each of the four first-frame feature maps is forward-warped to every later frame by the
   dense landmark flow (nearest-downsampled and divided by the stride) with average splatting,
   refined by an occlusion/matting hourglass (``occlusions[str(stride)]``) and passed through
   a zero-initialised 1x1 conv (``zero_outs``). Frame 0 keeps the unwarped feature.
3. The rendered landmark images are embedded to latent resolution
   (``controlnet_ldmk_embedding``); nearest 1/2 downsampling gives the stride-16 copy.
4. A copy of the SVD encoder (``conv_in``, ``down_blocks``, ``mid_block``) runs on the noisy
   latents; the warped features are added to its input (with the landmark embedding), after
   every down block (with the landmark embedding after the first), and once more before the
   mid block, exactly where upstream adds them.
5. Zero convs (``controlnet_down_blocks``, ``controlnet_mid_block``) turn the skip features and
   the mid output into residuals for the SVD U-Net, scaled by ``conditioning_scale``.

Steps 1-3 do not depend on the noisy latents or the timestep, so :meth:`encode_conditions`
computes them once per video (all frames, frame-chunked) and :meth:`forward` reuses them at
every denoising step and in every window: the result is identical to recomputing them each
time, as the official pipeline does, and much cheaper.

Module and parameter names are upstream's (``models/ldmk_ctrlnet.py`` ``FlowControlNet`` on
``models/controlnet_sdv.py`` ``ControlNetSDVModel``), so the released
``ckpts/mofa/ldmk_controlnet/diffusion_pytorch_model.safetensors`` loads with ``strict=True``.
Channel counts that upstream hard-codes for the SVD-XT widths (320/640/1280 in the flow
encoder, zero convs and occlusion heads; (16, 32, 64, 128) for the landmark embedding; 64/512
in the hourglass) are derived from the config here so tiny test models can be built; with the
default config they equal upstream's.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import torch
from diffusers.configuration_utils import ConfigMixin, register_to_config
from diffusers.models.embeddings import TimestepEmbedding, Timesteps
from diffusers.models.modeling_utils import ModelMixin
from diffusers.models.unets.unet_3d_blocks import UNetMidBlockSpatioTemporal, get_down_block
from torch import nn
from torch.nn import functional as F

from faceshot_animate.mofa._splat import softsplat
from faceshot_animate.mofa.errors import MofaConfigError

__all__ = ["ControlConditions", "LandmarkControlNet"]

#: Strides (pixel / feature) of the four warped feature levels, as upstream's dict keys.
STRIDES = (8, 16, 32, 64)


def _zero(module: nn.Conv2d) -> nn.Conv2d:
    nn.init.zeros_(module.weight)
    if module.bias is not None:
        nn.init.zeros_(module.bias)
    return module


class _CondEmbedding(nn.Module):
    """conv3x3 -> [conv3x3, conv3x3/2] x (n - 1) -> zero conv3x3, SiLU between (stride 8 for n=4)."""

    def __init__(self, out_channels: int, in_channels: int, widths: tuple[int, ...]) -> None:
        super().__init__()
        self.conv_in = nn.Conv2d(in_channels, widths[0], 3, padding=1)
        self.blocks = nn.ModuleList()
        for a, b in itertools.pairwise(widths):
            self.blocks.append(nn.Conv2d(a, a, 3, padding=1))
            self.blocks.append(nn.Conv2d(a, b, 3, padding=1, stride=2))
        self.conv_out = _zero(nn.Conv2d(widths[-1], out_channels, 3, padding=1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = F.silu(self.conv_in(x))
        for block in self.blocks:
            x = F.silu(block(x))
        out: torch.Tensor = self.conv_out(x)
        return out


class _EncoderLayer(nn.Module):
    def __init__(self, cin: int, cout: int) -> None:
        super().__init__()
        self.conv_in = nn.Conv2d(cin, cout, 3, padding=1, stride=2)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.silu(self.conv_in(x))


class _FirstFrameEncoder(nn.Module):
    def __init__(self, cin: int, widths: tuple[int, ...]) -> None:
        super().__init__()
        self.encoders = nn.ModuleList()
        for w in widths:
            self.encoders.append(_EncoderLayer(cin, w))
            cin = w

    def forward(self, x: torch.Tensor) -> list[torch.Tensor]:
        feats = []
        for enc in self.encoders:
            x = enc(x)
            feats.append(x)
        return feats


class _ConvReLU(nn.Module):
    def __init__(self, cin: int, cout: int) -> None:
        super().__init__()
        self.conv = nn.Conv2d(cin, cout, 3, padding=1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.relu(self.conv(x))


class _HourglassEncoder(nn.Module):
    def __init__(self, expansion: int, cin: int, num_blocks: int, max_features: int) -> None:
        super().__init__()
        widths = [min(max_features, expansion * 2 ** (i + 1)) for i in range(num_blocks)]
        ins = [cin, *widths[:-1]]
        self.down_blocks = nn.ModuleList(_ConvReLU(a, b) for a, b in zip(ins, widths, strict=True))

    def forward(self, x: torch.Tensor) -> list[torch.Tensor]:
        outs = []
        for block in self.down_blocks:
            x = block(x)
            outs.append(x)
        return outs


class _HourglassDecoder(nn.Module):
    def __init__(self, expansion: int, num_blocks: int, max_features: int) -> None:
        super().__init__()
        self.up_blocks = nn.ModuleList()
        for i in reversed(range(num_blocks)):
            fan = min(max_features, expansion * 2 ** (i + 1))
            cin = fan if i == num_blocks - 1 else 2 * fan
            self.up_blocks.append(_ConvReLU(cin, min(max_features, expansion * 2**i)))

    def forward(self, skips: list[torch.Tensor]) -> torch.Tensor:
        x: torch.Tensor | None = None
        for block, skip in zip(self.up_blocks, reversed(skips), strict=True):
            x = block(skip if x is None else torch.cat([skip, x], dim=1))
        assert x is not None
        return x


class _Hourglass(nn.Module):
    def __init__(self, expansion: int, cin: int, num_blocks: int, max_features: int) -> None:
        super().__init__()
        self.encoder = _HourglassEncoder(expansion, cin, num_blocks, max_features)
        self.decoder = _HourglassDecoder(expansion, num_blocks, max_features)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out: torch.Tensor = self.decoder(self.encoder(x))
        return out


class _OcclusionMatting(nn.Module):
    """Blend the warped feature with a predicted fill where the matting mask says occluded."""

    def __init__(self, channels: int, expansion: int, num_blocks: int, max_features: int) -> None:
        super().__init__()
        self.hourglass = _Hourglass(expansion, 2 * channels + 2, num_blocks, max_features)
        self.matting_mask = nn.Conv2d(expansion, 1, 7, padding=3)
        self.matting = nn.Conv2d(expansion, channels, 7, padding=3)

    def forward(
        self, reference: torch.Tensor, flow: torch.Tensor, warped: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor]:
        h = self.hourglass(torch.cat([reference, flow, warped], dim=1))
        mask = torch.sigmoid(self.matting_mask(h))
        fill = self.matting(h)
        return warped * mask + fill * (1 - mask), mask


@dataclass(frozen=True)
class ControlConditions:
    """Timestep-independent ControlNet inputs for a set of frames (see :meth:`LandmarkControlNet.encode_conditions`).

    Attributes:
        features: 4 tensors (B, F, C_k, H/s_k, W/s_k), s = 8, 16, 32, 64: the first-frame
            features, warped to every frame (frame 0 unwarped), occlusion-refined, zero-conv'd.
        landmarks: 2 tensors (B, F, C_0, H/s, W/s), s = 8, 16: landmark-image embeddings.
        occlusion: 4 tensors (B, F, 1, H/s_k, W/s_k): matting masks (frame 0: ones).
    """

    features: tuple[torch.Tensor, ...]
    landmarks: tuple[torch.Tensor, ...]
    occlusion: tuple[torch.Tensor, ...]

    @property
    def num_frames(self) -> int:
        return int(self.features[0].shape[1])

    def take(self, frames: torch.Tensor) -> ControlConditions:
        """The conditions of the given frames, in that order.

        Args:
            frames: (F',) int64 frame indices into this object's frames.
        """

        def sel(ts: tuple[torch.Tensor, ...]) -> tuple[torch.Tensor, ...]:
            return tuple(t.index_select(1, frames.to(t.device)) for t in ts)

        return ControlConditions(sel(self.features), sel(self.landmarks), sel(self.occlusion))

    def to(self, device: torch.device | str, dtype: torch.dtype | None = None) -> ControlConditions:
        def mv(ts: tuple[torch.Tensor, ...]) -> tuple[torch.Tensor, ...]:
            return tuple(t.to(device=device, dtype=dtype) for t in ts)

        return ControlConditions(mv(self.features), mv(self.landmarks), mv(self.occlusion))


class LandmarkControlNet(ModelMixin, ConfigMixin):  # type: ignore[misc]
    """The landmark ControlNet of MOFA-Video-Hybrid (``ckpts/mofa/ldmk_controlnet``).

    Config arguments are those of upstream's ``config.json`` (SVD-XT widths by default), plus
    ``landmark_embedding_out_channels``, ``occlusion_block_expansion``,
    ``occlusion_num_blocks`` and ``occlusion_max_features``, which upstream hard-codes to the
    defaults used here. ``up_block_types`` is accepted for config compatibility and unused.

    Raises:
        MofaConfigError: fewer or more than 4 down blocks, or ``block_out_channels[2] !=
            block_out_channels[3]`` (the deepest warped feature feeds both last blocks).
    """

    _supports_gradient_checkpointing = False

    @register_to_config  # type: ignore[untyped-decorator]  # diffusers' decorator is unannotated
    def __init__(
        self,
        sample_size: int | None = None,
        in_channels: int = 8,
        out_channels: int = 4,
        down_block_types: tuple[str, ...] = (
            "CrossAttnDownBlockSpatioTemporal",
            "CrossAttnDownBlockSpatioTemporal",
            "CrossAttnDownBlockSpatioTemporal",
            "DownBlockSpatioTemporal",
        ),
        up_block_types: tuple[str, ...] = (
            "UpBlockSpatioTemporal",
            "CrossAttnUpBlockSpatioTemporal",
            "CrossAttnUpBlockSpatioTemporal",
            "CrossAttnUpBlockSpatioTemporal",
        ),
        block_out_channels: tuple[int, ...] = (320, 640, 1280, 1280),
        addition_time_embed_dim: int = 256,
        projection_class_embeddings_input_dim: int = 768,
        layers_per_block: int | tuple[int, ...] = 2,
        cross_attention_dim: int | tuple[int, ...] = 1024,
        transformer_layers_per_block: int | tuple[int, ...] = 1,
        num_attention_heads: int | tuple[int, ...] = (5, 10, 10, 20),
        num_frames: int = 25,
        conditioning_channels: int = 3,
        conditioning_embedding_out_channels: tuple[int, ...] = (16, 32, 96, 256),
        landmark_embedding_out_channels: tuple[int, ...] = (16, 32, 64, 128),
        occlusion_block_expansion: int = 64,
        occlusion_num_blocks: int = 3,
        occlusion_max_features: int = 512,
    ) -> None:
        super().__init__()  # type: ignore[no-untyped-call]  # diffusers ModelMixin
        nb = len(down_block_types)
        boc = tuple(block_out_channels)
        if nb != 4 or len(boc) != 4:
            raise MofaConfigError(
                "`down_block_types` and `block_out_channels` must have 4 entries (strides 8..64); "
                f"got {nb} and {len(boc)}"
            )
        if boc[2] != boc[3]:
            raise MofaConfigError(
                f"`block_out_channels[2]` must equal `block_out_channels[3]`; got {boc}"
            )

        def per_block(v: int | tuple[int, ...]) -> list[int]:
            return [v] * nb if isinstance(v, int) else list(v)

        heads = per_block(num_attention_heads)
        cross = per_block(cross_attention_dim)
        layers = per_block(layers_per_block)
        tlayers = per_block(transformer_layers_per_block)

        self.conv_in = nn.Conv2d(in_channels, boc[0], 3, padding=1)
        time_dim = boc[0] * 4
        self.time_proj = Timesteps(boc[0], True, downscale_freq_shift=0)
        self.time_embedding = TimestepEmbedding(boc[0], time_dim)
        self.add_time_proj = Timesteps(addition_time_embed_dim, True, downscale_freq_shift=0)
        self.add_embedding = TimestepEmbedding(projection_class_embeddings_input_dim, time_dim)

        self.down_blocks = nn.ModuleList()
        self.controlnet_down_blocks = nn.ModuleList([_zero(nn.Conv2d(boc[0], boc[0], 1))])
        cout = boc[0]
        for i, kind in enumerate(down_block_types):
            cin, cout = cout, boc[i]
            last = i == nb - 1
            self.down_blocks.append(
                get_down_block(
                    kind,
                    num_layers=layers[i],
                    transformer_layers_per_block=tlayers[i],
                    in_channels=cin,
                    out_channels=cout,
                    temb_channels=time_dim,
                    add_downsample=not last,
                    resnet_eps=1e-5,
                    cross_attention_dim=cross[i],
                    num_attention_heads=heads[i],
                    resnet_act_fn="silu",
                )
            )
            for _ in range(layers[i] + (0 if last else 1)):
                self.controlnet_down_blocks.append(_zero(nn.Conv2d(cout, cout, 1)))
        self.controlnet_mid_block = _zero(nn.Conv2d(boc[-1], boc[-1], 1))
        self.mid_block = UNetMidBlockSpatioTemporal(
            boc[-1],
            temb_channels=time_dim,
            transformer_layers_per_block=tlayers[-1],
            cross_attention_dim=cross[-1],
            num_attention_heads=heads[-1],
        )

        self.controlnet_cond_embedding = _CondEmbedding(
            boc[0], conditioning_channels, tuple(conditioning_embedding_out_channels)
        )
        self.controlnet_ldmk_embedding = _CondEmbedding(
            boc[0], conditioning_channels, tuple(landmark_embedding_out_channels)
        )
        self.flow_encoder = _FirstFrameEncoder(boc[0], (boc[0], boc[1], boc[2]))
        level_channels = (boc[0], boc[0], boc[1], boc[2])
        self.zero_outs = nn.ModuleDict(
            {
                str(s): _zero(nn.Conv2d(c, c, 1))
                for s, c in zip(STRIDES, level_channels, strict=True)
            }
        )
        self.occlusions = nn.ModuleDict(
            {
                str(s): _OcclusionMatting(
                    c, occlusion_block_expansion, occlusion_num_blocks, occlusion_max_features
                )
                for s, c in zip(STRIDES, level_channels, strict=True)
            }
        )

    # ------------------------------------------------------------------ conditions

    @torch.no_grad()
    def encode_conditions(
        self,
        image: torch.Tensor,
        flows: torch.Tensor,
        landmark_images: torch.Tensor,
        *,
        frame_chunk: int = 8,
    ) -> ControlConditions:
        """Embed the first frame, warp it to every frame, and embed the landmark images.

        Args:
            image: (B, 3, H, W) float RGB in [-1, 1], the first frame; H, W divisible by 64.
            flows: (B, F - 1, 2, H, W) float, dense flow (dx, dy) in pixels from frame 0 to
                frames 1 .. F - 1.
            landmark_images: (B, F, 3, H, W) float in [0, 1], rendered landmarks of frames
                0 .. F - 1 (:func:`~faceshot_animate.mofa.render_landmark_images`).
            frame_chunk: frames processed at once by the warping/occlusion stage (memory).

        Returns:
            Conditions for the F frames, in this model's dtype and device.

        Raises:
            MofaConfigError: inconsistent shapes or a size not divisible by 64.
        """
        b, _, h, w = image.shape
        f = landmark_images.shape[1]
        if h % 64 or w % 64:
            raise MofaConfigError(f"image height and width must be multiples of 64; got {(h, w)}")
        if flows.shape != (b, f - 1, 2, h, w) or landmark_images.shape != (b, f, 3, h, w):
            raise MofaConfigError(
                f"expected flows {(b, f - 1, 2, h, w)} and landmark_images {(b, f, 3, h, w)}; "
                f"got {tuple(flows.shape)} and {tuple(landmark_images.shape)}"
            )
        dev, dt = self.device, self.dtype
        image = image.to(dev, dt)
        first = self.controlnet_cond_embedding(image)
        levels = [first, *self.flow_encoder(first)]

        feats: list[list[torch.Tensor]] = [[lv.unsqueeze(1)] for lv in levels]
        masks: list[list[torch.Tensor]] = [
            [torch.ones((b, 1, 1, *lv.shape[-2:]), device=dev, dtype=dt)] for lv in levels
        ]
        for lo in range(0, f - 1, frame_chunk):
            chunk = flows[:, lo : lo + frame_chunk].to(dev, torch.float32)
            n = chunk.shape[1]
            flat = chunk.reshape(b * n, 2, h, w)
            for k, (stride, lv) in enumerate(zip(STRIDES, levels, strict=True)):
                fl = F.interpolate(flat, scale_factor=1 / stride) / stride
                ref = lv.repeat_interleave(n, dim=0)
                warped = softsplat(ref.float(), fl, None, "avg").to(dt)
                refined, mask = self.occlusions[str(stride)](ref, fl.to(dt), warped)
                out = self.zero_outs[str(stride)](refined)
                feats[k].append(out.reshape(b, n, *out.shape[1:]))
                masks[k].append(mask.reshape(b, n, *mask.shape[1:]))

        flat_marks = landmark_images.flatten(0, 1)
        full, half = [], []
        for lo in range(0, flat_marks.shape[0], frame_chunk):
            emb = self.controlnet_ldmk_embedding(flat_marks[lo : lo + frame_chunk].to(dev, dt))
            full.append(emb)
            half.append(F.interpolate(emb, scale_factor=1 / 2))
        landmarks = tuple(torch.cat(m).reshape(b, f, *m[0].shape[1:]) for m in (full, half))
        return ControlConditions(
            features=tuple(torch.cat(x, dim=1) for x in feats),
            landmarks=landmarks,
            occlusion=tuple(torch.cat(x, dim=1) for x in masks),
        )

    # ------------------------------------------------------------------ forward

    def forward(
        self,
        sample: torch.Tensor,
        timestep: torch.Tensor | float,
        encoder_hidden_states: torch.Tensor,
        added_time_ids: torch.Tensor,
        conditions: ControlConditions,
        conditioning_scale: float = 1.0,
    ) -> tuple[tuple[torch.Tensor, ...], torch.Tensor]:
        """Residuals for the SVD U-Net.

        Args:
            sample: (B, F, in_channels, h, w) noisy latents concatenated with image latents
                (h = H / 8).
            timestep: scalar (tensor or float), the scheduler's model timestep.
            encoder_hidden_states: (B, 1, cross_attention_dim) CLIP image embeddings.
            added_time_ids: (B, 3) float (fps id, motion bucket id, noise augmentation).
            conditions: from :meth:`encode_conditions` for these F frames, batch 1 (broadcast
                to B, as classifier-free guidance duplicates them) or B.
            conditioning_scale: multiplies every residual.

        Returns:
            ``(down_residuals, mid_residual)``: tensors (B*F, C, h', w') in the order of the
            U-Net's skip connections (conv_in first), and (B*F, C_last, h/8, w/8).
        """
        bsz, nf = sample.shape[:2]
        if conditions.num_frames != nf:
            raise MofaConfigError(
                f"`conditions` hold {conditions.num_frames} frames; `sample` has {nf}"
            )
        t = timestep if torch.is_tensor(timestep) else torch.tensor([timestep], dtype=torch.float64)
        t = t.reshape(-1).to(sample.device).expand(bsz)
        emb = self.time_embedding(self.time_proj(t).to(sample.dtype))
        extra = self.add_time_proj(added_time_ids.flatten()).reshape(bsz, -1).to(emb.dtype)
        emb = emb + self.add_embedding(extra)
        emb = emb.repeat_interleave(nf, dim=0)
        ehs = encoder_hidden_states.repeat_interleave(nf, dim=0)

        def flat(x: torch.Tensor) -> torch.Tensor:
            x = x.to(sample.dtype)
            if x.shape[0] != bsz:
                x = x.expand(bsz, *x.shape[1:])
            return x.reshape(bsz * nf, *x.shape[2:])

        feats = [flat(x) for x in conditions.features]
        marks = [flat(x) for x in conditions.landmarks]
        indicator = torch.zeros(bsz, nf, dtype=sample.dtype, device=sample.device)

        x = self.conv_in(sample.flatten(0, 1)) + feats[0] + marks[0]
        skips: list[torch.Tensor] = [x]
        for i, block in enumerate(self.down_blocks):
            if getattr(block, "has_cross_attention", False):
                x, res = block(
                    hidden_states=x,
                    temb=emb,
                    encoder_hidden_states=ehs,
                    image_only_indicator=indicator,
                )
            else:
                x, res = block(hidden_states=x, temb=emb, image_only_indicator=indicator)
            skips.extend(res)
            # Upstream adds the landmark embedding where the width is block_out_channels[0],
            # i.e. after the first block only (for SVD-XT widths).
            x = x + feats[min(i + 1, len(feats) - 1)] + (marks[1] if i == 0 else 0)
        x = x + feats[-1]
        x = self.mid_block(
            hidden_states=x, temb=emb, encoder_hidden_states=ehs, image_only_indicator=indicator
        )
        down = tuple(
            zc(s) * conditioning_scale
            for s, zc in zip(skips, self.controlnet_down_blocks, strict=True)
        )
        return down, self.controlnet_mid_block(x) * conditioning_scale
