"""Stop every running Tuner of a run at once, the way Ctrl+C stops one Tuner in the main thread.

`Tuner.fit()` ends its loop gracefully when its "interrupted" event is set: it saves the experiment
state with the unfinished trials still PENDING / RUNNING (so `--resume` continues them) and then
stops their actors. Tune sets that event from a SIGINT handler, installed only when `fit()` runs in
the main thread. Units fitted in threads (`harness.experiment.lanes`) get one event for the whole run
instead, through the function Tune asks for it (`harness.cluster.private_api.TUNE_INTERRUPT_HOOK`);
`request_stop()` sets it. A Stopper's `stop_all` is no substitute: it marks the stopped trials
TERMINATED and the searcher finished, so a resumed run would take them as done.
"""
from __future__ import annotations

import importlib
import signal
import threading
from contextlib import contextmanager
from typing import Iterator

from harness.cluster.private_api import TUNE_INTERRUPT_HOOK

_event = threading.Event()


def request_stop() -> None:
    """Ask every Tuner fitted in a thread under `stoppable()` to stop as on Ctrl+C (idempotent)."""
    _event.set()


def stop_requested() -> bool:
    return _event.is_set()


@contextmanager
def stoppable() -> Iterator[None]:
    """While active, Tuners fitted in threads stop when `request_stop()` is called; the main thread keeps
    Tune's own SIGINT handling. Each use starts with the stop request cleared."""
    global _event
    module_name, attr = TUNE_INTERRUPT_HOOK
    module = importlib.import_module(module_name)
    original = getattr(module, attr)
    _event = threading.Event()
    run_event = _event

    def hook() -> threading.Event:
        if threading.current_thread() is threading.main_thread():
            return original()
        return run_event

    setattr(module, attr, hook)
    previous = None
    if threading.current_thread() is threading.main_thread():
        # Ctrl+C must be a KeyboardInterrupt here (harness.experiment.lanes), whatever handler the process has:
        # a Tune run in the main thread leaves its own installed (Tune restores the old one only when a
        # SIGINT arrives), which would swallow the first Ctrl+C of this run.
        previous = signal.getsignal(signal.SIGINT)
        signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        yield
    finally:
        setattr(module, attr, original)
        if previous is not None:
            signal.signal(signal.SIGINT, previous)
