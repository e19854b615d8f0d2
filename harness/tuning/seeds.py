"""`search.seeds`: the configuration chosen for a unit, trained and tested again with other seeds.

After a unit's selection, each seed in `search.seeds` other than the chosen trial's own `train.seed`
re-runs that trial's configuration (its sampled hyper-parameters fixed, `train.seed` = the seed, no
search: one trial, its own Tune experiment `<experiment>__<unit key>~seed<s>`) and tests its model
once, like the chosen one. Those rows join the unit's summary with `seed` set and `selected` true,
so the leaderboard cells are mean ± std over folds × seeds and predictions.parquet holds every run.
"""
from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any, Callable

from harness.cluster.resources import ResourcePlan
from harness.config import ExperimentConfig
from harness.config.dotted import with_values
from harness.config.search_space import param_name
from harness.tuning.work_unit import WorkUnit

RunUnit = Callable[[ExperimentConfig, WorkUnit, dict[str, Path], ResourcePlan, bool, bool], dict[str, Any]]


def chosen_seed(cfg: ExperimentConfig, params: dict[str, Any]) -> int:
    """The chosen trial's `train.seed` (its sampled value if the seed was searched)."""
    return int(params.get("seed", cfg.train.seed)) if "train.seed" in cfg.search.space else int(cfg.train.seed)


def seed_config(cfg: ExperimentConfig, params: dict[str, Any], seed: int) -> ExperimentConfig:
    """`cfg` with the chosen trial's sampled values (`params` by leaf name) and `train.seed` fixed, no search."""
    values = {dotted: params[param_name(dotted)] for dotted in cfg.search.space
              if param_name(dotted) in params and dotted != "train.seed"}
    sections = with_values({"model": cfg.model, "train": cfg.train}, {**values, "train.seed": seed})
    search = cfg.search.model_copy(update={"space": {}, "num_samples": 1, "seeds": []})
    return cfg.model_copy(update={**sections, "search": search})


def rerun_seeds(run_unit: RunUnit, cfg: ExperimentConfig, unit: WorkUnit, dirs: dict[str, Path], plan: ResourcePlan,
                params: dict[str, Any], resume: bool) -> list[dict[str, Any]]:
    """One summary per extra seed (`run_unit` on the fixed configuration), its rows relabelled with the
    unit's own variant and `seed`; a failed seed run's summary keeps its `failed` message."""
    own = chosen_seed(cfg, params)
    out = []
    for seed in [s for s in dict.fromkeys(cfg.search.seeds) if s != own]:
        tag = f"{unit.variant}~seed{seed}" if unit.variant else f"seed{seed}"
        summary = run_unit(seed_config(cfg, params, seed), replace(unit, variant=tag), dirs, plan, False, resume)
        for part in ("trials", "metrics", "confusions", "predictions", "selections"):
            for row in summary.get(part, []):
                row.update(variant=unit.variant, seed=seed)
        out.append(summary)
    return out
