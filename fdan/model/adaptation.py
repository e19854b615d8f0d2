"""The feed-forward feature adaptation network whose outputs LMMD aligns across modalities."""
from __future__ import annotations

from typing import Literal

import torch
from torch import nn


class AdaptationNetwork(nn.Module):
    """Two-layer feed-forward network (B, in_dim) -> (B, out_dim).

    ``output="layernorm"`` (default): ``LN₀(W₂ ReLU(LN(W₁ x)))`` with a LayerNorm *without* gain or
    bias, so every feature vector has mean 0 and norm √out_dim. ``output="relu"``: DSAN's bottleneck
    (ReLU outputs). Why the default is normalised: LMMD's bandwidth is the detached mean pairwise
    distance, so at every step shrinking the whole feature cloud lowers the loss; with ReLU outputs
    a large LMMD weight (α = 10) drives every unit to exactly 0 (dead ReLUs, LMMD = 0, heads at chance).
    A fixed feature scale removes that direction. No dropout inside: the aligned features are
    dropout-free (FDAN applies dropout to the classifier inputs).
    """

    def __init__(self, in_dim: int, out_dim: int, output: Literal["layernorm", "relu"] = "layernorm") -> None:
        super().__init__()
        if output not in ("layernorm", "relu"):
            raise ValueError(f"output must be 'layernorm' or 'relu', got {output!r}")
        last = nn.LayerNorm(out_dim, elementwise_affine=False) if output == "layernorm" else nn.ReLU(inplace=True)
        self.net = nn.Sequential(nn.Linear(in_dim, out_dim), nn.LayerNorm(out_dim), nn.ReLU(inplace=True), nn.Linear(out_dim, out_dim), last)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x)
