"""The Ray Tune experiment of one work unit: the trials' static payload, the Tuner, and its trial records.

Per unit: OptunaSearch (TPE, seeded) + ASHA (time attribute `epoch`) over the config's search space;
each trial is `harness.run.trial.run_trial` (a TorchTrainer per trial). The Tune experiment is named
`<experiment>__<unit key>` under the storage path, so `--resume` can `Tuner.restore` it: finished
trials are kept, unfinished ones continue (their Train run resumes from its latest checkpoint).
Without a search (`fdan-bench train`) a unit has one trial at the config's own settings.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

from harness.cluster.resources import ResourcePlan
from harness.config import ExperimentConfig
from harness.config.search_space import decode, tune_space
from harness.run.collect import TrialRecord, clean_history
from harness.run.errors import SweepError, SweepInterrupted
from harness.run.pairs import WorkUnit


def trial_payload(cfg: ExperimentConfig, unit: WorkUnit, dirs: dict[str, Path], plan: ResourcePlan,
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


def build_tuner(cfg: ExperimentConfig, unit: WorkUnit, payload: dict, plan: ResourcePlan, search: bool, resume: bool):
    from ray import tune

    from harness.run.trial import run_trial

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


def trial_records(grid: Any, cfg: ExperimentConfig, expected: int, searching: bool) -> list[TrialRecord]:
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
