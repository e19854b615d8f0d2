"""Evaluation of a model on a loader: metrics per head, confusion matrices and per-utterance probabilities."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Iterable

import numpy as np
import pandas as pd
import torch
import torch.nn.functional as F
from torch import nn

from fdan.evaluation.metrics import HEADS, confusion_matrix, metrics_from_confusion
from fdan.training.amp import amp_autocast


def model_inputs(batch: dict) -> dict:
    """The model's inputs from a batch dict — never its label (``mel_len`` / ``face_mask`` when present).

    A batch of cached trunk outputs (``audio_feat``, fdan.features.token_cache) gives the inputs of
    ``fdan.model.frozen.FromTrunkOutputs`` instead."""
    if "audio_feat" in batch:
        return {k: batch.get(k) for k in ("audio_feat", "audio_mask", "face_feat", "face_mask")}
    return {"mel": batch.get("mel"), "faces": batch.get("faces"), "mel_len": batch.get("mel_len"), "face_mask": batch.get("face_mask")}


def to_device(batch: dict, device: torch.device | str) -> dict:
    return {k: v.to(device, non_blocking=True) if torch.is_tensor(v) else v for k, v in batch.items()}


@dataclass
class EvalResult:
    """Evaluation of N rows with C classes, for each head the model produced (fused / audio / face).

    metrics[head][metric] (war, uar, macro_f1); confusion[head] (C, C) int; loss: mean CE of the fused
    head (of the first head present if there is no fused head); predictions[head] (N,) argmax;
    probabilities[head] (N, C) float32 softmax; index (N,) the rows' ``batch["index"]`` (manifest rows;
    0..N-1 if the batches carry none); labels (N,) int64. Rows are in loader order.
    """

    metrics: dict[str, dict[str, float]]
    confusion: dict[str, np.ndarray]
    loss: float
    predictions: dict[str, np.ndarray] = field(default_factory=dict)
    probabilities: dict[str, np.ndarray] = field(default_factory=dict)
    index: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    labels: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))

    def prediction_frame(self, class_names: list[str] | None = None) -> pd.DataFrame:
        """Long table, one row per (utterance, head): index, label, head, predicted, prob_<class>…

        ``class_names`` name the probability columns (``prob_<name>``; default ``prob_<i>``).
        """
        frames = []
        for head, prob in self.probabilities.items():
            names = class_names or [str(i) for i in range(prob.shape[1])]
            if len(names) != prob.shape[1]:
                raise ValueError(f"{len(names)} class names for {prob.shape[1]} classes")
            df = pd.DataFrame({"index": self.index, "label": self.labels, "head": head, "predicted": self.predictions[head]})
            frames.append(pd.concat([df, pd.DataFrame(prob, columns=[f"prob_{n}" for n in names])], axis=1))
        return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=["index", "label", "head", "predicted"])


@torch.no_grad()
def evaluate(
    model: nn.Module, loader: Iterable[dict], num_classes: int, device: torch.device | str = "cpu", *, amp: str = "off"
) -> EvalResult:
    """Run ``model`` in eval mode over ``loader`` (batches with "label"; "index" recommended)."""
    model.eval()
    probs: dict[str, list[torch.Tensor]] = {h: [] for h in HEADS}
    labels: list[torch.Tensor] = []
    index: list[torch.Tensor] = []
    loss_sum, n = torch.zeros((), device=device), 0
    for batch in loader:
        batch = to_device(batch, device)
        with amp_autocast(amp, device):
            out = model(**model_inputs(batch))
        y = batch["label"]
        present = [h for h in HEADS if getattr(out, f"{h}_logits", None) is not None]
        if not present:
            raise ValueError("the model returned no logits for any head")
        for head in present:
            probs[head].append(getattr(out, f"{head}_logits").float().softmax(dim=1))
        loss_sum += F.cross_entropy(getattr(out, f"{present[0]}_logits").float(), y, reduction="sum")
        labels.append(y)
        index.append(batch["index"] if "index" in batch else torch.arange(n, n + y.shape[0], device=y.device))
        n += y.shape[0]
    y_all = torch.cat(labels).cpu().numpy() if labels else np.zeros(0, dtype=np.int64)
    result = EvalResult(metrics={}, confusion={}, loss=float(loss_sum) / max(n, 1), labels=y_all,
                        index=torch.cat(index).cpu().numpy() if index else np.zeros(0, dtype=np.int64))
    for head in HEADS:
        if not probs[head] and labels:
            continue  # the model has no such head (single-modality input)
        p = torch.cat(probs[head]).cpu().numpy() if probs[head] else np.zeros((0, num_classes), dtype=np.float32)
        pred = p.argmax(axis=1).astype(np.int64)
        cm = confusion_matrix(y_all, pred, num_classes)
        result.confusion[head], result.metrics[head], result.predictions[head] = cm, metrics_from_confusion(cm), pred
        result.probabilities[head] = p
    return result
