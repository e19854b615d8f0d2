"""Label-free model-selection scorers for cross-corpus runs (no target labels), as plain functions.

Selecting a cross-corpus model on labelled *source* validation speakers prefers models that adapt
least; selecting on labelled *target* speakers is an oracle. These scorers need only source-validation
rows (labelled) and unlabelled target rows: their features ``(n, d)``, class probabilities ``(n, C)``
and, for the source rows, per-row losses ``(n,)``.

- :func:`density_ratio` (domain_classifier): ``w(x) = (n_s / n_t) · d(x) / (1 − d(x))``
- :func:`iwv_risk` (Sugiyama et al. 2007) and :func:`dev_risk` (You et al., ICML 2019): lower is better
- :func:`snd` (Saito et al., ICCV 2021): higher is better
- :func:`prediction_entropy` (lower is better) and :func:`information_maximisation` (higher is better)

:data:`RULES` names every selection rule the harness knows (``protocol.cross_selection``) with its
direction; ``source_val`` and ``target_oracle`` are the labelled metrics themselves.
"""
from __future__ import annotations

from fdan.selection.dev import dev_risk
from fdan.selection.domain_classifier import density_ratio
from fdan.selection.entropy import information_maximisation, prediction_entropy
from fdan.selection.iwv import iwv_risk
from fdan.selection.snd import snd

# rule name -> True when a higher value is better
RULES: dict[str, bool] = {
    "source_val": True,  # the selection metric on labelled source validation speakers (today's rule)
    "iwv": False,  # importance-weighted source-validation loss
    "dev": False,  # deep embedded validation: IWV with a control variate
    "snd": True,  # soft neighbourhood density of the target predictions
    "entropy": False,  # mean entropy of the target predictions
    "im": True,  # information maximisation: H(mean p) − mean H(p)
    "target_oracle": True,  # the selection metric on labelled target speakers: an upper bound, never a method
}

__all__ = ["RULES", "density_ratio", "dev_risk", "information_maximisation", "iwv_risk", "prediction_entropy", "snd"]
