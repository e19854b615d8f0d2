"""``fit()``: THE training loop of fdan-bench, for library users and for every harness trial.

Per epoch ``e`` (from 1, or from ``resume.epoch + 1``): ``before_epoch(e)`` (a hook), the loaders'
batch order set from (``cfg.seed``, e) (``fdan.training.resume.set_loader_epoch``), one epoch of
training (``fdan.training.epoch.train_epoch``; cross-corpus: one target batch per source batch from a
:class:`~fdan.training.target_stream.TargetStream` that lives across epochs), evaluation on the
validation loader (and on ``test_loader`` when given), ``epoch_scores(model, metrics)`` (extra per-epoch
scores merged into the metrics, e.g. ``sel_<rule>``), the selection score, then ``reporter(end)``
with an :class:`EpochEnd`: the epoch's metrics, whether it is the best so far, and the state to
checkpoint. The kept epoch follows the one rule of ``fdan.training.selection`` (highest score, the
later epoch on ties); with ``cfg.early_stopping_patience = n`` training stops after n epochs without
one; ``keep_best`` puts the kept epoch's weights back at the end (without validation: the last epoch).

Reported metrics (``EpochEnd.metrics``): ``epoch``, ``train_<loss part>``, ``val_loss``,
``val_<head>_<metric>`` and, with a test loader, ``test_loss``, ``test_<head>_<metric>``.
Set-up order (it fixes which random numbers go where): ``prepare_model`` (device; channels_last on
CUDA), ``attach_alignment`` (``train.method``'s own parameters, e.g. DANN's discriminators),
optimizer, scheduler, the resume state, ``wrap_model`` (e.g. DDP). The caller seeds and builds the
model and loaders.
"""
from __future__ import annotations

import math
import random
from dataclasses import dataclass
from typing import Any, Callable, Iterable

import numpy as np
import torch
from torch import nn

from fdan.alignment.scopes import attach_alignment
from fdan.config import TrainConfig
from fdan.evaluation.evaluate import EvalResult, evaluate
from fdan.model.frozen import load_trainable_state, trainable_state
from fdan.training.amp import grad_scaler
from fdan.training.epoch import train_epoch
from fdan.training.optim import build_optimizer, build_scheduler
from fdan.training.resume import ResumeState, restore_rng, rng_state, set_loader_epoch
from fdan.training.selection import RULE_SPLIT, Selection, improves
from fdan.training.target_stream import TargetStream
from fdan.training.target_use import reads_target

__all__ = ["EpochEnd", "FitHistory", "fit", "prepare_model", "seed_everything"]

Evaluator = Callable[..., EvalResult]  # (model, loader, num_classes, device, *, amp) -> EvalResult


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
    """One dict per epoch (the reported metrics plus ``val_score``, the selection score), plus
    ``best_epoch`` and ``best_score`` (None without validation)."""

    best_epoch: int | None = None
    best_score: float | None = None


@dataclass
class EpochEnd:
    """What ``reporter`` gets after every epoch."""

    epoch: int
    metrics: dict[str, Any]  # module doc
    score: float  # the selection score (NaN without a validation loader)
    improved: bool  # the kept epoch is now this one (always true without a validation loader)
    model: nn.Module  # the unwrapped model
    optimizer: torch.optim.Optimizer
    scheduler: torch.optim.lr_scheduler.LRScheduler
    step: int  # optimizer steps so far
    best_score: float
    best_epoch: int | None

    def resume_state(self) -> ResumeState:
        """The state a run continues from after this epoch (what a checkpoint holds)."""
        return ResumeState(model=trainable_state(self.model), optimizer=self.optimizer.state_dict(),
                           scheduler=self.scheduler.state_dict(), epoch=self.epoch, step=self.step,
                           best_score=self.best_score, best_epoch=self.best_epoch, rng=rng_state())


def eval_metrics(prefix: str, result: EvalResult) -> dict[str, float]:
    """``<prefix>_loss`` and ``<prefix>_<head>_<metric>`` of one evaluation."""
    out = {f"{prefix}_loss": float(result.loss)}
    out.update({f"{prefix}_{h}_{m}": float(v) for h, ms in result.metrics.items() for m, v in ms.items()})
    return out


def fit(
    model: nn.Module,
    train_loader: Iterable[dict],
    val_loader: Iterable[dict] | None,
    cfg: TrainConfig,
    *,
    num_classes: int,
    device: torch.device | str = "cpu",
    target_loader: Iterable[dict] | None = None,
    test_loader: Iterable[dict] | None = None,
    selection: Selection = Selection(),
    reporter: Callable[[EpochEnd], None] | None = None,
    resume: ResumeState | None = None,
    before_epoch: Callable[[int], None] | None = None,
    wrap_model: Callable[[nn.Module], nn.Module] | None = None,
    evaluator: Evaluator = evaluate,
    keep_best: bool = True,
    epoch_scores: Callable[[nn.Module, dict[str, Any]], dict[str, float]] | None = None,
) -> FitHistory:
    """Train for up to ``cfg.epochs`` (module doc); returns the history of the epochs run by this call."""
    model = prepare_model(model, device)
    attach_alignment(model, cfg)
    optimizer = build_optimizer(model, cfg)
    total_steps = cfg.epochs * len(train_loader)  # type: ignore[arg-type]
    scheduler = build_scheduler(optimizer, cfg, total_steps)
    start, step, best, best_epoch = 1, 0, -math.inf, None
    if resume is not None:
        load_trainable_state(model, resume.model)
        optimizer.load_state_dict(resume.optimizer)
        scheduler.load_state_dict(resume.scheduler)
        start, step, best, best_epoch = resume.epoch + 1, resume.step, float(resume.best_score), resume.best_epoch
        restore_rng(resume.rng)
    trained = wrap_model(model) if wrap_model is not None else model
    # a run without a corpus term never touches the target loader (fdan.training.target_use: no hidden AdaBN)
    stream = TargetStream(target_loader) if target_loader is not None and reads_target(cfg) else None
    scaler = grad_scaler(cfg.amp, device)  # fp16: one loss scale for the whole run (not checkpointed)
    history, best_state = FitHistory(), None
    for epoch in range(start, cfg.epochs + 1):
        if before_epoch is not None:
            before_epoch(epoch)
        for offset, dl in enumerate((train_loader, target_loader if stream is not None else None)):
            set_loader_epoch(dl, cfg.seed + offset, epoch)
        losses, step = train_epoch(trained, train_loader, optimizer, scheduler, cfg, step=step, total_steps=total_steps,
                                   device=device, target_loader=stream, scaler=scaler)
        metrics: dict[str, Any] = {"epoch": epoch, **{f"train_{k}": float(v) for k, v in losses.items()}}
        results = {}
        for split, loader in (("val", val_loader), ("test", test_loader)):
            if loader is not None:
                results[split] = evaluator(model, loader, num_classes, device, amp=cfg.amp)
                metrics.update(eval_metrics(split, results[split]))
        if epoch_scores is not None:  # e.g. the harness's cross-corpus selection rules: sel_<rule>
            metrics.update(epoch_scores(model, metrics))
        if selection.split == RULE_SPLIT:  # a rule's recorded score selects
            scored, score = metrics, float(metrics.get(selection.key, math.nan))
        else:
            scored = results.get(selection.split)
            score = selection.score(scored) if scored is not None else math.nan
        improved = scored is None or improves(score, best)
        if scored is not None and improved:
            best, best_epoch = score, epoch
            if keep_best:
                best_state = {k: v.detach().to("cpu", copy=True) for k, v in model.state_dict().items()}
        history.append({**metrics, "val_score": score})
        if reporter is not None:
            reporter(EpochEnd(epoch, metrics, score, improved, model, optimizer, scheduler, step, best, best_epoch))
        patience = cfg.early_stopping_patience
        if patience is not None and best_epoch is not None and epoch - best_epoch >= patience:
            break
    history.best_epoch, history.best_score = best_epoch, (best if best_epoch is not None else None)
    if best_state is not None:
        model.load_state_dict(best_state)
    return history
