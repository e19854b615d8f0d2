"""Equal footing: one normalisation rule for every divergence; at the defaults the feature gradients of all
methods lie within one order of magnitude; nobody can lower a divergence by shrinking the features."""
from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

from fdan.alignment.scopes import Alignment
from fdan.alignment.scale import normalised_pair, unit_rms
from fdan.config import TrainConfig
from fdan.training.loss import _pair_for

D, B, C = 64, 16, 4
METHODS = ("fdan", "dsan", "mmd", "coral", "dann")


def _feature_gradient(method: str, seed: int, scale_invariant: bool = True) -> float:
    """Norm of ∂(scheduled corpus term)/∂(source, target features), on the path compute_loss takes."""
    torch.manual_seed(seed)
    cfg = TrainConfig(method=method, lmmd_warmup=0.0, lmmd_scale_invariant=scale_invariant)
    align = Alignment(cfg, D, C)
    s = F.layer_norm(torch.randn(B, D), (D,)).requires_grad_()
    t = F.layer_norm(torch.randn(B, D) + 0.3, (D,)).requires_grad_()
    y, prob = torch.randint(0, C, (B,)), torch.softmax(torch.randn(B, C), dim=1)
    pair = _pair_for(align, "corpus", s, t, cfg)
    scheduled = align.term("corpus", *pair, y, prob, 1.0)[0]
    grads = torch.autograd.grad(cfg.cross_corpus_lmmd_weight * scheduled, [s, t])
    return float(torch.cat([g.flatten() for g in grads]).norm())


def _mean_gradients(scale_invariant: bool) -> dict[str, float]:
    return {m: sum(_feature_gradient(m, seed, scale_invariant) for seed in range(6)) / 6 for m in METHODS}


def test_feature_gradients_at_the_defaults_are_within_one_order_of_magnitude():
    grads = _mean_gradients(True)
    assert max(grads.values()) / min(grads.values()) < 10, grads


def test_without_the_rule_the_plain_forms_differ_by_more():
    grads = _mean_gradients(False)  # the published forms: CORAL and DANN practically off next to LMMD
    assert max(grads.values()) / min(grads.values()) > 10, grads


@pytest.mark.parametrize("method", METHODS)
def test_every_divergence_is_scale_invariant_under_the_rule(method):
    torch.manual_seed(0)
    align = Alignment(TrainConfig(method=method, lmmd_warmup=0.0), D, C)
    s, t = torch.randn(B, D), torch.randn(B, D) + 0.5
    y, prob = torch.randint(0, C, (B,)), torch.softmax(torch.randn(B, C), dim=1)
    values = [align.term("corpus", *normalised_pair(method, k * s, k * t, True), y, prob, 1.0)[0] for k in (1.0, 0.01)]
    torch.testing.assert_close(values[0], values[1], rtol=1e-4, atol=1e-6)


def test_unit_rms_gives_unit_mean_variance():
    s, t = unit_rms(3 * torch.randn(10, 5), 3 * torch.randn(7, 5))
    assert float(torch.cat([s, t]).var(dim=0, unbiased=False).mean()) == pytest.approx(1.0)
