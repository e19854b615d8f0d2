import pytest
import torch

from fdan.config import TrainConfig
from fdan.evaluation.evaluate import evaluate
from fdan.model import create_model
from fdan.training.fit import fit, seed_everything
from fdan.training.loss import compute_loss, train_step
from fdan.training.optim import build_optimizer, build_scheduler
from tests.fdan.model_helpers import TINY


def _losses(tiny_batch, steps=3, **cfg):
    seed_everything(0)
    model = create_model("fdan", **{**TINY, "dropout": 0.2, "attn_dropout": 0.1})
    tc = TrainConfig(optimizer="adamw", lr=1e-3, **cfg)
    opt = build_optimizer(model, tc)
    sched = build_scheduler(opt, tc, steps)
    return [float(train_step(model, tiny_batch, opt, sched, tc, progress=i / steps)["loss"]) for i in range(steps)]


def test_same_seed_gives_identical_loss_sequence(tiny_batch):
    a, b = _losses(tiny_batch), _losses(tiny_batch)
    assert a == b
    assert len(set(a)) == 3


def test_small_model_overfits_a_fixed_batch(tiny_batch):
    seed_everything(0)
    model = create_model("fdan", **TINY)
    tc = TrainConfig(optimizer="adamw", lr=2e-3, backbone_lr_mult=1.0, lmmd_weight=0.1, epochs=1)
    opt = build_optimizer(model, tc)
    ce = [float(train_step(model, tiny_batch, opt, None, tc, progress=i / 40)["ce_fused"]) for i in range(40)]
    result = evaluate(model, [tiny_batch], num_classes=4)
    assert ce[-1] < 0.2 * ce[0]
    assert result.metrics["fused"]["war"] == 1.0
    assert result.confusion["fused"].trace() == 8


def test_lmmd_term_is_ramped_and_weighted(tiny_batch):
    seed_everything(0)
    model = create_model("fdan", **TINY).eval()
    tc = TrainConfig(lmmd_weight=10.0)
    total0, parts0 = compute_loss(model, tiny_batch, tc, progress=0.0)
    ce = parts0["ce_fused"] + parts0["ce_audio"] + parts0["ce_face"]
    assert torch.allclose(total0.detach(), ce)  # lambda(0) = 0
    total1, parts1 = compute_loss(model, tiny_batch, tc, progress=1.0)
    lam = 2 / (1 + torch.exp(torch.tensor(-10.0))) - 1
    assert torch.allclose(total1.detach(), ce + 10.0 * lam * parts1["lmmd_modal"], rtol=1e-5)
    assert parts1["lmmd_modal"] > 0


def test_prediction_weights_and_cross_corpus_term(tiny_batch):
    seed_everything(0)
    model = create_model("fdan", **TINY)
    tc = TrainConfig(lmmd_target_weights="predictions", cross_corpus_lmmd_weight=1.0)
    target = {**tiny_batch, "label": torch.full((8,), -1), "mel": tiny_batch["mel"].flip(0)}
    total, parts = compute_loss(model, tiny_batch, tc, progress=0.5, target_batch=target)
    assert "lmmd_corpus" in parts and torch.isfinite(parts["lmmd_corpus"])
    total.backward()  # target labels (-1) are never read


@pytest.mark.parametrize("optimizer,schedule", [("sgd", "paper"), ("adamw", "cosine")])
def test_fit_reports_metrics_for_every_head(tiny_batch, optimizer, schedule):
    seed_everything(0)
    model = create_model("fdan", **TINY)
    tc = TrainConfig(optimizer=optimizer, lr_schedule=schedule, epochs=2, lr=1e-2)
    seen = []
    history = fit(model, [tiny_batch, tiny_batch], [tiny_batch], tc, num_classes=4, reporter=lambda end: seen.append(end.epoch))
    assert seen == [1, 2] and len(history) == 2
    for head in ("fused", "audio", "face"):
        for metric in ("war", "uar", "macro_f1"):
            assert 0.0 <= history[-1][f"val_{head}_{metric}"] <= 1.0


def test_paper_schedule_and_backbone_multiplier():
    model = create_model("fdan", **TINY)
    tc = TrainConfig(optimizer="sgd", lr=1e-3, lr_gamma=3e-4)
    opt = build_optimizer(model, tc)
    sched = build_scheduler(opt, tc, 100)
    for _ in range(10):
        opt.step()
        sched.step()
    factor = (1 + 3e-4 * 10) ** -0.75
    # random trunks (weights: none) train at the full lr; x0.1 is for pretrained ones (test_train_fit.py)
    assert opt.param_groups[0]["lr"] == pytest.approx(1e-3 * factor)
    assert opt.param_groups[1]["lr"] == pytest.approx(1e-3 * factor)
