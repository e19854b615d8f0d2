"""Prediction entropy and information maximisation of unlabelled target predictions ``P`` ``(n, C)``.

- ``prediction_entropy = mean_i H(p_i)``, ``H(p) = −Σ_c p_c log p_c``: lower is better — but a model
  that predicts one class everywhere scores best, so never trust it alone.
- ``information_maximisation = H(mean_i p_i) − mean_i H(p_i)`` (confident *and* diverse predictions;
  pytorch-adapt's IM validator): higher is better.
"""
from __future__ import annotations

import numpy as np


def _entropy(p: np.ndarray) -> np.ndarray:
    return -(p * np.log(np.maximum(p, 1e-300))).sum(axis=-1)


def _probabilities(target_prob: np.ndarray) -> np.ndarray:
    p = np.asarray(target_prob, dtype=np.float64)
    if p.ndim != 2 or len(p) == 0:
        raise ValueError(f"need (n, C) probabilities, got {p.shape}")
    return p


def prediction_entropy(target_prob: np.ndarray) -> float:
    """Mean entropy (nats) of the rows of ``(n, C)`` probabilities."""
    return float(_entropy(_probabilities(target_prob)).mean())


def information_maximisation(target_prob: np.ndarray) -> float:
    """``H(mean p) − mean H(p)`` (nats)."""
    p = _probabilities(target_prob)
    return float(_entropy(p.mean(axis=0)) - _entropy(p).mean())
