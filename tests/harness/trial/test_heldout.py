"""Held-out evaluation of chosen checkpoints: several picks of a unit in one call build the model once."""
from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np

import harness.trial.heldout as heldout
from harness.trial.loop import run_epochs
from tests.harness.trial.test_loop import Recorder, config
from tests.fdan.features.test_token_cache import write_feature_cache


def test_picks_evaluated_together_equal_each_alone_and_the_model_is_built_once(tmp_path: Path, monkeypatch) -> None:
    """Each pick gets a copy of one untrained model with its own weights loaded: the same results as a fresh
    build per pick, and two epochs' weights give different probabilities (no state leaks between picks)."""
    features = write_feature_cache(tmp_path / "features")
    rec = Recorder(tmp_path / "ckpt", improved_only=False)  # a checkpoint of every epoch
    spec = config(features, epochs=3)
    run_epochs(spec, rec)
    unit = replace(spec.unit, test_idx=tuple(range(16, 20)))
    picks = [(str(rec.checkpoints[0]), None), (str(rec.checkpoints[-1]), None), (str(rec.checkpoints[0]), None)]
    alone = [heldout.evaluate_checkpoint(path, unit) for path, _ in picks]
    builds = []
    build_model = heldout.build_model
    monkeypatch.setattr(heldout, "build_model", lambda *a: builds.append(a) or build_model(*a))
    together = heldout.evaluate_checkpoints(picks, unit)
    assert len(builds) == 1  # one model config: built once, copied per pick

    def probabilities(result):
        return np.array([[v for k, v in row.items() if k.startswith("prob_")] for row in result["predictions"]])

    for one, both in zip(alone, together):
        assert one["metrics"] == both["metrics"] and one["epoch"] == both["epoch"]
        np.testing.assert_array_equal(probabilities(one), probabilities(both))
    assert not np.array_equal(probabilities(together[0]), probabilities(together[1]))  # epochs 1 and 3 differ
    np.testing.assert_array_equal(probabilities(together[0]), probabilities(together[2]))  # after epoch 3's pick
