"""Lanes that follow a joined cluster (harness.experiment.elastic), without Ray: the cluster's resources are a
value the test changes while fake units run. The real join of a node mid-sweep: tests/harness/cluster/test_node_loss.py."""
from __future__ import annotations

import threading
import time

import pytest

from harness.experiment.elastic import ClusterLanes, resized_lanes
from harness.experiment.lanes import run_side_by_side
from tests.harness.experiment.test_sweep_units import FakeUnits, cfg


def test_resized_lanes_open_new_lanes_and_close_surplus_ones():
    assert resized_lanes("auto", 3, [1], 5) == [1, 1, 1]  # two more units at once
    assert resized_lanes("auto", 3, [1], 1) == [1, 2]  # one waiting unit: the new lane gets the spare slot
    assert resized_lanes(1, 4, [1], 5) == [4]  # one lane by setting: its next unit runs 4 trials at once
    assert resized_lanes(2, 6, [1, 1], 3) == [3, 3]
    assert resized_lanes("auto", 1, [1, 1, 1], 2) == [1, 0, 0]  # shrank: two lanes close after their unit
    assert resized_lanes("auto", 2, [1, 0, 0], 4) == [1, 1, 0]  # a closed lane opens again
    for setting, slots, lanes, waiting in [("auto", 5, [1, 1], 1), (3, 7, [2], 4), ("auto", 1, [2, 2], 9)]:
        assert sum(resized_lanes(setting, slots, lanes, waiting)) == slots


class Spans:
    """Fake units that sleep; records when each ran, with how many trials at once."""

    def __init__(self, seconds: float = 0.4) -> None:
        self.seconds, self.spans, self.lock = seconds, {}, threading.Lock()

    def work(self, item: int, width: int) -> int:
        start = time.monotonic()
        time.sleep(self.seconds)
        with self.lock:
            self.spans[item] = (start, time.monotonic(), width)
        return item

    def most_at_once(self, items=None) -> int:
        spans = [s for i, s in self.spans.items() if items is None or i in items]
        return max(sum(s <= t < e for s, e, _ in self.spans.values()) for t, _, _ in spans)


def test_lanes_open_when_the_hook_reports_more_slots_and_live_trials_stay_within_them():
    units, sizes = Spans(), iter([[1], [1], [1, 1, 1]])  # the third look sees a grown cluster
    looks = []

    def resize(widths, waiting):
        looks.append((list(widths), waiting))
        return next(sizes, widths)

    done = []
    run_side_by_side(list(range(7)), [1], units.work, lambda i, r: done.append(i), resize, resize_every_s=0.05)
    assert sorted(done) == list(range(7))
    assert units.most_at_once(range(2, 7)) == 3  # after the growth three units at once
    assert looks[0] == ([1], 7)  # asked before the first unit started


def test_the_hook_is_asked_before_the_first_unit_and_when_a_lane_frees_while_units_wait():
    looks = []
    run_side_by_side(list(range(3)), [1], Spans(0.2).work, lambda i, r: None,
                     lambda widths, waiting: looks.append(waiting) or widths, resize_every_s=100)
    assert looks == [3, 2, 1]


def test_a_failing_hook_keeps_the_lanes_and_every_unit_finishes(capsys):
    """A look at the cluster that fails (e.g. the GCS unreachable for a moment) must not stop or hang the run."""
    units, calls = Spans(0.1), []

    def resize(widths, waiting):
        calls.append(waiting)
        if len(calls) == 2:
            raise ConnectionError("GCS unreachable")
        return widths

    done = []
    run_side_by_side(list(range(4)), [1], units.work, lambda i, r: done.append(i), resize, resize_every_s=100)
    assert sorted(done) == list(range(4)) and calls == [4, 3, 2, 1]  # asked again after the failed look
    assert "could not resize the lanes (ConnectionError: GCS unreachable)" in capsys.readouterr().err


def test_a_widened_idle_lane_takes_the_next_unit():
    """Lanes [1, 1]; when the first unit ends the cluster has grown to 4 slots -> widths [1, 1, 2]: the waiting
    unit goes to the widest idle lane (2 trials at once), not to the lane that just freed."""
    units = Spans(0.2)
    looks = iter([[1, 1], [1, 1, 2]])
    run_side_by_side(list(range(3)), [1, 1], units.work, lambda i, r: None,
                     lambda widths, waiting: next(looks, widths), resize_every_s=100)
    assert units.spans[2][2] == 2


def test_shrinking_starts_no_unit_until_the_running_ones_fit():
    units = Spans(0.3)

    def resize(widths, waiting):
        return [1, 0, 0] if units.spans else widths  # one slot left from the first unit's end on

    run_side_by_side(list(range(6)), [1, 1, 1], units.work, lambda i, r: None, resize, resize_every_s=0.01)
    assert units.most_at_once(range(3)) == 3 and len(units.spans) == 6
    later = sorted(units.spans[i] for i in range(3, 6))
    assert later[0][0] >= max(units.spans[i][1] for i in range(3))  # none while the first three still ran
    assert all(a[1] <= b[0] for a, b in zip(later, later[1:]))  # then one at a time


def test_cluster_lanes_recount_slots_with_the_start_layout():
    from harness.cluster.resources import plan_resources

    config = cfg(resources={"cpus_per_worker": 0.5, "cpus_per_trial_driver": 0.5})
    plan = plan_resources(config, {"CPU": 1.0}, elastic={})
    resources = {"CPU": 1.0}
    lines, asked = [], []
    hook = ClusterLanes(config, plan, {}, lambda: resources, lines.append, asked.append)
    assert hook([1], 3) == [1]  # unchanged: the same lanes, nothing logged
    resources.update(CPU=3.0, GPU=1.0)  # a GPU node joined a CPU sweep: its CPUs count, the layout stays
    assert hook([1], 3) == [1, 1, 1] and asked[-1].max_concurrent_trials == 3 and not asked[-1].use_gpu
    assert "grew to 3 CPU, 1 GPU: up to 3 trial(s) at once (was 1); 2 more lane(s)" in lines[-1]
    resources.update(CPU=1.0)
    assert hook([1, 1, 1], 1) == [1, 0, 0] and "2 lane(s) close after their unit" in lines[-1]
    capped = cfg(resources={"cpus_per_worker": 0.5, "cpus_per_trial_driver": 0.5}, search={"max_concurrent_trials": 2})
    hook = ClusterLanes(capped, plan, {}, lambda: {"CPU": 8.0}, lines.append)
    assert hook([1], 4) == [1, 1]  # search.max_concurrent_trials still caps
    launcher = ClusterLanes(config, plan_resources(config, {"CPU": 1.0}, elastic={"CPU": 4.0}), {"CPU": 4.0},
                            lambda: {"CPU": 1.0}, lines.append)
    assert launcher([1, 1, 1, 1], 4) == [1, 1, 1, 1]  # never below the --cluster maximum it was planned for


@pytest.mark.parametrize("joined", [True, False])
def test_a_joined_run_opens_lanes_for_a_node_that_joins(monkeypatch, tmp_path, joined):
    """run_experiment on a 1-CPU joined cluster that grows to 3 CPU while unit 0 runs: later units side by side.
    A local cluster (no address) never asks."""
    import harness.experiment.run as experiment
    from harness.experiment.run import run_experiment

    fake = FakeUnits(monkeypatch, tmp_path, n_units=5, cpus=1, cpus_per_worker=0.5, cpus_per_trial_driver=0.5)
    fake.behaviour[0] = lambda fold: time.sleep(1.5)
    resources = {"CPU": 1.0}
    monkeypatch.setattr(experiment, "present_resources", lambda: dict(resources))
    monkeypatch.setattr(experiment, "request_capacity", lambda cfg_, plan: [])
    timer = threading.Timer(0.5, lambda: resources.update(CPU=3.0))
    timer.start()
    try:
        run_experiment(fake.cfg, address="127.0.0.1:1" if joined else None, log=fake.lines.append)
    finally:
        timer.cancel()
    assert set(fake.spans) == set(range(5))
    if joined:
        assert fake.most_at_once() == 3 and any("Ray cluster grew to 3 CPU" in line for line in fake.lines)
    else:
        assert fake.most_at_once() == 1 and not any("grew" in line for line in fake.lines)
