"""The Ray Tune experiment of one work unit: the trials' static spec (harness.trial.spec), the Tuner, and its trial records.

Per unit: OptunaSearch (TPE, seeded, repeats replayed rather than retrained: `harness.tuning.dedupe`) +
ASHA (time attribute `epoch`) over the config's search space; an all-`choice` space with at most
`num_samples` configurations is enumerated instead (a grid, each configuration once). Each trial is
`harness.trial.entry.run_trial` on its executor (`train`: a TorchTrainer; `tune`: the loop in the trial,
for frozen-trunk trials on one CPU worker, whose cached trunk outputs the experiment prepared first). The Tune experiment is named
`<experiment>__<unit key>` under the storage path, so `--resume` can `Tuner.restore` it: finished
trials are kept, unfinished ones continue (their Train run resumes from its latest checkpoint).
Without a search (`fdan-bench train`) a unit has one trial at the config's own settings.
"""
from __future__ import annotations

import math
from pathlib import Path
from typing import Any

from harness.cluster.resources import ResourcePlan
from harness.cluster.storage import Storage, resolve_storage
from harness.config import ExperimentConfig
from harness.config.search_space import decode, param_name, tune_space
from harness.errors import SweepError, SweepInterrupted
from harness.trial.entry import choose_executor, run_trial
from harness.trial.spec import TrialSpec, UnitRows
from harness.tuning.collect import TrialRecord, clean_history
from harness.tuning.dedupe import DedupSearcher, grid_size, grid_space
from harness.tuning.tune_start import StartGate
from harness.tuning.watchdog import ProgressWatchdog
from harness.tuning.selection_rules import scored_rules, unit_selection_key
from harness.tuning.work_unit import WorkUnit
from harness.tuning.tracking import tracking_callbacks


def trial_spec(cfg: ExperimentConfig, unit: WorkUnit, dirs: dict[str, Path], plan: ResourcePlan,
               searching: bool) -> TrialSpec:
    """The static part of every trial of a unit (the sampled hyper-parameters come from Tune). Its data
    (feature caches, frozen-trunk token caches) was prepared by the experiment before any unit ran."""
    storage = experiment_storage(cfg)
    # The test rows reach the trial workers only under `paper` (best-test-epoch selection); otherwise
    # they are touched once, after selection, by harness.trial.heldout.
    rows = UnitRows(key=unit.key, labels=tuple(unit.labels), source_dir=str(dirs[unit.source]),
                    target_dir=str(dirs[unit.target]), train_idx=unit.train_idx, val_idx=unit.val_idx,
                    adapt_idx=unit.adapt_idx, target_val_idx=unit.target_val_idx,
                    test_idx=unit.test_idx if cfg.protocol.name == "paper" else ())
    return TrialSpec(experiment=cfg.name, unit=rows, model=cfg.model, train=cfg.train, protocol=cfg.protocol.name,
                     selection_key=unit_selection_key(cfg, unit), rules=tuple(scored_rules(cfg, unit)),
                     rule_metric=f"{cfg.protocol.selection_head}_{cfg.protocol.selection_metric}", plan=plan, executor=choose_executor(cfg.model, plan),
                     storage_path=storage.path, storage_filesystem=storage.filesystem,
                     max_failures=cfg.resources.max_failures, space=dict(cfg.search.space) if searching else {},
                     features=cfg.features)  # into each checkpoint, for export


def experiment_storage(cfg: ExperimentConfig) -> Storage:
    """The run's Ray storage: filesystem (None = local) and the path inside it."""
    return resolve_storage(cfg.storage_path, cfg.storage_options)


def storage_fields(storage: Storage) -> dict[str, Any]:
    """Ray's `storage_path` and `storage_filesystem` arguments (the filesystem pickles with the spec)."""
    return {"storage_path": storage.path, "storage_filesystem": storage.filesystem}


def is_grid(cfg: ExperimentConfig, search: bool) -> bool:
    """True when the unit enumerates its search space (all `choice`, at most `num_samples` configurations)."""

    size = grid_size(cfg.search.space) if search else None
    return size is not None and size <= cfg.search.num_samples


def expected_trials(cfg: ExperimentConfig, search: bool) -> int:
    """Trials per unit: the grid's size when enumerated, `num_samples` when sampled, 1 without a search."""
    if not (search and cfg.search.space):
        return 1
    if is_grid(cfg, search):
        return int(grid_size(cfg.search.space))
    return cfg.search.num_samples


def tune_name(cfg: ExperimentConfig, unit: WorkUnit) -> str:
    """The unit's Tune experiment: `<experiment>__<unit key>` under the storage path."""
    return f"{cfg.name}__{unit.key}"


def build_tuner(cfg: ExperimentConfig, unit: WorkUnit, spec: TrialSpec, plan: ResourcePlan, search: bool, resume: bool):
    from ray import tune

    name = tune_name(cfg, unit)
    storage = experiment_storage(cfg)
    path = storage.join(name)
    # An in-trial (`tune`) trial does its worker's job itself, so it holds the worker's CPUs too.
    cpus = plan.driver_cpus + (plan.num_workers * plan.cpus_per_worker if spec.executor == "tune" else 0)
    trainable = tune.with_resources(tune.with_parameters(unit_trainable(run_trial, name), spec=spec), {"CPU": cpus})
    if tune.Tuner.can_restore(path, storage_filesystem=storage.filesystem):
        if not resume:
            raise SweepError(f"a Tune experiment already exists at {cfg.storage_path.rstrip('/')}/{name}; "
                             "pass --resume to continue it")
        return tune.Tuner.restore(path, trainable=trainable, resume_unfinished=True, resume_errored=True,
                                  storage_filesystem=storage.filesystem)
    key = unit_selection_key(cfg, unit)
    searching = search and bool(cfg.search.space)
    samples = expected_trials(cfg, search)
    grid = searching and is_grid(cfg, search)
    kwargs: dict[str, Any] = {}
    param_space: dict[str, Any] = {}
    if searching:
        from ray.tune.search.optuna import OptunaSearch

        if grid:  # every configuration once; Tune's default generator enumerates the grid
            param_space = grid_space(cfg.search.space)
        else:
            param_space = tune_space(cfg.search.space)
            kwargs["search_alg"] = DedupSearcher(OptunaSearch(seed=cfg.search.seed))
        if cfg.search.asha.enabled:
            kwargs["scheduler"] = tune.schedulers.ASHAScheduler(
                time_attr="epoch", max_t=cfg.train.epochs, grace_period=min(cfg.search.asha.grace_period, cfg.train.epochs),
                reduction_factor=cfg.search.asha.reduction_factor)
    guard = guards(cfg, name)
    guard["callbacks"] += tracking_callbacks(cfg, unit)  # MLflow / W&B (harness.tuning.tracking)
    return tune.Tuner(
        trainable,
        param_space=param_space,
        tune_config=tune.TuneConfig(metric=key, mode="max", num_samples=1 if grid else samples,
                                    max_concurrent_trials=min(plan.max_concurrent_trials, samples),
                                    # in-trial (`tune`) trials last seconds: a fresh process (and torch import)
                                    # per trial cost as much as the training; one process serves trial after trial
                                    reuse_actors=spec.executor == "tune", **kwargs),
        # Checkpoints reported to Tune itself (`tune` executor, on improved epochs only): keep the best.
        run_config=tune.RunConfig(name=name, **storage_fields(storage), verbose=1, **guard,
                                  checkpoint_config=tune.CheckpointConfig(
                                      num_to_keep=1, checkpoint_score_attribute=key, checkpoint_score_order="max")),
    )


def unit_trainable(run_trial: Any, tune_experiment: str) -> Any:
    """`run_trial` under a name of its own per unit (`run_trial_<sha1(tune experiment)[:10]>`, the same on resume).

    Tune keeps a trainable, and `tune.with_parameters` its spec, in process-global registries keyed by
    the function's name (and its `str`): under one shared name, a unit whose Tuner starts while another
    unit's trials are still pending replaces that unit's spec, and those trials then train on the
    other unit's rows (seen: two folds with identical trials, one of them tested on its own training speaker).
    """
    import hashlib

    name = f"run_trial_{hashlib.sha1(tune_experiment.encode()).hexdigest()[:10]}"

    def trainable(config: dict, spec: Any) -> Any:
        return run_trial(config, spec=spec)

    trainable.__name__ = trainable.__qualname__ = name
    return trainable


def guards(cfg: ExperimentConfig, name: str) -> dict[str, Any]:
    """Tune retries of a failed trial (it resumes from its latest checkpoint), the progress watchdog and the
    start gate of units side by side."""
    from ray import tune

    out: dict[str, Any] = {"failure_config": tune.FailureConfig(max_failures=cfg.resources.max_failures),
                           "callbacks": [StartGate()]}  # the next unit's Tuner may start (harness.tuning.tune_start)
    if cfg.resources.progress_timeout_s is not None:
        watchdog = ProgressWatchdog(name, cfg.resources.progress_timeout_s)
        out.update(callbacks=[*out["callbacks"], watchdog], stop=watchdog)
    return out


def trial_records(grid: Any, cfg: ExperimentConfig, expected: int, searching: bool) -> list[TrialRecord]:
    """One record per trial, or SweepInterrupted when Tune stopped early (e.g. SIGINT).

    Statuses come from the experiment state Tune saved before it shut its trials down: in memory,
    shutdown marks interrupted trials TERMINATED, on disk they are still PENDING / RUNNING. An errored
    trial is taken from memory (`grid`: never ERROR for an interrupted one): Tune saves a trial whose
    actor died with its node as still RUNNING (its saved state is not refreshed when it errors).
    """
    from ray.tune import ExperimentAnalysis

    analysis = ExperimentAnalysis(grid.experiment_path, storage_filesystem=experiment_storage(cfg).filesystem)
    errored = {str(r.path).rstrip("/") for r in grid if r.error is not None}
    saved = {t.trial_id: "ERROR" if str(t.path).rstrip("/") in errored else t.status for t in analysis.trials}
    unfinished = [tid for tid, status in saved.items() if status not in ("TERMINATED", "ERROR")]
    if unfinished or len(saved) < expected:
        raise SweepInterrupted(f"{len(saved) - len(unfinished)} of {expected} trials of this unit finished")
    space = cfg.search.space if searching else {}
    out = []
    frames = analysis.trial_dataframes  # trial id -> reported rows, as ResultGrid reads them
    for trial in analysis.trials:
        config = trial.config or {}
        params = decode(space, config) if space and all(k in config for k in tune_space(space)) else {}
        params = {param_name(k): v for k, v in params.items()}
        status = "error" if saved[trial.trial_id] == "ERROR" else "completed"
        history = clean_history(frames.get(trial.trial_id))
        if "checkpoint_path" not in history and "reused_from" not in history and not history.empty:
            history = with_tune_checkpoints(history, trial.path, experiment_storage(cfg).filesystem)
        out.append(TrialRecord(trial.trial_id, status, params, history))
    return out


def with_tune_checkpoints(history: Any, trial_path: str, filesystem: Any) -> Any:
    """`checkpoint_path` per epoch of a trial that reported its checkpoints to Tune (the `tune` executor
    checkpoints the epochs that reach the best selection score so far, the latest on ties, and Tune
    keeps the best of them: the trial's best epoch)."""
    from ray.tune import Result

    result = Result.from_path(trial_path, storage_filesystem=filesystem)
    paths = {int(m["epoch"]): ckpt.path for ckpt, m in (result.best_checkpoints or []) if m.get("epoch") is not None}
    history = history.copy()
    history["checkpoint_path"] = history["epoch"].map(paths)
    return history


def trial_marks(record: TrialRecord, executor: str) -> dict[str, Any]:
    """Trials-table columns saying how a trial ran: `executor` (tune | train) and `reused_from` (the trial
    whose result a repeated configuration replays; None when the trial trained)."""
    reused = record.history["reused_from"].dropna() if "reused_from" in record.history else []
    return {"executor": executor, "reused_from": str(reused.iloc[0]) if len(reused) else None,
            **trial_times(record.history)}


def trial_times(history: Any) -> dict[str, float | None]:
    """`started_at` / `ended_at` (Unix seconds) of a trial, from what Tune adds to every report: `timestamp`
    (when it came, whole seconds) and `time_total_s` (the trial's running time by then). They show which
    trials ran side by side; None when the trial reported nothing."""
    import pandas as pd

    if history.empty or "timestamp" not in history or "time_total_s" not in history:
        return {"started_at": None, "ended_at": None}
    stamps = pd.to_numeric(history["timestamp"], errors="coerce")
    start, end = float((stamps - pd.to_numeric(history["time_total_s"], errors="coerce")).min()), float(stamps.max())
    return {"started_at": None if math.isnan(start) else start, "ended_at": None if math.isnan(end) else end}
