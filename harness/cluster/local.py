"""Starting (or joining) the Ray cluster of a run.

Without an address a run always starts a fresh local cluster (`ray.init(address="local")`, with any
RAY_ADDRESS hidden from that call): a plain `ray.init()` silently joins a `ray start` cluster already
running on the machine, and keeps retrying its address after that cluster died.
Local clusters bind everything to 127.0.0.1 and keep the dashboard on: Train V2's placement-group
cleaner asks the dashboard's state API whether a trial's Train controller is still alive, and frees
the workers' placement group of a trial that Tune stopped (without it a 2-core sweep hangs, ray#54305).
Its state-API client finds "the" cluster by auto-detection, which fails when several Ray clusters run
on one machine (parallel test runs, other users); so the dashboard port is chosen up front and
RAY_API_SERVER_ADDRESS is exported to every process of the cluster.
The auth mode is exported before a local cluster starts (`harness.cluster.auth`); joining a cluster
exports nothing, so the client follows the joined cluster's mode (the user's environment).
`local_ray` is the light variant for `fdan-bench prepare`: no dashboard, no Tune, only tasks.
"""
from __future__ import annotations

import os
import socket
import sys
from contextlib import contextmanager
from typing import Iterator

from harness.cluster.auth import choose_auth_mode
from harness.cluster.private_api import LOOPBACK_ONLY_ENV
from harness.cluster.reach import check_reachable
from harness.cluster.resources import release_capacity
from harness.config import ExperimentConfig
from harness.errors import InputError

LOCALHOST = "127.0.0.1"


class ClusterAuthError(InputError, RuntimeError):
    """Joining a cluster failed its authentication; the message says how to pass the token."""


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((LOCALHOST, 0))
        return int(sock.getsockname()[1])


@contextmanager
def _env(name: str, value: str | None) -> Iterator[None]:
    """Set (or, for None, unset) an environment variable for this process and the Ray processes it starts."""
    old = os.environ.get(name)
    if value is None:
        os.environ.pop(name, None)
    else:
        os.environ[name] = value
    try:
        yield
    finally:
        if old is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = old


def loopback_only() -> bool:
    """Make a cluster started by this process listen on 127.0.0.1 only; False when it is too late for that.

    Ray reads the switch when `ray` is first imported, so it is set (for this process and the cluster
    it starts) before that; a process that imported Ray already keeps Ray's default binding.
    """
    if "ray" in sys.modules:
        return os.environ.get(LOOPBACK_ONLY_ENV) == "0"
    os.environ[LOOPBACK_ONLY_ENV] = "0"
    return True


def warm_workers(num_cpus: int | None) -> dict[str, int]:
    """Ray system settings that keep up to one idle worker per CPU alive while trials hold every CPU: a unit's
    held-out test (a Ray task between its lane's trials, harness.trial.heldout) then finds the previous unit's
    worker with torch imported instead of starting a process and importing torch again (measured: ~4 s of a
    ~5 s held-out test on 2 cores). Ray keeps as many idle workers as there are *available* CPUs, i.e. none
    while the trial actors hold them, and kills the others after 1 s (`num_workers_soft_limit` is that number)."""
    return {"num_workers_soft_limit": int(num_cpus or os.cpu_count() or 1)}


def _start_local(num_cpus: int | None, dashboard: bool, **extra: object) -> None:
    """`ray.init` of a new cluster on 127.0.0.1, never a running one (RAY_ADDRESS hidden for the call)."""
    loopback_only()
    import ray

    with _env("RAY_ADDRESS", None):
        ray.init(address="local", num_cpus=num_cpus, include_dashboard=dashboard, log_to_driver=False,
                 _system_config=warm_workers(num_cpus), **extra)


@contextmanager
def ray_cluster(cfg: ExperimentConfig, address: str | None = None) -> Iterator[dict[str, float]]:
    """Connect to `address` (e.g. 'auto') or start a fresh local cluster on 127.0.0.1; yields cluster resources.

    A cluster this function started is shut down on exit; a joined cluster is only disconnected.
    """
    address = address or cfg.ray.address
    if not address:
        loopback_only()
    import ray

    if ray.is_initialized():
        yield dict(ray.cluster_resources())
        return
    if address:
        check_reachable(address)  # seconds, where ray.init would retry a dead address for minutes
        try:
            ray.init(address=address, log_to_driver=False)
        except (RuntimeError, ConnectionError) as exc:
            chain, cause = [], exc
            while cause is not None and len(chain) < 5:
                chain.append(str(cause))
                cause = cause.__cause__ or cause.__context__
            if not any("uthentication" in text for text in chain):
                raise
            raise ClusterAuthError(
                f"cannot join the Ray cluster at {address}: {str(exc).splitlines()[0]}. For a token-mode cluster "
                "export RAY_AUTH_MODE=token and the cluster's token (~/.ray/auth_token or RAY_AUTH_TOKEN)") from None
        try:
            yield dict(ray.cluster_resources())
        finally:
            release_capacity()
            ray.shutdown()
        return
    choose_auth_mode(cfg.ray.auth_mode)
    port = _free_port()
    # Exported before ray.init so the raylet, and with it every worker process, inherits it.
    with _env("RAY_API_SERVER_ADDRESS", f"http://{LOCALHOST}:{port}"):
        _start_local(cfg.resources.num_cpus, cfg.ray.dashboard, dashboard_host=LOCALHOST, dashboard_port=port)
        try:
            yield dict(ray.cluster_resources())
        finally:
            ray.shutdown()


def present_resources() -> dict[str, float]:
    """The resources of the connected cluster's alive nodes now (they change as nodes join and leave)."""
    import ray

    return {k: float(v) for k, v in ray.cluster_resources().items()}


def joined(address: str | None, cfg: ExperimentConfig | None = None) -> bool:
    """True when the run joins an existing cluster (its resources may grow and shrink while it runs)."""
    return bool(address or (cfg is not None and cfg.ray.address))


@contextmanager
def local_ray(num_cpus: int) -> Iterator[None]:
    """Reuse an initialised Ray; else start a fresh local one on 127.0.0.1 (no dashboard) and stop it after."""
    loopback_only()
    import ray

    if ray.is_initialized():
        yield
        return
    choose_auth_mode("disabled")
    _start_local(num_cpus, False, configure_logging=False)
    try:
        yield
    finally:
        ray.shutdown()
