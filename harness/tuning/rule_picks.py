"""Every cross-corpus selection rule's own pick of a unit, tested on the held-out rows like the primary's.

A unit swept with several `protocol.cross_selection` rules selects its trial by the first (primary,
harness.tuning.unit). Each other rule ``r`` picks, from the same trials and without retraining, the trial and
epoch with the highest ``sel_<r>`` (per trial its best epoch, `fdan.training.selection`: the later on
ties; across trials the highest score, the first on ties, as :func:`harness.tuning.collect.select`;
errored trials and trials without a checkpoint never). Only validation and label-free scores pick: the
test rows are read after every pick is made. The weights of a pick are in the trial's latest checkpoint
(harness.trial.rule_models). Every pick of a unit is tested in one held-out call (one Ray task), and picks
that coincide — same trial and epoch, e.g. two rules, or a rule and the primary — once.

Per rule the unit gets one `selections` row (the pick, its score and test metrics; the primary rule's too,
``primary`` true) and its prediction rows with ``selection`` = the rule (harness.results.selections,
harness.results.predictions).
"""
from __future__ import annotations

import math
import sys
from dataclasses import dataclass
from typing import Any, Callable

import pandas as pd

from harness.results.columns import HEADS
from harness.trial.checkpoint import CheckpointError
from harness.tuning.collect import TrialRecord, best_epoch

SCORE_PREFIX = "sel_"
# trials-row columns a selections row repeats (the unit and the picked trial's settings)
CARRIED = ("experiment", "pair", "source", "target", "fold", "variant", "trial_id", "method", "modalities", "backbone",
           "labels", "n_test", "n_train_speakers")

# ([(checkpoint path, epoch)], missing_ok) -> held-out results ({'error': ...} for a pick whose weights are missing)
Evaluate = Callable[[list[tuple[str, int]], bool], list[dict[str, Any]]]


@dataclass(frozen=True)
class RulePick:
    """What one rule picks in a unit: ``trial`` indexes the unit's records / trials rows."""

    rule: str
    trial: int
    epoch: int
    score: float
    checkpoint: str  # a checkpoint of that trial holding the epoch's weights


def latest_checkpoint(history: pd.DataFrame) -> tuple[int, str] | None:
    """(epoch, path) of a trial's last reported checkpoint (Ray always keeps it), None without one."""
    if "checkpoint_path" not in history:
        return None
    paths = history[history["checkpoint_path"].map(lambda p: isinstance(p, str) and bool(p))]
    return None if paths.empty else (int(paths["epoch"].iloc[-1]), str(paths["checkpoint_path"].iloc[-1]))


def pick(rule: str, records: list[TrialRecord], statuses: list[str]) -> RulePick | None:
    """Rule ``rule``'s pick among the trials (module doc), None when no trial can be picked."""
    key = f"{SCORE_PREFIX}{rule}"
    best: RulePick | None = None
    for i, (record, status) in enumerate(zip(records, statuses)):
        epoch = best_epoch(record.history, key)
        latest = latest_checkpoint(record.history)
        if status == "error" or epoch is None or latest is None or latest[0] < epoch:
            continue  # a checkpoint written before the picked epoch cannot hold its weights
        score = float(pd.to_numeric(record.history.loc[record.history["epoch"] == epoch, key]).iloc[0])
        if not math.isnan(score) and (best is None or score > best.score):
            best = RulePick(rule, i, epoch, score, latest[1])
    return best


def evaluate_rules(rules: list[str], records: list[TrialRecord], rows: list[dict[str, Any]], chosen: int,
                   evaluate: Evaluate, protocol: Callable[[str], str]) -> tuple[dict[str, Any], dict[str, list]]:
    """Test every rule's pick of a unit in one ``evaluate`` call -> (the primary's held-out result, ``{"selections":
    rows, "predictions": rows}``). ``rules[0]`` is the primary, whose pick is trial ``chosen`` at its best epoch;
    ``protocol(rule)`` is a rule's protocol column. A rule without a pick is left out (its rows are missing,
    never filled with another's)."""
    main = rows[chosen]
    picks = [RulePick(rules[0], chosen, int(main["best_epoch"]), float(main["best_score"]), str(main["checkpoint_path"]))]
    picks += [p for rule in rules[1:] if (p := pick(rule, records, [r["status"] for r in rows])) is not None]
    models = list(dict.fromkeys((p.trial, p.epoch) for p in picks))  # the primary's first; coinciding picks once
    paths = {(p.trial, p.epoch): p.checkpoint for p in reversed(picks)}  # the primary's checkpoint for its own model
    tested = dict(zip(models, evaluate([(paths[k], k[1]) for k in models], True)))
    if "error" in tested[models[0]]:  # the primary's own checkpoint: nothing to fall back on
        raise CheckpointError(tested[models[0]]["error"])
    out: dict[str, list] = {"selections": [], "predictions": []}
    for p in picks:
        row, test = rows[p.trial], tested[(p.trial, p.epoch)]
        if "error" in test:  # reported, never silently dropped: the rule has no rows in this unit
            print(f"warning: {row.get('pair')} fold {row.get('fold')}: rule {p.rule}'s pick (trial {row.get('trial_id')}, "
                  f"epoch {p.epoch}) not tested: {test['error']}", file=sys.stderr)
            continue
        entry = {k: row[k] for k in CARRIED if k in row}
        entry.update(selection=p.rule, primary=p.rule == rules[0], protocol=protocol(p.rule), epoch=p.epoch, score=p.score)
        entry.update({f"test_{h}_{m}": float(v) for h in HEADS if h in test["metrics"]
                      for m, v in test["metrics"][h].items()})
        out["selections"].append(entry)
        ids = {k: row[k] for k in ("experiment", "pair", "source", "target", "fold", "variant", "trial_id", "method")}
        out["predictions"] += [{**ids, "selection": p.rule, **pred} for pred in test.get("predictions", [])]
    return tested[models[0]], out
