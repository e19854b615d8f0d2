"""One (pair x fold) work unit end to end: tune it, pick its model on validation data, test that model once
(and, with several cross-corpus selection rules, each rule's own pick)."""
from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

from harness.cluster.resources import ResourcePlan
from harness.config import ExperimentConfig
from harness.errors import SweepError, SweepStalled
from harness.results.columns import HEADS
from harness.results.split_source import protocol_with_split
from harness.trial.heldout import evaluate_many
from harness.tuning.collect import select, setting_columns, tidy_rows, trial_row
from harness.tuning.seeds import chosen_seed, rerun_seeds
from harness.tuning.rule_picks import evaluate_rules
from harness.tuning.selection_rules import protocol_label, scored_rules, unit_selection_key
from harness.tuning.tune_start import one_start_at_a_time
from harness.tuning.tuner import build_tuner, expected_trials, tune_name, trial_marks, trial_records, trial_spec
from harness.tuning.watchdog import stall_verdict
from harness.tuning.work_unit import WorkUnit


def run_unit(cfg: ExperimentConfig, unit: WorkUnit, dirs: dict[str, Path], plan: ResourcePlan,
             search: bool, resume: bool) -> dict[str, Any]:
    """Tune one unit, pick its model on validation data, test it once; returns the unit summary.

    Selection policy: exactly one trial per unit is selected, the highest validation score among the
    trials that did not error and reported a checkpoint. A unit with any errored trial (after Ray's
    retries) is not selected at all: its summary has ``failed`` set, no trial selected and no test
    metrics, and the run records it as not finished (``--resume`` retries the errored trials). Choosing
    among the surviving trials would silently search a smaller space. A cross-corpus unit with several
    `protocol.cross_selection` rules also has each other rule's own pick tested (harness.tuning.rule_picks:
    summary ``selections``, predictions with ``selection``); the trials row stays the primary rule's.
    """

    searching = search and bool(cfg.search.space)
    spec = trial_spec(cfg, unit, dirs, plan, searching)
    with one_start_at_a_time():  # Tune's start-up is not thread-safe; units run side by side after it
        grid = build_tuner(cfg, unit, spec, plan, search, resume).fit()
    stalled = stall_verdict(tune_name(cfg, unit))
    if stalled:  # the whole sweep stops: the units after it would wait on the same lost resources
        raise SweepStalled(f"{unit.pair} fold {unit.fold}: {stalled}. Check the cluster (`ray status`), then "
                           "continue with --resume")
    records = trial_records(grid, cfg, expected_trials(cfg, search), searching)
    check_trials_ran_unit(records, unit.key)
    ids = {"experiment": cfg.name, "pair": unit.pair, "source": unit.source, "target": unit.target, "fold": unit.fold,
           "variant": unit.variant}
    key = unit_selection_key(cfg, unit)
    # the rule that selected (harness.tuning.selection_rules); a transductive unit adapts on its own test rows
    protocol = protocol_label(cfg, unit)
    protocol = protocol_with_split(protocol, dirs[unit.source], dirs[unit.target])  # a fold file is named
    settings = {"method": cfg.train.method, "backbone": cfg.model.backbone,
                "modalities": getattr(cfg.model, "modalities", ["audio", "face"])}
    rows = [{**trial_row(r, ids, key, protocol, cfg.train.epochs), **trial_marks(r, spec.executor),
             **setting_columns(r.params, settings)} for r in records]
    metrics = [m for r in records for m in tidy_rows(r.history, {**ids, "trial_id": r.trial_id})]
    for row in rows:
        row.update(selected=False, labels="|".join(unit.labels), n_train=len(unit.train_idx),
                   n_val=len(unit.val_idx), n_test=len(unit.test_idx), n_adapt=len(unit.adapt_idx),
                   n_dropped=unit.n_dropped, n_train_speakers=unit.train_speakers)
    summary: dict[str, Any] = {"key": unit.key, "trials": rows, "metrics": metrics, "confusions": [], "failed": None}
    errored = [r for r in rows if r["status"] == "error"]
    chosen = None if errored else select(rows)
    if chosen is None:
        errors = [str(r.error) for r in grid if r.error is not None]
        first = " ".join(errors[0].strip().splitlines()[-3:])[:500] if errors else ""  # its full text: error.txt
        summary["failed"] = (f"{len(errored)} of {len(rows)} trial(s) errored" if errored
                             else "no trial produced a checkpoint") + (f"; first error: {first}" if first else "")
        summary["failed"] += f" (tracebacks: error.txt under {tune_name(cfg, unit)}/ in the storage)" if errors else ""
        return summary
    best = rows[chosen]
    best["selected"] = True
    # Only here, after selection, does the unit's test split reach a Ray task (the trial workers never
    # get it, except under the `paper` protocol, which selects on it by design).
    def evaluate(picks: list[tuple[str, int | None]], missing_ok: bool = False) -> list[dict[str, Any]]:  # one Ray task
        return evaluate_many(picks, replace(spec.unit, test_idx=unit.test_idx), plan, spec.storage_filesystem, missing_ok)

    rules = scored_rules(cfg, unit)
    if rules:  # protocol.cross_selection: every rule's own pick is tested too, each row naming its rule
        best["selection"] = rules[0]
        test, by_rule = evaluate_rules(rules, records, rows, chosen, evaluate, lambda rule: protocol_with_split(
            protocol_label(cfg, unit, rule), dirs[unit.source], dirs[unit.target]))
    else:
        test, by_rule = evaluate([(best["checkpoint_path"], None)])[0], {}
    for head in [h for h in HEADS if h in test["metrics"]]:  # a single-modality model has one head
        for metric, value in test["metrics"][head].items():
            best[f"test_{head}_{metric}"] = float(value)
            if cfg.protocol.name != "paper":  # paper runs already report test rows every epoch
                metrics.append({**ids, "trial_id": best["trial_id"], "epoch": best["best_epoch"], "split": "test",
                                "head": head, "metric": metric, "value": float(value)})
        summary["confusions"].append({"pair": unit.pair, "fold": unit.fold, "variant": unit.variant, "trial_id": best["trial_id"],
                                      "head": head, "labels": list(unit.labels), "matrix": test["confusion"][head]})
    # per-utterance rows of the chosen model (results/predictions.parquet)
    summary["predictions"] = [{**ids, "trial_id": best["trial_id"], "method": best["method"], **row}
                              for row in test.get("predictions", [])]
    summary.update(by_rule)  # with rules: every rule's selections row and prediction rows (the primary's included)
    parts = ("trials", "metrics", "confusions", "predictions", "selections")
    if cfg.search.seeds:  # the chosen configuration again with other seeds (harness.tuning.seeds)

        for part in parts:
            for row in summary.get(part, []):
                row["seed"] = chosen_seed(cfg, records[chosen].params)
        for extra in rerun_seeds(run_unit, cfg, unit, dirs, plan, records[chosen].params, resume):
            if rules:  # a re-run trains the primary rule's configuration: another rule could only pick an epoch of
                # it, not its own trial, so the other rules' rows stay those of the searched seed
                extra["selections"] = [s for s in extra.get("selections", []) if s.get("primary")]
                extra["predictions"] = [p for p in extra.get("predictions", []) if p.get("selection") in (None, "", rules[0])]
            for part in parts:
                summary.setdefault(part, []).extend(extra.get(part, []))
            if extra.get("failed"):
                summary["failed"] = f"re-run with another seed: {extra['failed']}"
    return summary


def check_trials_ran_unit(records: list, key: str) -> None:
    """SweepError when a trial reported another unit's key: it trained on that unit's rows, and its test
    figures could come from its own training speakers (the guard against spec mix-ups between units
    that run side by side, `harness.tuning.tuner.unit_trainable`)."""
    for record in records:
        seen = set(record.history["unit_key"].dropna()) if "unit_key" in record.history else set()
        if seen - {key}:
            raise SweepError(f"trial {record.trial_id} of unit {key} trained on unit {sorted(seen - {key})[0]}'s rows: "
                             "results of this unit are not valid (a Tune trainable registered twice under one name?). "
                             f"Delete its Tune experiment ({key} under the storage path) before --resume, or it is "
                             "restored with the same trials")
