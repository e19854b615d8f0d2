"""Soft neighbourhood density (Saito, Kim, Teterwak, Sclaroff, Darrell & Saenko, ICCV 2021, arXiv 2108.10860).

On the unlabelled target rows' class probabilities ``P`` ``(n, C)`` (or features): L2-normalise the
rows, ``S = P Pᵀ`` with the diagonal removed (a row is not its own neighbour), row-softmax of
``S / τ`` (``τ = 0.05``), and SND = the mean row entropy. High when every row has many close
neighbours (dense, consistent clusters). Higher is better.
"""
from __future__ import annotations

import numpy as np


def snd(target_prob: np.ndarray, tau: float = 0.05) -> float:
    """SND of ``(n, C)`` target probabilities (n ≥ 2)."""
    p = np.asarray(target_prob, dtype=np.float64)
    if p.ndim != 2 or len(p) < 2:
        raise ValueError(f"need (n, C) probabilities with n >= 2, got {p.shape}")
    if tau <= 0:
        raise ValueError(f"tau must be > 0, got {tau}")
    p = p / np.maximum(np.linalg.norm(p, axis=1, keepdims=True), 1e-12)
    n = len(p)
    s = (p @ p.T)[~np.eye(n, dtype=bool)].reshape(n, n - 1) / tau
    s -= s.max(axis=1, keepdims=True)
    q = np.exp(s)
    q /= q.sum(axis=1, keepdims=True)
    return float(np.mean(-(q * np.log(np.maximum(q, 1e-300))).sum(axis=1)))
