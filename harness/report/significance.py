"""Paired comparison of two classifiers on the same test rows, and mean ± std over runs.

Inputs are per-row arrays of equal length ``n``: ``y_true``, ``pred_a``, ``pred_b`` (any integer or
string labels; the union of values defines the classes). WAR = accuracy, UAR = mean recall over the
classes present in ``y_true`` (as :mod:`fdan.evaluation.metrics`).

- :func:`paired_bootstrap`: resample the *rows* ``n_boot`` times with replacement (the same rows for
  both methods, which keeps their pairing), compute ``δ* = M(b) − M(a)`` on each resample for
  ``M ∈ {WAR, UAR}``. Percentile interval ``[q_{α/2}, q_{1−α/2}]`` of ``δ*``; two-sided p-value
  ``p = min(1, 2 · min(#{δ* ≤ 0} + 1, #{δ* ≥ 0} + 1) / (n_boot + 1))`` — how often the resampled
  difference falls on the other side of zero, with the +1 that keeps a finite bootstrap from claiming
  p = 0. A resample's UAR averages over the classes present in that resample.
- :func:`mcnemar`: on the discordant pairs, ``n01`` = rows a gets right and b wrong, ``n10`` = a wrong
  and b right. Under H0 (equal accuracy) ``n01 ~ Binomial(n01 + n10, ½)``. With ``n01 + n10 < 25``
  (the usual rule, e.g. statsmodels') the **exact** two-sided binomial p-value
  ``min(1, 2 · Σ_{k ≤ min(n01, n10)} C(m, k) / 2^m)`` is used; otherwise the **chi-square with
  continuity correction** ``χ² = (|n01 − n10| − 1)² / (n01 + n10)``, 1 degree of freedom,
  ``p = erfc(√(χ²/2))``. ``exact=True/False`` forces either. No discordant pair → p = 1.
- :func:`mean_std`: pandas groupby over runs (folds × seeds): mean, sample std (ddof = 1; NaN for one
  run) and count of each metric.

numpy/pandas, and scipy.stats.binomtest for the exact McNemar p-value.
"""
from __future__ import annotations

import math
from typing import Iterable, Sequence

import numpy as np
import pandas as pd
from scipy.stats import binomtest

__all__ = ["paired_bootstrap", "mcnemar", "mean_std", "format_mean_std", "EXACT_BELOW"]

EXACT_BELOW = 25  # discordant pairs below which McNemar's test is the exact binomial one
_CHUNK = 256  # resamples evaluated at once (bounds memory to _CHUNK × n)


def _encode(y_true: Sequence, pred_a: Sequence, pred_b: Sequence) -> tuple[np.ndarray, np.ndarray, np.ndarray, int]:
    arrays = [np.asarray(x).ravel() for x in (y_true, pred_a, pred_b)]
    if len({len(a) for a in arrays}) != 1:
        raise ValueError(f"y_true, pred_a and pred_b must have the same length, got {[len(a) for a in arrays]}")
    if len(arrays[0]) == 0:
        raise ValueError("no rows to compare")
    for a in arrays:
        if (a.dtype.kind == "f" and np.isnan(a).any()) or (a.dtype.kind == "O" and pd.isna(a).any()):
            raise ValueError("labels or predictions contain NaN/None (a missing prediction?)")
    classes, codes = np.unique(np.concatenate(arrays), return_inverse=True)
    y, a, b = codes.reshape(3, -1)
    return y, a, b, len(classes)


def _war_uar(y: np.ndarray, correct: np.ndarray, num_classes: int) -> tuple[np.ndarray, np.ndarray]:
    """WAR and UAR ``(R,)`` for ``R`` resamples: ``y`` ``(R, n)`` class codes, ``correct`` ``(R, n)`` bool."""
    r = y.shape[0]
    war = correct.mean(axis=1)
    flat = (np.arange(r)[:, None] * num_classes + y).ravel()
    support = np.bincount(flat, minlength=r * num_classes).reshape(r, num_classes)
    hits = np.bincount(flat, weights=correct.ravel().astype(np.float64), minlength=r * num_classes).reshape(r, num_classes)
    present = support > 0
    recall = np.divide(hits, support, out=np.zeros_like(hits), where=present)
    uar = recall.sum(axis=1) / present.sum(axis=1)
    return war, uar


def paired_bootstrap(
    y_true: Sequence,
    pred_a: Sequence,
    pred_b: Sequence,
    *,
    n_boot: int = 2000,
    seed: int = 0,
    alpha: float = 0.05,
) -> dict[str, dict[str, float]]:
    """Paired bootstrap of ``M(b) − M(a)`` for WAR and UAR (positive = b is better).

    Returns:
        ``{"war": {...}, "uar": {...}}``, each with ``diff`` (on all rows), ``lo``, ``hi`` (the
        ``1 − alpha`` percentile interval), ``p`` (two-sided), ``n`` (rows) and ``n_boot``.
        Deterministic for a given ``seed``.
    """
    if n_boot < 1:
        raise ValueError(f"n_boot must be >= 1, got {n_boot}")
    if not 0 < alpha < 1:
        raise ValueError(f"alpha must lie in (0, 1), got {alpha}")
    y, a, b, c = _encode(y_true, pred_a, pred_b)
    n = len(y)
    ok_a, ok_b = a == y, b == y
    war_a, uar_a = _war_uar(y[None], ok_a[None], c)
    war_b, uar_b = _war_uar(y[None], ok_b[None], c)
    observed = {"war": float(war_b[0] - war_a[0]), "uar": float(uar_b[0] - uar_a[0])}
    rng = np.random.default_rng(seed)
    deltas: dict[str, list[np.ndarray]] = {"war": [], "uar": []}
    for start in range(0, n_boot, _CHUNK):
        idx = rng.integers(0, n, size=(min(_CHUNK, n_boot - start), n))
        boot_war_a, boot_uar_a = _war_uar(y[idx], ok_a[idx], c)
        boot_war_b, boot_uar_b = _war_uar(y[idx], ok_b[idx], c)
        deltas["war"].append(boot_war_b - boot_war_a)
        deltas["uar"].append(boot_uar_b - boot_uar_a)
    out: dict[str, dict[str, float]] = {}
    for metric, diff in observed.items():
        d = np.concatenate(deltas[metric])
        lo, hi = np.quantile(d, [alpha / 2, 1 - alpha / 2])
        tail = min(int((d <= 0).sum()), int((d >= 0).sum())) + 1
        out[metric] = {
            "diff": diff,
            "lo": float(lo),
            "hi": float(hi),
            "p": min(1.0, 2.0 * tail / (n_boot + 1)),
            "n": float(n),
            "n_boot": float(n_boot),
        }
    return out


def _binom_two_sided_half(k: int, m: int) -> float:
    """Exact two-sided p of ``k`` successes in ``m`` fair trials (scipy.stats.binomtest)."""
    return float(binomtest(k, m, 0.5, alternative="two-sided").pvalue)


def mcnemar(y_true: Sequence, pred_a: Sequence, pred_b: Sequence, *, exact: bool | None = None) -> dict[str, float | str]:
    """McNemar's test of equal accuracy of two classifiers on the same rows.

    Args:
        exact: ``None`` chooses the exact binomial test for fewer than :data:`EXACT_BELOW` discordant
            pairs and the continuity-corrected chi-square otherwise; ``True``/``False`` forces one.

    Returns:
        ``{"n01": a right & b wrong, "n10": a wrong & b right, "statistic", "p", "method"}`` where
        ``method`` is ``"exact"`` (statistic = ``min(n01, n10)``) or ``"chi2_cc"`` (statistic = χ²).
    """
    y, a, b, _ = _encode(y_true, pred_a, pred_b)
    ok_a, ok_b = a == y, b == y
    n01, n10 = int((ok_a & ~ok_b).sum()), int((~ok_a & ok_b).sum())
    m = n01 + n10
    use_exact = m < EXACT_BELOW if exact is None else exact
    if use_exact:
        stat, p, method = float(min(n01, n10)), (_binom_two_sided_half(n01, m) if m else 1.0), "exact"
    else:
        stat = (abs(n01 - n10) - 1) ** 2 / m if m else 0.0
        p, method = (math.erfc(math.sqrt(stat / 2)) if m else 1.0), "chi2_cc"
    return {"n01": n01, "n10": n10, "statistic": stat, "p": p, "method": method}


def mean_std(runs: pd.DataFrame, by: str | Iterable[str], metrics: Iterable[str] = ("war", "uar")) -> pd.DataFrame:
    """Mean, sample std and count of ``metrics`` over the runs (rows: folds × seeds) of each group.

    Returns:
        One row per group with columns ``<metric>_mean``, ``<metric>_std`` and ``n_runs``.
    """
    by = [by] if isinstance(by, str) else list(by)
    metrics = list(metrics)
    missing = [c for c in [*by, *metrics] if c not in runs.columns]
    if missing:
        raise ValueError(f"runs lack column(s) {missing}; they have {list(runs.columns)}")
    grouped = runs.groupby(by, sort=True, dropna=False)
    stats = grouped[metrics].agg(["mean", "std"])
    stats.columns = [f"{metric}_{stat}" for metric, stat in stats.columns]
    stats["n_runs"] = grouped.size()
    return stats.reset_index()


def format_mean_std(mean: float, std: float, scale: float = 100.0, digits: int = 2) -> str:
    """``"81.16 ± 1.20"`` (scaled to percent by default); a single run (std NaN) prints its mean alone."""
    if math.isnan(std):
        return f"{mean * scale:.{digits}f}"
    return f"{mean * scale:.{digits}f} ± {std * scale:.{digits}f}"
