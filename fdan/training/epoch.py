"""One training epoch: every source batch one optimisation step, paired with a target batch across corpora."""
from __future__ import annotations

from typing import Iterable

import torch
from torch import nn

from fdan.config import TrainConfig
from fdan.evaluation.evaluate import to_device
from fdan.training.loss import train_step
from fdan.training.target_stream import TargetStream
from fdan.training.target_use import reads_target

__all__ = ["train_epoch"]


def train_epoch(
    model: nn.Module,
    loader: Iterable[dict],
    optimizer: torch.optim.Optimizer,
    scheduler: torch.optim.lr_scheduler.LRScheduler | None,
    cfg: TrainConfig,
    *,
    step: int,
    total_steps: int,
    device: torch.device | str = "cpu",
    target_loader: Iterable[dict] | TargetStream | None = None,
    scaler: torch.amp.GradScaler | None = None,
) -> tuple[dict[str, float], int]:
    """One pass over ``loader``; returns the mean of each loss part and the new global step.

    ``target_loader`` (cross-corpus): a loader or a :class:`TargetStream`; one target batch is drawn per
    source batch from a stream that persists across epochs (see fdan.training.target_stream). A target loader
    that yields nothing raises :class:`EmptyTargetLoaderError`.
    """
    # a run without a corpus term never touches the target loader (fdan.training.target_use: no hidden AdaBN)
    targets = None if target_loader is None or not reads_target(cfg) else (
        target_loader if isinstance(target_loader, TargetStream) else TargetStream(target_loader))
    sums: dict[str, torch.Tensor] = {}
    n = 0
    for batch in loader:
        tgt = to_device(next(targets), device) if targets is not None else None
        parts = train_step(
            model, to_device(batch, device), optimizer, scheduler, cfg,
            progress=min(step / max(total_steps, 1), 1.0), target_batch=tgt, scaler=scaler,
        )
        for k, v in parts.items():
            sums[k] = sums.get(k, 0) + v
        step += 1
        n += 1
    return {k: float(v) / max(n, 1) for k, v in sums.items()}, step
