"""dann: gradient reversal + domain discriminator."""
from __future__ import annotations

import math

import pytest
import torch

from fdan.alignment.methods import create_method
from fdan.alignment.methods.dann import gradient_reversal
from fdan.training.schedule import lambda_ramp
from tests.fdan.alignment.methods.helpers import D, features, labels


def _dann(**kw):
    torch.manual_seed(0)
    return create_method("dann", feature_dim=D, hidden_dim=32, **kw)


def test_gradient_reversal_is_identity_forward_and_flips_the_gradient() -> None:
    x = features(5).requires_grad_(True)
    w = torch.randn(5, D, dtype=torch.float64)
    y = gradient_reversal(x, 0.3)
    torch.testing.assert_close(y, x)
    (y * w).sum().backward()
    torch.testing.assert_close(x.grad, -0.3 * w)


def test_dann_trains_its_discriminator_and_reverses_the_feature_gradient() -> None:
    method = _dann()
    assert method.has_parameters and any(k.startswith("discriminator.") for k in method.state_dict())
    s = (features(16, dtype=torch.float32) + 1).requires_grad_(True)
    t = features(16, seed=1, dtype=torch.float32).requires_grad_(True)
    progress = 0.2
    loss = method(s, t, labels(16), progress=progress)
    loss.backward()
    params = list(method.parameters())
    assert all(p.grad is not None and p.grad.abs().sum() > 0 for p in params)
    grads_reversed = [p.grad.clone() for p in params]
    gs_reversed = s.grad.clone()
    # the same loss without reversal: identical discriminator gradients, feature gradients × −λ(p)
    method.zero_grad()
    s.grad = None
    method.divergence(s, t, labels(16), None).backward()
    for a, b in zip(grads_reversed, method.parameters()):
        torch.testing.assert_close(a, b.grad)
    torch.testing.assert_close(gs_reversed, -lambda_ramp(progress, 10.0) * s.grad)
    torch.testing.assert_close(loss, method.divergence(s, t, labels(16), None))  # value is L_d itself


def test_dann_at_progress_zero_trains_only_the_discriminator() -> None:
    method = _dann()
    s, t = features(8, dtype=torch.float32).requires_grad_(True), features(8, seed=1, dtype=torch.float32).requires_grad_(True)
    method(s, t, labels(8), progress=0.0).backward()
    assert s.grad.abs().sum() == 0 and all(p.grad.abs().sum() > 0 for p in method.parameters())


def _held_out_domain_loss(shift: float, steps: int = 100) -> float:
    """L_d on fresh rows after training only the discriminator (chance, ln 2, is the best for one distribution)."""
    method = _dann()
    s = features(64, seed=3, dtype=torch.float32) + shift
    t = features(64, seed=4, dtype=torch.float32)
    for _ in range(steps):  # plain gradient descent (a torch.optim optimizer would import torch._dynamo: seconds)
        method.zero_grad()
        method(s, t, labels(64), progress=1.0).backward()
        with torch.no_grad():
            for p in method.parameters():
                p -= 0.2 * p.grad
    with torch.no_grad():
        fresh_s = features(256, seed=5, dtype=torch.float32) + shift
        return method.divergence(fresh_s, features(256, seed=6, dtype=torch.float32), labels(256), None).item()


def test_dann_domain_loss_is_chance_for_one_distribution_and_drops_with_a_shift() -> None:
    same, shifted = _held_out_domain_loss(0.0), _held_out_domain_loss(3.0)
    assert same > math.log(2) - 0.05 and shifted < 0.1
    method = _dann()
    x = features(16, dtype=torch.float32)
    assert method.divergence(x, x, labels(16), None).item() >= math.log(2) - 1e-6  # ≥ ln 2 when S = T


def test_dann_needs_feature_dim_and_its_parameters_reach_an_optimizer() -> None:
    with pytest.raises(ValueError, match="needs feature_dim"):
        create_method("dann")
    method = _dann()
    opt = torch.optim.SGD(method.parameters(), lr=0.1)
    before = [p.detach().clone() for p in method.parameters()]
    method(features(8, dtype=torch.float32) + 2, features(8, seed=1, dtype=torch.float32), labels(8), progress=1.0).backward()
    opt.step()
    assert all(not torch.equal(a, b) for a, b in zip(before, method.parameters()))
