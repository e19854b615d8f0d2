"""``fit()``: whole training runs with model selection on a validation loader and early stopping.

After each epoch the validation score ``train.selection_metric`` is computed (``<head>_<metric>``,
e.g. ``fused_uar``; a bare ``<metric>`` = the first head present among fused, audio, face; ``loss`` is
minimised, every other metric maximised). The best epoch's state (a CPU copy) is restored at the end;
with ``train.early_stopping_patience = n`` training stops after n epochs without improvement.
Without a validation loader the last epoch's state is kept.
"""
from __future__ import annotations

import random
from typing import Callable, Iterable

import numpy as np
import torch
from torch import nn

from fdan.alignment.scopes import attach_alignment
from fdan.config import TrainConfig
from fdan.evaluation.evaluate import HEADS, EvalResult, evaluate
from fdan.evaluation.metrics import parse_selection_metric
from fdan.training.epoch import train_epoch
from fdan.training.optim import build_optimizer, build_scheduler
from fdan.training.target_stream import TargetStream


def seed_everything(seed: int) -> None:
    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)


def prepare_model(model: nn.Module, device: torch.device | str) -> nn.Module:
    """Move to ``device``; on CUDA also store the conv weights ``channels_last`` (the inputs are made so too)."""
    model = model.to(device)
    if torch.device(device).type == "cuda":
        model = model.to(memory_format=torch.channels_last)
    return model


class FitHistory(list):
    """One dict per epoch (``epoch``, ``train_<part>``, ``val_loss``, ``val_<head>_<metric>``, ``val_score``),
    plus ``best_epoch`` and ``best_score`` (None without validation)."""

    best_epoch: int | None = None
    best_score: float | None = None


def selection_score(result: EvalResult, metric: str) -> float:
    """The validation score named ``metric``, signed so that larger is better (``loss`` is negated)."""
    head, name = parse_selection_metric(metric, HEADS)
    if name == "loss":
        return -float(result.loss)
    if head is None:
        head = next(h for h in HEADS if h in result.metrics)
    if head not in result.metrics:
        raise ValueError(f"selection_metric {metric!r}: the model produced no {head!r} head (heads: {sorted(result.metrics)})")
    return float(result.metrics[head][name])


def fit(
    model: nn.Module,
    train_loader: Iterable[dict],
    val_loader: Iterable[dict] | None,
    cfg: TrainConfig,
    *,
    num_classes: int,
    device: torch.device | str = "cpu",
    target_loader: Iterable[dict] | None = None,
    on_epoch: Callable[[int, dict[str, float], EvalResult | None], None] | None = None,
) -> FitHistory:
    """Train for up to ``cfg.epochs``; the model ends in its best validation state. Returns the history."""
    model = prepare_model(model, device)
    attach_alignment(model, cfg)  # train.method's own parameters (DANN) join the model before the optimizer
    optimizer = build_optimizer(model, cfg)
    total_steps = cfg.epochs * len(train_loader)  # type: ignore[arg-type]
    scheduler = build_scheduler(optimizer, cfg, total_steps)
    stream = TargetStream(target_loader) if target_loader is not None else None
    history, step = FitHistory(), 0
    best_state: dict[str, torch.Tensor] | None = None
    for epoch in range(1, cfg.epochs + 1):
        losses, step = train_epoch(
            model, train_loader, optimizer, scheduler, cfg, step=step, total_steps=total_steps, device=device, target_loader=stream
        )
        val = evaluate(model, val_loader, num_classes, device, amp=cfg.amp) if val_loader is not None else None
        row: dict[str, float] = {"epoch": epoch, **{f"train_{k}": v for k, v in losses.items()}}
        if val is not None:
            row["val_loss"] = val.loss
            row.update({f"val_{h}_{m}": v for h, ms in val.metrics.items() for m, v in ms.items()})
            score = selection_score(val, cfg.selection_metric)
            row["val_score"] = score
            if history.best_score is None or score > history.best_score:
                history.best_epoch, history.best_score = epoch, score
                best_state = {k: v.detach().to("cpu", copy=True) for k, v in model.state_dict().items()}
        history.append(row)
        if on_epoch is not None:
            on_epoch(epoch, row, val)
        patience = cfg.early_stopping_patience
        if patience is not None and history.best_epoch is not None and epoch - history.best_epoch >= patience:
            break
    if best_state is not None:
        model.load_state_dict(best_state)
    return history


__all__ = ["FitHistory", "fit", "prepare_model", "seed_everything", "selection_score"]
