"""Scalar training schedules: the LMMD weight ramp λ(p) and the paper's learning-rate decay."""
from __future__ import annotations

import math

__all__ = ["lambda_ramp", "paper_lr_factor"]


def lambda_ramp(p: float, gamma: float = 10.0, warmup: float = 0.0) -> float:
    """DANN/DSAN ramp ``λ(p) = 2 / (1 + exp(−γ q)) − 1`` for training progress ``p`` (0 → 1).

    ``q = max(0, p − w) / (1 − w)`` with ``w = warmup``: λ is 0 for the first fraction w of training,
    then ramps over the rest (w = 0: the plain ramp, q = p). λ(0) = 0, it increases monotonically and
    tends to 1 (λ(1) ≈ 0.9999 for γ = 10). The public FDAN code uses γ = 1 with p = iteration / 2000,
    so its λ only reaches 0.462. Computed as the identical ``tanh(γ q / 2)``, which cannot overflow.
    """
    if not 0.0 <= warmup < 1.0:
        raise ValueError(f"warmup must lie in [0, 1), got {warmup}")
    q = max(0.0, p - warmup) / (1.0 - warmup)
    return math.tanh(gamma * q / 2.0)


def paper_lr_factor(step: int, gamma: float = 3e-4, power: float = 0.75) -> float:
    """Learning-rate multiplier ``(1 + γ · step)^(−power)`` (DSAN / FDAN code; 1 at step 0)."""
    if step < 0:
        raise ValueError(f"step must be >= 0, got {step}")
    return (1.0 + gamma * step) ** (-power)
