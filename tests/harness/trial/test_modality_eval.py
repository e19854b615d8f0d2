"""Single-modality heads evaluated on their modality alone; per-utterance prediction rows; predictions.parquet."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import torch

from fdan.evaluation.evaluate import evaluate
from fdan.model import create_model
from harness.results.errors import ResultsError
from harness.results.predictions import PREDICTIONS_FILE, load_predictions, write_predictions
from harness.trial.modality_eval import evaluate_heads, prediction_rows

TINY = dict(backbone="resnet18", attn_dim=32, attn_heads=2, adapt_dim=16, num_classes=4, dropout=0.0,
            attn_dropout=0.0, weights="none")
LABELS = ["anger", "happiness", "neutral", "sadness"]


@pytest.fixture(scope="module")
def model() -> torch.nn.Module:
    torch.manual_seed(0)
    return create_model(**TINY).eval()


def batches(tiny_batch: dict) -> list[dict]:
    """Two batches of 4 (manifest rows 10..17), with masks, in a fixed order."""
    b = {**tiny_batch, "mel_len": torch.full((8,), 48), "face_mask": torch.ones(8, 2, dtype=torch.bool),
         "index": torch.arange(10, 18)}
    return [{k: v[:4] for k, v in b.items()}, {k: v[4:] for k, v in b.items()}]


class Spy(torch.nn.Module):
    """Records which inputs each forward got (None or given)."""

    def __init__(self, inner: torch.nn.Module) -> None:
        super().__init__()
        self.inner, self.calls = inner, []

    def forward(self, mel=None, faces=None, mel_len=None, face_mask=None):
        self.calls.append((mel is not None, faces is not None, mel_len is not None, face_mask is not None))
        return self.inner(mel, faces, mel_len, face_mask)


def test_unimodal_heads_run_on_their_modality_alone(model, tiny_batch):
    loader = batches(tiny_batch)
    spy = Spy(model)
    result = evaluate_heads(spy, loader, 4)
    # joint pass, then audio alone (no faces, no face mask), then faces alone (no mel, no mel_len)
    assert spy.calls == [(True, True, True, True)] * 2 + [(True, False, True, False)] * 2 + [(False, True, False, True)] * 2
    joint = evaluate(model, loader, 4)
    for head in ("fused", "audio", "face"):  # the model's unimodal heads are pure: same numbers as the joint pass
        np.testing.assert_allclose(result.probabilities[head], joint.probabilities[head], rtol=1e-5, atol=1e-6)
    np.testing.assert_array_equal(result.index, np.arange(10, 18))


class AudioOnly(torch.nn.Module):
    """A single-modality model: audio logits only (as `model.modalities: [audio]` builds)."""

    def __init__(self, inner: torch.nn.Module) -> None:
        super().__init__()
        self.inner, self.calls = inner, 0

    def forward(self, mel=None, faces=None, mel_len=None, face_mask=None):
        self.calls += 1
        out = self.inner(mel, None, mel_len, None)
        return out


def test_single_modality_model_is_evaluated_once(model, tiny_batch):
    only = AudioOnly(model)
    result = evaluate_heads(only, batches(tiny_batch), 4)
    assert set(result.metrics) == {"audio"} and only.calls == 2


def test_prediction_rows_name_utterances_labels_and_classes(model, tiny_batch):
    result = evaluate_heads(model, batches(tiny_batch), 4)
    manifest = pd.DataFrame({"utterance_id": [f"u{i}" for i in range(20)], "speaker": [f"s{i % 3}" for i in range(20)]})
    rows = prediction_rows(result, LABELS, manifest, {"pair": "a", "fold": 0})
    assert len(rows) == 3 * 8 and set(rows["head"]) == {"fused", "audio", "face"}
    assert list(rows.columns[:7]) == ["pair", "fold", "utterance_id", "speaker", "label", "head", "predicted"]
    audio = rows[rows["head"] == "audio"].reset_index(drop=True)
    assert list(audio["utterance_id"]) == [f"u{i}" for i in range(10, 18)]
    assert list(audio["speaker"]) == [f"s{i % 3}" for i in range(10, 18)]
    true = tiny_batch["label"].numpy()
    assert list(audio["label"]) == [LABELS[i] for i in true]
    probs = audio[[f"prob_{c}" for c in LABELS]].to_numpy()
    np.testing.assert_allclose(probs, result.probabilities["audio"], rtol=1e-6)
    assert list(audio["predicted"]) == [LABELS[i] for i in probs.argmax(axis=1)]


def test_predictions_file_round_trip_and_checks(tmp_path):
    table = pd.DataFrame({"experiment": ["e"], "pair": ["a"], "source": ["a"], "target": ["a"], "fold": [0], "variant": [""],
                          "trial_id": ["t"], "method": ["fdan"], "utterance_id": ["u"], "speaker": ["s"], "label": ["anger"],
                          "head": ["fused"], "predicted": ["anger"], "prob_anger": [0.9]})
    write_predictions(tmp_path, table)
    assert (tmp_path / PREDICTIONS_FILE).is_file()
    pd.testing.assert_frame_equal(load_predictions(tmp_path), table)
    with pytest.raises(ResultsError, match="speaker"):
        write_predictions(tmp_path, table.drop(columns="speaker"))
    with pytest.raises(ResultsError, match="prob_"):
        write_predictions(tmp_path, table.drop(columns="prob_anger"))
    with pytest.raises(ResultsError, match="no predictions.parquet"):
        load_predictions(tmp_path / "elsewhere")
