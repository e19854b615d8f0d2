"""Model selection: which epoch of a run is kept, and the one tie-break rule of fdan-bench.

A run scores every epoch on one split with one metric (:class:`Selection`): ``metric`` is
``<head>_<metric>`` (e.g. ``fused_uar``), a bare ``<metric>`` (the first head present among fused,
audio, face) or ``loss`` (negated, so that a larger score is always better); ``split`` is ``val``
(held-out training speakers) or ``test`` (only the harness's ``paper`` protocol, by design).

**The rule, said once here**: the kept epoch has the highest score; on equal scores the **later**
epoch is kept; a NaN score never counts. The later epoch wins because Ray's checkpoint managers
(Train's and Tune's ``CheckpointConfig(num_to_keep=1, checkpoint_score_order="max")``) keep the later
of equally scored checkpoints, so the checkpoint Ray keeps and the epoch this rule names are the same.
:func:`improves` (epoch by epoch, in ``fdan.training.fit``) and :func:`best_index` (over a finished
history, in ``harness.tuning.collect``) are the two forms of that rule.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Sequence

from fdan.evaluation.evaluate import HEADS, EvalResult
from fdan.evaluation.metrics import parse_selection_metric
from fdan.selection import RULES

__all__ = ["RULE_SPLIT", "Selection", "best_index", "improves"]

RULE_SPLIT = "sel"  # Selection(metric=<rule>, split="sel"): the score fit's epoch_scores recorded as sel_<rule>


@dataclass(frozen=True)
class Selection:
    """Score epochs by ``metric`` on ``split`` (module doc)."""

    metric: str = "fused_uar"
    split: str = "val"

    def __post_init__(self) -> None:
        if self.split == RULE_SPLIT:  # a cross-corpus selection rule (fdan.selection.RULES)
            if self.metric not in RULES:
                raise ValueError(f"unknown selection rule {self.metric!r}; known: {', '.join(RULES)}")
            return
        parse_selection_metric(self.metric, HEADS)  # a clear ValueError for an unknown metric
        if self.split not in ("val", "test"):
            raise ValueError(f"selection split must be val or test, got {self.split!r}")

    @property
    def key(self) -> str:
        """The reported column the score is read from, e.g. ``val_fused_uar`` (``val_loss`` for loss)."""
        return f"{self.split}_{self.metric}"

    def score(self, result: EvalResult) -> float:
        """The score of one evaluation, signed so that larger is better (``loss`` is negated)."""
        head, name = parse_selection_metric(self.metric, HEADS)
        if name == "loss":
            return -float(result.loss)
        if head is None:
            head = next(h for h in HEADS if h in result.metrics)
        if head not in result.metrics:
            raise ValueError(f"selection metric {self.metric!r}: the model produced no {head!r} head "
                             f"(heads: {sorted(result.metrics)})")
        return float(result.metrics[head][name])


def improves(score: float, best: float) -> bool:
    """Whether an epoch scoring ``score`` replaces the kept one (best so far ``best``; ties: the later wins)."""
    return not math.isnan(score) and score >= best


def best_index(scores: Sequence[float]) -> int | None:
    """Position of the kept epoch among ``scores`` (in epoch order) by :func:`improves`; None if all are NaN."""
    best, kept = -math.inf, None
    for i, score in enumerate(scores):
        if improves(float(score), best):
            best, kept = float(score), i
    return kept
