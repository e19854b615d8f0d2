"""Run a function on N CPU ranks of a gloo process group (spawned processes) and collect what each returns."""
from __future__ import annotations

import os
import socket
import traceback
from typing import Any, Callable

import torch
import torch.distributed as dist
import torch.multiprocessing as mp


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _entry(rank: int, world: int, port: int, fn: Callable[..., Any], args: tuple, queue: Any) -> None:
    os.environ.update(MASTER_ADDR="127.0.0.1", MASTER_PORT=str(port))
    torch.set_num_threads(1)
    dist.init_process_group("gloo", rank=rank, world_size=world)
    try:
        queue.put((rank, fn(rank, world, *args), None))
    except BaseException:  # reported to the test, which fails with the rank's traceback
        queue.put((rank, None, traceback.format_exc()))
    finally:
        dist.destroy_process_group()


def run_ranks(fn: Callable[..., Any], world: int, *args: Any, timeout: float = 300.0) -> list[Any]:
    """``[fn(0, world, *args), ..., fn(world - 1, world, *args)]`` each in its own process and rank.

    ``fn`` must be importable (module level). A rank that raises fails the caller with its traceback."""
    ctx = mp.get_context("spawn")
    queue = ctx.Queue()
    port = _free_port()
    procs = [ctx.Process(target=_entry, args=(r, world, port, fn, args, queue)) for r in range(world)]
    for p in procs:
        p.start()
    try:
        results = dict((rank, (value, err)) for rank, value, err in (queue.get(timeout=timeout) for _ in procs))
    finally:
        for p in procs:
            p.join(timeout=30)
            if p.is_alive():
                p.kill()
    errors = [f"rank {r}:\n{err}" for r, (_, err) in sorted(results.items()) if err]
    if errors:
        raise AssertionError("\n".join(errors))
    return [results[r][0] for r in range(world)]
