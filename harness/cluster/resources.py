"""Per-trial resource planning: how one trial is laid out on the cluster and how many run at once."""
from __future__ import annotations

import math
from dataclasses import asdict, dataclass

from harness.config import ExperimentConfig


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
