"""Kill every process of a session: a Ray node (or a driver and the local cluster it started) all at once.

A process started with `start_new_session=True` leads its own session. Ray puts each worker in a
process group of its own inside that session, so `os.killpg(leader)` kills the raylet but not the
workers: they run on for a second (until they notice their raylet is gone) and keep reporting to
the driver, which is not what a dead machine does. Killing by session id takes them all.
"""
from __future__ import annotations

import os
import signal
from pathlib import Path


def session_pids(sid: int) -> list[int]:
    """Processes (Linux /proc) whose session id is `sid`."""
    pids = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:  # exited meanwhile
            continue
        if int(fields[3]) == sid:  # after the command name: state, ppid, pgrp, session
            pids.append(int(stat.parent.name))
    return pids


def kill_session(sid: int, sig: int = signal.SIGKILL) -> int:
    """Send `sig` to every process of session `sid`; returns how many there were."""
    pids = session_pids(sid)
    for pid in pids:
        try:
            os.kill(pid, sig)
        except ProcessLookupError:
            pass
    return len(pids)
