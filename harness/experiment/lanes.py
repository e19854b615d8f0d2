"""Units side by side: the (pair x fold) units of a run share the cluster's trial slots.

The run has `slots` trials at once (the plan's `max_concurrent_trials`: what fits, or
`search.max_concurrent_trials`). It splits them into lanes, one unit at a time per lane, each unit's
Tuner capped at its lane's share; a lane takes the next unit as soon as its unit is done (thread pool,
one `Tuner.fit()` per thread). The shares add up to `slots` and never more: a Train-executor trial
holds its Tune driver's CPUs before its Train workers are placed, so more live trials than fit could
leave every CPU to drivers whose workers never start (the 2-core deadlock of `harness.cluster.resources`).
`resources.concurrent_units: auto` opens one lane per slot (at most one per unit): a unit then runs its
trials one after another and its lane never idles while other units wait; only the last units of a run
leave slots free. With fewer units than slots every unit runs at once and gets the extra slots.
"""
from __future__ import annotations

import os
import queue
import sys
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from typing import Callable, Sequence, TypeVar

from harness.errors import SweepInterrupted
from harness.experiment.interrupt import request_stop, stop_requested, stoppable

_NOT_STARTED = "not started"
Item = TypeVar("Item")
Result = TypeVar("Result")


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


def run_side_by_side(items: Sequence[Item], lanes: list[int], work: Callable[[Item, int], Result],
                     done: Callable[[Item, Result], None]) -> None:
    """`work(item, trials_at_once)` for every item, `len(lanes)` at once, in item order; `done(item, result)` in
    the calling thread as each finishes (so all writes happen there).

    Ctrl+C (KeyboardInterrupt here), or any error of a unit, stops the running Tuners gracefully
    (`harness.experiment.interrupt`) and starts no further unit; the units that finish anyway are still passed
    to `done`. Then the first error is raised, else SweepInterrupted when a unit was interrupted.
    """
    free: queue.Queue[int] = queue.Queue()
    for lane in range(len(lanes)):
        free.put(lane)

    def in_lane(item: Item) -> Result:
        lane = free.get_nowait()  # a pool thread only runs when a lane is free
        try:
            if stop_requested():
                raise SweepInterrupted(_NOT_STARTED)
            return work(item, lanes[lane])
        except SweepInterrupted:
            raise
        except Exception:
            request_stop()  # here, before this lane takes the next unit
            raise
        finally:
            free.put(lane)

    error: BaseException | None = None
    interrupted: list[str] = []
    with stoppable(), ThreadPoolExecutor(max_workers=max(1, len(lanes)), thread_name_prefix="unit") as pool:
        futures: dict[Future, Item] = {}
        try:
            for item in items:
                futures[pool.submit(in_lane, item)] = item
        except KeyboardInterrupt:  # before every unit was queued: the queued ones see the stop and do not start
            request_stop()
            interrupted.append("Ctrl+C")
        pending = list(futures)  # not handled yet, in item order
        while pending:
            try:  # Ctrl+C may land while waiting or inside `done`: either way the running units stop
                # with a timeout: a process-directed SIGINT may land in a unit's thread, and the main
                # thread runs the handler only once it wakes (else: when some unit finishes, hours later)
                wait(pending, timeout=0.25, return_when=FIRST_COMPLETED)
                for future in [f for f in pending if f.done()]:
                    try:
                        result = future.result()
                    except SweepInterrupted as exc:
                        interrupted.append(str(exc))
                    except Exception as exc:  # noqa: BLE001 - raised below, once the other units stopped
                        request_stop()
                        error = error or exc
                    else:
                        try:
                            done(futures[future], result)  # idempotent: run again if Ctrl+C cut it short
                        except Exception as exc:  # noqa: BLE001 - a result that cannot be recorded: stop, then raise
                            request_stop()
                            error = error or exc
                    pending.remove(future)
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
