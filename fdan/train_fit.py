"""``fit()``: whole training runs with model selection on a validation loader and early stopping.

After each epoch the validation score ``train.selection_metric`` is computed (``<head>_<metric>``,
e.g. ``fused_uar``; a bare ``<metric>`` = the first head present among fused, audio, face; ``loss`` is
minimised, every other metric maximised). The best epoch's state (a CPU copy) is restored at the end;
with ``train.early_stopping_patience = n`` training stops after n epochs without improvement.
Without a validation loader the last epoch's state is kept.
"""
from __future__ import annotations

from typing import Callable, Iterable

import torch
from torch import nn

from fdan.config import TrainConfig
from fdan.evaluation import HEADS, EvalResult
from fdan.metrics import parse_selection_metric


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
    from fdan.alignment import attach_alignment
    from fdan.target_use import reads_target
    from fdan.train import TargetStream, build_optimizer, build_scheduler, evaluate, prepare_model, train_epoch

    model = prepare_model(model, device)
    attach_alignment(model, cfg)  # train.method's own parameters (DANN) join the model before the optimizer
    optimizer = build_optimizer(model, cfg)
    total_steps = cfg.epochs * len(train_loader)  # type: ignore[arg-type]
    scheduler = build_scheduler(optimizer, cfg, total_steps)
    stream = TargetStream(target_loader) if target_loader is not None and reads_target(cfg) else None
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


__all__ = ["FitHistory", "fit", "selection_score"]
