"""What reaches the trial workers (the typed TrialSpec): the test split's rows only under the `paper` protocol."""
from __future__ import annotations

from pathlib import Path

import pytest

from harness.cluster.resources import plan_resources
from harness.config.schema import validate_config
from harness.tuning.tuner import trial_spec
from harness.tuning.work_unit import WorkUnit

from ..experiment_data import base_config, deep_set


@pytest.mark.parametrize("protocol", ["speaker-independent", "paper"])
def test_test_rows_reach_trials_only_under_paper(tmp_path: Path, protocol: str):
    cfg = validate_config(deep_set(base_config(tmp_path), "protocol", {"name": protocol}))
    unit = WorkUnit("studio", "studio", 0, ("anger", "sadness"), (0, 1), (2,), (3, 4), adapt_idx=())
    spec = trial_spec(cfg, unit, {"studio": tmp_path}, plan_resources(cfg, {"CPU": 2.0}), searching=True)
    assert spec.unit.train_idx == (0, 1) and spec.unit.val_idx == (2,)
    assert spec.unit.test_idx == ((3, 4) if protocol == "paper" else ())
    assert spec.selection_key == cfg.protocol.selection_key and spec.model == cfg.model and spec.train == cfg.train


def test_a_trial_spec_takes_its_sampled_values(tmp_path: Path):
    cfg = validate_config(deep_set(base_config(tmp_path), "search", {"space": {
        "train.lmmd_weight": {"type": "choice", "values": [0.1, 0.3]},
        "model.attn_heads": {"type": "choice", "values": [2, 4]}}}))
    unit = WorkUnit("studio", "studio", 0, ("anger", "sadness"), (0, 1), (2,), (3, 4))
    spec = trial_spec(cfg, unit, {"studio": tmp_path}, plan_resources(cfg, {"CPU": 2.0}), searching=True)
    trial = spec.with_params({"lmmd_weight": 0.3, "attn_heads": 2})
    assert (trial.train.lmmd_weight, trial.model.attn_heads) == (0.3, 2) and spec.train.lmmd_weight == cfg.train.lmmd_weight
    assert trial_spec(cfg, unit, {"studio": tmp_path}, plan_resources(cfg, {"CPU": 2.0}), searching=False).with_params({}).space == {}
