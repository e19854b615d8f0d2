"""What reaches the trial workers: the test split's rows only under the `paper` protocol."""
from __future__ import annotations

from pathlib import Path

import pytest

from harness.cluster.resources import plan_resources
from harness.config.schema import validate_config
from harness.tuning.work_unit import WorkUnit
from harness.tuning.tuner import trial_payload

from ..experiment_data import base_config, deep_set


@pytest.mark.parametrize("protocol", ["speaker-independent", "paper"])
def test_test_rows_reach_trials_only_under_paper(tmp_path: Path, protocol: str):
    cfg = validate_config(deep_set(base_config(tmp_path), "protocol", {"name": protocol}))
    unit = WorkUnit("studio", "studio", 0, ("anger", "sadness"), (0, 1), (2,), (3, 4), adapt_idx=())
    payload = trial_payload(cfg, unit, {"studio": tmp_path}, plan_resources(cfg, {"CPU": 2.0}), searching=True)
    assert payload["unit"]["train_idx"] == [0, 1] and payload["unit"]["val_idx"] == [2]
    assert payload["unit"]["test_idx"] == ([3, 4] if protocol == "paper" else [])
    assert "3, 4" not in repr({k: v for k, v in payload["unit"].items() if k != "test_idx"})
