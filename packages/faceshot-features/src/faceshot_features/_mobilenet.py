"""MobileNetV2 (Sandler et al., 2018) written to match torchvision's state-dict layout.

Only the architecture is defined here (our code); the ImageNet weights are torchvision's
``mobilenet_v2-b0353104.pth`` (BSD-3-Clause; trained on ImageNet, whose terms allow
non-commercial research use), shipped byte for byte as package data in
``faceshot_features/weights/`` (see the README there) and checked against its SHA-256. Keys
match torchvision exactly (``features.0.0.weight``, ``features.1.conv.0.0.weight``, ...,
``classifier.1.weight``) so the checkpoint loads with ``strict=True``.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import torch
from torch import nn

from faceshot_features.errors import WeightsNotFoundError

__all__ = [
    "MOBILENET_V2_FILENAME",
    "MOBILENET_V2_SHA256",
    "MOBILENET_V2_SHA256_PREFIX",
    "MobileNetV2",
    "load_mobilenet_v2",
    "mobilenet_v2_weights_path",
]

#: File name of torchvision's ImageNet MobileNetV2 checkpoint (``IMAGENET1K_V1``).
MOBILENET_V2_FILENAME = "mobilenet_v2-b0353104.pth"
#: torchvision names checkpoints by the first 8 hex digits of their SHA-256.
MOBILENET_V2_SHA256_PREFIX = "b0353104"
#: SHA-256 of the file (the bundled copy is checked against all of it).
MOBILENET_V2_SHA256 = "b03531047ffacf1e2488318dcd2aba1126cde36e3bfe1aa5cb07700aeeee9889"

# (expansion t, output channels c, repeats n, first stride s), as in the paper's Table 2.
_SETTINGS = (
    (1, 16, 1, 1),
    (6, 24, 2, 2),
    (6, 32, 3, 2),
    (6, 64, 4, 2),
    (6, 96, 3, 1),
    (6, 160, 3, 2),
    (6, 320, 1, 1),
)


class _ConvBNReLU6(nn.Sequential):
    """Conv (no bias) -> BatchNorm -> ReLU6; children ``0``, ``1``, ``2`` as in torchvision."""

    def __init__(
        self, cin: int, cout: int, kernel: int = 3, stride: int = 1, groups: int = 1
    ) -> None:
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
        y: torch.Tensor = self.conv(x)
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
        out: torch.Tensor = self.classifier(x)
        return out


def mobilenet_v2_weights_path() -> Path:
    """The ImageNet MobileNetV2 checkpoint shipped inside this package (package data).

    Raises:
        WeightsNotFoundError: the file is missing from the installation (a damaged install).
    """
    candidate = Path(__file__).resolve().parent / "weights" / MOBILENET_V2_FILENAME
    if not candidate.is_file():
        raise WeightsNotFoundError(
            f"MobileNetV2 ImageNet weights {str(candidate)!r} are missing from this installation "
            "of faceshot-features: reinstall it (pip install --force-reinstall faceshot-features)"
        )
    return candidate


def load_mobilenet_v2(path: str | Path | None = None, *, check_hash: bool = True) -> MobileNetV2:
    """Build :class:`MobileNetV2` and load the ImageNet checkpoint with a strict key check.

    Args:
        path: checkpoint file; default :func:`mobilenet_v2_weights_path`.
        check_hash: verify the file's SHA-256 when it has the torchvision name: all of it
            (:data:`MOBILENET_V2_SHA256`) for the bundled file, the 8-digit prefix that
            torchvision's name carries (:data:`MOBILENET_V2_SHA256_PREFIX`) for another copy.

    Returns:
        The model in eval mode, float32, on the CPU.

    Raises:
        WeightsNotFoundError: the file does not exist.
        RuntimeError: the checkpoint's keys or shapes do not match (strict load), or its
            hash does not match.
    """
    bundled = path is None
    p = Path(path) if path is not None else mobilenet_v2_weights_path()
    if not p.is_file():
        raise WeightsNotFoundError(f"MobileNetV2 checkpoint {str(p)!r} does not exist")
    data = p.read_bytes()
    if check_hash and p.name == MOBILENET_V2_FILENAME:
        digest = hashlib.sha256(data).hexdigest()
        expected = MOBILENET_V2_SHA256 if bundled else MOBILENET_V2_SHA256_PREFIX
        if not digest.startswith(expected):
            shown = digest if bundled else digest[:8] + "..."
            raise RuntimeError(
                f"checkpoint {str(p)!r} has SHA-256 {shown}; expected {expected}{'' if bundled else '...'}"
                + (" (a damaged install: reinstall faceshot-features)" if bundled else "")
            )
    import io

    state = torch.load(io.BytesIO(data), map_location="cpu", weights_only=True)
    model = MobileNetV2()
    model.load_state_dict(state, strict=True)
    return model.eval()
