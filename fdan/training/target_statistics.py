"""AdaBN's one step (fdan.alignment.methods.adabn): a copy of a trained model whose BatchNorm statistics are
those of the target rows.

Every ``_BatchNorm`` module's running mean and variance are reset and re-estimated over the target loader's
batches as an equal-weight average of the batch moments (batch ``k`` enters with momentum ``1/(k+1)``, as
PyTorch's cumulative ``momentum=None``; the token standardisation of ``fdan.model.tokenizers`` follows the
same momentum), in a forward pass without gradients, BatchNorm in training mode and everything else (dropout)
in eval mode. The labels of the target rows are never read; the weights are not touched; the original model
is left as it was.
"""
from __future__ import annotations

import copy
from typing import Iterable

import torch
from torch import nn

from fdan.evaluation.evaluate import model_inputs, to_device

__all__ = ["with_target_statistics"]


@torch.no_grad()
def with_target_statistics(model: nn.Module, target: Iterable[dict], device: torch.device | str = "cpu") -> nn.Module:
    """A copy of ``model`` (eval mode) with every BatchNorm statistic re-estimated on ``target``'s rows
    (module docstring). A model without BatchNorm comes back as an unchanged copy; an empty loader raises."""
    adapted = copy.deepcopy(model).eval()
    norms = [m for m in adapted.modules() if isinstance(m, nn.modules.batchnorm._BatchNorm) and m.track_running_stats]
    momenta = [m.momentum for m in norms]
    for bn in norms:
        bn.reset_running_stats()
        bn.train()
    batches = 0
    for batches, batch in enumerate(target, 1):
        for bn in norms:
            bn.momentum = 1.0 / batches
        adapted(**model_inputs(to_device(batch, device)))
    if not batches:
        raise ValueError("no target rows to estimate BatchNorm statistics on")
    for bn, momentum in zip(norms, momenta):
        bn.momentum = momentum
    return adapted.eval()
