"""dsan: LMMD with predicted target weights."""
from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

from fdan.alignment.lmmd import lmmd
from fdan.alignment.methods import create_method
from tests.fdan.alignment.methods.helpers import C, features, grad_of, labels


def test_dsan_equals_lmmd_with_softmax_target_weights() -> None:
    s, t = features(10), features(7, seed=1) + 0.4
    logits = torch.randn(7, C, generator=torch.Generator().manual_seed(3), dtype=torch.float64) * 3
    prob = logits.softmax(dim=1)
    for opts in ({}, {"kernel_num": 3, "fix_sigma": 4.0}):
        method = create_method("dsan", ramp_gamma=None, **opts)
        torch.testing.assert_close(method(s, t, labels(10), prob, progress=0.5), lmmd(s, t, labels(10), prob, **opts), rtol=1e-12, atol=1e-12)


def test_dsan_is_zero_for_identical_class_conditionals_and_grows_with_a_shift() -> None:
    method = create_method("dsan", ramp_gamma=None, fix_sigma=6.0)
    s, y = features(12), labels(12)
    confident = F.one_hot(y, C).double()
    assert abs(method(s, s.clone(), y, confident, progress=1.0).item()) < 1e-12
    values = [method(s, s + k, y, confident, progress=1.0).item() for k in (0.25, 0.5, 1.0, 2.0)]
    assert all(a < b for a, b in zip(values, values[1:])) and values[0] > 0


def test_dsan_gradients_reach_the_features_not_the_probabilities() -> None:
    method = create_method("dsan")
    prob = torch.full((12, C), 1.0 / C, dtype=torch.float64)
    prob[torch.arange(12), labels()] += 0.2
    prob = (prob / prob.sum(1, keepdim=True)).requires_grad_(True)
    s, t = features().requires_grad_(True), (features(seed=1) + 1).requires_grad_(True)
    method(s, t, labels(), prob, progress=1.0).backward()
    assert s.grad.abs().sum() > 0 and t.grad.abs().sum() > 0 and prob.grad is None
    gs, _ = grad_of(method, features(), features(seed=1), labels(), prob.detach())
    assert torch.isfinite(gs).all()


def test_dsan_needs_target_probabilities() -> None:
    with pytest.raises(ValueError, match="pass target_prob"):
        create_method("dsan")(features(), features(), labels(), progress=1.0)
