"""experiments/baselines.yaml puts the methods on equal footing: every method's alignment weights are searched on
the same log grid with the same number of trials, under one normalisation rule."""
from __future__ import annotations

from pathlib import Path

import numpy as np

from harness.config.schema import load_config

ROOT = Path(__file__).resolve().parents[3]
WEIGHTS = ("train.lmmd_weight", "train.cross_corpus_lmmd_weight")


def test_baselines_search_every_methods_weight_on_one_log_grid():
    cfg = load_config(ROOT / "experiments" / "baselines.yaml")
    space = cfg.search.space
    for key in WEIGHTS:
        assert key in space and space[key].type == "choice", f"{key} is not searched on a grid"
        values = np.asarray(space[key].values, dtype=float)
        assert len(values) >= 2 and np.allclose(np.diff(np.log10(values)), np.log10(values[1] / values[0]))
    grid = int(np.prod([len(space[k].values) for k in space]))
    assert cfg.search.num_samples >= grid  # enumerated: every variant runs the whole grid once
    assert cfg.train.lmmd_scale_invariant
    methods = {v.get("train.method") for v in cfg.variants}
    assert {"fdan", "dsan", "mmd", "coral", "dann", "source_only"} <= methods
    for variant in cfg.variants:  # no variant searches or fixes its own weights
        assert not set(variant) & {*WEIGHTS, "search.space", "search.num_samples", "train.lmmd_scale_invariant"}
