"""Holm's step-down correction of m p-values (family-wise error rate ≤ α over all comparisons of one call).

Sort ascending, ``p_(1) ≤ … ≤ p_(m)``; ``p_holm(i) = max_{j ≤ i} min(1, (m − j + 1) · p_(j))``, returned in the
input order. Reject at level α where ``p_holm ≤ α``.
"""
from __future__ import annotations

from typing import Sequence

import numpy as np


def holm(p_values: Sequence[float]) -> np.ndarray:
    """Holm-adjusted p-values ``(m,)`` in the order given; NaN entries stay NaN and do not count towards m."""
    p = np.asarray(p_values, dtype=np.float64)
    out = np.full(p.shape, np.nan)
    known = np.flatnonzero(~np.isnan(p))
    if (p[known] < 0).any() or (p[known] > 1).any():
        raise ValueError(f"p-values must lie in [0, 1], got {p[known].tolist()}")
    m = len(known)
    order = known[np.argsort(p[known], kind="stable")]
    scaled = np.minimum(1.0, (m - np.arange(m)) * p[order])
    out[order] = np.maximum.accumulate(scaled)
    return out
