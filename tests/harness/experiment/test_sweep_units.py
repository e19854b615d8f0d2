"""Sweep plumbing without Ray: resource planning, per-trial tables, selection, resume guards, units side by side."""
from __future__ import annotations

import math
import os
import signal
import threading
import time
from contextlib import contextmanager
from types import SimpleNamespace

import pandas as pd
import pytest
import yaml

from harness.cluster.auth import choose_auth_mode
from harness.cluster.resources import ResourceError, plan_resources
from harness.config import dump_config, validate_config
from harness.errors import SweepError, SweepFailed, SweepInterrupted, SweepStalled
from harness.experiment.lanes import unit_lanes
from harness.experiment.state import STATE_FILE, check_results_dir
from harness.tuning.collect import TrialRecord, best_epoch, clean_history, select, tidy_rows, trial_row
from harness.tuning.work_unit import WorkUnit
from tests.harness.experiment_data import fixed_plan


def cfg(tmp_path=None, **sections):
    data = {"name": "u", "corpora": {"a": {"importer": "synth", "root": "/x"}}, "pairs": {"within": ["a"]}}
    if tmp_path is not None:
        data["output_dir"] = str(tmp_path)
    data.update(sections)
    return validate_config(data)


def test_two_cores_run_two_fractional_trials_without_deadlock():
    plan = plan_resources(cfg(), {"CPU": 2.0})
    assert not plan.use_gpu and plan.max_concurrent_trials == 2 and plan.torch_threads == 1
    assert plan.resources_per_worker() == {"CPU": 0.5}
    assert plan_resources(cfg(search={"max_concurrent_trials": 5}), {"CPU": 2.0}).max_concurrent_trials == 2
    with pytest.raises(ResourceError, match="resources: one trial needs"):
        plan_resources(cfg(resources={"cpus_per_worker": 4}), {"CPU": 2.0})


def test_gpu_workers_when_the_cluster_has_gpus():
    plan = plan_resources(cfg(resources={"workers_per_trial": 2, "cpus_per_worker": 4}), {"CPU": 32.0, "GPU": 4.0})
    assert plan.use_gpu and plan.max_concurrent_trials == 2 and plan.resources_per_worker() == {"CPU": 4, "GPU": 1.0}
    assert plan.torch_threads == 4
    assert not plan_resources(cfg(resources={"use_gpu": "never"}), {"CPU": 8.0, "GPU": 1.0}).use_gpu


def test_auth_mode_is_chosen_but_an_explicit_env_wins(monkeypatch):
    monkeypatch.delenv("RAY_AUTH_MODE", raising=False)
    assert choose_auth_mode("disabled") == "disabled"
    monkeypatch.setenv("RAY_AUTH_MODE", "token")
    assert choose_auth_mode("disabled") == "token"


HISTORY = pd.DataFrame([
    {"epoch": 1, "train_loss": 2.0, "train_ce_fused": 1.0, "val_loss": 1.5, "val_fused_uar": 0.4, "val_face_war": 0.3,
     "checkpoint_path": "/s/c1", "trial_id": "t1", "done": False},
    {"epoch": 2, "train_loss": 1.0, "train_ce_fused": 0.5, "val_loss": 1.2, "val_fused_uar": 0.6, "val_face_war": 0.5,
     "checkpoint_path": "/s/c2", "trial_id": "t1", "done": False},
    {"epoch": 2, "train_loss": 1.0, "train_ce_fused": 0.5, "val_loss": 1.2, "val_fused_uar": 0.6, "val_face_war": 0.5,
     "checkpoint_path": "/s/c2b", "trial_id": "t1", "done": True},  # a resumed trial re-reporting epoch 2
])


def test_history_rows_become_tidy_long_rows():
    hist = clean_history(HISTORY)
    assert hist["epoch"].tolist() == [1, 2] and hist["checkpoint_path"].tolist() == ["/s/c1", "/s/c2b"]
    rows = pd.DataFrame(tidy_rows(hist, {"pair": "p", "trial_id": "t1"}))
    assert set(rows["split"]) == {"train", "val"}
    assert rows[(rows["split"] == "val") & (rows["metric"] == "loss")]["head"].unique().tolist() == ["all"]
    assert rows[(rows["metric"] == "uar")]["head"].unique().tolist() == ["fused"]
    assert rows[(rows["split"] == "train")]["metric"].unique().tolist() == ["loss", "ce_fused"]
    assert len(rows) == 2 * 5


def test_trial_rows_selection_and_ties():
    tied = pd.DataFrame({"epoch": [1, 2, 3], "val_fused_uar": [0.5, 0.7, 0.7]})
    assert best_epoch(tied, "val_fused_uar") == 3  # Ray keeps the later of equally scored checkpoints
    ids = {"experiment": "e", "pair": "p", "source": "a", "target": "a", "fold": 0}
    full = trial_row(TrialRecord("t1", "completed", {"lmmd_weight": 1.0, "bandwidths": [0.5, 1]}, clean_history(HISTORY)),
                     ids, "val_fused_uar", "speaker-independent", max_epochs=2)
    short = trial_row(TrialRecord("t2", "completed", {"lmmd_weight": 3.0, "bandwidths": None}, clean_history(HISTORY[:1])),
                      ids, "val_fused_uar", "speaker-independent", max_epochs=2)
    failed = trial_row(TrialRecord("t3", "error", {}, clean_history(pd.DataFrame())), ids, "val_fused_uar",
                       "speaker-independent", max_epochs=2)
    assert (full["status"], short["status"], failed["status"]) == ("completed", "early_stopped", "error")
    assert full["best_epoch"] == 2 and full["best_val_fused_uar"] == 0.6 and full["checkpoint_path"] == "/s/c2b"
    assert full["param_bandwidths"] == "[0.5, 1]" and short["param_bandwidths"] is None
    assert failed["epochs_run"] == 0 and math.isnan(failed["best_score"])
    assert select([short, full, failed]) == 1


def test_resume_guards(tmp_path):
    c = cfg(tmp_path)
    assert check_results_dir(c, resume=False) is False  # nothing there yet
    (c.results_dir).mkdir(parents=True)
    (c.results_dir / STATE_FILE).write_text(yaml.safe_dump(dump_config(c)))
    with pytest.raises(SweepError, match="--resume"):
        check_results_dir(c, resume=False)
    assert check_results_dir(c, resume=True) is True
    assert check_results_dir(cfg(tmp_path, resources={"num_cpus": 4}), resume=True) is True
    with pytest.raises(SweepError, match="train.epochs"):
        check_results_dir(cfg(tmp_path, train={"epochs": 3}), resume=True)


def test_corpora_used_once_each_in_order():
    from harness.experiment.plan import corpora_used

    c = validate_config({"name": "u", "corpora": {n: {"importer": "synth", "root": "/x"} for n in "abc"},
                         "pairs": {"within": ["b"], "cross": [{"source": "b", "target": "a"}]}})
    assert corpora_used(c) == ["b", "a"]


# --- units side by side (harness.experiment.lanes) with run_unit replaced: scheduling, tables, failures, resume ---



def test_lanes_share_the_trial_slots_and_never_exceed_them():
    assert unit_lanes("auto", 2, 5) == [1, 1]  # one unit per slot: units run their trials one by one
    assert unit_lanes("auto", 5, 2) == [3, 2]  # fewer units than slots: every unit at once, slots shared out
    assert unit_lanes(1, 8, 5) == [8]  # one unit at a time with every slot (the old behaviour)
    assert unit_lanes(4, 2, 5) == [1, 1]  # never more live trials than slots (Train drivers would starve workers)
    assert unit_lanes("auto", 4, 0) == []
    for setting, slots, units in [("auto", 7, 3), (2, 9, 4), ("auto", 1, 1), (3, 3, 10)]:
        assert sum(unit_lanes(setting, slots, units)) == slots


class FakeUnits:
    """run_experiment with everything Ray replaced: `run_unit` records when each unit ran and in which lane."""

    def __init__(self, monkeypatch, tmp_path, n_units=4, cpus=2, **resources):
        import harness.results.io
        import harness.experiment.corpora
        import harness.experiment.run as experiment

        self.cfg = cfg(tmp_path, resources=resources)
        self.units = [WorkUnit("a", "a", f, ("x",), (0,), (1,), (2,)) for f in range(n_units)]
        self.spans: dict[int, tuple[float, float, int]] = {}
        self.published: list[list[int]] = []
        self.lines: list[str] = []
        self.behaviour = {}  # fold -> callable(fold) run inside the fake unit (sleep, raise, ...)
        self.lock = threading.Lock()

        @contextmanager
        def fake_cluster(cfg_, address):
            yield {"CPU": float(cpus)}

        monkeypatch.setattr(experiment, "ray_cluster", fake_cluster)
        monkeypatch.setattr(experiment, "check_nodes", lambda *a, **k: None)
        monkeypatch.setattr(experiment, "open_feature_set", lambda *a: SimpleNamespace(manifest=None))
        monkeypatch.setattr(experiment, "resolve_plan", lambda cfg_, caches, manifests: fixed_plan(cfg_, list(self.units)))
        monkeypatch.setattr(experiment, "run_unit", self.run_unit)
        monkeypatch.setattr(experiment, "check_roots", lambda *a: None)
        monkeypatch.setattr(experiment, "prepare_corpora", lambda *a: {"a": tmp_path})
        monkeypatch.setattr(experiment, "write_results",
                            lambda out, trials, **k: self.published.append(trials["fold"].tolist()))
        self.predicted: list[list[int]] = []  # predictions.parquet writes: the folds they hold
        monkeypatch.setattr(experiment, "write_predictions",
                            lambda out, table: self.predicted.append(sorted(set(table["fold"]))))

    def run_unit(self, cfg_, unit, dirs, plan, search, resume):
        start = time.monotonic()
        self.behaviour.get(unit.fold, lambda fold: time.sleep(0.3))(unit.fold)
        with self.lock:
            self.spans[unit.fold] = (start, time.monotonic(), plan.max_concurrent_trials)
        row = {"pair": unit.pair, "fold": unit.fold, "selected": True}
        return {"key": unit.key, "trials": [row], "metrics": [], "confusions": [], "failed": None,
                "predictions": [{"pair": unit.pair, "fold": unit.fold, "utterance_id": "u"}]}

    def run(self, resume=False):
        from harness.experiment.run import run_experiment

        return run_experiment(self.cfg, resume=resume, log=self.lines.append)

    def most_at_once(self) -> int:
        spans = list(self.spans.values())
        return max(sum(s <= t < e for s, e, _ in spans) for t, _, _ in spans)


def test_units_run_side_by_side_in_the_cluster_slots(monkeypatch, tmp_path):
    fake = FakeUnits(monkeypatch, tmp_path, n_units=4, cpus=2)  # 2 trial slots, auto: 2 units at once
    results = fake.run()
    assert fake.most_at_once() == 2 and {lanes for _, _, lanes in fake.spans.values()} == {1}
    assert sorted(p.name for p in (results / "units").glob("*.json")) == [f"a__fold{f}.json" for f in range(4)]
    assert fake.published[-1] == [0, 1, 2, 3]
    assert any("4 unit(s) to run, 2 at once" in line for line in fake.lines)
    assert any(line.startswith("[3/4] a fold 2: ") for line in fake.lines)  # every unit's lines carry its tag


def test_the_report_is_rendered_at_most_every_interval_and_when_the_run_ends(monkeypatch, tmp_path):
    """Trials/metrics tables after every unit; the report (plots of every pair: seconds each) and the predictions
    table (rebuilt from every unit's rows) not after every unit of a long run."""
    import harness.experiment.run as experiment
    from harness.experiment.run import run_experiment

    for every_s, reports in ((3600.0, 1), (0.0, 4)):
        monkeypatch.setattr(experiment, "REPORT_EVERY_S", every_s)
        fake, rendered = FakeUnits(monkeypatch, tmp_path / str(every_s), n_units=4, cpus=1), []
        run_experiment(fake.cfg, log=fake.lines.append, on_results=lambda out: rendered.append(len(fake.published)))
        assert len(fake.published) == 4 and fake.published[-1] == [0, 1, 2, 3]
        assert len(rendered) == reports and rendered[-1] == 4  # the last report after the last tables
        # the per-utterance table (it grows with every unit) is written with the report, the last with every unit
        assert len(fake.predicted) == reports and fake.predicted[-1] == [0, 1, 2, 3]


def test_one_unit_at_a_time_with_every_slot(monkeypatch, tmp_path):
    fake = FakeUnits(monkeypatch, tmp_path, n_units=3, cpus=4, concurrent_units=1)
    fake.run()
    spans = [fake.spans[f] for f in range(3)]
    assert all(a[1] <= b[0] for a, b in zip(spans, spans[1:]))  # strictly one after another, in order
    assert {lanes for _, _, lanes in spans} == {4}


def test_tables_list_units_in_their_order_not_completion_order(monkeypatch, tmp_path):
    fake = FakeUnits(monkeypatch, tmp_path, n_units=3, cpus=3)
    fake.behaviour[0] = lambda fold: time.sleep(1.0)  # unit 0 finishes last
    fake.run()
    assert fake.published[0] in ([1], [2]) and fake.published[-1] == [0, 1, 2]
    assert all(p == sorted(p) for p in fake.published)


def test_a_failed_unit_does_not_stop_the_others_and_resume_retries_only_it(monkeypatch, tmp_path):
    fake = FakeUnits(monkeypatch, tmp_path, n_units=3, cpus=2)
    original = fake.run_unit

    def failing(cfg_, unit, *rest):
        summary = original(cfg_, unit, *rest)
        return {**summary, "failed": "1 of 1 trial(s) errored"} if unit.fold == 1 else summary

    import harness.experiment.run as experiment

    monkeypatch.setattr(experiment, "run_unit", failing)
    with pytest.raises(SweepFailed, match=r"1 of 3 unit\(s\) not finished[\s\S]*\[2/3\] a fold 1"):
        fake.run()
    assert set(fake.spans) == {0, 1, 2}
    assert (fake.cfg.results_dir / "units" / "a__fold1.failed.json").is_file()
    assert fake.published[-1] == [0, 1, 2]  # the failed unit's trials are shown too
    fake.spans.clear()
    monkeypatch.setattr(experiment, "run_unit", original)
    fake.run(resume=True)
    assert set(fake.spans) == {1}  # kept units are not run again
    assert sum("finished earlier, kept" in line for line in fake.lines) == 2
    assert not (fake.cfg.results_dir / "units" / "a__fold1.failed.json").exists()


def test_a_stalled_unit_stops_the_run_and_starts_no_further_unit(monkeypatch, tmp_path):
    fake = FakeUnits(monkeypatch, tmp_path, n_units=4, cpus=1)  # one lane: unit 0, then 1, ...

    def stall(fold):
        raise SweepStalled("a fold 1: trial x never got its resources")

    fake.behaviour[1] = stall
    with pytest.raises(SweepStalled, match="never got its resources"):
        fake.run()
    assert set(fake.spans) == {0}  # units 2 and 3 never started
    assert fake.published[-1] == [0]


def test_ctrl_c_stops_every_running_unit_then_resume_continues(monkeypatch, tmp_path):
    from harness.experiment.interrupt import stop_requested

    fake = FakeUnits(monkeypatch, tmp_path, n_units=4, cpus=2)
    seen_stop = []

    def interrupted_unit(fold):  # like a Tuner in a thread: it ends when the run asks it to stop
        if fold == 0:
            time.sleep(0.2)
            os.kill(os.getpid(), signal.SIGINT)  # Ctrl+C: KeyboardInterrupt in the main (driver) thread
        deadline = time.monotonic() + 10
        while not stop_requested() and time.monotonic() < deadline:
            time.sleep(0.02)
        seen_stop.append(stop_requested())
        raise SweepInterrupted("1 of 2 trials of this unit finished")

    fake.behaviour[0] = fake.behaviour[1] = interrupted_unit
    # a handler that swallows SIGINT, as a finished Tune run in the main thread leaves one installed
    stale = signal.signal(signal.SIGINT, lambda signum, frame: None)
    try:
        with pytest.raises(SweepInterrupted, match=r"2 unit\(s\) stopped before they finished, 2 not started"):
            fake.run()
        assert signal.getsignal(signal.SIGINT) is not signal.default_int_handler  # the run restored it
    finally:
        signal.signal(signal.SIGINT, stale)
    assert seen_stop == [True, True] and not fake.spans  # both running units stopped; units 2, 3 never started
    fake.behaviour.clear()
    fake.run(resume=True)
    assert set(fake.spans) == {0, 1, 2, 3}


def test_tune_interrupt_hook_is_one_event_in_threads_and_restored_after():
    import importlib

    from harness.cluster.private_api import TUNE_INTERRUPT_HOOK
    from harness.experiment.interrupt import request_stop, stoppable

    module = importlib.import_module(TUNE_INTERRUPT_HOOK[0])
    original = getattr(module, TUNE_INTERRUPT_HOOK[1])
    got = []
    with stoppable():
        thread = threading.Thread(target=lambda: got.append(getattr(module, TUNE_INTERRUPT_HOOK[1])()))
        thread.start()
        thread.join()
        assert not got[0].is_set()
        request_stop()
        assert got[0].is_set()
    assert getattr(module, TUNE_INTERRUPT_HOOK[1]) is original


def test_a_result_that_cannot_be_recorded_stops_the_run_instead_of_training_on():
    """`done` raising (disk full, a failing report) stops the running units and starts no further one."""
    from harness.experiment.lanes import run_side_by_side

    started: list[int] = []

    def work(item: int, trials_at_once: int) -> int:
        started.append(item)
        return item

    def done(item: int, result: int) -> None:
        if item == 0:
            raise OSError("no space left on device")

    with pytest.raises(OSError, match="no space left"):
        run_side_by_side(list(range(6)), [1], work, done)
    assert started[0] == 0 and len(started) < 6  # the lane stopped taking units


def test_concurrent_units_is_checked_after_coercion():
    from harness.config.schema import ResourcesConfig

    for bad in ("0", "-1", 0, True):
        with pytest.raises(ValueError, match="at least 1"):
            ResourcesConfig(concurrent_units=bad)
    assert ResourcesConfig(concurrent_units="3").concurrent_units == 3
