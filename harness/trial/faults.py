"""Fault injection for the failure tests: make a trial's worker fail once, or hold it, at a chosen epoch.

`FDAN_BENCH_FAIL_ONCE=<file>`: when a trial loop starts epoch N and `<file>` holds the number N, the
loop deletes the file and raises `InjectedFailure`; the retry (Ray Train's or Tune's FailureConfig)
resumes from the epoch N-1 checkpoint and finds no file.
`FDAN_BENCH_HOLD=<file>`: when a trial loop starts epoch N and `<file>` holds N, the loop waits until
the file is gone. A test then knows where every trial stands (epoch N-1 reported and checkpointed)
when it kills a node or the driver, instead of racing epochs that take milliseconds.
Unset (always, outside tests) both do nothing. The variables reach the Ray workers through the
environment of the cluster the test starts.
"""
from __future__ import annotations

import os
import time
from pathlib import Path

FAIL_ONCE_ENV = "FDAN_BENCH_FAIL_ONCE"
HOLD_ENV = "FDAN_BENCH_HOLD"


class InjectedFailure(RuntimeError):
    """The failure FDAN_BENCH_FAIL_ONCE asked for."""


def _wanted(env: str) -> tuple[Path, int] | None:
    """(file, epoch) that the variable `env` names, None when unset or the file holds no number."""
    marker = os.environ.get(env)
    if not marker:
        return None
    path = Path(marker)
    try:
        return path, int(path.read_text().strip())
    except (OSError, ValueError):
        return None


def maybe_fail(epoch: int) -> None:
    """Raise InjectedFailure once, at the epoch the FDAN_BENCH_FAIL_ONCE file names."""
    wanted = _wanted(FAIL_ONCE_ENV)
    if wanted is None or wanted[1] != epoch:
        return
    try:
        wanted[0].unlink()
    except FileNotFoundError:  # another worker of the same trial took it first
        return
    raise InjectedFailure(f"injected failure at the start of epoch {epoch} ({FAIL_ONCE_ENV}={wanted[0]})")


def maybe_hold(epoch: int, poll_s: float = 0.2) -> None:
    """Wait at the start of the epoch the FDAN_BENCH_HOLD file names, until that file is deleted."""
    wanted = _wanted(HOLD_ENV)
    if wanted is None or wanted[1] != epoch:
        return
    while wanted[0].exists():
        time.sleep(poll_s)
