"""Units side by side keep their own payloads: one Tune trainable name per unit, and a guard on the reports.

Under one shared trainable name, Tune's registries (`tune.with_parameters`, the trainable registry) keep
only the last unit's payload; trials of a unit whose Tuner was built before another's then trained on the
other unit's rows (seen: the quickstart's two folds gave identical trials, one tested on its own
training speaker at 100 %).
"""
from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from harness.errors import SweepError
from harness.tuning.collect import TrialRecord
from harness.tuning.tuner import unit_trainable
from harness.tuning.unit import check_trials_ran_unit


def _echo(config: dict, spec: dict) -> dict:
    return {"unit": spec["unit"]}


def test_each_unit_gets_a_stable_name_of_its_own():
    a, b = unit_trainable(_echo, "exp__a"), unit_trainable(_echo, "exp__b")
    assert a.__name__ != b.__name__ and str(a).split(" at ")[0] != str(b).split(" at ")[0]
    assert unit_trainable(_echo, "exp__a").__name__ == a.__name__  # the same on resume
    assert a({}, spec={"unit": "a"}) == {"unit": "a"}


def test_a_trial_that_reports_another_units_key_is_refused():
    ok = TrialRecord("t1", "completed", {}, pd.DataFrame({"epoch": [1, 2], "unit_key": ["u1", "u1"]}))
    replay = TrialRecord("t2", "completed", {}, pd.DataFrame({"epoch": [1]}))  # no key reported: nothing to check
    check_trials_ran_unit([ok, replay], "u1")
    wrong = TrialRecord("t3", "completed", {}, pd.DataFrame({"epoch": [1], "unit_key": ["u2"]}))
    with pytest.raises(SweepError, match="trial t3 of unit u1 trained on unit u2"):
        check_trials_ran_unit([ok, wrong], "u1")


@pytest.mark.slow
def test_a_unit_that_starts_while_another_runs_leaves_its_trials_alone(tmp_path: Path):
    """Real Tune: unit A runs two trials one after another; unit B's Tuner starts during A's first trial.
    A's second trial (started after B registered its trainable) must still run A's payload."""
    import threading
    import time

    from ray import tune

    from harness.cluster.local import local_ray

    def report(config: dict, spec: dict) -> None:
        time.sleep(spec["sleep"])
        tune.report({"unit": spec["unit"]})

    def tuner(unit: str, samples: int, sleep: float):
        trainable = tune.with_resources(tune.with_parameters(unit_trainable(report, f"exp__{unit}"),
                                                             spec={"unit": unit, "sleep": sleep}), {"CPU": 0.5})
        return tune.Tuner(trainable, tune_config=tune.TuneConfig(num_samples=samples, max_concurrent_trials=1),
                          run_config=tune.RunConfig(name=f"exp__{unit}", storage_path=str(tmp_path), verbose=0))

    with local_ray(1):
        results: dict[str, list] = {}
        a = threading.Thread(target=lambda: results.setdefault("a", list(tuner("a", 2, 6.0).fit())))
        a.start()
        time.sleep(3.0)  # A's first trial is running
        results["b"] = list(tuner("b", 1, 0.0).fit())
        a.join(timeout=120)
    assert [r.metrics["unit"] for r in results["b"]] == ["b"]
    assert [r.metrics["unit"] for r in results["a"]] == ["a", "a"]
