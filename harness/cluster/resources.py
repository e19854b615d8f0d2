"""Per-trial resource planning: how one trial is laid out on the cluster and how many run at once."""
from __future__ import annotations

import math
from dataclasses import asdict, dataclass

from harness.config import ExperimentConfig
from harness.errors import InputError


class ResourceError(InputError, ValueError):
    """One trial does not fit the cluster; the message names the resources section."""


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


def trial_demand(cfg: ExperimentConfig, use_gpu: bool) -> dict[str, float]:
    """Resources one trial holds: its Tune driver plus `workers_per_trial` Train workers."""
    res = cfg.resources
    demand = {"CPU": res.cpus_per_trial_driver + res.workers_per_trial * res.cpus_per_worker}
    if use_gpu:
        demand["GPU"] = res.workers_per_trial * res.gpus_per_worker
    return demand


def wants_gpu(cfg: ExperimentConfig, cluster: dict[str, float]) -> bool:
    """`use_gpu`: always; never; auto = when the resources (present, or launchable) hold one worker's GPUs."""
    mode = cfg.resources.use_gpu
    return mode == "always" or (mode == "auto" and float(cluster.get("GPU", 0.0)) >= cfg.resources.gpus_per_worker)


def trials_fit(cfg: ExperimentConfig, cluster: dict[str, float], use_gpu: bool) -> int:
    """How many trials fit at once into `cluster` (resource name -> amount), by CPU and, for GPU trials, GPU."""
    demand = trial_demand(cfg, use_gpu)
    return min(math.floor(float(cluster.get(k, 0.0)) / v + 1e-9) for k, v in demand.items())


def plan_resources(cfg: ExperimentConfig, cluster: dict[str, float],
                   elastic: dict[str, float] | None = None) -> ResourcePlan:
    """Size trials from the cluster: GPU workers (DDP) when GPUs exist and `use_gpu` allows, else CPU workers.

    Trial driver and workers hold fractional CPUs, and `max_concurrent_trials` defaults to what fits at
    once, so Tune never starts a trial driver whose Train workers cannot be placed (the 2-core deadlock).
    """
    res = cfg.resources
    if elastic is not None:
        return _elastic_plan(cfg, cluster, elastic)
    gpus = float(cluster.get("GPU", 0.0))
    cpus = float(cluster.get("CPU", 1.0))
    use_gpu = res.use_gpu == "always" or (res.use_gpu == "auto" and gpus >= res.gpus_per_worker)
    per_trial_cpu = res.cpus_per_trial_driver + res.workers_per_trial * res.cpus_per_worker
    fits = math.floor(cpus / per_trial_cpu + 1e-9)
    if use_gpu:
        fits = min(fits, math.floor(gpus / (res.workers_per_trial * res.gpus_per_worker) + 1e-9))
    if fits < 1:
        need = f"{per_trial_cpu:g} CPU" + (f" and {res.workers_per_trial * res.gpus_per_worker:g} GPU" if use_gpu else "")
        raise ResourceError(f"resources: one trial needs {need}; the cluster has {cpus:g} CPU / {gpus:g} GPU "
                            "(lower resources.cpus_per_worker / workers_per_trial, or use a bigger cluster)")
    concurrent = min(cfg.search.max_concurrent_trials or fits, fits)
    threads = res.torch_threads or max(1, int(res.cpus_per_worker))
    return ResourcePlan(use_gpu, res.workers_per_trial, res.cpus_per_worker,
                        res.gpus_per_worker if use_gpu else 0.0, res.cpus_per_trial_driver, concurrent, threads)


def _elastic_plan(cfg: ExperimentConfig, now: dict[str, float], capacity: dict[str, float]) -> ResourcePlan:
    """A joined cluster may grow (autoscaler, late nodes): size by the larger of its present resources and
    its configured `capacity` (a launcher config's maximum; {} = unknown), never fail for what is missing now.

    `use_gpu: auto` takes GPUs when the cluster has or can launch them. At least one trial runs at once:
    a trial that does not fit yet stays pending, and its demand is what makes the autoscaler add a node.
    """
    res = cfg.resources
    use_gpu = wants_gpu(cfg, _larger(now, capacity))
    concurrent = elastic_slots(cfg, use_gpu, now, capacity)
    threads = res.torch_threads or max(1, int(res.cpus_per_worker))
    return ResourcePlan(use_gpu, res.workers_per_trial, res.cpus_per_worker,
                        res.gpus_per_worker if use_gpu else 0.0, res.cpus_per_trial_driver, concurrent, threads)


def _larger(now: dict[str, float], capacity: dict[str, float]) -> dict[str, float]:
    return {k: max(float(now.get(k, 0.0)), float(capacity.get(k, 0.0))) for k in set(now) | set(capacity)}


def elastic_slots(cfg: ExperimentConfig, use_gpu: bool, now: dict[str, float], capacity: dict[str, float]) -> int:
    """Trials at once on a joined cluster with resources `now` and launcher maximum `capacity` ({} = unknown):
    what fits into the larger of the two, at least 1 (it waits for a node), at most `search.max_concurrent_trials`.
    Also re-counted while a run goes on (`harness.experiment.elastic`), with the layout chosen at its start."""
    fits = max(1, trials_fit(cfg, _larger(now, capacity), use_gpu))
    return min(cfg.search.max_concurrent_trials or fits, fits)


def request_capacity(cfg: ExperimentConfig, plan: ResourcePlan) -> list[dict[str, float]]:
    """Ask the autoscaler (`ray.autoscaler.sdk.request_resources`) for the bundles of `plan`'s concurrent
    trials, so GPU nodes start before Tune's first trials queue; a no-op on a cluster without autoscaler."""
    from ray.autoscaler.sdk import request_resources

    worker = {"CPU": plan.cpus_per_worker, **({"GPU": plan.gpus_per_worker} if plan.use_gpu else {})}
    bundles = [{"CPU": plan.driver_cpus}, *[dict(worker) for _ in range(plan.num_workers)]] * plan.max_concurrent_trials
    request_resources(bundles=bundles)
    global _requested
    _requested = True
    return bundles


_requested = False


def release_capacity() -> None:
    """Withdraw this process' `request_capacity` (the autoscaler may then scale down idle nodes)."""
    global _requested
    if _requested:
        from ray.autoscaler.sdk import request_resources

        request_resources(bundles=[])
        _requested = False
