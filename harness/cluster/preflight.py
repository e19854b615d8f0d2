"""Preflight: before any trial, every alive node checks that it sees what the trials will open there.

One Ray task per alive node, pinned to it (`NodeAffinitySchedulingStrategy(node_id, soft=False)`,
no CPU held, so it runs even on a busy node or a `{CPU: 0}` head), checks:
- the storage: the driver writes a probe file (or object) there, and every node must read it back
  (the storage is shared, not a node's own disk) and be able to write there;
- every named path (corpus roots, feature caches) exists there.
Multi-node runs need all of these on shared storage; a node that lacks one would fail trials one by
one, far into a sweep. `PreflightError` names each node (id and address) with the paths it lacks.
"""
from __future__ import annotations

import os
import uuid
from typing import Any

from harness.cluster.storage import Storage


class PreflightError(RuntimeError):
    """Some node does not see a path or the storage the run needs; the message names node and path."""


def _write(storage: Storage, name: str, data: bytes) -> str:
    if storage.filesystem is None:
        os.makedirs(storage.path, exist_ok=True)
        target = os.path.join(storage.path, name)
        with open(target, "wb") as f:
            f.write(data)
    else:
        target = storage.join(name)
        with storage.filesystem.open_output_stream(target) as f:
            f.write(data)
    return target


def _read(storage: Storage, target: str) -> bytes:
    if storage.filesystem is None:
        with open(target, "rb") as f:
            return f.read()
    with storage.filesystem.open_input_stream(target) as f:
        return f.read()


def _delete(storage: Storage, target: str) -> None:
    if storage.filesystem is None:
        os.remove(target)
    else:
        storage.filesystem.delete_file(target)


def check_here(paths: dict[str, str], storage: Storage | None, probe: tuple[str, bytes] | None = None) -> list[str]:
    """Problems on this machine ([] = all fine): missing paths; storage that does not show the driver's
    probe `(path, content)` (not shared) or cannot be written here."""
    problems = [f"{what}: {path} not found" for what, path in paths.items() if not os.path.exists(path)]
    if storage is None:
        return problems
    try:
        if probe is not None and _read(storage, probe[0]) != probe[1]:
            raise FileNotFoundError(probe[0])
    except (OSError, FileNotFoundError) as exc:
        problems.append(f"storage {storage.path}: the driver's probe {probe[0]} is not visible here, so the storage "
                        f"is not shared with the driver ({type(exc).__name__}: {exc})")
        return problems
    try:
        _delete(storage, _write(storage, f".fdan-preflight-{uuid.uuid4().hex}", b"ok"))
    except Exception as exc:  # any failure means trials cannot write their state there
        problems.append(f"storage {storage.path}: not writable ({type(exc).__name__}: {exc})")
    return problems


def alive_nodes() -> list[dict[str, Any]]:
    import ray

    return [n for n in ray.nodes() if n.get("Alive")]


def _result(ref: Any) -> list[str] | None:
    """A node's problems; None for a node that is gone (it died, or Ray had not yet noticed it died when the
    nodes were listed, e.g. a lost worker node right before `--resume`): it runs no trials, nothing to check."""
    import ray
    from ray.exceptions import NodeDiedError, TaskUnschedulableError, WorkerCrashedError

    try:
        return ray.get(ref)
    except (NodeDiedError, TaskUnschedulableError, WorkerCrashedError):
        return None


def preflight(paths: dict[str, str], storage: Storage | None) -> list[str]:
    """Run `check_here` on every alive node; raise PreflightError naming node and path; returns the ids of
    the nodes checked (those that died meanwhile are left out)."""
    import ray
    from ray.util.scheduling_strategies import NodeAffinitySchedulingStrategy

    nodes = alive_nodes()
    task = ray.remote(check_here)
    token = uuid.uuid4().hex.encode()
    probe = (_write(storage, f".fdan-preflight-{token.decode()}", token), token) if storage is not None else None
    pending = {
        node["NodeID"]: (node, task.options(num_cpus=0, max_retries=0, scheduling_strategy=NodeAffinitySchedulingStrategy(
            node["NodeID"], soft=False)).remote(paths, storage, probe))
        for node in nodes
    }
    failures = []
    try:
        results = {node_id: _result(ref) for node_id, (_, ref) in pending.items()}
    finally:
        if probe is not None:
            _delete(storage, probe[0])
    pending = {node_id: entry for node_id, entry in pending.items() if results[node_id] is not None}
    for node_id, (node, _) in pending.items():
        problems = results[node_id]
        if problems:
            failures.append(f"node {node_id} ({node.get('NodeManagerAddress', '?')}):\n  " + "\n  ".join(problems))
    if failures:
        raise PreflightError("preflight: some node cannot see what the trials need (multi-node runs need shared "
                             "storage for these paths):\n" + "\n".join(failures))
    return list(pending)
