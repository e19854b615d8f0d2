"""Ray cluster connection and per-trial resource planning.

Local clusters bind everything to 127.0.0.1 and keep the dashboard on: Train V2's placement-group
cleaner asks the dashboard's state API whether a trial's Train controller is still alive, and frees
the workers' placement group of a trial that Tune stopped (without it a 2-core sweep hangs, ray#54305).
Its state-API client finds "the" cluster by auto-detection, which fails when several Ray clusters run
on one machine (parallel test runs, other users); so the dashboard port is chosen up front and
RAY_API_SERVER_ADDRESS is exported to every process of the cluster.
Token authentication (Ray >= 2.59) is chosen on purpose: `ray.auth_mode` (default `disabled`, right
for a single-user cluster on 127.0.0.1) is exported as RAY_AUTH_MODE before Ray starts, unless the
environment already sets RAY_AUTH_MODE. For a shared cluster use `token` (README.md, "Token authentication").
"""
from __future__ import annotations

import math
import os
import socket
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from typing import Iterator

from harness.config import ExperimentConfig

LOCALHOST = "127.0.0.1"


@dataclass(frozen=True)
class ResourcePlan:
    """How one trial is laid out and how many run at once."""

    use_gpu: bool
    num_workers: int
    cpus_per_worker: float
    gpus_per_worker: float
    driver_cpus: float
    max_concurrent_trials: int
    torch_threads: int

    def resources_per_worker(self) -> dict[str, float]:
        res = {"CPU": self.cpus_per_worker}
        if self.use_gpu:
            res["GPU"] = self.gpus_per_worker
        return res

    def as_dict(self) -> dict[str, object]:
        return asdict(self)


def choose_auth_mode(mode: str) -> str:
    """Export RAY_AUTH_MODE (unless already set) so Ray neither warns nor writes ~/.ray/auth_token by accident."""
    return os.environ.setdefault("RAY_AUTH_MODE", mode)


def plan_resources(cfg: ExperimentConfig, cluster: dict[str, float]) -> ResourcePlan:
    """Size trials from the cluster: GPU workers (DDP) when GPUs exist and `use_gpu` allows, else CPU workers.

    Trial driver and workers hold fractional CPUs, and `max_concurrent_trials` defaults to what fits at
    once, so Tune never starts a trial driver whose Train workers cannot be placed (the 2-core deadlock).
    """
    res = cfg.resources
    gpus = float(cluster.get("GPU", 0.0))
    cpus = float(cluster.get("CPU", 1.0))
    use_gpu = res.use_gpu == "always" or (res.use_gpu == "auto" and gpus >= res.gpus_per_worker)
    per_trial_cpu = res.cpus_per_trial_driver + res.workers_per_trial * res.cpus_per_worker
    fits = math.floor(cpus / per_trial_cpu + 1e-9)
    if use_gpu:
        fits = min(fits, math.floor(gpus / (res.workers_per_trial * res.gpus_per_worker) + 1e-9))
    if fits < 1:
        need = f"{per_trial_cpu:g} CPU" + (f" and {res.workers_per_trial * res.gpus_per_worker:g} GPU" if use_gpu else "")
        raise RuntimeError(f"one trial needs {need}; the cluster has {cpus:g} CPU / {gpus:g} GPU (see the resources section)")
    concurrent = min(cfg.search.max_concurrent_trials or fits, fits)
    threads = res.torch_threads or max(1, int(res.cpus_per_worker))
    return ResourcePlan(use_gpu, res.workers_per_trial, res.cpus_per_worker,
                        res.gpus_per_worker if use_gpu else 0.0, res.cpus_per_trial_driver, concurrent, threads)


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
