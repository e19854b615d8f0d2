"""Units side by side: the (pair x fold) units of a run share the cluster's trial slots.

The run has `slots` trials at once (the plan's `max_concurrent_trials`: what fits, or
`search.max_concurrent_trials`). It splits them into lanes, one unit at a time per lane, each unit's
Tuner capped at its lane's share; a lane takes the next unit as soon as its unit is done (the main
thread hands units to lanes; one `Tuner.fit()` per pool thread). The shares add up to `slots` and never
more: a Train-executor trial holds its Tune driver's CPUs before its Train workers are placed, so more
live trials than fit could leave every CPU to drivers whose workers never start (the 2-core deadlock of
`harness.cluster.resources`). `resources.concurrent_units: auto` opens one lane per slot (at most one
per unit): a unit then runs its trials one after another and its lane never idles while other units
wait; only the last units of a run leave slots free. With fewer units than slots every unit runs at
once and gets the extra slots.

On a joined cluster the lanes follow its size (`resize`, `harness.experiment.elastic`): new lanes open
for the waiting units, and a lane whose width drops to 0 closes when its unit ends. A unit starts only
while the trials of the running units plus its own stay within the slots (the sum of the lane widths).
"""
from __future__ import annotations

import os
import sys
import time
from collections import deque
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from typing import Callable, Sequence, TypeVar

from harness.errors import SweepInterrupted
from harness.experiment.interrupt import request_stop, stop_requested, stoppable

_NOT_STARTED = "not started"
Item = TypeVar("Item")
Result = TypeVar("Result")
Resize = Callable[[list[int], int], list[int]]


def unit_lanes(setting: str | int, slots: int, units: int) -> list[int]:
    """Trials at once per lane (len = units at once): `setting` = `resources.concurrent_units`, `slots` =
    trials the run may hold at once, `units` = units still to run. An explicit setting above `slots` is
    capped at `slots` (each unit needs a trial slot of its own)."""
    if units < 1:
        return []
    slots = max(1, int(slots))
    width = min(units, slots) if setting == "auto" else min(int(setting), units, slots)
    base, extra = divmod(slots, width)
    return [base + (1 if lane < extra else 0) for lane in range(width)]


def _in_lane(work: Callable[[Item, int], Result], item: Item, width: int) -> Result:
    try:
        return work(item, width)
    except SweepInterrupted:
        raise
    except Exception:
        request_stop()  # at once, in this thread: the other units stop while the main thread catches up
        raise


def run_side_by_side(items: Sequence[Item], lanes: list[int], work: Callable[[Item, int], Result],
                     done: Callable[[Item, Result], None], resize: Resize | None = None,
                     resize_every_s: float = 5.0) -> None:
    """`work(item, trials_at_once)` for every item, `len(lanes)` at once, in item order; `done(item, result)` in
    the calling thread as each finishes (so all writes happen there).

    `resize(widths, waiting)`, when given, is asked every `resize_every_s` seconds and whenever a lane frees,
    while items wait: it returns the lanes' new widths (at least as many entries as lanes; the extra ones
    are new lanes; a new width applies to the next item a lane takes; 0 closes the lane).

    Ctrl+C (KeyboardInterrupt here), or any error of a unit, stops the running Tuners gracefully
    (`harness.experiment.interrupt`) and starts no further unit; the units that finish anyway are still passed
    to `done`. Then the first error is raised, else SweepInterrupted when a unit was interrupted.
    """
    widths = list(lanes)
    waiting = deque(items)
    running: dict[Future, tuple[Item, int, int]] = {}  # future -> (item, lane, its trials at once)
    error: BaseException | None = None
    interrupted: list[str] = []
    resized_at, freed = time.monotonic(), True  # the first look before the first unit: nodes may have joined since the plan

    def start_waiting(pool: ThreadPoolExecutor) -> None:
        nonlocal resized_at, freed
        if resize is not None and waiting and (freed or time.monotonic() - resized_at >= resize_every_s):
            try:  # best effort: a failed look at the cluster (a GCS hiccup) keeps the lanes as they are
                new = resize(list(widths), len(waiting))
            except Exception as exc:  # noqa: BLE001 - any error of the hook; the sweep itself goes on
                print(f"warning: could not resize the lanes ({type(exc).__name__}: {exc}); keeping {widths}",
                      file=sys.stderr)
                new = widths
            if len(new) >= len(widths):  # lanes are never removed, only closed (width 0)
                widths[:] = new
            resized_at, freed = time.monotonic(), False
        busy = {lane for _, lane, _ in running.values()}
        # the widest idle lanes first: a resize may have widened a lane other than the one that just freed
        for lane in sorted(range(len(widths)), key=lambda i: -widths[i]):
            if not waiting or stop_requested():
                return
            held = sum(w for _, _, w in running.values())
            width = min(widths[lane], sum(widths) - held)  # never more live trials than the slots
            if lane not in busy and width >= 1:
                item = waiting.popleft()
                running[pool.submit(_in_lane, work, item, width)] = (item, lane, width)
                busy.add(lane)

    with stoppable(), ThreadPoolExecutor(max_workers=max(1, len(items)), thread_name_prefix="unit") as pool:
        while waiting or running:
            try:  # Ctrl+C may land while waiting or inside `done`: either way the running units stop
                start_waiting(pool)
                if stop_requested() and waiting:
                    interrupted += [_NOT_STARTED] * len(waiting)
                    waiting.clear()
                # with a timeout: a process-directed SIGINT may land in a unit's thread, and the main
                # thread runs the handler only once it wakes (else: when some unit finishes, hours later)
                wait(list(running), timeout=0.25, return_when=FIRST_COMPLETED)
                for future in [f for f in running if f.done()]:
                    item = running[future][0]
                    try:
                        result = future.result()
                    except SweepInterrupted as exc:
                        interrupted.append(str(exc))
                    except Exception as exc:  # noqa: BLE001 - raised below, once the other units stopped
                        request_stop()
                        error = error or exc
                    else:
                        try:
                            done(item, result)  # idempotent: run again if Ctrl+C cut it short
                        except Exception as exc:  # noqa: BLE001 - a result that cannot be recorded: stop, then raise
                            request_stop()
                            error = error or exc
                    del running[future]
                    freed = True
            except KeyboardInterrupt:
                if "Ctrl+C" in interrupted:  # the second one: quit now, as a killed driver (--resume still works)
                    print("second Ctrl+C: stopping without waiting for the trials to wind down", file=sys.stderr, flush=True)
                    os._exit(130)
                request_stop()
                interrupted.append("Ctrl+C")
    if error is not None:
        raise error
    if interrupted:
        stopped = [i for i in interrupted if i not in ("Ctrl+C", _NOT_STARTED)]
        raise SweepInterrupted(f"{len(stopped)} unit(s) stopped before they finished, "
                               f"{interrupted.count(_NOT_STARTED)} not started")
