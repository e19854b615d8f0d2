"""Masks and positions for token sequences: masked mean pooling and sinusoidal positional codes."""
from __future__ import annotations

import math

import torch
from torch import Tensor


def masked_mean(x: Tensor, mask: Tensor) -> Tensor:
    """Mean of the valid tokens: ``x`` (B, N, D), ``mask`` (B, N) bool (True = real) -> (B, D).

    ``Σ_n m_n x_n / max(Σ_n m_n, 1)``: a row without any valid token pools to the zero vector.
    Padded tokens are excluded with ``where`` (not a multiply), so even non-finite padding is ignored.
    """
    m = mask.unsqueeze(-1)
    total = torch.where(m, x, x.new_zeros(())).sum(dim=1)
    return total / m.sum(dim=1).clamp_min(1).to(x.dtype)


def sinusoidal_positions(n: int, dim: int, *, device: torch.device | str | None = None, dtype: torch.dtype = torch.float32) -> Tensor:
    """Transformer positional codes (n, dim): ``PE[p, 2i] = sin(p / 10000^(2i/dim))``, ``PE[p, 2i+1] = cos(…)``.

    Fixed (not learned), so any sequence length works and position p has the same code whatever the
    padded length of the batch.
    """
    pos = torch.arange(n, device=device, dtype=torch.float32).unsqueeze(1)
    freq = torch.exp(torch.arange(0, dim, 2, device=device, dtype=torch.float32) * (-math.log(10000.0) / dim))
    pe = torch.zeros(n, dim, device=device, dtype=torch.float32)
    pe[:, 0::2] = torch.sin(pos * freq)
    pe[:, 1::2] = torch.cos(pos * freq)[:, : dim // 2]
    return pe.to(dtype)
