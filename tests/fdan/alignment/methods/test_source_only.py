"""source_only: the no-alignment baseline."""
from __future__ import annotations

import torch

from fdan.alignment.methods import create_method
from tests.fdan.alignment.methods.helpers import features, labels


def test_source_only_is_an_exact_zero_that_leaves_gradients_alone() -> None:
    method = create_method("source_only")
    s = features().requires_grad_(True)
    t = (features(seed=1) * 5 + 3).requires_grad_(True)
    loss = method(s, t, labels(), progress=1.0)
    assert loss.item() == 0.0 and loss.ndim == 0 and not loss.requires_grad
    ce = (s**2).sum()
    (ce + loss).backward()
    torch.testing.assert_close(s.grad, 2 * s.detach())
    assert t.grad is None and not method.has_parameters and method.divergence(s, t, labels(), None).item() == 0.0
