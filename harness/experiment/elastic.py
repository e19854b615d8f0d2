"""Lanes that follow a joined cluster (`--address`, with or without `--cluster`): nodes that join mid-sweep
get units, nodes that leave stop being planned for.

The run's trial layout (CPU or GPU workers, their number and size) is chosen once, at its start
(`harness.cluster.resources.plan_resources`). While units wait, every few seconds and whenever a lane frees
(`harness.experiment.lanes.run_side_by_side`), `ClusterLanes` re-reads the resources of the alive nodes
(`ray.cluster_resources()`) and recounts the slots with that layout (`elastic_slots`: at least 1, at most
`search.max_concurrent_trials`, never below the `--cluster` maximum the run was planned for). When the count
changed it splits the slots again (`resized_lanes`) and, like the run's start, asks the autoscaler for the
new demand (`request_capacity`).

A running unit keeps its Tuner's `max_concurrent_trials` (Tune has no public way to change it on a running
Tuner); what a lane's new width changes is the next unit it takes. So extra slots reach the waiting units:
with `concurrent_units: auto` as new lanes, with a fixed `concurrent_units: n` (lanes already at n) as
wider lanes for the next units. When the cluster shrinks, surplus lanes close as their units end, and no
unit starts while the running units' trials already fill the slots.
"""
from __future__ import annotations

from dataclasses import replace
from typing import Callable

from harness.cluster.resources import ResourcePlan, elastic_slots
from harness.config import ExperimentConfig
from harness.experiment.lanes import unit_lanes


def resized_lanes(setting: str | int, slots: int, lanes: list[int], waiting: int) -> list[int]:
    """Lane widths for `slots` trial slots, given the widths of the `lanes` open now and `waiting` units.

    `unit_lanes` over the open lanes plus the waiting units; the open lanes take the first entries (the
    narrower ones: a new lane starts a unit now, an open lane only when its running unit ends), new lanes
    the rest; open lanes beyond the new count get 0 (they close when their unit ends). Widths sum to `slots`.
    """
    want = sorted(unit_lanes(setting, slots, len(lanes) + waiting))
    return want + [0] * (len(lanes) - len(want))


def _fmt(resources: dict[str, float]) -> str:
    return f"{float(resources.get('CPU', 0)):g} CPU, {float(resources.get('GPU', 0)):g} GPU"


class ClusterLanes:
    """The `resize` hook of `run_side_by_side` on a joined cluster (module doc)."""

    def __init__(self, cfg: ExperimentConfig, plan: ResourcePlan, capacity: dict[str, float],
                 resources_now: Callable[[], dict[str, float]], log: Callable[[str], None],
                 on_change: Callable[[ResourcePlan], object] | None = None) -> None:
        self.cfg, self.plan, self.capacity = cfg, plan, capacity
        self.resources_now, self.log, self.on_change = resources_now, log, on_change
        self.slots = plan.max_concurrent_trials

    def __call__(self, lanes: list[int], waiting: int) -> list[int]:
        now = self.resources_now()
        slots = elastic_slots(self.cfg, self.plan.use_gpu, now, self.capacity)
        if slots == self.slots:
            return lanes
        grew = slots > self.slots
        new = resized_lanes(self.cfg.resources.concurrent_units, slots, lanes, waiting)
        opened = sum(1 for w in new[len(lanes):] if w > 0)
        closing = sum(1 for old, w in zip(lanes, new) if old > 0 and w == 0)
        self.log(f"Ray cluster {'grew' if grew else 'shrank'} to {_fmt(now)}: up to {slots} trial(s) at once "
                 f"(was {self.slots}); " + (f"{opened} more lane(s), " if opened else "")
                 + (f"{closing} lane(s) close after their unit, " if closing else "")
                 + f"{sum(1 for w in new if w > 0)} unit(s) at once, trials at once per lane: "
                 + "/".join(str(w) for w in new if w > 0))
        self.slots = slots
        if self.on_change is not None:
            self.on_change(replace(self.plan, max_concurrent_trials=slots))
        return new
