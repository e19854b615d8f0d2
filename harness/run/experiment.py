"""A whole run (`fdan-bench sweep` or `train`): every (pair x fold) unit in turn, then the results tables.

A unit whose summary (`units/<key>.json`, see `harness.run.state`) exists is not run again. The
report (leaderboard.md, plots/) is rendered from the written tables by the caller (`harness.cli`).
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Callable

import pandas as pd
import yaml

from harness.cluster.local import ray_cluster
from harness.cluster.resources import plan_resources
from harness.config import ExperimentConfig, dump_config
from harness.results.jsonable import to_jsonable
from harness.run.pairs import expand_units, pair_list
from harness.run.state import STATE_FILE, UNITS_DIR, check_results_dir
from harness.run.unit import run_unit


def corpora_used(cfg: ExperimentConfig) -> list[str]:
    """Corpora the pairs need, in first-use order, each once."""
    return list(dict.fromkeys(name for pair in pair_list(cfg) for name in pair))


def run_experiment(cfg: ExperimentConfig, *, address: str | None = None, resume: bool = False, search: bool = True,
                   log: Callable[[str], None] = print) -> Path:
    """Run (or resume) the whole experiment and write the results directory; returns its path."""
    from fdan.features.featureset import FeatureSet
    from harness.results.io import write_results
    from harness.run.corpora import check_roots, prepare_corpora

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
            done.write_text(json.dumps(to_jsonable(summary, keep_nan=True)))
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
