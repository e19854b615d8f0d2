"""`--plan`: what a `sweep` or `train` would run, and how much of it the cluster runs at once; runs nothing.

The experiment is resolved into the same `harness.experiment.plan.ExperimentPlan` the run uses: a pair
whose corpora are prepared is expanded exactly from their feature caches; otherwise its corpora with a root
but no cache are counted from their importer's scan (`harness.experiment.plan_scan`, exact but for files
that will fail to decode); otherwise its folds are reported as unknown until prepared (with the reason: root
missing, or not prepared yet), and the total is marked as a lower bound. `--estimate-from RESULTS_DIR` adds
wall time, worker-hours and node-hours (`harness.experiment.plan_estimate`).
Concurrency: how many trials fit at once into the cluster's resources now (the local machine, or the
joined cluster's present resources) and at its configured maximum (a launcher config's node types at
their `max_workers`, `--cluster cluster.yaml`), and how many units share them side by side
(`harness.experiment.lanes.unit_lanes`).
"""
from __future__ import annotations

import os
from pathlib import Path

from fdan.features.cache_name import cache_dir_for
from fdan.features.featureset import FeatureSet
from harness.cluster.launcher import max_resources
from harness.cluster.resources import trial_demand, trials_fit, wants_gpu
from harness.config import ExperimentConfig
from harness.experiment.lanes import unit_lanes
from harness.experiment.plan import ExperimentPlan, corpora_used, resolve_plan, unit_config
from harness.experiment.plan_estimate import describe_estimate, estimate, trial_times
from harness.experiment.plan_scan import scanned_manifest


def _cache(cfg: ExperimentConfig, name: str) -> tuple[Path | None, str]:
    """(prepared cache dir, "") or (None, why the corpus' folds are unknown).

    Cache directories are named from the scanned corpus name (known only after a scan) plus a digest
    of importer, options and features; the one whose meta.json records this corpus' root is it.
    """
    import json

    spec = cfg.corpora[name]
    digest = cache_dir_for(cfg.cache_dir, "", cfg.features, spec.importer, spec.options).name  # "-<digest>"
    root = str(spec.root.resolve())
    for meta in sorted(cfg.cache_dir.resolve().glob(f"*{digest}/meta.json")):
        try:
            if json.loads(meta.read_text()).get("root") == root and (meta.parent / "manifest.csv").is_file():
                return meta.parent, ""
        except (OSError, ValueError):
            continue
    if spec.synth is None and not spec.root.is_dir():
        return None, f"{name}: root {spec.root} missing"
    return None, f"{name}: not prepared yet"


def plan_from_caches(cfg: ExperimentConfig) -> ExperimentPlan:
    """The experiment's plan from the caches prepared so far (nothing is prepared or started)."""

    found = {name: _cache(cfg, name) for name in corpora_used(cfg)}
    caches = {name: directory for name, (directory, _) in found.items()}
    manifests = {name: FeatureSet.open(d).manifest for name, d in caches.items() if d is not None}
    # not prepared, but the root is there: its importer's scan gives the folds (harness.experiment.plan_scan)
    manifests.update({name: m for name in caches if name not in manifests
                      and (m := scanned_manifest(cfg, name)) is not None})
    return resolve_plan(cfg, caches, manifests, notes={name: why for name, (_, why) in found.items() if why})


def local_resources(cfg: ExperimentConfig) -> dict[str, float]:
    """What a local cluster would get: `resources.num_cpus` (or every core) and the visible GPUs."""
    import torch

    return {"CPU": float(cfg.resources.num_cpus or os.cpu_count() or 1), "GPU": float(torch.cuda.device_count())}


def _fmt(resources: dict[str, float]) -> str:
    return ", ".join(f"{v:g} {k}" for k, v in sorted(resources.items()) if k in ("CPU", "GPU")) or "nothing"


def describe_plan(cfg: ExperimentConfig, search: bool, now: dict[str, float], where: str,
                  cluster_yaml: Path | None = None, estimate_from: Path | None = None) -> str:
    """The plan as text: units per pair, trials per unit, resources per trial, concurrency now / at most."""
    from harness.tuning.tuner import expected_trials  # lazy: Ray Tune, which --plan does not otherwise import

    trials = expected_trials(cfg, search)  # the grid's size when an all-choice space is enumerated
    plan = plan_from_caches(cfg)
    variants = len(plan.variants)  # every (pair x fold) unit runs once per variant
    # a unit whose training never reads a searched field does not search it (harness.experiment.plan.unit_config)
    per_unit = [expected_trials(unit_config(vcfg, unit), search) for p in plan.pairs for unit in p.units or ()
                for _, vcfg in plan.unit_variants(unit)]
    fewer = [n for n in per_unit if n < trials]
    unprepared = [p.note for p in plan.pairs if p.units is None]
    unprepared = list(dict.fromkeys(why for note in unprepared for why in note.split("; ")))
    counts = [(p.pair, None if p.units is None else sum(len(plan.unit_variants(u)) for u in p.units), p.note)
              for p in plan.pairs]
    known = [units for _, units, _ in counts if units is not None]
    lines = [f"experiment {cfg.name}: {len(counts)} pair(s), {trials} trial(s) per unit"
             + ("" if search else " (train: no search)")
             + (f", {variants} variants (each pair x fold once per variant)" if variants > 1 else "")
             + (f"; oracle units under {', '.join(cfg.pairs.oracle)} only" if isinstance(cfg.pairs.oracle, list) else "")
             + (f"; {len(fewer)} unit(s) fewer ({'/'.join(map(str, sorted(set(fewer))))}): a searched field their "
                "training never reads is not searched" if fewer else "")]
    if unprepared:
        lines.append("corpora without a prepared feature cache (their folds are unknown until prepared): "
                     + "; ".join(unprepared))
    for pair, units, note in counts:
        shown = "folds: unknown until prepared" if units is None else f"{units} unit(s)"
        lines.append(f"  {pair}: {shown}" + (f" ({note})" if note and units is not None else ""))
    unknown = len(counts) - len(known)
    total_units = max(1, sum(known) + unknown * variants)  # every pair has at least one unit per variant
    if unknown:
        low = sum(known) + unknown * variants
        lines.append(f"total: at least {low} unit(s) = {sum(per_unit) + unknown * variants * trials} trial(s) "
                     f"({unknown} pair(s) count as one unit "
                     f"{'per variant ' if variants > 1 else ''}until their corpora are prepared: fdan-bench prepare)")
    else:
        lines.append(f"total: {sum(known)} unit(s) = {sum(per_unit)} trial(s)")
    res = cfg.resources
    lines.append(f"per trial: 1 Tune driver ({res.cpus_per_trial_driver:g} CPU) + {res.workers_per_trial} Train "
                 f"worker(s) of {res.cpus_per_worker:g} CPU" + (f" / {res.gpus_per_worker:g} GPU" if res.use_gpu != "never" else "")
                 + f" (use_gpu: {res.use_gpu})")
    capacities = [(f"now ({where})", now, [])]
    nodes = None
    if cluster_yaml is not None:
        cap = max_resources(cluster_yaml)
        capacities.append((f"at most ({cluster_yaml})", cap.resources, cap.unknown_types))
        nodes = cap.nodes
    at_once_seen = 1
    for label, resources, unknown_types in capacities:
        gpu = wants_gpu(cfg, resources)
        fits = trials_fit(cfg, resources, gpu)
        limit = cfg.search.max_concurrent_trials
        at_once = min(fits, limit) if limit else fits
        demand = _fmt(trial_demand(cfg, gpu))
        if at_once < 1:
            line = f"concurrency {label}: {_fmt(resources)} -> no trial fits (one needs {demand})"
        else:
            lanes = unit_lanes(res.concurrent_units, at_once, total_units)
            line = (f"concurrency {label}: {_fmt(resources)} -> {at_once} trial(s) at once on "
                    f"{'GPU' if gpu else 'CPU'} workers ({demand} each"
                    + (f", capped by search.max_concurrent_trials={limit}" if limit and limit < fits else "") + ")"
                    + f"; {len(lanes)} unit(s) side by side, up to {min(max(lanes), trials)} trial(s) of each at once")
        if unknown_types:
            line += f"; node types without declared resources, not counted: {', '.join(unknown_types)}"
        lines.append(line)
        at_once_seen = max(1, at_once)  # the estimate uses the last capacity: the cluster's maximum when given
    lines.append(f"units side by side: resources.concurrent_units = {res.concurrent_units} (auto: one unit per trial "
                 "slot; each unit's share of the slots caps its trials at once)")
    if estimate_from is not None:
        times = trial_times(estimate_from)
        n_trials = sum(per_unit) + unknown * variants * trials
        est = estimate(times, n_trials, cfg.train.epochs, at_once_seen, res.workers_per_trial, nodes)
        lines.append(describe_estimate(times, est, str(estimate_from), low=bool(unknown)))
    return "\n".join(lines)
