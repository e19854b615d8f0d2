"""The optimiser and the learning-rate schedule of a training run (``train.optimizer``, ``train.lr_schedule``)."""
from __future__ import annotations

from typing import Callable

import numpy as np
import torch
from torch import nn

from fdan.config import TrainConfig
from fdan.training.schedule import paper_lr_factor

__all__ = ["build_optimizer", "build_scheduler"]


def _unwrap(model: nn.Module) -> nn.Module:
    return getattr(model, "module", model)  # DDP / DataParallel


def build_optimizer(model: nn.Module, cfg: TrainConfig) -> torch.optim.Optimizer:
    """SGD or AdamW over the model's groups. The trunks' ``backbone_lr_mult`` applies only to pretrained
    trunks (``model.weights`` not ``none``): randomly initialised trunks train at the full ``lr``."""
    net = _unwrap(model)
    pretrained = getattr(getattr(net, "cfg", None), "weights", "none") != "none"
    groups = net.param_groups(cfg.lr, cfg.backbone_lr_mult if pretrained else 1.0)
    if cfg.optimizer == "sgd":
        return torch.optim.SGD(groups, lr=cfg.lr, momentum=cfg.momentum, weight_decay=cfg.weight_decay)
    return torch.optim.AdamW(groups, lr=cfg.lr, weight_decay=cfg.weight_decay)


def build_scheduler(optimizer: torch.optim.Optimizer, cfg: TrainConfig, total_steps: int) -> torch.optim.lr_scheduler.LambdaLR:
    """paper: lr * (1 + lr_gamma * i)^-0.75 per step; cosine: to 0 over total_steps; constant."""
    if cfg.lr_schedule == "paper":
        fn: Callable[[int], float] = lambda i: paper_lr_factor(i, cfg.lr_gamma)  # noqa: E731
    elif cfg.lr_schedule == "cosine":
        fn = lambda i: float(0.5 * (1 + np.cos(np.pi * min(i, total_steps) / max(total_steps, 1))))  # noqa: E731
    else:
        fn = lambda i: 1.0  # noqa: E731
    return torch.optim.lr_scheduler.LambdaLR(optimizer, fn)
