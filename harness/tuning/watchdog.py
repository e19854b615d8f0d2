"""A sweep never waits forever on resources that died: Tune stops a unit whose trial makes no progress.

`ProgressWatchdog` is a Tune callback (it sees every trial's status each controller step) and a
Tune stopper (`stop_all`). A trial that is PENDING (its resources never became available, e.g. the
node that had them died) or RUNNING without a new report (a Train worker group waiting for a lost
node's placement group) for `resources.progress_timeout_s` ends the unit's Tune run; the unit then
raises :class:`harness.errors.SweepStalled` naming the trial, its status and the cluster's
resources. Progress = a trial started, reported a result, or was restored after a failure.

The verdict is kept per Tune experiment name in this (driver) process, because `Tuner.restore`
unpickles its own copy of the callback: the copy, not the object passed in, sees the trials.
"""
from __future__ import annotations

import time
from typing import Any

from ray.tune import Callback
from ray.tune.stopper import Stopper

_VERDICTS: dict[str, str] = {}
_WAITING = ("PENDING", "RUNNING")


class ProgressWatchdog(Callback, Stopper):
    """Stop the Tune run named `name` once a trial waits `timeout_s` seconds without progress."""

    def __init__(self, name: str, timeout_s: float) -> None:
        self.name, self.timeout_s = name, float(timeout_s)
        self._last: dict[str, float] = {}

    def __getstate__(self) -> dict[str, Any]:  # clock readings of another process mean nothing
        return {"name": self.name, "timeout_s": self.timeout_s}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__init__(state["name"], state["timeout_s"])

    def setup(self, **info: Any) -> None:
        self._last.clear()
        _VERDICTS.pop(self.name, None)

    def _progress(self, trial: Any) -> None:
        self._last[trial.trial_id] = time.monotonic()

    def on_trial_start(self, iteration: int, trials: list, trial: Any, **info: Any) -> None:
        self._progress(trial)

    def on_trial_result(self, iteration: int, trials: list, trial: Any, result: dict, **info: Any) -> None:
        self._progress(trial)

    def on_trial_recover(self, iteration: int, trials: list, trial: Any, **info: Any) -> None:
        self._progress(trial)

    def on_step_end(self, iteration: int, trials: list, **info: Any) -> None:
        now = time.monotonic()
        for trial in trials:
            if trial.status not in _WAITING:
                continue
            waited = now - self._last.setdefault(trial.trial_id, now)
            if waited > self.timeout_s and self.name not in _VERDICTS:
                what = "never got its resources" if trial.status == "PENDING" else "reported nothing"
                _VERDICTS[self.name] = (f"trial {trial.trial_id} ({trial.status}) {what} for {waited:.0f} s "
                                        f"(resources.progress_timeout_s = {self.timeout_s:g}); cluster now: "
                                        f"{_resources()}")

    def __call__(self, trial_id: str, result: dict) -> bool:
        return False

    def stop_all(self) -> bool:
        return self.name in _VERDICTS


def stall_verdict(name: str) -> str | None:
    """Why the Tune run `name` was stopped for lack of progress, None when it was not."""
    return _VERDICTS.get(name)


def _resources() -> str:
    import ray

    try:
        total, free = ray.cluster_resources(), ray.available_resources()
    except Exception as exc:  # a cluster that is itself gone
        return f"unknown ({type(exc).__name__})"
    internal = ("node:", "memory", "object_store_memory", "bundle_group_", "accelerator_type:")
    shown = [k for k in sorted(total) if not k.startswith(internal) and "_group_" not in k]
    return ", ".join(f"{k} {free.get(k, 0):g} free of {total[k]:g}" for k in shown) or "no resources"
