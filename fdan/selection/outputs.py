"""What the selection scorers read from a model: one head's features, class probabilities and labels per row."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable

import numpy as np
import torch
from torch import nn

from fdan.evaluation.evaluate import HEADS, model_inputs, to_device
from fdan.training.amp import amp_autocast

FEATURES = {"fused": "fused_feat", "audio": "audio_feat", "face": "face_feat"}


@dataclass
class HeadOutputs:
    """``feat`` ``(n, d)``, ``prob`` ``(n, C)`` (softmax), ``label`` ``(n,)`` (−1 or anything for unlabelled rows)."""

    feat: np.ndarray
    prob: np.ndarray
    label: np.ndarray

    def losses(self) -> np.ndarray:
        """Per-row cross-entropy ``−log p_y`` ``(n,)`` (labelled rows only)."""
        return -np.log(np.maximum(self.prob[np.arange(len(self.label)), self.label], 1e-12))


@torch.no_grad()
def collect_outputs(model: nn.Module, loader: Iterable[dict], head: str, device: torch.device | str = "cpu", *,
                    amp: str = "off", max_rows: int | None = None) -> HeadOutputs:
    """Eval-mode forward over ``loader`` (BatchNorm uses its running statistics: nothing adapts); ``head`` falls
    back to the first head the model has. At most ``max_rows`` rows (the loader's first ones)."""
    model.eval()
    feats, probs, labels, n = [], [], [], 0
    for batch in loader:
        batch = to_device(batch, device)
        with amp_autocast(amp, device):
            out = model(**model_inputs(batch))
        present = [h for h in HEADS if getattr(out, f"{h}_logits", None) is not None]
        use = head if head in present else present[0]
        feats.append(getattr(out, FEATURES[use]).float().flatten(1).cpu())
        probs.append(getattr(out, f"{use}_logits").float().softmax(dim=1).cpu())
        labels.append(batch["label"].cpu())
        n += len(labels[-1])
        if max_rows is not None and n >= max_rows:
            break
    if not feats:
        raise ValueError("the loader yielded no rows to score")
    cut = slice(0, max_rows)
    return HeadOutputs(torch.cat(feats).numpy()[cut], torch.cat(probs).numpy()[cut], torch.cat(labels).numpy()[cut])
