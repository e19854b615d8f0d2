"""A whole run (`fdan-bench sweep` or `train`): every (pair x fold) unit, side by side
(`harness.experiment.lanes`, `resources.concurrent_units`), then the results tables.

A unit whose summary (`units/<key>.json`, see `harness.experiment.state`) exists is not run again. After
every finished unit (and once more when the run stops) the trials and metrics tables are rewritten from the
summaries so far, rows in the units' order whatever order they finish in, so `report` and `compare` work on a
running or a crashed sweep. The per-utterance tables (predictions.parquet, selections.csv) and
`on_results(results_dir)` (the CLI renders leaderboard.md, plots/ and report.html there) follow at most every
`REPORT_EVERY_S` seconds while units run and always when the run stops: rendering every pair's plots after every
unit made the driver the bottleneck of a 120-unit sweep (one core busy drawing), and rebuilding the predictions
table (every unit adds rows x rules x heads) after every unit took a third of a core by unit 130 of 140.
Units with errored trials are reported at the end (`SweepFailed`); `--resume` retries them.
"""
from __future__ import annotations

import time
from dataclasses import replace
from pathlib import Path
from typing import Any, Callable

import pandas as pd

from fdan.features.featureset import FeatureSet
from harness.cluster.launcher import max_resources
from harness.cluster.local import joined, present_resources, ray_cluster
from harness.cluster.preflight import PreflightError, alive_nodes, preflight
from harness.cluster.resources import plan_resources, request_capacity
from harness.cluster.weights import missing_weights, required_weights
from harness.config import ExperimentConfig, dump_config
from harness.config.search_space import param_name
from harness.config.variants import expand_variants
from harness.errors import SweepError, SweepFailed
from harness.experiment.corpora import check_roots, prepare_corpora, prepare_token_caches
from harness.experiment.elastic import ClusterLanes
from harness.experiment.lanes import run_side_by_side, unit_lanes
from harness.experiment.plan import corpora_used, resolve_plan
from harness.experiment.progress import RunProgress
from harness.experiment.state import UNITS_DIR, check_results_dir, read_unit, write_state, write_unit
from harness.results.columns import NOT_SEARCHED
from harness.results.io import write_results
from harness.results.predictions import write_predictions
from harness.results.selections import fill_primary, write_selections
from harness.tuning.tuner import expected_trials, experiment_storage
from harness.tuning.unit import run_unit

REPORT_EVERY_S = 120.0  # the report's plots cost seconds per pair; trials/metrics tables are rewritten after every unit


def check_nodes(cfg: ExperimentConfig, address: str | None, paths: dict[str, str], log: Callable[[str], None]) -> None:
    """Preflight (harness.cluster.preflight) on every node of a joined or multi-node cluster; SweepError if one lacks a path."""

    if not joined(address, cfg) and len(alive_nodes()) < 2:
        return  # one local node: the driver's own checks saw the same file system
    try:
        nodes = preflight(paths, experiment_storage(cfg))
    except PreflightError as exc:
        raise SweepError(str(exc)) from None
    log(f"preflight: {len(nodes)} node(s) see the storage and {len(paths)} path(s)")


def open_feature_set(feature_set: Any, name: str, directory: Path) -> Any:
    """`FeatureSet.open`, its errors (a damaged or foreign cache) as one SweepError naming corpus and directory."""
    try:
        return feature_set.open(directory)
    except (OSError, ValueError, KeyError) as exc:  # pandas / numpy / json errors of a damaged cache are ValueErrors
        raise SweepError(f"corpus {name!r}: the feature cache {directory} is unusable: {exc}. Delete that "
                         f"directory to prepare it again.") from None


def run_experiment(cfg: ExperimentConfig, *, address: str | None = None, resume: bool = False, search: bool = True,
                   log: Callable[[str], None] = print,
                   on_results: Callable[[Path], object] | None = None, cluster_yaml: Path | None = None) -> Path:
    """Run (or resume) the whole experiment and write the results directory; returns its path.

    On a joined cluster the trials are sized elastically (`harness.cluster.resources`): by its present
    resources and, when given, the maximum of its launcher config `cluster_yaml`; their demand is
    requested from the autoscaler, and nodes that join later take the pending trials. While it runs, the
    units side by side follow the cluster's size (`harness.experiment.elastic`): a node that joins opens lanes.

    Raises SweepFailed after the last unit when some unit had errored trials (the others are recorded).
    """

    started_at = time.time()  # env.json: the start-up before the first trial, for `--plan --estimate-from`
    resuming = check_results_dir(cfg, resume)
    check_roots(cfg, corpora_used(cfg))
    needs = [(v.model.weights, v.model.backbone) for _, v in expand_variants(cfg)]  # ImageNet files, here and on every node
    if (missing := missing_weights(needs)) is not None:
        raise SweepError(missing)
    results = cfg.results_dir.resolve()
    with ray_cluster(cfg, address) as cluster:
        elastic = None
        if joined(address, cfg):
            elastic = max_resources(cluster_yaml).resources if cluster_yaml is not None else {}
        plan = plan_resources(cfg, cluster, elastic)
        if elastic is not None:
            request_capacity(cfg, plan)
        log(f"Ray cluster: {cluster.get('CPU', 0):g} CPU, {cluster.get('GPU', 0):g} GPU; per trial "
            f"{plan.num_workers} {'GPU' if plan.use_gpu else 'CPU'} worker(s), up to {plan.max_concurrent_trials} at once")
        check_nodes(cfg, address, {**{f"corpus {n} root": str(cfg.corpora[n].root.resolve()) for n in corpora_used(cfg)
                                      if cfg.corpora[n].root.exists()},
                                   **{k: v for need in needs for k, v in required_weights(*need).items()}}, log)
        dirs = prepare_corpora(cfg, corpora_used(cfg), log)
        check_nodes(cfg, address, {f"corpus {n} feature cache": str(d) for n, d in dirs.items()}, log)
        experiment = resolve_plan(cfg, dict(dirs), {name: open_feature_set(FeatureSet, name, d).manifest
                                                    for name, d in dirs.items()})
        runs = experiment.runs()  # every unit once per variant, the variants of a unit one after another
        prepare_token_caches([vcfg for _, vcfg in experiment.variants], dirs, log)  # before any unit runs
        units = [unit for unit, _ in runs]
        unit_cfg = {unit.key: vcfg for unit, vcfg in runs}
        kept = {unit.key: read_unit(results, unit.key) for unit in units} if resuming else {}
        (results / UNITS_DIR).mkdir(parents=True, exist_ok=True)
        if not resuming:
            write_state(results, cfg)

        def write_tables(summaries: list[dict[str, Any]], primary: str) -> None:
            """The trials and metrics tables (and confusion.json, config, env.json) of every summary so far."""
            trials = pd.DataFrame([t for s in summaries for t in s["trials"]])
            if "selected" in trials:  # units kept from before rule picks: their selected row is the primary's
                trials = fill_primary(trials, primary, trials["selected"].fillna(False).astype(bool))
            write_results(
                results,
                metrics=pd.DataFrame([m for s in summaries for m in s["metrics"]]),
                trials=trials,
                confusions=[c for s in summaries for c in s["confusions"]],
                config=dump_config(cfg),
                cluster_resources={**cluster, "plan": plan.as_dict(), "run_started_at": started_at},
            )

        def publish(summaries: list[dict[str, Any]], tables: bool, report: bool) -> None:
            """From every summary so far (finished and failed units): the trials and metrics tables (`tables`), then
            (`report`) the per-utterance tables and the caller's report."""
            primary = cfg.protocol.cross_selection[0]
            if tables:
                write_tables(summaries, primary)
            if not report:  # the per-utterance tables grow with every unit (rows x rules x heads): written with the
                return      # report (at most every REPORT_EVERY_S and at the end); each unit's own record is kept at once
            predictions = [p for s in summaries for p in s.get("predictions", [])]
            if predictions:
                write_predictions(results, fill_primary(pd.DataFrame(predictions), primary))
            selections = [r for s in summaries for r in s.get("selections", [])]  # cross_selection: every rule's pick
            if selections:
                write_selections(results, pd.DataFrame(selections))
            if on_results is not None:
                on_results(results)

        position = {unit.key: i for i, unit in enumerate(units, 1)}

        def tag(unit: Any) -> str:
            return (f"[{position[unit.key]}/{len(units)}] {unit.pair} fold {unit.fold}"
                    + (f" [{unit.variant}]" if unit.variant else ""))

        summaries: dict[str, dict[str, Any]] = {}  # by unit key; tables list them in the units' order
        unpublished = [True]  # summaries changed since the tables were last written
        unreported = [True]  # ... since on_results last ran
        reported_at = [time.monotonic()]

        def publish_all(final: bool = False) -> None:
            report = final or time.monotonic() - reported_at[0] >= REPORT_EVERY_S
            if unpublished[0] or (report and unreported[0]):  # report due: the per-utterance tables and the report
                publish([summaries[u.key] for u in units if u.key in summaries], unpublished[0], report)
                unpublished[0] = False
            if report:
                unreported[0], reported_at[0] = False, time.monotonic()

        failed: list[str] = []
        progress = RunProgress(len(units), sum(expected_trials(unit_cfg[u.key], search) for u in units))  # one overall line (harness.experiment.progress)
        for unit in units:
            if kept.get(unit.key) is not None:
                log(f"{tag(unit)}: finished earlier, kept")
                summaries[unit.key] = kept[unit.key]
                progress.kept(len(kept[unit.key].get("trials", [])))
        todo = [unit for unit in units if unit.key not in summaries]
        lanes = unit_lanes(cfg.resources.concurrent_units, plan.max_concurrent_trials, len(todo))
        if todo:
            log(f"{len(todo)} unit(s) to run, {len(lanes)} at once (resources.concurrent_units: "
                f"{cfg.resources.concurrent_units}), trials at once per unit: {'/'.join(map(str, sorted(set(lanes))))}")

        resize = None  # a joined cluster may grow or shrink: the lanes follow it (harness.experiment.elastic)
        if elastic is not None:
            resize = ClusterLanes(cfg, plan, elastic, present_resources, log,
                                  on_change=lambda grown: request_capacity(cfg, grown))

        def work(unit: Any, trials_at_once: int) -> dict[str, Any]:
            log(f"{tag(unit)}: {len(unit.labels)} classes, "
                f"{len(unit.train_idx)} train / {len(unit.val_idx)} val / {len(unit.test_idx)} test rows"
                + (f", {unit.n_dropped} rows outside the shared labels dropped" if unit.n_dropped else ""))
            summary = run_unit(unit_cfg[unit.key], unit, dirs, replace(plan, max_concurrent_trials=trials_at_once),
                               search, resume)
            if search:  # the searched fields this unit's training never reads (plan.unit_config): not searched there
                unsearched = "|".join(param_name(k) for k in cfg.search.space if k not in unit_cfg[unit.key].search.space)
                for row in summary.get("trials", []):
                    row[NOT_SEARCHED] = unsearched
            return summary

        def done(unit: Any, summary: dict[str, Any]) -> None:  # in this (the driver's main) thread only
            write_unit(results, summary)
            if summary.get("failed") and unit.key not in summaries:
                log(f"{tag(unit)}: NOT finished: {summary['failed']}")
                failed.append(f"{tag(unit)}: {summary['failed']}")
            elif not summary.get("failed"):
                log(f"{tag(unit)}: finished")
            if unit.key not in summaries:
                progress.finished(len(summary.get("trials", [])))
                log(progress.line())
            summaries[unit.key] = summary
            unpublished[0] = unreported[0] = True
            publish_all()

        try:
            run_side_by_side(todo, lanes, work, done, resize)
        finally:  # also when stopped (every unit kept, or Ctrl+C cut a publish short): every unit recorded so far
            if summaries and (unpublished[0] or unreported[0]):
                publish_all(final=True)
    if failed:
        raise SweepFailed(f"{len(failed)} of {len(units)} unit(s) not finished (the others are recorded):\n"
                          + "\n".join(failed))
    return results
