"""The `--plan` cost estimate from a previous run's trial times (the formulas of harness.experiment.plan_estimate)."""
from __future__ import annotations

import pandas as pd
import pytest

from harness.results.io import write_results
from harness.experiment.plan_estimate import EstimateError, estimate, max_overlap, trial_times



def write_trials(path, rows, run_started_at=None):
    trials = pd.DataFrame([{"experiment": "e", "pair": "a", "source": "a", "target": "a", "fold": i, "trial_id": f"t{i}",
                            "protocol": "speaker-independent", "status": "completed", "selected": True, **row}
                           for i, row in enumerate(rows)])
    metrics = pd.DataFrame(columns=["experiment", "pair", "source", "target", "fold", "trial_id", "epoch", "split",
                                    "head", "metric", "value"])
    write_results(path, metrics=metrics, trials=trials, confusions=[], config={"train": {"epochs": 4}},
                  cluster_resources={} if run_started_at is None else {"run_started_at": run_started_at})


def test_overlap_and_formulas(tmp_path):
    assert max_overlap([0, 0, 5, 8], [10, 6, 12, 11]) == 3  # at 5 <= t < 6: [0,10) [0,6) [5,12)
    assert max_overlap([0, 5], [5, 9]) == 1  # half-open: one ends as the next starts
    # 4 trials of 10 s, two at a time, 5 s gaps: wall 25 s against the ideal 20 s
    write_trials(tmp_path / "r", [{"started_at": 0, "ended_at": 10}, {"started_at": 0, "ended_at": 10},
                                  {"started_at": 15, "ended_at": 25}, {"started_at": 15, "ended_at": 25},
                                  {"started_at": 30, "ended_at": 99, "reused_from": "t0"}], run_started_at=-12.0)
    times = trial_times(tmp_path / "r")
    assert (times.mean_s, times.concurrency, times.wall_s, times.trials, times.epochs) == (10.0, 2, 25.0, 4, 4)
    assert times.startup_s == 12.0  # run start to the first trial
    assert times.overhead == pytest.approx(1.25)
    est = estimate(times, trials=40, epochs=8, at_once=4, workers_per_trial=2, nodes=3)
    assert est.wall_s == pytest.approx(12 + 1.25 * 40 * 20 / 4)  # trials twice as long (8 vs 4 epochs)
    assert est.worker_hours == pytest.approx(40 * 20 * 2 / 3600) and est.node_hours == pytest.approx(3 * est.wall_s / 3600)


def test_results_without_times_is_a_clear_error(tmp_path):
    write_trials(tmp_path / "r", [{"status": "completed"}])
    with pytest.raises(EstimateError, match="started_at"):
        trial_times(tmp_path / "r")
    with pytest.raises(EstimateError, match="not found"):
        trial_times(tmp_path / "absent")
