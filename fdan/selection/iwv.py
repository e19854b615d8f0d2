"""Importance-weighted validation (Sugiyama, Krauledat & Müller, JMLR 2007).

The target risk estimated from labelled source-validation rows: ``R_IWV = mean_i(w_i · ℓ_i)`` with
``w`` the density ratio (fdan.selection.domain_classifier) and ``ℓ`` ``(n,)`` the per-row loss (for
example the cross-entropy ``−log p_y``). Lower is better.
"""
from __future__ import annotations

import numpy as np


def check_losses_and_weights(losses: np.ndarray, weights: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Both as float64 vectors of one non-empty length, else ValueError."""
    ell, w = np.asarray(losses, dtype=np.float64).ravel(), np.asarray(weights, dtype=np.float64).ravel()
    if ell.shape != w.shape or len(ell) == 0:
        raise ValueError(f"losses and weights must be non-empty and of one length; got {ell.shape}, {w.shape}")
    return ell, w


def iwv_risk(losses: np.ndarray, weights: np.ndarray) -> float:
    """``mean(w · ℓ)`` over the source-validation rows."""
    ell, w = check_losses_and_weights(losses, weights)
    return float(np.mean(w * ell))
