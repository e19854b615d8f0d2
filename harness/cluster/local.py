"""Starting (or joining) the Ray cluster of a run.

Local clusters bind everything to 127.0.0.1 and keep the dashboard on: Train V2's placement-group
cleaner asks the dashboard's state API whether a trial's Train controller is still alive, and frees
the workers' placement group of a trial that Tune stopped (without it a 2-core sweep hangs, ray#54305).
Its state-API client finds "the" cluster by auto-detection, which fails when several Ray clusters run
on one machine (parallel test runs, other users); so the dashboard port is chosen up front and
RAY_API_SERVER_ADDRESS is exported to every process of the cluster.
The auth mode is exported before Ray starts (`harness.cluster.auth`).
`local_ray` is the light variant for `fdan-bench prepare`: no dashboard, no Tune, only tasks.
"""
from __future__ import annotations

import os
import socket
from contextlib import contextmanager
from typing import Iterator

from harness.cluster.auth import choose_auth_mode
from harness.config import ExperimentConfig

LOCALHOST = "127.0.0.1"


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((LOCALHOST, 0))
        return int(sock.getsockname()[1])


@contextmanager
def _env(name: str, value: str) -> Iterator[None]:
    """Set an environment variable for this process and the Ray processes it starts; restore it after."""
    old = os.environ.get(name)
    os.environ[name] = value
    try:
        yield
    finally:
        if old is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = old


@contextmanager
def ray_cluster(cfg: ExperimentConfig, address: str | None = None) -> Iterator[dict[str, float]]:
    """Connect to `address` (e.g. 'auto') or start a local cluster on 127.0.0.1; yields cluster resources.

    A cluster this function started is shut down on exit; a joined cluster is only disconnected.
    """
    import ray

    address = address or cfg.ray.address
    choose_auth_mode(cfg.ray.auth_mode)
    if ray.is_initialized():
        yield dict(ray.cluster_resources())
        return
    if address:
        ray.init(address=address, log_to_driver=False)
        try:
            yield dict(ray.cluster_resources())
        finally:
            ray.shutdown()
        return
    port = _free_port()
    # Exported before ray.init so the raylet, and with it every worker process, inherits it.
    with _env("RAY_API_SERVER_ADDRESS", f"http://{LOCALHOST}:{port}"):
        ray.init(
            num_cpus=cfg.resources.num_cpus,
            include_dashboard=cfg.ray.dashboard,
            dashboard_host=LOCALHOST,
            dashboard_port=port,
            _node_ip_address=LOCALHOST,
            log_to_driver=False,
        )
        try:
            yield dict(ray.cluster_resources())
        finally:
            ray.shutdown()


@contextmanager
def local_ray(num_cpus: int) -> Iterator[None]:
    """Reuse an initialised Ray; else start a local one on 127.0.0.1 (no dashboard) and stop it after."""
    import ray

    if ray.is_initialized():
        yield
        return
    choose_auth_mode("disabled")
    ray.init(num_cpus=num_cpus, include_dashboard=False, _node_ip_address=LOCALHOST, log_to_driver=False,
             configure_logging=False)
    try:
        yield
    finally:
        ray.shutdown()
