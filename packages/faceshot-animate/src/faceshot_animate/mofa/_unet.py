"""ControlNet residuals for diffusers' ``UNetSpatioTemporalConditionModel``, via hooks.

diffusers has no SVD ControlNet, and its SVD U-Net forward takes no
``down_block_additional_residuals`` / ``mid_block_additional_residual``. Instead of copying
that forward, :func:`unet_residuals` installs, for the duration of a ``with`` block:

- a forward pre-hook on every up block that adds the residuals to the skip features it
  receives (``res_hidden_states_tuple``), and
- a forward hook on the mid block that adds the mid residual to its output,

then the model's own ``forward`` runs unchanged (SDPA attention, any dtype).

MOFA-Video's U-Net (``models/unet_spatio_temporal_condition_controlnet.py``) adds the
residuals inside its down-block loop, to every skip collected so far, so a skip produced by
down block ``i`` (or by ``conv_in``, counted with block 0) receives its residual
``n_blocks - i`` times (4, 4, 4, 4, 3, 3, 3, 2, 2, 2, 1, 1 for SVD-XT). The released
ControlNet was trained against that U-Net, so ``mofa_accumulation=True`` (the default)
reproduces it by scaling each residual; ``False`` gives the usual ControlNet sum.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import torch
from torch import nn

from faceshot_animate.mofa.errors import MofaConfigError

__all__ = ["residual_multipliers", "skip_count", "unet_residuals"]


def _skips_per_down_block(unet: nn.Module) -> list[int]:
    counts = []
    for block in unet.down_blocks:  # type: ignore[union-attr]
        n = len(block.resnets)
        if getattr(block, "downsamplers", None) is not None:
            n += len(block.downsamplers)
        counts.append(n)
    return counts


def skip_count(unet: nn.Module) -> int:
    """Number of skip features (= down residuals) of an SVD U-Net, ``conv_in`` included."""
    return 1 + sum(_skips_per_down_block(unet))


def residual_multipliers(unet: nn.Module, mofa_accumulation: bool = True) -> list[int]:
    """How many times each down residual is added (see the module docstring).

    Returns:
        One int per skip feature, in skip order (``conv_in`` first).
    """
    per = _skips_per_down_block(unet)
    if not mofa_accumulation:
        return [1] * (1 + sum(per))
    nb = len(per)
    mult = [nb]
    for i, n in enumerate(per):
        mult += [nb - i] * n
    return mult


@contextmanager
def unet_residuals(
    unet: nn.Module,
    down_residuals: Sequence[torch.Tensor],
    mid_residual: torch.Tensor,
    *,
    mofa_accumulation: bool = True,
) -> Iterator[None]:
    """Within the block, ``unet(...)`` adds ControlNet residuals to its skips and mid block.

    Args:
        unet: a diffusers ``UNetSpatioTemporalConditionModel``.
        down_residuals: one tensor per skip feature, (B*F, C_j, h_j, w_j), conv_in first
            (what :class:`~faceshot_animate.mofa.LandmarkControlNet` returns).
        mid_residual: (B*F, C_mid, h_mid, w_mid).
        mofa_accumulation: reproduce MOFA-Video's repeated addition (see module docstring).

    Raises:
        MofaConfigError: the number of residuals does not match the U-Net's skips.
    """
    mult = residual_multipliers(unet, mofa_accumulation)
    if len(down_residuals) != len(mult):
        raise MofaConfigError(
            f"`down_residuals` must hold {len(mult)} tensors for this U-Net; got {len(down_residuals)}"
        )
    scaled = [r if m == 1 else r * m for r, m in zip(down_residuals, mult, strict=True)]
    handles = []
    end = len(scaled)
    for up in unet.up_blocks:  # type: ignore[union-attr]
        n = len(up.resnets)
        mine = scaled[end - n : end]
        end -= n

        def pre_hook(
            module: nn.Module,
            args: tuple[Any, ...],
            kwargs: dict[str, Any],
            mine: list[torch.Tensor] = mine,
        ) -> tuple[tuple[Any, ...], dict[str, Any]]:
            skips = kwargs["res_hidden_states_tuple"]
            kwargs["res_hidden_states_tuple"] = tuple(
                s + r.to(s.dtype) for s, r in zip(skips, mine, strict=True)
            )
            return args, kwargs

        handles.append(up.register_forward_pre_hook(pre_hook, with_kwargs=True))

    def mid_hook(module: nn.Module, args: tuple[Any, ...], output: torch.Tensor) -> torch.Tensor:
        return output + mid_residual.to(output.dtype)

    handles.append(unet.mid_block.register_forward_hook(mid_hook))  # type: ignore[union-attr]
    try:
        yield
    finally:
        for h in handles:
            h.remove()
