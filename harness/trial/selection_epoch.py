"""Inside a trial: every epoch, the scores of the cross-corpus selection rules (`sel_<rule>`, higher is better).

Built once per trial from the unit: the source validation loader (labelled), a loader over the unit's
unlabelled target adaptation rows (at most :data:`MAX_TARGET_ROWS`, their labels never read) and, for
`target_oracle`, the labelled target validation speakers (`target_val_idx`, held out from the test
fold). Scoring runs the model in eval mode (BatchNorm on its running statistics), so it adapts nothing;
for a method that re-estimates them on the target (adabn) the target-side scores are those of that model
(fdan.training.target_statistics: exact pooled moments of the adaptation rows, at most MAX_TARGET_ROWS of
them), as its held-out test will be (there: of all adaptation rows).
"""
from __future__ import annotations

from typing import Any, Callable

import torch
from torch.utils.data import DataLoader

from fdan.selection.outputs import collect_outputs
from fdan.selection.scores import rule_scores
from fdan.training.target_statistics import with_target_statistics
from harness.trial.spec import TrialSpec

MAX_TARGET_ROWS = 1024  # enough for the domain classifier and SND's neighbourhoods, bounded per epoch


class EpochSelection:
    """``scores(model, metrics)`` -> ``{"sel_<rule>": value}`` for the unit's rules."""

    def __init__(self, rules: list[str], head: str, metric: str, source_val: DataLoader, target: DataLoader | None,
                 target_val: DataLoader | None, device: torch.device, amp: str, statistics: DataLoader | None = None) -> None:
        self.rules, self.head, self.metric = rules, head, metric
        self.source_val, self.target, self.target_val = source_val, target, target_val
        self.device, self.amp, self.statistics = device, amp, statistics

    @classmethod
    def create(cls, spec: TrialSpec, loader: Callable[..., DataLoader], val_loader: DataLoader,
               device: torch.device, amp: str, target_statistics: bool = False) -> "EpochSelection | None":
        """None where the unit records no rule (within-corpus, `paper`, `source_val` alone). ``target_statistics``:
        the method's target-side scores use BatchNorm statistics of the adaptation rows (adabn)."""
        rules, unit = list(spec.rules), spec.unit
        if not rules:
            return None
        label_free = any(r not in ("source_val", "target_oracle") for r in rules)
        if label_free and not unit.adapt_idx:
            raise ValueError("label-free selection rules need unlabelled target rows (pairs.cross_folds)")
        # one loader over the unlabelled adaptation rows: the label-free rules' and adabn's statistics (adabn scores
        # every target-side rule on them; source_val scores the model on source rows as trained)
        statistics_needed = target_statistics and bool(unit.adapt_idx) and any(r != "source_val" for r in rules)
        rows = None
        if label_free or statistics_needed:
            rows = loader(unit.target_dir, unit.adapt_idx[:MAX_TARGET_ROWS], False, False, 0)
        target_val = None
        if "target_oracle" in rules:
            if not unit.target_val_idx:
                raise ValueError("target_oracle needs labelled target validation speakers (target_val_idx)")
            target_val = loader(unit.target_dir, unit.target_val_idx, True, False, 0)
        head, metric = spec.rule_metric.split("_", 1)
        return cls(rules, head, metric, val_loader, rows if label_free else None, target_val, device, amp,
                   rows if statistics_needed else None)

    def scores(self, model: torch.nn.Module, metrics: dict[str, float],
               evaluate: Callable[[torch.nn.Module, DataLoader], Any]) -> dict[str, float]:
        """This epoch's ``sel_<rule>`` values. ``metrics`` holds the epoch's ``val_*`` numbers; ``evaluate``
        gives the trial's own ``EvalResult`` of a model on a labelled loader (for target_oracle)."""
        key = f"{self.head}_{self.metric}"
        needs_val = any(r in ("iwv", "dev") for r in self.rules)
        source = collect_outputs(model, self.source_val, self.head, self.device, amp=self.amp) if needs_val else None
        on_target = model if self.statistics is None else with_target_statistics(model, self.statistics, self.device)
        target = collect_outputs(on_target, self.target, self.head, self.device, amp=self.amp) if self.target else None
        oracle = None
        if self.target_val is not None:
            result = evaluate(on_target, self.target_val).metrics
            oracle = result.get(self.head, next(iter(result.values())))[self.metric]
        values = rule_scores(self.rules, source, target, source_metric=metrics[f"val_{key}"], target_metric=oracle)
        return {f"sel_{rule}": v for rule, v in values.items()}
