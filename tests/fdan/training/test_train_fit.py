"""fit(): best-on-validation state (the later epoch on ties), early stopping, resume; evaluate(): per-utterance probabilities; optimizer groups."""
import copy

import numpy as np
import pytest
import torch

from fdan.config import TrainConfig
from fdan.evaluation.evaluate import evaluate
from fdan.model import create_model
from fdan.training.fit import fit, seed_everything
from fdan.training.optim import build_optimizer
from fdan.training.selection import Selection, best_index, improves
from tests.fdan.model_helpers import TINY


def test_fit_keeps_the_best_validation_state_and_stops_early(tiny_batch, monkeypatch):
    scores = iter([0.5, 0.9, 0.1, 0.2, 0.95])
    monkeypatch.setattr(Selection, "score", lambda self, result: next(scores))
    seed_everything(0)
    model = create_model("fdan", **TINY)
    states = []
    cfg = TrainConfig(optimizer="adamw", lr=1e-2, epochs=5, early_stopping_patience=2)
    history = fit(model, [tiny_batch], [tiny_batch], cfg, num_classes=4,
                  reporter=lambda end: states.append({k: v.clone() for k, v in end.model.state_dict().items()}))
    assert len(history) == 4  # epochs 3 and 4 did not beat epoch 2: stopped before epoch 5
    assert history.best_epoch == 2 and history.best_score == 0.9
    assert [row["val_score"] for row in history] == [0.5, 0.9, 0.1, 0.2]
    final = model.state_dict()
    assert all(torch.equal(final[k], states[1][k]) for k in final)
    assert not all(torch.equal(final[k], states[3][k]) for k in final)


def test_selection_metric_is_validated_and_computed(tiny_batch):
    with pytest.raises(ValueError, match="selection"):
        Selection("fused_accuracy")
    seed_everything(0)
    model = create_model("fdan", **TINY)
    result = evaluate(model, [tiny_batch], num_classes=4)
    assert Selection("audio_macro_f1").score(result) == result.metrics["audio"]["macro_f1"]
    assert Selection("uar").score(result) == result.metrics["fused"]["uar"]
    assert Selection("loss").score(result) == -result.loss


def test_the_one_tie_rule_keeps_the_later_epoch(tiny_batch, monkeypatch):
    assert best_index([0.5, 0.9, 0.9, 0.1]) == 2 and best_index([float("nan")] * 2) is None
    assert improves(0.9, 0.9) and not improves(float("nan"), -float("inf"))
    scores = iter([0.5, 0.9, 0.9, 0.1])
    monkeypatch.setattr(Selection, "score", lambda self, result: next(scores))
    seed_everything(0)
    improved = []
    history = fit(create_model("fdan", **TINY), [tiny_batch], [tiny_batch], TrainConfig(epochs=4), num_classes=4,
                  reporter=lambda end: improved.append(end.improved))
    assert history.best_epoch == 3 and improved == [True, True, True, False]


def test_a_resumed_fit_reports_what_the_uninterrupted_one_does(tiny_batch):
    cfg = TrainConfig(optimizer="adamw", lr=1e-2, epochs=3)
    seed_everything(0)
    straight, states = [], {}

    def keep(end):
        straight.append(end.metrics)
        states[end.epoch] = copy.deepcopy(end.resume_state())  # a checkpoint is written at once; these stay

    fit(create_model("fdan", **TINY), [tiny_batch], [tiny_batch], cfg, num_classes=4, reporter=keep)
    seed_everything(5)  # a restarted process: its own seed, then the state of epoch 1
    resumed = []
    history = fit(create_model("fdan", **TINY), [tiny_batch], [tiny_batch], cfg, num_classes=4, resume=states[1],
                  reporter=lambda end: resumed.append(end.metrics))
    assert [r["epoch"] for r in resumed] == [2, 3] and resumed == straight[1:]
    assert history.best_epoch == states[3].best_epoch


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
