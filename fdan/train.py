"""Training and evaluation of FDAN without Ray.

Loss per step (p = training progress in [0, 1]):
    L = CE(fused) + CE(audio) + CE(face) + alpha * lambda(p) * LMMD(h_audio, h_face; y, P_face)
        [+ beta * lambda(p) * LMMD(z_source, z_target; y, softmax(fused logits on target))  cross-corpus]
P_face is one_hot(y) (``lmmd_target_weights: labels``, the public code) or the face head's softmax
(``predictions``, DSAN). Target-corpus labels are never read in training.
"""
from __future__ import annotations

import random
from dataclasses import dataclass, field
from typing import Callable, Iterable, Iterator

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from fdan.config import TrainConfig
from fdan.lmmd import lmmd
from fdan.metrics import confusion_matrix, metrics_from_confusion
from fdan.schedule import lambda_ramp, paper_lr_factor

HEADS = ("fused", "audio", "face")


def seed_everything(seed: int) -> None:
    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)


def _unwrap(model: nn.Module) -> nn.Module:
    return getattr(model, "module", model)  # DDP / DataParallel


def build_optimizer(model: nn.Module, cfg: TrainConfig) -> torch.optim.Optimizer:
    groups = _unwrap(model).param_groups(cfg.lr, cfg.backbone_lr_mult)
    if cfg.optimizer == "sgd":
        return torch.optim.SGD(groups, lr=cfg.lr, momentum=cfg.momentum, weight_decay=cfg.weight_decay)
    return torch.optim.AdamW(groups, lr=cfg.lr, weight_decay=cfg.weight_decay)


def build_scheduler(optimizer: torch.optim.Optimizer, cfg: TrainConfig, total_steps: int) -> torch.optim.lr_scheduler.LambdaLR:
    """paper: lr * (1 + lr_gamma * i)^-0.75 per step; cosine: to 0 over total_steps; constant."""
    if cfg.lr_schedule == "paper":
        fn: Callable[[int], float] = lambda i: paper_lr_factor(i, cfg.lr_gamma)  # noqa: E731
    elif cfg.lr_schedule == "cosine":
        fn = lambda i: 0.5 * (1 + np.cos(np.pi * min(i, total_steps) / max(total_steps, 1)))  # noqa: E731
    else:
        fn = lambda i: 1.0  # noqa: E731
    return torch.optim.lr_scheduler.LambdaLR(optimizer, fn)


def _to(batch: dict, device: torch.device | str) -> dict:
    return {k: v.to(device, non_blocking=True) if torch.is_tensor(v) else v for k, v in batch.items()}


def _kernel_args(cfg: TrainConfig) -> dict:
    return {"kernel_mul": cfg.kernel_mul, "kernel_num": cfg.kernel_num, "fix_sigma": cfg.fix_sigma, "bandwidths": cfg.bandwidths}


def compute_loss(
    model: nn.Module, batch: dict, cfg: TrainConfig, progress: float, target_batch: dict | None = None
) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
    """The total loss and its detached parts (tensors: no host sync)."""
    out = model(batch["mel"], batch["faces"])
    y = batch["label"]
    num_classes = out.fused_logits.shape[1]
    ce_fused = F.cross_entropy(out.fused_logits, y)
    ce_audio = F.cross_entropy(out.audio_logits, y)
    ce_face = F.cross_entropy(out.face_logits, y)
    if cfg.lmmd_target_weights == "labels":
        face_prob = F.one_hot(y, num_classes).to(out.face_feat.dtype)
    else:
        face_prob = out.face_logits.detach().softmax(dim=1)
    ramp = lambda_ramp(progress, cfg.lmmd_gamma)
    modal = lmmd(out.audio_feat, out.face_feat, y, face_prob, **_kernel_args(cfg))
    total = ce_fused + ce_audio + ce_face + cfg.lmmd_weight * ramp * modal
    parts = {"ce_fused": ce_fused, "ce_audio": ce_audio, "ce_face": ce_face, "lmmd_modal": modal}
    if target_batch is not None:
        tgt = model(target_batch["mel"], target_batch["faces"])
        tgt_prob = tgt.fused_logits.detach().softmax(dim=1)
        corpus = lmmd(out.fused_feat, tgt.fused_feat, y, tgt_prob, **_kernel_args(cfg))
        total = total + cfg.cross_corpus_lmmd_weight * ramp * corpus
        parts["lmmd_corpus"] = corpus
    parts["loss"] = total
    return total, {k: v.detach() for k, v in parts.items()}


def train_step(
    model: nn.Module,
    batch: dict,
    optimizer: torch.optim.Optimizer,
    scheduler: torch.optim.lr_scheduler.LRScheduler | None,
    cfg: TrainConfig,
    *,
    progress: float,
    target_batch: dict | None = None,
) -> dict[str, torch.Tensor]:
    model.train()
    optimizer.zero_grad(set_to_none=True)
    loss, parts = compute_loss(model, batch, cfg, progress, target_batch)
    loss.backward()
    if cfg.grad_clip is not None:
        nn.utils.clip_grad_norm_(model.parameters(), cfg.grad_clip)
    optimizer.step()
    if scheduler is not None:
        scheduler.step()
    return parts


def _cycle(loader: Iterable) -> Iterator:
    while True:
        yield from loader


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
    target_loader: Iterable[dict] | None = None,
) -> tuple[dict[str, float], int]:
    """One pass over ``loader``; returns the mean of each loss part and the new global step."""
    targets = _cycle(target_loader) if target_loader is not None else None
    sums: dict[str, torch.Tensor] = {}
    n = 0
    for batch in loader:
        tgt = _to(next(targets), device) if targets is not None else None
        parts = train_step(
            model, _to(batch, device), optimizer, scheduler, cfg, progress=min(step / max(total_steps, 1), 1.0), target_batch=tgt
        )
        for k, v in parts.items():
            sums[k] = sums.get(k, 0) + v
        step += 1
        n += 1
    return {k: float(v) / max(n, 1) for k, v in sums.items()}, step


@dataclass
class EvalResult:
    """metrics[head][metric] for heads fused/audio/face; confusion[head] (C, C); mean CE of the fused head."""

    metrics: dict[str, dict[str, float]]
    confusion: dict[str, np.ndarray]
    loss: float
    predictions: dict[str, np.ndarray] = field(default_factory=dict)


@torch.no_grad()
def evaluate(model: nn.Module, loader: Iterable[dict], num_classes: int, device: torch.device | str = "cpu") -> EvalResult:
    model.eval()
    preds: dict[str, list[torch.Tensor]] = {h: [] for h in HEADS}
    labels: list[torch.Tensor] = []
    loss_sum, n = torch.zeros((), device=device), 0
    for batch in loader:
        batch = _to(batch, device)
        out = model(batch["mel"], batch["faces"])
        for head in HEADS:
            preds[head].append(getattr(out, f"{head}_logits").argmax(dim=1))
        labels.append(batch["label"])
        loss_sum += F.cross_entropy(out.fused_logits, batch["label"], reduction="sum")
        n += batch["label"].shape[0]
    y = torch.cat(labels).cpu().numpy() if labels else np.zeros(0, dtype=np.int64)
    result = EvalResult(metrics={}, confusion={}, loss=float(loss_sum) / max(n, 1))
    for head in HEADS:
        p = torch.cat(preds[head]).cpu().numpy() if preds[head] else np.zeros(0, dtype=np.int64)
        cm = confusion_matrix(y, p, num_classes)
        result.confusion[head], result.metrics[head], result.predictions[head] = cm, metrics_from_confusion(cm), p
    return result


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
) -> list[dict[str, float]]:
    """Train for ``cfg.epochs``; returns one row per epoch (losses and validation metrics)."""
    model.to(device)
    optimizer = build_optimizer(model, cfg)
    total_steps = cfg.epochs * len(train_loader)  # type: ignore[arg-type]
    scheduler = build_scheduler(optimizer, cfg, total_steps)
    history, step = [], 0
    for epoch in range(1, cfg.epochs + 1):
        losses, step = train_epoch(
            model, train_loader, optimizer, scheduler, cfg, step=step, total_steps=total_steps, device=device, target_loader=target_loader
        )
        val = evaluate(model, val_loader, num_classes, device) if val_loader is not None else None
        row = {"epoch": epoch, **{f"train_{k}": v for k, v in losses.items()}}
        if val is not None:
            row["val_loss"] = val.loss
            row.update({f"val_{h}_{m}": v for h, ms in val.metrics.items() for m, v in ms.items()})
        history.append(row)
        if on_epoch is not None:
            on_epoch(epoch, row, val)
    return history
