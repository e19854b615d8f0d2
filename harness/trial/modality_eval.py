"""Evaluation per head, each single-modality head run on its modality alone, and per-utterance prediction rows.

`evaluate_heads(model, loader, C, device)`: the fused head from the model on both inputs; the audio
head from the model given the audio only (every face input None), the face head from the model given
the faces only (every audio input None). The model's unimodal heads do not read the other modality
(fdan.model.fdan), so the numbers equal a joint pass; running them alone makes the leaderboard's
audio / face rows single-modality by construction rather than by the model's word. A model built for
one modality (`model.modalities`) is evaluated once, on what it has.
"""
from __future__ import annotations

from typing import Any, Iterable, Iterator

import numpy as np
import pandas as pd
from fdan.evaluation.evaluate import evaluate

# Batch keys of each modality: media features (fdan.features.featureset) and cached trunk outputs
# (fdan.features.token_cache). `face_mask` belongs to the faces in both.
AUDIO_KEYS = ("mel", "mel_len", "audio_feat", "audio_mask", "audio_len")
FACE_KEYS = ("faces", "face_feat", "face_mask")


class WithoutModality:
    """A loader whose batches carry None for every key in `keys` (the key stays, so the batch kind stays)."""

    def __init__(self, loader: Iterable[dict], keys: tuple[str, ...]) -> None:
        self.loader, self.keys = loader, keys

    def __iter__(self) -> Iterator[dict]:
        for batch in self.loader:
            yield {k: (None if k in self.keys else v) for k, v in batch.items()}

    def __len__(self) -> int:
        return len(self.loader)  # type: ignore[arg-type]


def evaluate_heads(model: Any, loader: Iterable[dict], num_classes: int, device: Any = "cpu", *, amp: str = "off") -> Any:
    """`fdan.evaluation.evaluate.EvalResult` whose audio / face entries come from single-modality passes (module doc)."""

    result = evaluate(model, loader, num_classes, device, amp=amp)
    if "fused" not in result.metrics:  # a single-modality model: its one head already saw one modality
        return result
    for head, other in (("audio", FACE_KEYS), ("face", AUDIO_KEYS)):
        if head not in result.metrics:
            continue
        alone = evaluate(model, WithoutModality(loader, other), num_classes, device, amp=amp)
        if not np.array_equal(alone.index, result.index):
            raise RuntimeError("the loader gave its rows in another order on the second pass; use shuffle=False")
        for part in ("metrics", "confusion", "predictions", "probabilities"):
            getattr(result, part)[head] = getattr(alone, part)[head]
    return result


def prediction_rows(result: Any, labels: list[str], manifest: pd.DataFrame, ids: dict[str, Any]) -> pd.DataFrame:
    """One row per (utterance, head): `ids` columns, utterance_id, speaker, label, head, predicted
    (label names) and `prob_<label>` for each class of the unit, from an `EvalResult` over `manifest` rows."""
    frame = result.prediction_frame(list(labels))
    rows = manifest.iloc[frame["index"].to_numpy()]
    names = np.asarray(labels, dtype=object)
    out = pd.DataFrame({**{k: [v] * len(frame) for k, v in ids.items()},
                        "utterance_id": rows["utterance_id"].astype(str).to_numpy(),
                        "speaker": rows["speaker"].astype(str).to_numpy(),
                        "label": names[frame["label"].to_numpy()], "head": frame["head"].to_numpy(),
                        "predicted": names[frame["predicted"].to_numpy()]})
    probs = frame[[f"prob_{label}" for label in labels]].reset_index(drop=True).astype(float)
    return pd.concat([out, probs], axis=1)
