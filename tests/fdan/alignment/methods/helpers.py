"""Feature batches shared by the alignment-method tests."""
from __future__ import annotations

import torch

D = 6
C = 3


def features(n: int = 12, d: int = D, seed: int = 0, dtype: torch.dtype = torch.float64) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    return torch.randn(n, d, generator=g, dtype=dtype)


def labels(n: int = 12, c: int = C) -> torch.Tensor:
    return torch.arange(n) % c


def leaf(x: torch.Tensor) -> torch.Tensor:
    return x.detach().clone().requires_grad_(True)


def grad_of(method, source, target, label, prob=None, progress=1.0) -> tuple[torch.Tensor, torch.Tensor]:
    """Gradients of the method's loss with respect to fresh leaf copies of both feature batches."""
    s, t = leaf(source), leaf(target)
    method(s, t, label, prob, progress=progress).backward()
    return s.grad, t.grad
