"""fit(): best-on-validation state, early stopping; evaluate(): per-utterance probabilities; optimizer groups."""
import numpy as np
import pytest
import torch

import fdan.training.fit as fit_mod
from fdan.config import TrainConfig
from fdan.model import create_model
from fdan.training.optim import build_optimizer
from fdan.evaluation.evaluate import evaluate
from fdan.training.fit import fit, seed_everything
from tests.fdan.model_helpers import TINY


def test_fit_keeps_the_best_validation_state_and_stops_early(tiny_batch, monkeypatch):
    scores = iter([0.5, 0.9, 0.1, 0.2, 0.95])
    monkeypatch.setattr(fit_mod, "selection_score", lambda result, metric: next(scores))
    seed_everything(0)
    model = create_model("fdan", **TINY)
    states = []
    cfg = TrainConfig(optimizer="adamw", lr=1e-2, epochs=5, early_stopping_patience=2)
    history = fit(model, [tiny_batch], [tiny_batch], cfg, num_classes=4,
                  on_epoch=lambda e, row, val: states.append({k: v.clone() for k, v in model.state_dict().items()}))
    assert len(history) == 4  # epochs 3 and 4 did not beat epoch 2: stopped before epoch 5
    assert history.best_epoch == 2 and history.best_score == 0.9
    assert [row["val_score"] for row in history] == [0.5, 0.9, 0.1, 0.2]
    final = model.state_dict()
    assert all(torch.equal(final[k], states[1][k]) for k in final)
    assert not all(torch.equal(final[k], states[3][k]) for k in final)


def test_selection_metric_is_validated_and_computed(tiny_batch):
    with pytest.raises(ValueError, match="selection"):
        TrainConfig(selection_metric="fused_accuracy")
    seed_everything(0)
    model = create_model("fdan", **TINY)
    result = evaluate(model, [tiny_batch], num_classes=4)
    assert fit_mod.selection_score(result, "audio_macro_f1") == result.metrics["audio"]["macro_f1"]
    assert fit_mod.selection_score(result, "uar") == result.metrics["fused"]["uar"]
    assert fit_mod.selection_score(result, "loss") == -result.loss


def test_evaluate_returns_per_utterance_probabilities(tiny_batch):
    seed_everything(0)
    model = create_model("fdan", **TINY)
    batch = {**tiny_batch, "index": torch.arange(100, 108)}
    halves = [{k: v[:5] for k, v in batch.items()}, {k: v[5:] for k, v in batch.items()}]
    result = evaluate(model, halves, num_classes=4)
    assert result.index.tolist() == list(range(100, 108)) and result.labels.tolist() == tiny_batch["label"].tolist()
    with torch.no_grad():
        out = model(tiny_batch["mel"], tiny_batch["faces"])
    for head in ("fused", "audio", "face"):
        prob = result.probabilities[head]
        assert prob.shape == (8, 4)
        np.testing.assert_allclose(prob.sum(axis=1), 1.0, rtol=1e-5)
        np.testing.assert_allclose(prob, getattr(out, f"{head}_logits").softmax(1).numpy(), rtol=1e-4, atol=1e-6)
        assert (result.predictions[head] == prob.argmax(1)).all()
    frame = result.prediction_frame(["a", "b", "c", "d"])
    assert len(frame) == 24 and list(frame.columns) == ["index", "label", "head", "predicted", "prob_a", "prob_b", "prob_c", "prob_d"]


def test_single_modality_evaluation_reports_only_its_head(tiny_batch):
    seed_everything(0)
    model = create_model("fdan", **TINY)
    audio_only = {k: v for k, v in tiny_batch.items() if k != "faces"}
    result = evaluate(model, [audio_only], num_classes=4)
    assert set(result.metrics) == {"audio"} and set(result.probabilities) == {"audio"}
    full = evaluate(model, [tiny_batch], num_classes=4)
    np.testing.assert_array_equal(result.probabilities["audio"], full.probabilities["audio"])


def test_random_trunks_train_at_the_full_learning_rate(tmp_path):
    from torchvision import models

    tc = TrainConfig(optimizer="sgd", lr=1e-3, backbone_lr_mult=0.1)
    random_trunks = build_optimizer(create_model("fdan", **TINY), tc)
    assert [g["lr"] for g in random_trunks.param_groups] == pytest.approx([1e-3, 1e-3])
    path = tmp_path / "r18.pth"
    torch.save(models.resnet18(weights=None).state_dict(), path)
    pretrained = build_optimizer(create_model("fdan", **TINY, weights=str(path)), tc)
    assert [g["lr"] for g in pretrained.param_groups] == pytest.approx([1e-4, 1e-3])
