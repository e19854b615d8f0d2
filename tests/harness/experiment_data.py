"""A small valid experiment config and a runner of the real `fdan-bench` CLI, for tests that break one thing."""
from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import yaml
from typer.testing import CliRunner

from harness.cli.app import app


def base_config(tmp: Path) -> dict[str, Any]:
    """A valid experiment on a synthetic corpus under ``tmp`` (generated on first use; nothing exists yet)."""
    return {
        "name": "hostile",
        "output_dir": str(tmp / "results"),
        "cache_dir": str(tmp / "cache"),
        "corpora": {"studio": {"importer": "synth", "root": str(tmp / "synth" / "studio"),
                               "synth": {"corpus": "synth-studio", "speakers": 3, "clips_per_emotion": 1}}},
        "pairs": {"within": ["studio"], "max_folds": 1},
        "train": {"epochs": 2, "batch_size": 4},
        "search": {"num_samples": 2, "space": {"train.lr": {"type": "loguniform", "low": 1e-4, "high": 1e-2}}},
    }


def write_config(tmp: Path, data: Any, name: str = "exp.yaml") -> Path:
    path = tmp / name
    path.write_text(data if isinstance(data, str) else yaml.safe_dump(data, sort_keys=False))
    return path


def deep_set(data: dict[str, Any], dotted: str, value: Any) -> dict[str, Any]:
    """A copy of ``data`` with ``dotted`` (a.b.c) set to ``value``; the value ``DELETE`` removes the key."""
    out = copy.deepcopy(data)
    node = out
    *parents, leaf = dotted.split(".")
    for key in parents:
        node = node.setdefault(key, {})
    if value is DELETE:
        node.pop(leaf, None)
    else:
        node[leaf] = value
    return out


DELETE = object()


def run_cli(*args: str):
    """Run `fdan-bench ARGS` in this process (Typer's CliRunner); stderr is part of ``result.output``."""
    return CliRunner().invoke(app, list(args))


def fixed_plan(cfg, units):
    """An `ExperimentPlan` of exactly `units` (one pair), for run tests that fake the corpora."""
    from harness.config.variants import expand_variants
    from harness.experiment.plan import ExperimentPlan, PairUnits

    return ExperimentPlan(cfg, (), {}, (PairUnits(units[0].source, units[0].target, tuple(units)),),
                          tuple(expand_variants(cfg)))
