"""Deep embedded validation (You, Wang, Long & Wang, ICML 2019; thuml/Deep-Embedded-Validation ``get_dev_risk``).

IWV with the weights themselves as a control variate (``E_source[w] = 1``):

    L_i = w_i · ℓ_i,   η = −Cov(L, w) / Var(w),   R_DEV = mean(L) + η · mean(w) − η

which keeps IWV's expectation and lowers its variance. ``Var(w) = 0`` (all weights equal) gives
``η = 0``, i.e. IWV. Lower is better.
"""
from __future__ import annotations

import numpy as np

from fdan.selection.iwv import check_losses_and_weights


def dev_risk(losses: np.ndarray, weights: np.ndarray) -> float:
    """``R_DEV`` of per-row losses ``ℓ`` ``(n,)`` and density-ratio weights ``w`` ``(n,)``."""
    ell, w = check_losses_and_weights(losses, weights)
    weighted = w * ell
    var = float(np.var(w, ddof=1)) if len(w) > 1 else 0.0
    eta = 0.0 if var <= 0 else -float(np.cov(np.vstack([weighted, w]), ddof=1)[0, 1]) / var
    return float(np.mean(weighted) + eta * np.mean(w) - eta)
