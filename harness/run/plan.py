"""`--plan`: what a `sweep` or `train` would run, and how much of it the cluster runs at once; runs nothing.

Units need each corpus' speakers (folds) and labels, known only from its prepared feature cache: a
pair whose corpora are prepared is expanded exactly (`harness.run.pairs.expand_pair`); otherwise its
corpora with a root but no cache are counted from their importer's scan (`harness.run.plan_scan`, exact
but for files that will fail to decode); otherwise the folds are reported as unknown until prepared, and
the total is marked as a lower bound. `--estimate-from RESULTS_DIR` adds wall time, worker-hours and node-hours
(`harness.run.plan_estimate`).
Concurrency: how many trials fit at once into the cluster's resources now (the local machine, or the
joined cluster's present resources) and at its configured maximum (a launcher config's node types at
their `max_workers`, `--cluster cluster.yaml`), and how many units share them side by side
(`harness.run.lanes.unit_lanes`).
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from harness.cluster.launcher import max_resources
from harness.cluster.resources import trial_demand, trials_fit, wants_gpu
from harness.config import ExperimentConfig
from harness.run.lanes import unit_lanes
from harness.run.pairs import PairError, expand_pair, pair_list, pair_name
from harness.run.plan_estimate import describe_estimate, estimate, trial_times
from harness.run.plan_scan import scanned_manifest


@dataclass(frozen=True)
class PairPlan:
    pair: str
    units: int | None  # None: unknown until the corpora are prepared
    note: str = ""


def _cache(cfg: ExperimentConfig, name: str) -> tuple[Path | None, str]:
    """(prepared cache dir, "") or (None, why the corpus' folds are unknown).

    Cache directories are named from the scanned corpus name (known only after a scan) plus a digest
    of importer, options and features; the one whose meta.json records this corpus' root is it.
    """
    import json

    from fdan.features.cache_name import cache_dir_for

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


def pair_plans(cfg: ExperimentConfig) -> list[PairPlan]:
    """Units per pair, exact where both corpora are prepared."""
    from fdan.features.featureset import FeatureSet

    names = list(dict.fromkeys(n for pair in pair_list(cfg) for n in pair))
    caches = {name: _cache(cfg, name) for name in names}
    manifests = {name: FeatureSet.open(d).manifest for name, (d, _) in caches.items() if d is not None}
    scanned = {name: m for name in names if name not in manifests and (m := scanned_manifest(cfg, name)) is not None}
    manifests.update(scanned)  # not prepared, but the root is there: its importer's scan gives the folds
    out = []
    for source, target in pair_list(cfg):
        missing = [caches[n][1] for n in dict.fromkeys((source, target)) if n not in manifests]
        if missing:
            out.append(PairPlan(pair_name(source, target), None, "; ".join(missing)))
            continue
        try:
            note = "counted from a scan of " + ", ".join(n for n in dict.fromkeys((source, target)) if n in scanned) \
                + " (not prepared yet)" if any(n in scanned for n in (source, target)) else ""
            out.append(PairPlan(pair_name(source, target), len(expand_pair(cfg, source, target, manifests)), note))
        except PairError as exc:
            out.append(PairPlan(pair_name(source, target), 0, f"cannot run: {exc}"))
    return out


def local_resources(cfg: ExperimentConfig) -> dict[str, float]:
    """What a local cluster would get: `resources.num_cpus` (or every core) and the visible GPUs."""
    import torch

    return {"CPU": float(cfg.resources.num_cpus or os.cpu_count() or 1), "GPU": float(torch.cuda.device_count())}


def _fmt(resources: dict[str, float]) -> str:
    return ", ".join(f"{v:g} {k}" for k, v in sorted(resources.items()) if k in ("CPU", "GPU")) or "nothing"


def describe_plan(cfg: ExperimentConfig, search: bool, now: dict[str, float], where: str,
                  cluster_yaml: Path | None = None, estimate_from: Path | None = None) -> str:
    """The plan as text: units per pair, trials per unit, resources per trial, concurrency now / at most."""
    from harness.config.variants import expand_variants
    from harness.run.tuner import expected_trials

    trials = expected_trials(cfg, search)  # the grid's size when an all-choice space is enumerated
    variants = len(expand_variants(cfg))  # every (pair x fold) unit runs once per variant
    names = list(dict.fromkeys(n for pair in pair_list(cfg) for n in pair))
    # corpora whose folds are unknown: no cache and no root to scan (harness.run.plan_scan)
    unprepared = [why for n in names if (why := _cache(cfg, n)[1]) and not cfg.corpora[n].root.is_dir()]
    pairs = [PairPlan(p.pair, None if p.units is None else p.units * variants, p.note) for p in pair_plans(cfg)]
    known = [p.units for p in pairs if p.units is not None]
    lines = [f"experiment {cfg.name}: {len(pairs)} pair(s), {trials} trial(s) per unit"
             + ("" if search else " (train: no search)")
             + (f", {variants} variants (each pair x fold once per variant)" if variants > 1 else "")]
    if unprepared:
        lines.append("corpora without a prepared feature cache (their folds are unknown until prepared): "
                     + "; ".join(unprepared))
    for p in pairs:
        units = "folds: unknown until prepared" if p.units is None else f"{p.units} unit(s)"
        lines.append(f"  {p.pair}: {units}" + (f" ({p.note})" if p.note and p.units is not None else ""))
    unknown = len(pairs) - len(known)
    total_units = max(1, sum(known) + unknown * variants)  # every pair has at least one unit per variant
    if unknown:
        low = sum(known) + unknown * variants
        lines.append(f"total: at least {low} unit(s) = {low * trials} trial(s) ({unknown} pair(s) count as one unit "
                     f"{'per variant ' if variants > 1 else ''}until their corpora are prepared: fdan-bench prepare)")
    else:
        lines.append(f"total: {sum(known)} unit(s) = {sum(known) * trials} trial(s)")
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
        n_trials = (sum(known) + unknown * variants) * trials
        est = estimate(times, n_trials, cfg.train.epochs, at_once_seen, res.workers_per_trial, nodes)
        lines.append(describe_estimate(times, est, str(estimate_from), low=bool(unknown)))
    return "\n".join(lines)
