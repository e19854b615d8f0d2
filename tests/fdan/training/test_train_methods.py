"""train.method in training: each method trains a few steps with finite losses and gradients where it should;
DANN's discriminators are optimised; a single-modality model trains its own branch only."""
from __future__ import annotations

import pytest
import torch

from fdan.alignment.scopes import attach_alignment
from fdan.config import TrainConfig
from fdan.model import create_model
from fdan.model.modalities import restrict_modalities
from fdan.training.loss import compute_loss, train_step
from fdan.training.optim import build_optimizer

TINY = dict(backbone="resnet18", attn_dim=32, attn_heads=2, adapt_dim=16, num_classes=4, dropout=0.0,
            attn_dropout=0.0, weights="none")


def target_of(batch: dict) -> dict:
    """An unlabelled target batch: other faces and spectrograms, labels poisoned."""
    g = torch.Generator().manual_seed(5)
    return {"mel": batch["mel"].float().flip(0) + 0.5 * torch.randn(batch["mel"].shape, generator=g),
            "faces": batch["faces"].flip(0), "label": torch.full_like(batch["label"], -1)}


@pytest.mark.parametrize("method", ["fdan", "source_only", "dsan", "mmd", "coral", "dann"])
def test_each_method_trains_with_finite_losses_and_its_terms(method, tiny_batch):
    torch.manual_seed(0)
    cfg = TrainConfig(method=method, lmmd_weight=1.0, cross_corpus_lmmd_weight=1.0, lmmd_warmup=0.0, optimizer="adamw")
    model = create_model(**TINY)
    align = attach_alignment(model, cfg)
    opt = build_optimizer(model, cfg)
    optimised = {id(p) for g in opt.param_groups for p in g["params"]}
    assert all(id(p) in optimised for p in align.parameters())
    before = [p.detach().clone() for p in align.parameters()]
    for step in range(3):
        parts = train_step(model, tiny_batch, opt, None, cfg, progress=0.5 + 0.1 * step, target_batch=target_of(tiny_batch))
        assert all(torch.isfinite(v) for v in parts.values())
    names = set(parts)
    prefix = {"fdan": "lmmd", "dsan": "lmmd"}.get(method, method)
    if method == "source_only":
        assert not any(n.endswith(("_modal", "_corpus")) for n in names)
    else:
        assert {f"{prefix}_modal", f"{prefix}_corpus"} <= names
    if method == "dann":  # its discriminators learned
        assert before and any(not torch.equal(b, p) for b, p in zip(before, align.parameters()))


def test_the_method_term_gets_no_second_ramp(tiny_batch):
    """total = CE + alpha * lambda(p) * raw: the method's own ramp, once."""
    from fdan.training.schedule import lambda_ramp

    torch.manual_seed(0)
    cfg = TrainConfig(method="mmd", lmmd_weight=2.0, lmmd_gamma=10.0, lmmd_warmup=0.1)
    model = create_model(**TINY)
    total, parts = compute_loss(model, tiny_batch, cfg, progress=0.4)
    ce = parts["ce_fused"] + parts["ce_audio"] + parts["ce_face"]
    torch.testing.assert_close(total.detach(), ce + 2.0 * lambda_ramp(0.4, 10.0, 0.1) * parts["mmd_modal"])


@pytest.mark.parametrize("keep", ["audio", "face"])
def test_a_single_modality_model_trains_only_its_branch(keep, tiny_batch):
    torch.manual_seed(0)
    cfg = TrainConfig(method="dann", optimizer="adamw", lmmd_warmup=0.0)
    model = restrict_modalities(create_model(**TINY, modalities=[keep]), [keep])
    attach_alignment(model, cfg)
    opt = build_optimizer(model, cfg)
    other = "face" if keep == "audio" else "audio"
    frozen = {n: p.detach().clone() for n, p in model.named_parameters() if n.startswith((f"{other}_", "cross", "fusion"))}
    parts = train_step(model, tiny_batch, opt, None, cfg, progress=0.5, target_batch=target_of(tiny_batch))
    assert set(k for k in parts if k.startswith("ce_")) == {f"ce_{keep}"} and "dann_corpus" in parts
    assert "dann_modal" not in parts  # no second modality to align with
    assert all(torch.equal(p, frozen[n]) for n, p in model.named_parameters() if n in frozen)
