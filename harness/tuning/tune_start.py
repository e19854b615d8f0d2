"""Tuners start one at a time: units fitted side by side (`harness.experiment.lanes`) must not start together.

Ray Tune's start-up is not thread-safe: `Tuner.fit()` registers its trainable in a process-global
registry (and `tune.with_parameters` its objects in another) whose flush iterates a dict that a
second thread's registration changes ("dictionary changed size during iteration", seen with two units
starting at once). `one_start_at_a_time()` holds a process lock from building the Tuner until its Tune
controller is set up, which `StartGate.setup` (a Tune callback, run right after the registrations)
signals; if it never runs (a Tuner restored from state saved without it) the lock is released when
`fit()` returns. The trials' own work runs side by side; only these start-ups of a few ms queue.
"""
from __future__ import annotations

import threading
from contextlib import contextmanager
from typing import Any, Iterator

from ray.tune import Callback

_lock = threading.Lock()
_held = threading.local()


def _release() -> None:
    if getattr(_held, "on", False):
        _held.on = False
        _lock.release()


@contextmanager
def one_start_at_a_time() -> Iterator[None]:
    """Hold the start lock around building and fitting a Tuner, until its controller is set up."""
    _lock.acquire()
    _held.on = True
    try:
        yield
    finally:
        _release()


class StartGate(Callback):
    """Releases `one_start_at_a_time` in the thread whose Tune controller just set up its callbacks."""

    def setup(self, **info: Any) -> None:
        _release()

    def __getstate__(self) -> dict[str, Any]:  # pickled with the Tuner's run config; holds no state
        return {}

    def __setstate__(self, state: dict[str, Any]) -> None:
        pass
