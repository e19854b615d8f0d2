"""The training loss of one step and the optimisation step itself.

Loss per step (p = training progress in [0, 1]), for the default ``train.method: fdan``:
    L = CE(fused) + CE(audio) + CE(face) + alpha * lambda(p) * LMMD(h_audio, h_face; y, P_face)
        [+ beta * lambda(p) * LMMD(z_source, z_target; y, softmax(fused logits on target))  cross-corpus]
P_face is one_hot(y) (``lmmd_target_weights: labels``, the public code) or the face head's softmax
(``predictions``, DSAN). Another ``train.method`` replaces both terms by its own (fdan.alignment.scopes:
``source_only`` and ``adabn`` none, ``dsan``, ``mmd``, ``coral``, ``dann``); every method applies its λ(p) itself.
DANN's discriminators must be attached first (``fdan.alignment.scopes.attach_alignment``, before
``build_optimizer``). The CE terms use the dropout forward; every LMMD feature and pseudo-label
comes from a dropout-free forward (same trunk pass for the source, ``dropout_disabled`` for the target;
BatchNorm keeps batch statistics, except the token standardisation of target rows, which uses the
source's running statistics: ``fdan.model.tokenizers.source_standardisation``). The target batch is reduced to its inputs before the model sees it,
so target-corpus labels are never read.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from fdan.alignment.lmmd import spread_normalise
from fdan.alignment.scale import normalised_pair
from fdan.alignment.scopes import Alignment, alignment_of
from fdan.config import TrainConfig
from fdan.evaluation.evaluate import HEADS, model_inputs
from fdan.model.dropout import dropout_disabled
from fdan.model.tokenizers import source_standardisation
from fdan.training.amp import amp_autocast, autocast_dtype

__all__ = ["compute_loss", "train_step"]


def _aligned(source: torch.Tensor, target: torch.Tensor, cfg: TrainConfig) -> tuple[torch.Tensor, torch.Tensor]:
    """The pair LMMD sees: spread-normalised (``lmmd_scale_invariant``, see fdan.alignment.lmmd.spread_normalise) or as is."""
    return spread_normalise(source, target) if cfg.lmmd_scale_invariant else (source, target)


def _pair_for(align: Alignment, scope: str, source: torch.Tensor, target: torch.Tensor,
              cfg: TrainConfig) -> tuple[torch.Tensor, torch.Tensor]:
    """The features the ``scope`` term sees: under ``lmmd_scale_invariant`` every method's normalised pair
    (fdan.alignment.scale.normalised_pair), as they are otherwise."""
    method = getattr(align, scope)
    return normalised_pair(method.name, source, target, cfg.lmmd_scale_invariant) if method is not None else (source, target)


def compute_loss(
    model: nn.Module, batch: dict, cfg: TrainConfig, progress: float, target_batch: dict | None = None
) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
    """The total loss and its detached parts (tensors: no host sync). See the module docstring.

    The alignment terms are ``cfg.method``'s (fdan.alignment.scopes; each method applies λ(p) itself, so
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
    """One optimisation step under ``cfg.amp`` autocast; fp16 needs the run's ``scaler`` (``fdan.training.amp.grad_scaler``)."""
    model.train()
    optimizer.zero_grad(set_to_none=True)
    device = batch["label"].device  # also for batches of cached trunk outputs (no "mel")
    with amp_autocast(cfg.amp, device):
        loss, parts = compute_loss(model, batch, cfg, progress, target_batch)
    if scaler is None and autocast_dtype(cfg.amp, device) == torch.float16:
        raise ValueError("train.amp fp16 needs loss scaling: pass scaler=fdan.training.amp.grad_scaler('fp16', device), "
                         "the same one to every step of the run")
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


