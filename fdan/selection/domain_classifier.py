"""Importance weights from a domain classifier: ``w(x) ≈ p_target(x) / p_source(x)``.

A logistic regression ``d(x) = σ(xᵀβ + b)`` separates target rows (1) from source rows (0) on the
features (standardised with the pooled mean / std), fitted by Newton's method on the L2-penalised
log-likelihood (penalty ``l2 · ‖β‖²/2``, the intercept free). By Bayes' rule

    w(x) = (n_s / n_t) · d(x) / (1 − d(x))

(the class-prior correction makes ``E_source[w] ≈ 1``). ``d`` is **cross-fitted** (DEV fits it on one
split and weighs the other): the rows are split into ``folds`` parts, each part's weights come from a
classifier fitted on the others, so no row is weighed by a classifier that saw it.
"""
from __future__ import annotations

import numpy as np


def _fit_logistic(x: np.ndarray, y: np.ndarray, l2: float, iterations: int = 50) -> np.ndarray:
    """``(d + 1,)`` coefficients (intercept last) of the L2-penalised logistic regression."""
    xb = np.hstack([x, np.ones((len(x), 1))])
    beta = np.zeros(xb.shape[1])
    penalty = np.full(xb.shape[1], l2)
    penalty[-1] = 0.0
    for _ in range(iterations):
        p = 1.0 / (1.0 + np.exp(-np.clip(xb @ beta, -30, 30)))
        grad = xb.T @ (p - y) + penalty * beta
        hess = (xb * (p * (1 - p))[:, None]).T @ xb + np.diag(penalty + 1e-9)
        step = np.linalg.solve(hess, grad)
        beta -= step
        if np.abs(step).max() < 1e-8:
            break
    return beta


def density_ratio(source_feat: np.ndarray, target_feat: np.ndarray, *, l2: float = 1.0, folds: int = 2,
                  seed: int = 0, clip: float = 50.0) -> np.ndarray:
    """Cross-fitted weights ``w`` ``(n_s,)`` of the source rows (module docstring), clipped to ``[0, clip]``.

    Args:
        source_feat: ``(n_s, d)`` features of the labelled source-validation rows.
        target_feat: ``(n_t, d)`` features of unlabelled target rows.
    """
    s, t = np.asarray(source_feat, dtype=np.float64), np.asarray(target_feat, dtype=np.float64)
    if s.ndim != 2 or t.ndim != 2 or s.shape[1] != t.shape[1]:
        raise ValueError(f"features must be (n_s, d) and (n_t, d); got {s.shape} and {t.shape}")
    if len(s) < folds or len(t) < folds:
        raise ValueError(f"need at least {folds} source and target rows, got {len(s)} and {len(t)}")
    z = np.vstack([s, t])
    z = (z - z.mean(axis=0)) / np.maximum(z.std(axis=0), 1e-12)
    y = np.r_[np.zeros(len(s)), np.ones(len(t))]
    part = np.random.default_rng(seed).permutation(len(z)) % folds
    w = np.empty(len(s))
    for k in range(folds):
        beta = _fit_logistic(z[part != k], y[part != k], l2)
        rows = np.flatnonzero((part == k) & (y == 0))
        logit = np.clip(z[rows] @ beta[:-1] + beta[-1], -30, 30)
        w[rows] = np.exp(logit) * len(s) / len(t)  # d / (1 − d) = exp(logit)
    return np.clip(w, 0.0, clip)
