"""One (pair x fold) work unit end to end: tune it, pick its model on validation data, test that model once."""
from __future__ import annotations

from pathlib import Path
from typing import Any

from harness.cluster.resources import ResourcePlan
from harness.config import ExperimentConfig
from harness.results.columns import HEADS
from harness.run.collect import select, tidy_rows, trial_row
from harness.run.errors import SweepFailed
from harness.run.pairs import WorkUnit
from harness.run.tuner import build_tuner, trial_payload, trial_records


def run_unit(cfg: ExperimentConfig, unit: WorkUnit, dirs: dict[str, Path], plan: ResourcePlan,
             search: bool, resume: bool) -> dict[str, Any]:
    """Tune one unit, pick its model on validation data, test it once; returns the unit summary."""
    from harness.run.heldout import evaluate_remote

    searching = search and bool(cfg.search.space)
    payload = trial_payload(cfg, unit, dirs, plan, searching)
    grid = build_tuner(cfg, unit, payload, plan, search, resume).fit()
    records = trial_records(grid, cfg, cfg.search.num_samples if searching else 1, searching)
    ids = {"experiment": cfg.name, "pair": unit.pair, "source": unit.source, "target": unit.target, "fold": unit.fold}
    key = cfg.protocol.selection_key
    # A transductive cross-corpus unit adapts on its own (unlabelled) test rows: the protocol says so.
    protocol = f"{cfg.protocol.name}+transductive" if unit.transductive else cfg.protocol.name
    rows = [trial_row(r, ids, key, protocol, cfg.train.epochs) for r in records]
    metrics = [m for r in records for m in tidy_rows(r.history, {**ids, "trial_id": r.trial_id})]
    chosen = select(rows)
    if chosen is None:
        errors = [str(r.error) for r in grid if r.error is not None]
        raise SweepFailed(f"{unit.pair} fold {unit.fold}: no trial produced a checkpoint"
                         + (f"; first error:\n{errors[0]}" if errors else ""))
    confusions = []
    for i, row in enumerate(rows):
        row.update(selected=i == chosen, labels="|".join(unit.labels), n_train=len(unit.train_idx),
                   n_val=len(unit.val_idx), n_test=len(unit.test_idx), n_adapt=len(unit.adapt_idx),
                   n_dropped=unit.n_dropped)
    best = rows[chosen]
    test = evaluate_remote(best["checkpoint_path"], payload["unit"], payload["plan"])
    for head in HEADS:
        for metric, value in test["metrics"][head].items():
            best[f"test_{head}_{metric}"] = float(value)
            if cfg.protocol.name != "paper":  # paper runs already report test rows every epoch
                metrics.append({**ids, "trial_id": best["trial_id"], "epoch": best["best_epoch"], "split": "test",
                                "head": head, "metric": metric, "value": float(value)})
        confusions.append({"pair": unit.pair, "fold": unit.fold, "trial_id": best["trial_id"], "head": head,
                           "labels": list(unit.labels), "matrix": test["confusion"][head]})
    return {"key": unit.key, "trials": rows, "metrics": metrics, "confusions": confusions}
