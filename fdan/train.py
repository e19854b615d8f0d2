"""Training of FDAN without Ray (evaluation: fdan.evaluation, re-exported here).

Loss per step (p = training progress in [0, 1]), for the default ``train.method: fdan``:
    L = CE(fused) + CE(audio) + CE(face) + alpha * lambda(p) * LMMD(h_audio, h_face; y, P_face)
        [+ beta * lambda(p) * LMMD(z_source, z_target; y, softmax(fused logits on target))  cross-corpus]
P_face is one_hot(y) (``lmmd_target_weights: labels``, the public code) or the face head's softmax
(``predictions``, DSAN). Another ``train.method`` replaces both terms by its own (fdan.alignment:
``source_only`` none, ``dsan``, ``mmd``, ``coral``, ``dann``); every method applies its λ(p) itself.
DANN's discriminators must be attached first (``fdan.alignment.attach_alignment``, before
``build_optimizer``). The CE terms use the dropout forward; every LMMD feature and pseudo-label
comes from a dropout-free forward (same trunk pass for the source, ``dropout_disabled`` for the target;
BatchNorm keeps batch statistics, except the token standardisation of target rows, which uses the
source's running statistics: ``fdan.model.tokenizers.source_standardisation``). The target batch is reduced to its inputs before the model sees it,
so target-corpus labels are never read.
"""
from __future__ import annotations

import random
from typing import Callable, Iterable

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from fdan.alignment import Alignment, alignment_of
from fdan.alignment_scale import normalised_pair
from fdan.amp import amp_autocast, grad_scaler_for
from fdan.config import TrainConfig
from fdan.evaluation import HEADS, EvalResult, evaluate, model_inputs, to_device
from fdan.lmmd import spread_normalise
from fdan.model.dropout import dropout_disabled
from fdan.model.tokenizers import source_standardisation
from fdan.schedule import paper_lr_factor
from fdan.target_stream import EmptyTargetLoaderError, TargetStream
from fdan.target_use import reads_target
from fdan.train_fit import FitHistory, fit, selection_score

__all__ = [
    "HEADS", "EvalResult", "EmptyTargetLoaderError", "FitHistory", "TargetStream", "build_optimizer", "build_scheduler",
    "compute_loss", "evaluate", "fit", "prepare_model", "seed_everything", "selection_score", "train_epoch", "train_step",
]


def seed_everything(seed: int) -> None:
    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)


def _unwrap(model: nn.Module) -> nn.Module:
    return getattr(model, "module", model)  # DDP / DataParallel


def prepare_model(model: nn.Module, device: torch.device | str) -> nn.Module:
    """Move to ``device``; on CUDA also store the conv weights ``channels_last`` (the inputs are made so too)."""
    model = model.to(device)
    if torch.device(device).type == "cuda":
        model = model.to(memory_format=torch.channels_last)
    return model


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


def _aligned(source: torch.Tensor, target: torch.Tensor, cfg: TrainConfig) -> tuple[torch.Tensor, torch.Tensor]:
    """The pair LMMD sees: spread-normalised (``lmmd_scale_invariant``, see fdan.lmmd.spread_normalise) or as is."""
    return spread_normalise(source, target) if cfg.lmmd_scale_invariant else (source, target)


def _pair_for(align: Alignment, scope: str, source: torch.Tensor, target: torch.Tensor,
              cfg: TrainConfig) -> tuple[torch.Tensor, torch.Tensor]:
    """The features the ``scope`` term sees: under ``lmmd_scale_invariant`` every method's normalised pair
    (fdan.alignment_scale.normalised_pair), as they are otherwise."""
    method = getattr(align, scope)
    return normalised_pair(method.name, source, target, cfg.lmmd_scale_invariant) if method is not None else (source, target)


def compute_loss(
    model: nn.Module, batch: dict, cfg: TrainConfig, progress: float, target_batch: dict | None = None
) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
    """The total loss and its detached parts (tensors: no host sync). See the module docstring.

    The alignment terms are ``cfg.method``'s (fdan.alignment; each method applies λ(p) itself, so
    nothing here ramps again). Parts: ``ce_<head>`` per head the model has, the raw divergence of each
    term (``lmmd_modal`` / ``lmmd_corpus`` for fdan/dsan, ``<method>_modal`` / ``<method>_corpus``
    otherwise), ``loss``. A single-modality model has one CE term and no modality term."""
    out = model(**model_inputs(batch), dropout_free=True)
    clean = out.clean
    y = batch["label"]
    heads = [h for h in HEADS if getattr(out, f"{h}_logits") is not None]
    parts = {f"ce_{h}": F.cross_entropy(getattr(out, f"{h}_logits").float(), y) for h in heads}
    total = sum(parts.values())
    align = alignment_of(model, cfg)
    if clean.audio_align_feat is not None and clean.face_align_feat is not None:
        face_prob = clean.face_logits.detach().float().softmax(dim=1)  # read by dsan only
        source, target = _pair_for(align, "modal", clean.audio_align_feat, clean.face_align_feat, cfg)
        term = align.term("modal", source, target, y, face_prob, progress)
        if term is not None:
            total = total + cfg.lmmd_weight * term[0]
            parts[term[1]] = term[2]
    if target_batch is not None:
        with dropout_disabled(model), source_standardisation(model):
            tgt = model(**model_inputs(target_batch))  # inputs only: the target label is never read
        head = heads[0]  # fused, else a single-modality model's one head
        feat = {"fused": "fused_feat", "audio": "audio_feat", "face": "face_feat"}[head]
        tgt_prob = getattr(tgt, f"{head}_logits").detach().float().softmax(dim=1)
        source, target = _pair_for(align, "corpus", getattr(clean, feat), getattr(tgt, feat), cfg)
        term = align.term("corpus", source, target, y, tgt_prob, progress)
        if term is not None:
            total = total + cfg.cross_corpus_lmmd_weight * term[0]
            parts[term[1]] = term[2]
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
    scaler: torch.amp.GradScaler | None = None,
) -> dict[str, torch.Tensor]:
    """One optimisation step under ``cfg.amp`` autocast; fp16 uses ``scaler`` (default: the optimizer's own)."""
    model.train()
    optimizer.zero_grad(set_to_none=True)
    device = batch["label"].device  # also for batches of cached trunk outputs (no "mel")
    with amp_autocast(cfg.amp, device):
        loss, parts = compute_loss(model, batch, cfg, progress, target_batch)
    scaler = scaler if scaler is not None else grad_scaler_for(optimizer, cfg.amp, device)
    if scaler is not None:
        scaler.scale(loss).backward()
        if cfg.grad_clip is not None:
            scaler.unscale_(optimizer)
            nn.utils.clip_grad_norm_(model.parameters(), cfg.grad_clip)
        scaler.step(optimizer)
        scaler.update()
    else:
        loss.backward()
        if cfg.grad_clip is not None:
            nn.utils.clip_grad_norm_(model.parameters(), cfg.grad_clip)
        optimizer.step()
    if scheduler is not None:
        scheduler.step()
    return parts


_STREAMS: dict[int, tuple[object, TargetStream]] = {}


def _target_stream(target_loader: Iterable[dict] | TargetStream) -> TargetStream:
    """The loader's persistent stream: the same loader object passed every epoch continues its passes."""
    if isinstance(target_loader, TargetStream):
        return target_loader
    key = id(target_loader)
    if key not in _STREAMS or _STREAMS[key][0] is not target_loader:
        _STREAMS.clear()  # one cross-corpus run at a time per process; drop streams of finished runs
        _STREAMS[key] = (target_loader, TargetStream(target_loader))
    return _STREAMS[key][1]


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
    source batch from a stream that persists across epochs (see fdan.target_stream). A target loader
    that yields nothing raises :class:`EmptyTargetLoaderError`. A run without a corpus term never touches
    it (fdan.target_use.reads_target: no hidden AdaBN).
    """
    targets = _target_stream(target_loader) if target_loader is not None and reads_target(cfg) else None
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
