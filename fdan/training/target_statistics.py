"""AdaBN's one step (fdan.alignment.methods.adabn): a copy of a trained model whose BatchNorm statistics are
those of the target rows.

Each BatchNorm layer ``ℓ`` outside a frozen trunk (frozen trunks keep their statistics, as their cached outputs
do) gets the pooled moments of every input it saw over all target rows — every call, every batch:

    μ_T^ℓ = Σ w·x / Σ w,    σ²_T^ℓ = (Σ w·x² / Σ w − μ²) · n / (n − 1)   (unbiased, as BatchNorm keeps it)

per channel, with ``w`` the valid-token mask for the token standardisation of ``fdan.model.tokenizers`` (1
elsewhere) and ``n = Σ w``. The moments are exact for any batch order and size and for a layer called several
times per forward (a trunk per length bucket, a trunk shared by both modalities). The forward pass runs without
gradients, with BatchNorm in training mode (a later BatchNorm layer sees inputs normalised by target batch
statistics; its running statistics are not moved during the pass) and everything else, dropout included, in eval
mode. The labels of the target rows are never read; the original model is left as it was.
"""
from __future__ import annotations

import copy
from typing import Iterable

import torch
from torch import Tensor, nn

from fdan.evaluation.evaluate import model_inputs, to_device
from fdan.model.frozen import FrozenTrunk
from fdan.model.tokenizers import TokenEmbedding

__all__ = ["with_target_statistics"]


class _Moments:
    """Running per-channel sums ``Σw, Σw·x, Σw·x²`` (float64) of one layer's inputs."""

    def __init__(self) -> None:
        self.n: Tensor | float = 0.0
        self.sum: Tensor | float = 0.0
        self.sq: Tensor | float = 0.0

    def add(self, x: Tensor, w: Tensor) -> None:
        """``x`` (rows, C) channels last, ``w`` (rows, 1) weights."""
        x, w = x.detach().double(), w.detach().double()
        self.n = self.n + w.sum()
        self.sum = self.sum + (x * w).sum(0)
        self.sq = self.sq + (x * x * w).sum(0)

    def write(self, bn: nn.modules.batchnorm._BatchNorm) -> None:
        n = float(self.n)
        if n < 2:
            raise ValueError("fewer than 2 target values reached a BatchNorm layer: no statistics to estimate")
        mean = self.sum / n
        var = (self.sq / n - mean * mean).clamp_min(0) * n / (n - 1)
        bn.running_mean.copy_(mean.to(bn.running_mean.dtype))
        bn.running_var.copy_(var.to(bn.running_var.dtype))


def _embed_hook(moments: _Moments):
    def hook(_module: nn.Module, args: tuple) -> None:  # TokenEmbedding.forward(feat (B, N, W), mask (B, N) | None)
        feat = args[0]
        mask = args[1] if len(args) > 1 and args[1] is not None else torch.ones(feat.shape[:2], device=feat.device)
        moments.add(feat.reshape(-1, feat.shape[-1]), mask.reshape(-1, 1).to(feat.dtype))
    return hook


def _batchnorm_hook(moments: _Moments):
    def hook(_module: nn.Module, args: tuple) -> None:  # (B, C, ...) -> rows of C channels
        x = args[0].transpose(0, 1).reshape(args[0].shape[1], -1).t()
        moments.add(x, torch.ones(x.shape[0], 1, device=x.device))
    return hook


@torch.no_grad()
def with_target_statistics(model: nn.Module, target: Iterable[dict], device: torch.device | str = "cpu") -> nn.Module:
    """A copy of ``model`` (eval mode) with the BatchNorm statistics of ``target``'s rows (module docstring).
    A model without such a layer comes back as an unchanged copy; an empty loader raises ValueError."""
    adapted = copy.deepcopy(model).eval()
    frozen = {id(m) for t in adapted.modules() if isinstance(t, FrozenTrunk) for m in t.modules()}
    layers: list[tuple[nn.modules.batchnorm._BatchNorm, _Moments]] = []
    handles = []
    for module in adapted.modules():
        if isinstance(module, TokenEmbedding) and module.standardise is not None:  # its BatchNorm is applied by hand
            layers.append((module.standardise, _Moments()))
            handles.append(module.register_forward_pre_hook(_embed_hook(layers[-1][1])))
    custom = {id(bn) for bn, _ in layers}
    for module in adapted.modules():
        if (isinstance(module, nn.modules.batchnorm._BatchNorm) and module.track_running_stats
                and id(module) not in frozen and id(module) not in custom):
            layers.append((module, _Moments()))
            handles.append(module.register_forward_pre_hook(_batchnorm_hook(layers[-1][1])))
    momenta = [bn.momentum for bn, _ in layers]
    for bn, _ in layers:
        bn.momentum = 0.0  # batch statistics in the forward pass, running ones untouched until written
        bn.train()
    batches = 0
    try:
        for batches, batch in enumerate(target, 1):
            adapted(**model_inputs(to_device(batch, device)))
    finally:
        for handle in handles:
            handle.remove()
    if not batches:
        raise ValueError("no target rows to estimate BatchNorm statistics on")
    for (bn, moments), momentum in zip(layers, momenta):
        moments.write(bn)
        bn.momentum = momentum
    return adapted.eval()
