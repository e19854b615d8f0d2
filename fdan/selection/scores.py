"""Every selection rule's score of one model state, **higher is better** for all (risks and entropies negated).

Inputs: :class:`~fdan.selection.outputs.HeadOutputs` of the labelled source-validation rows, of the
unlabelled target rows and (``target_oracle`` only) of labelled target validation speakers, plus the
labelled metric of each validation set (``source_val``, ``target_oracle``).

    source_val    = metric on source validation speakers          (given)
    iwv           = −mean(w · ℓ)                                   (w: cross-fitted density ratio, ℓ: −log p_y)
    dev           = −R_DEV(ℓ, w)
    snd           = SND(P_target)
    entropy       = −mean H(P_target)
    im            = H(mean P_target) − mean H(P_target)
    target_oracle = metric on labelled target validation speakers  (given; an upper bound, never a method)
"""
from __future__ import annotations

from fdan.selection.dev import dev_risk
from fdan.selection.domain_classifier import density_ratio
from fdan.selection.entropy import information_maximisation, prediction_entropy
from fdan.selection.iwv import iwv_risk
from fdan.selection.outputs import HeadOutputs
from fdan.selection.snd import snd


def rule_scores(rules: list[str], source_val: HeadOutputs | None, target: HeadOutputs | None, *,
                source_metric: float, target_metric: float | None = None, seed: int = 0) -> dict[str, float]:
    """``{rule: score}`` for ``rules`` (module docstring); a rule whose inputs are missing raises ValueError."""
    out: dict[str, float] = {}
    weights = None
    for rule in rules:
        if rule == "source_val":
            out[rule] = float(source_metric)
        elif rule == "target_oracle":
            if target_metric is None:
                raise ValueError("target_oracle needs labelled target validation speakers")
            out[rule] = float(target_metric)
        else:
            if target is None or (rule in ("iwv", "dev") and source_val is None):
                raise ValueError(f"rule {rule!r} needs target rows" + (" and source validation rows" if rule in ("iwv", "dev") else ""))
            if rule in ("iwv", "dev"):
                if weights is None:
                    weights = density_ratio(source_val.feat, target.feat, seed=seed)
                risk = iwv_risk if rule == "iwv" else dev_risk
                out[rule] = -risk(source_val.losses(), weights)
            elif rule == "snd":
                out[rule] = snd(target.prob)
            elif rule == "entropy":
                out[rule] = -prediction_entropy(target.prob)
            elif rule == "im":
                out[rule] = information_maximisation(target.prob)
            else:
                raise ValueError(f"unknown selection rule {rule!r}")
    return out
