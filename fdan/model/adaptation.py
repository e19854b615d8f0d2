"""The feed-forward feature adaptation network whose outputs LMMD aligns across modalities."""
from __future__ import annotations

import torch
from torch import nn


class AdaptationNetwork(nn.Module):
    """Two-layer feed-forward network: (B, in_dim) -> (B, out_dim), ReLU outputs (as DSAN's bottleneck)."""

    def __init__(self, in_dim: int, out_dim: int, dropout: float = 0.2) -> None:
        super().__init__()
        self.net = nn.Sequential(
            nn.Linear(in_dim, out_dim),
            nn.LayerNorm(out_dim),
            nn.ReLU(inplace=True),
            nn.Dropout(dropout),
            nn.Linear(out_dim, out_dim),
            nn.ReLU(inplace=True),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x)
