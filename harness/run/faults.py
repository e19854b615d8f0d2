"""Fault injection for the failure tests: make a trial's worker fail once, at a chosen epoch.

`FDAN_BENCH_FAIL_ONCE=<file>`: when a trial loop starts epoch N and `<file>` holds the number N, the
loop deletes the file and raises `InjectedFailure`; the retry (Ray Train's or Tune's FailureConfig)
resumes from the epoch N-1 checkpoint and finds no file. Unset (always, outside tests) it does nothing.
The variable reaches the Ray workers through the environment of the cluster the test starts.
"""
from __future__ import annotations

import os
from pathlib import Path

FAIL_ONCE_ENV = "FDAN_BENCH_FAIL_ONCE"


class InjectedFailure(RuntimeError):
    """The failure FDAN_BENCH_FAIL_ONCE asked for."""


def maybe_fail(epoch: int) -> None:
    """Raise InjectedFailure once, at the epoch the FDAN_BENCH_FAIL_ONCE file names."""
    marker = os.environ.get(FAIL_ONCE_ENV)
    if not marker:
        return
    path = Path(marker)
    try:
        wanted = int(path.read_text().strip())
    except (OSError, ValueError):
        return
    if wanted == epoch:
        try:
            path.unlink()
        except FileNotFoundError:  # another worker of the same trial took it first
            return
        raise InjectedFailure(f"injected failure at the start of epoch {epoch} ({FAIL_ONCE_ENV}={marker})")
