"""CMP (Conditional Motion Propagation, Zhan et al., CVPR 2019): sparse flow -> dense flow.

MOFA-Video densifies the sparse landmark flow with the CMP model released as
``ckpt_iter_42000.pth.tar`` (experiment ``semiauto_annot/resnet50_vip+mpii_liteflow``):

- image encoder: ResNet-50 with dilated ``layer3`` (dilation 2) and ``layer4`` (dilation 4),
  output stride 8, then a 1x1 ``conv5`` to ``img_enc_dim`` = 256 channels;
- sparse encoder ("shallownet8x"): conv5x5/2 + BN + ReLU + maxpool/2 + conv3x3 + BN + ReLU +
  avgpool/2 on the 4-channel (dx, dy, mask, mask) input, ``sparse_enc_dim`` = 16 channels;
- decoder ("MotionDecoderSkipLayer"): four pyramid branches (pool 1/2/4/8, three conv-BN-ReLU
  each), fusion, and two skip fusions with ``conv1`` (stride 2) and ``layer1`` (stride 4);
  the head predicts 2 x 99 logits per pixel: a discretised flow distribution per axis over
  [-50, 50] px whose expectation is the flow (the "Fuser").

The input image is in [0, 1] and mapped to [-1, 1] (as MOFA-Video's ``CMP_demo.run``); the
output is upsampled bilinearly (``align_corners=True``) to the input size.

State-dict keys are those of the upstream modules (``image_encoder.layer1.0.conv1.weight``,
``flow_encoder.features.0.weight``, ``flow_decoder.decoder2.1.weight``, ...); the released
checkpoint stores them under ``checkpoint["state_dict"]`` with a ``module.`` prefix, which
:func:`load_cmp` removes before a strict load.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import torch
from torch import nn
from torch.nn import functional as F

from faceshot_animate.mofa.errors import MofaWeightsError

__all__ = ["CmpConfig", "CmpFlowNet", "load_cmp", "strict_load"]


@dataclass(frozen=True)
class CmpConfig:
    """Architecture of :class:`CmpFlowNet`; defaults are the released checkpoint's.

    Attributes:
        width: ResNet stem width (64 for ResNet-50); layer k has ``width * 2**k`` planes.
        layers: bottleneck blocks per ResNet stage ((3, 4, 6, 3) for ResNet-50).
        img_enc_dim: channels of the image encoding (``conv5``).
        sparse_enc_dim: channels of the sparse-flow encoding.
        dec_width: channels of each decoder branch (128 upstream).
        nbins: flow bins per axis (99); the head predicts ``2 * nbins`` logits.
        fmax: flow range (pixels) covered by the bins, [-fmax, fmax].
        size: side of the square input CMP runs at (384 upstream).
    """

    width: int = 64
    layers: tuple[int, int, int, int] = (3, 4, 6, 3)
    img_enc_dim: int = 256
    sparse_enc_dim: int = 16
    dec_width: int = 128
    nbins: int = 99
    fmax: float = 50.0
    size: int = 384


def _conv_bn_relu(cin: int, cout: int) -> list[nn.Module]:
    return [nn.Conv2d(cin, cout, 3, padding=1), nn.BatchNorm2d(cout), nn.ReLU(inplace=True)]


class _Bottleneck(nn.Module):
    def __init__(self, cin: int, planes: int, stride: int, dilation: int, project: bool) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(cin, planes, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(planes)
        self.conv2 = nn.Conv2d(
            planes, planes, 3, stride=stride, padding=dilation, dilation=dilation, bias=False
        )
        self.bn2 = nn.BatchNorm2d(planes)
        self.conv3 = nn.Conv2d(planes, planes * 4, 1, bias=False)
        self.bn3 = nn.BatchNorm2d(planes * 4)
        self.downsample: nn.Module | None = None
        if project:
            self.downsample = nn.Sequential(
                nn.Conv2d(cin, planes * 4, 1, stride=stride, bias=False),
                nn.BatchNorm2d(planes * 4),
            )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = F.relu(self.bn1(self.conv1(x)))
        y = F.relu(self.bn2(self.conv2(y)))
        y = self.bn3(self.conv3(y))
        skip = x if self.downsample is None else self.downsample(x)
        return F.relu(y + skip)


class _DilatedResNet(nn.Module):
    """ResNet with output stride 8 (layer3/layer4 dilated, not strided)."""

    def __init__(self, cfg: CmpConfig) -> None:
        super().__init__()
        w = cfg.width
        self.conv1 = nn.Conv2d(3, w, 7, stride=2, padding=3, bias=False)
        self.bn1 = nn.BatchNorm2d(w)
        self.maxpool = nn.MaxPool2d(3, stride=2, padding=1)
        cin = w
        stages = []
        # (planes, stride of the first block, dilation of the 3x3 convs)
        specs = ((w, 1, 1), (w * 2, 2, 1), (w * 4, 1, 2), (w * 8, 1, 4))
        for (planes, stride, dilation), n in zip(specs, cfg.layers, strict=True):
            blocks = []
            for i in range(n):
                first = i == 0
                project = first and (stride != 1 or cin != planes * 4)
                blocks.append(_Bottleneck(cin, planes, stride if first else 1, dilation, project))
                cin = planes * 4
            stages.append(nn.Sequential(*blocks))
        self.layer1, self.layer2, self.layer3, self.layer4 = stages
        self.conv5 = nn.Conv2d(cin, cfg.img_enc_dim, 1)

    def forward(self, img: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        conv1 = F.relu(self.bn1(self.conv1(img)))  # stride 2
        layer1 = self.layer1(self.maxpool(conv1))  # stride 4
        x = self.layer4(self.layer3(self.layer2(layer1)))  # stride 8
        return self.conv5(x), conv1, layer1


class _ShallowNet(nn.Module):
    def __init__(self, cfg: CmpConfig) -> None:
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(4, 16, 5, stride=2, padding=2),
            nn.BatchNorm2d(16),
            nn.ReLU(inplace=True),
            nn.MaxPool2d(2, stride=2),
            nn.Conv2d(16, cfg.sparse_enc_dim, 3, padding=1),
            nn.BatchNorm2d(cfg.sparse_enc_dim),
            nn.ReLU(inplace=True),
            nn.AvgPool2d(2, stride=2),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out: torch.Tensor = self.features(x)
        return out


class _SkipDecoder(nn.Module):
    def __init__(self, cfg: CmpConfig) -> None:
        super().__init__()
        cin = cfg.img_enc_dim + cfg.sparse_enc_dim
        d = cfg.dec_width

        def branch(pool: int) -> nn.Sequential:
            head: list[nn.Module] = [] if pool == 1 else [nn.MaxPool2d(pool, stride=pool)]
            return nn.Sequential(
                *head, *_conv_bn_relu(cin, d), *_conv_bn_relu(d, d), *_conv_bn_relu(d, d)
            )

        self.decoder1 = branch(1)
        self.decoder2 = branch(2)
        self.decoder4 = branch(4)
        self.decoder8 = branch(8)
        self.fusion8 = nn.Sequential(*_conv_bn_relu(4 * d, 2 * d))
        self.skipconv4 = nn.Sequential(*_conv_bn_relu(cfg.width * 4, d))
        self.fusion4 = nn.Sequential(*_conv_bn_relu(2 * d + d, d))
        self.skipconv2 = nn.Sequential(*_conv_bn_relu(cfg.width, d // 4))
        self.fusion2 = nn.Sequential(*_conv_bn_relu(d + d // 4, d // 2))
        self.head = nn.Conv2d(d // 2, 2 * cfg.nbins, 1)

    def forward(self, x: torch.Tensor, conv1: torch.Tensor, layer1: torch.Tensor) -> torch.Tensor:
        x1 = self.decoder1(x)
        size = x1.shape[-2:]
        pyramid = [x1] + [
            F.interpolate(dec(x), size=size, mode="bilinear", align_corners=True)
            for dec in (self.decoder2, self.decoder4, self.decoder8)
        ]
        f8 = self.fusion8(torch.cat(pyramid, dim=1))
        f8 = F.interpolate(f8, size=layer1.shape[-2:], mode="bilinear", align_corners=True)
        f4 = self.fusion4(torch.cat([f8, self.skipconv4(layer1)], dim=1))
        f4 = F.interpolate(f4, size=conv1.shape[-2:], mode="bilinear", align_corners=True)
        f2 = self.fusion2(torch.cat([f4, self.skipconv2(conv1)], dim=1))
        out: torch.Tensor = self.head(f2)
        return out


class CmpFlowNet(nn.Module):
    """CMP: dense optical flow from an image and a sparse flow with its mask.

    Args:
        config: architecture; the default is the released ResNet-50 model.
    """

    def __init__(self, config: CmpConfig | None = None) -> None:
        super().__init__()
        self.config = config or CmpConfig()
        self.image_encoder = _DilatedResNet(self.config)
        self.flow_encoder = _ShallowNet(self.config)
        self.flow_decoder = _SkipDecoder(self.config)
        c = self.config
        step = 2.0 * c.fmax / c.nbins
        centres = torch.arange(c.nbins, dtype=torch.float32) * step - c.fmax + step / 2
        self.register_buffer("bin_centres", centres.view(1, -1, 1, 1), persistent=False)

    def forward(
        self, image: torch.Tensor, sparse: torch.Tensor, mask: torch.Tensor
    ) -> torch.Tensor:
        """Densify a sparse flow.

        Args:
            image: (N, 3, S, S) float in [0, 1], RGB; S divisible by 8.
            sparse: (N, 2, S, S) float, displacement (dx, dy) in pixels at the masked pixels.
            mask: (N, 2, S, S) float {0, 1}, where ``sparse`` is defined (both channels).

        Returns:
            (N, 2, S, S) float32 dense flow (dx, dy) in pixels.
        """
        img_enc, conv1, layer1 = self.image_encoder(image * 2 - 1)
        sparse_enc = self.flow_encoder(torch.cat([sparse, mask], dim=1))
        logits = self.flow_decoder(torch.cat([img_enc, sparse_enc], dim=1), conv1, layer1)
        n = self.config.nbins
        centres = self.bin_centres.to(logits.dtype)
        fx = (logits[:, :n].softmax(dim=1) * centres).sum(dim=1, keepdim=True)
        fy = (logits[:, n:].softmax(dim=1) * centres).sum(dim=1, keepdim=True)
        flow = torch.cat([fx, fy], dim=1).float()
        if flow.shape[-2:] != image.shape[-2:]:
            flow = F.interpolate(flow, size=image.shape[-2:], mode="bilinear", align_corners=True)
        return flow


def load_cmp(
    checkpoint: str | os.PathLike[str],
    config: CmpConfig | None = None,
    *,
    map_location: str | torch.device = "cpu",
) -> CmpFlowNet:
    """Build :class:`CmpFlowNet` and load a ``ckpt_iter_*.pth.tar`` checkpoint strictly.

    Args:
        checkpoint: the ``.pth.tar`` file: a dict with ``"state_dict"`` (keys optionally
            prefixed ``module.``), as saved by CMP's trainer; a bare state dict also works.
        config: architecture (default: the released model).
        map_location: where tensors are loaded.

    Returns:
        The model in eval mode, float32, on ``map_location``.

    Raises:
        MofaWeightsError: missing file, or keys/shapes that do not match the architecture
            (the message lists the first offending keys).
    """
    path = Path(checkpoint)
    if not path.is_file():
        raise MofaWeightsError(f"CMP checkpoint {str(path)!r} does not exist", (str(path),))
    raw = torch.load(path, map_location=map_location, weights_only=True)
    state = raw.get("state_dict", raw) if isinstance(raw, dict) else raw
    state = {k.removeprefix("module."): v for k, v in state.items()}
    model = CmpFlowNet(config)
    strict_load(model, state, f"CMP checkpoint {str(path)!r}")
    return model.eval().to(map_location)


def strict_load(model: nn.Module, state: dict[str, torch.Tensor], what: str) -> None:
    """``model.load_state_dict(state, strict=True)`` with a one-line, readable error.

    Raises:
        MofaWeightsError: naming ``what``, the first missing/unexpected keys and the first
            shape mismatches.
    """
    own = model.state_dict()
    missing = sorted(set(own) - set(state))
    unexpected = sorted(set(state) - set(own))
    shapes = [
        f"{k}: ours {tuple(own[k].shape)} vs file {tuple(state[k].shape)}"
        for k in sorted(set(own) & set(state))
        if tuple(own[k].shape) != tuple(state[k].shape)
    ]
    if missing or unexpected or shapes:
        parts = []
        if missing:
            parts.append(f"{len(missing)} missing keys (e.g. {missing[:3]})")
        if unexpected:
            parts.append(f"{len(unexpected)} unexpected keys (e.g. {unexpected[:3]})")
        if shapes:
            parts.append(f"{len(shapes)} shape mismatches (e.g. {shapes[:2]})")
        raise MofaWeightsError(f"{what} does not match the architecture: " + "; ".join(parts))
    model.load_state_dict(state, strict=True)
