"""Inside a trial: every epoch, the scores of the cross-corpus selection rules (`sel_<rule>`, higher is better).

Built once per trial from the unit: the source validation loader (labelled), a loader over the unit's
unlabelled target adaptation rows (at most :data:`MAX_TARGET_ROWS`, their labels never read) and, for
`target_oracle`, the labelled target validation speakers (`target_val_idx`, held out from the test
fold). Scoring runs the model in eval mode (BatchNorm on its running statistics), so it adapts nothing.
"""
from __future__ import annotations

from typing import Any, Callable

import torch
from torch.utils.data import DataLoader

from fdan.selection.outputs import collect_outputs
from fdan.selection.scores import rule_scores
from harness.trial.spec import TrialSpec

MAX_TARGET_ROWS = 1024  # enough for the domain classifier and SND's neighbourhoods, bounded per epoch


class EpochSelection:
    """``scores(model, metrics)`` -> ``{"sel_<rule>": value}`` for the unit's rules."""

    def __init__(self, rules: list[str], head: str, metric: str, source_val: DataLoader, target: DataLoader | None,
                 target_val: DataLoader | None, device: torch.device, amp: str) -> None:
        self.rules, self.head, self.metric = rules, head, metric
        self.source_val, self.target, self.target_val = source_val, target, target_val
        self.device, self.amp = device, amp

    @classmethod
    def create(cls, spec: TrialSpec, loader: Callable[..., DataLoader], val_loader: DataLoader,
               device: torch.device, amp: str) -> "EpochSelection | None":
        """None where the unit records no rule (within-corpus, `paper`, `source_val` alone)."""
        rules, unit = list(spec.rules), spec.unit
        if not rules:
            return None
        target = None
        if any(r not in ("source_val", "target_oracle") for r in rules):
            if not unit.adapt_idx:
                raise ValueError("label-free selection rules need unlabelled target rows (pairs.cross_folds)")
            target = loader(unit.target_dir, unit.adapt_idx[:MAX_TARGET_ROWS], False, False, 0)
        target_val = None
        if "target_oracle" in rules:
            if not unit.target_val_idx:
                raise ValueError("target_oracle needs labelled target validation speakers (target_val_idx)")
            target_val = loader(unit.target_dir, unit.target_val_idx, True, False, 0)
        head, metric = spec.rule_metric.split("_", 1)
        return cls(rules, head, metric, val_loader, target, target_val, device, amp)

    def scores(self, model: torch.nn.Module, metrics: dict[str, float],
               evaluate: Callable[[DataLoader], Any]) -> dict[str, float]:
        """This epoch's ``sel_<rule>`` values. ``metrics`` holds the epoch's ``val_*`` numbers; ``evaluate``
        gives the trial's own ``EvalResult`` of a labelled loader (for target_oracle)."""
        key = f"{self.head}_{self.metric}"
        needs_val = any(r in ("iwv", "dev") for r in self.rules)
        source = collect_outputs(model, self.source_val, self.head, self.device, amp=self.amp) if needs_val else None
        target = collect_outputs(model, self.target, self.head, self.device, amp=self.amp) if self.target else None
        oracle = None
        if self.target_val is not None:
            result = evaluate(self.target_val).metrics
            oracle = result.get(self.head, next(iter(result.values())))[self.metric]
        values = rule_scores(self.rules, source, target, source_metric=metrics[f"val_{key}"], target_metric=oracle)
        return {f"sel_{rule}": v for rule, v in values.items()}
