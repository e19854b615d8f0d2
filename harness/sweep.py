"""A sweep: one Ray Tune experiment per (pair x fold) unit, then the held-out test of the chosen model.

Per unit: OptunaSearch (TPE, seeded) + ASHA (time attribute `epoch`) over the config's search
space; each trial is `harness.trial.run_trial` (a TorchTrainer per trial). The Tune experiment is
named `<experiment>__<unit key>` under the storage path, so `--resume` can `Tuner.restore` it:
finished trials are kept, unfinished ones continue (their Train run resumes from its latest
checkpoint). A unit whose summary (`units/<key>.json`) exists is not run again.
`fdan-bench train` is the same machinery with one trial per unit at the config's own settings.
"""
from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any, Callable

import pandas as pd
import yaml

from harness.collect import HEADS, TrialRecord, clean_history, select, tidy_rows, trial_row
from harness.config import ExperimentConfig, dump_config
from harness.pairs import WorkUnit, expand_units, pair_list
from harness.ray_runtime import ResourcePlan, plan_resources, ray_cluster
from harness.search_space import decode, tune_space

STATE_FILE = "sweep.config.yaml"
UNITS_DIR = "units"
# Sections that may differ on --resume (another cluster, other resources); everything else must match.
_RESUMABLE_CHANGES = {"ray", "resources", "search.max_concurrent_trials"}


class SweepError(RuntimeError):
    """A sweep that cannot start or continue; the message says why and what to do."""


class SweepFailed(RuntimeError):
    """Every trial of a unit failed; the message carries the first error."""


class SweepInterrupted(RuntimeError):
    """Tune stopped before every trial finished (e.g. Ctrl+C); `--resume` continues it."""


def _diff(old: Any, new: Any, prefix: str = "") -> list[str]:
    if isinstance(old, dict) and isinstance(new, dict):
        out = []
        for key in sorted(set(old) | set(new)):
            out += _diff(old.get(key), new.get(key), f"{prefix}{key}.")
        return out
    return [] if old == new else [prefix.rstrip(".")]


def check_results_dir(cfg: ExperimentConfig, resume: bool) -> bool:
    """True when resuming an existing sweep; raise SweepError for a clash. Writes nothing."""
    results = cfg.results_dir
    state = results / STATE_FILE
    if not resume:
        if results.exists() and any(results.iterdir()):
            raise SweepError(f"{results} already holds results; pass --resume to continue that sweep, or choose "
                             f"another directory (--set output_dir=... or --set name=...)")
        return False
    if not state.is_file():
        return False
    old = yaml.safe_load(state.read_text())
    changed = [k for k in _diff(old, dump_config(cfg))
               if not any(k == p or k.startswith(p + ".") for p in _RESUMABLE_CHANGES)]
    if changed:
        raise SweepError(f"--resume: the config differs from the interrupted sweep's ({state}) in: {', '.join(changed)}")
    return True


def _payload(cfg: ExperimentConfig, unit: WorkUnit, dirs: dict[str, Path], plan: ResourcePlan,
             searching: bool) -> dict[str, Any]:
    """The static part of every trial of a unit (the sampled hyper-parameters come from Tune)."""
    space = cfg.search.space if searching else {}
    return {
        "model": cfg.model.model_dump(mode="json"), "train": cfg.train.model_dump(mode="json"),
        "space": {k: d.model_dump(mode="json") for k, d in space.items()},
        "unit": {"key": unit.key, "labels": list(unit.labels), "train_idx": list(unit.train_idx),
                 "val_idx": list(unit.val_idx), "test_idx": list(unit.test_idx), "adapt_idx": list(unit.adapt_idx),
                 "source_dir": str(dirs[unit.source]), "target_dir": str(dirs[unit.target])},
        "protocol": cfg.protocol.name, "plan": plan.as_dict(), "storage_path": cfg.storage_path,
        "selection_key": cfg.protocol.selection_key,
    }


def _tuner(cfg: ExperimentConfig, unit: WorkUnit, payload: dict, plan: ResourcePlan, search: bool, resume: bool):
    from ray import tune

    from harness.trial import run_trial

    name = f"{cfg.name}__{unit.key}"
    path = f"{cfg.storage_path.rstrip('/')}/{name}"
    trainable = tune.with_resources(tune.with_parameters(run_trial, payload=payload), {"CPU": plan.driver_cpus})
    if tune.Tuner.can_restore(path):
        if not resume:
            raise SweepError(f"a Tune experiment already exists at {path}; pass --resume to continue it")
        return tune.Tuner.restore(path, trainable=trainable, resume_unfinished=True, resume_errored=True)
    key = cfg.protocol.selection_key
    searching = search and bool(cfg.search.space)
    samples = cfg.search.num_samples if searching else 1
    kwargs: dict[str, Any] = {}
    if searching:
        from ray.tune.search.optuna import OptunaSearch

        kwargs["search_alg"] = OptunaSearch(seed=cfg.search.seed)
        if cfg.search.asha.enabled:
            kwargs["scheduler"] = tune.schedulers.ASHAScheduler(
                time_attr="epoch", max_t=cfg.train.epochs, grace_period=min(cfg.search.asha.grace_period, cfg.train.epochs),
                reduction_factor=cfg.search.asha.reduction_factor)
    return tune.Tuner(
        trainable,
        param_space=tune_space(cfg.search.space) if searching else {},
        tune_config=tune.TuneConfig(metric=key, mode="max", num_samples=samples,
                                    max_concurrent_trials=min(plan.max_concurrent_trials, samples), **kwargs),
        run_config=tune.RunConfig(name=name, storage_path=cfg.storage_path, verbose=1),
    )


def _records(grid: Any, cfg: ExperimentConfig, expected: int, searching: bool) -> list[TrialRecord]:
    """One record per trial, or SweepInterrupted when Tune stopped early (e.g. SIGINT).

    Statuses come from the experiment state Tune saved before it shut its trials down: in memory,
    shutdown marks interrupted trials TERMINATED, on disk they are still PENDING / RUNNING.
    """
    from ray.tune import ExperimentAnalysis

    saved = {t.trial_id: t.status for t in ExperimentAnalysis(grid.experiment_path).trials}
    unfinished = [tid for tid, status in saved.items() if status not in ("TERMINATED", "ERROR")]
    if unfinished or len(saved) < expected:
        raise SweepInterrupted(f"{len(saved) - len(unfinished)} of {expected} trials of this unit finished")
    space = cfg.search.space if searching else {}
    out = []
    # ResultGrid builds its results from these Trial objects, in this order.
    for trial, result in zip(grid._experiment_analysis.trials, grid):
        config = result.config or {}
        params = decode(space, config) if space and all(k in config for k in tune_space(space)) else {}
        params = {k.rpartition(".")[2]: v for k, v in params.items()}
        status = "error" if saved.get(trial.trial_id) == "ERROR" else "completed"
        out.append(TrialRecord(trial.trial_id, status, params, clean_history(result.metrics_dataframe)))
    return out


def run_unit(cfg: ExperimentConfig, unit: WorkUnit, dirs: dict[str, Path], plan: ResourcePlan,
             search: bool, resume: bool) -> dict[str, Any]:
    """Tune one unit, pick its model on validation data, test it once; returns the unit summary."""
    from harness.heldout import evaluate_remote

    searching = search and bool(cfg.search.space)
    payload = _payload(cfg, unit, dirs, plan, searching)
    grid = _tuner(cfg, unit, payload, plan, search, resume).fit()
    records = _records(grid, cfg, cfg.search.num_samples if searching else 1, searching)
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


def corpora_used(cfg: ExperimentConfig) -> list[str]:
    """Corpora the pairs need, in first-use order, each once."""
    return list(dict.fromkeys(name for pair in pair_list(cfg) for name in pair))


def run_experiment(cfg: ExperimentConfig, *, address: str | None = None, resume: bool = False, search: bool = True,
                   log: Callable[[str], None] = print) -> Path:
    """Run (or resume) the whole experiment and write the results directory; returns its path."""
    from fdan.features.featureset import FeatureSet
    from harness.corpus_setup import check_roots, prepare_corpora
    from harness.results import write_results

    resuming = check_results_dir(cfg, resume)
    check_roots(cfg, corpora_used(cfg))
    results = cfg.results_dir.resolve()
    with ray_cluster(cfg, address) as cluster:
        plan = plan_resources(cfg, cluster)
        log(f"Ray cluster: {cluster.get('CPU', 0):g} CPU, {cluster.get('GPU', 0):g} GPU; per trial "
            f"{plan.num_workers} {'GPU' if plan.use_gpu else 'CPU'} worker(s), up to {plan.max_concurrent_trials} at once")
        dirs = prepare_corpora(cfg, corpora_used(cfg), log)
        units = expand_units(cfg, {name: FeatureSet.open(d).manifest for name, d in dirs.items()})
        (results / UNITS_DIR).mkdir(parents=True, exist_ok=True)
        if not resuming:
            (results / STATE_FILE).write_text(yaml.safe_dump(dump_config(cfg), sort_keys=False, allow_unicode=True))
        summaries = []
        for i, unit in enumerate(units, 1):
            done = results / UNITS_DIR / f"{unit.key}.json"
            if done.is_file():
                log(f"[{i}/{len(units)}] {unit.pair} fold {unit.fold}: finished earlier, kept")
                summaries.append(json.loads(done.read_text()))
                continue
            log(f"[{i}/{len(units)}] {unit.pair} fold {unit.fold}: {len(unit.labels)} classes, "
                f"{len(unit.train_idx)} train / {len(unit.val_idx)} val / {len(unit.test_idx)} test rows"
                + (f", {unit.n_dropped} rows outside the shared labels dropped" if unit.n_dropped else ""))
            summary = run_unit(cfg, unit, dirs, plan, search, resume)
            done.write_text(json.dumps(summary, default=_plain))
            summaries.append(summary)
        write_results(
            results,
            metrics=pd.DataFrame([m for s in summaries for m in s["metrics"]]),
            trials=pd.DataFrame([t for s in summaries for t in s["trials"]]),
            confusions=[c for s in summaries for c in s["confusions"]],
            config=dump_config(cfg),
            cluster_resources={**cluster, "plan": plan.as_dict()},
        )
    return results


def _plain(value: Any) -> Any:
    if hasattr(value, "item"):
        return value.item()
    if isinstance(value, float) and math.isnan(value):
        return None
    return str(value)
