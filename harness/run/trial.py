"""The Ray Tune function trial: apply the sampled hyper-parameters, then run the trial loop on its executor.

Executors (`payload["executor"]`, chosen by `choose_executor`, recorded in the trials table):
- `train`: a Train V2 `TorchTrainer` (`TrainBackend` workers, DDP when there are several, GPUs);
  `TuneReportCallback` forwards each epoch's rank-0 metrics (with the checkpoint's storage path as
  `checkpoint_path`; `result.checkpoint` stays None under V2) to Tune. The Train run is named from the
  unit and the Tune trial id, so a restored trial resumes the same run.
- `tune`: the same loop (`harness.run.loop.run_epochs`) directly in this trial process, reporting with
  `ray.tune.report(metrics, checkpoint=...)`; no Train controller and worker to start (they cost
  ~10 s per trial on 2 cores, more than a frozen-trunk trial's training). Used for one-worker CPU trials
  on cached trunk outputs.
A trial whose configuration is a repeat of one already evaluated in the unit (`harness.run.dedupe`)
trains nothing: it replays the original's per-epoch reports, marked with `reused_from`.
"""
from __future__ import annotations

import contextlib
from typing import Any, Iterator

import torch

from harness.cluster.resources import ResourcePlan
from harness.config.search_space import SearchSpace, decode

TRAIN_RUNS_DIR = "train_runs"
EXECUTORS = ("tune", "train")
REUSE_KEY = "__reuse"  # in a trial config: {"trial_id": original, "history": [per-epoch reports]} (harness.run.dedupe)


def choose_executor(model_cfg: dict[str, Any], plan: ResourcePlan) -> str:
    """`tune` for a frozen-trunk trial on one CPU worker (start-up would dominate it), else `train`."""
    small = bool(model_cfg.get("freeze_backbone")) and plan.num_workers == 1 and not plan.use_gpu
    return "tune" if small else "train"


def apply_params(payload: dict[str, Any], space: SearchSpace, params: dict[str, Any]) -> tuple[dict, dict]:
    """(model section, train section) with the sampled values written into their dotted fields."""
    sections = {"model": dict(payload["model"]), "train": dict(payload["train"])}
    for dotted, value in decode(space, params).items():
        section, _, field = dotted.partition(".")
        sections[section][field] = value
    return sections["model"], sections["train"]


def train_run_name(experiment: str, unit_key: str, trial_id: str) -> str:
    """Train run of a trial, scoped by experiment: two experiments on one storage never share (or resume) a run."""
    return f"{experiment}__{unit_key}__{trial_id}"


class TuneBackend:
    """`harness.run.loop.Backend` in the Tune trial process itself: one device, no DDP."""

    def __init__(self, use_gpu: bool = False) -> None:
        self.device = torch.device("cuda" if use_gpu and torch.cuda.is_available() else "cpu")
        self.rank, self.world_size = 0, 1

    def prepare_loader(self, loader, seed: int):
        return loader

    def prepare_model(self, model: torch.nn.Module) -> torch.nn.Module:
        return model

    @contextlib.contextmanager
    def checkpoint_dir(self) -> Iterator[str | None]:
        import ray.tune

        from harness.run.checkpoint import checkpoint_directory

        with checkpoint_directory(ray.tune.get_checkpoint()) as directory:
            yield directory

    def report(self, metrics: dict[str, Any], checkpoint_dir: str | None, improved: bool) -> None:
        """A checkpoint only when the selection score reached its best so far (the latest on ties): with
        `num_to_keep` Tune forces an experiment snapshot after each checkpoint, so fewer checkpoints,
        fewer snapshots. Tune keeps the best one: the trial's best epoch, and where a restored trial resumes."""
        import ray.tune

        ckpt = ray.tune.Checkpoint.from_directory(checkpoint_dir) if checkpoint_dir is not None and improved else None
        # the Ray node that trains this trial (rank 0's), for the trials table's `node_id`
        ray.tune.report({**metrics, "node_id": ray.get_runtime_context().get_node_id()}, checkpoint=ckpt)


def replay(reuse: dict[str, Any]) -> None:
    """Report the original trial's epochs again (no training, no checkpoint), each marked `reused_from`."""
    import ray.tune

    for row in reuse["history"]:
        ray.tune.report({**row, "reused_from": reuse["trial_id"]})


def run_trial(config: dict[str, Any], payload: dict[str, Any]) -> None:
    """Tune trainable (wrapped with `tune.with_parameters(run_trial, payload=...)`).

    `config` holds the sampled hyper-parameters (Tune keys = field leaf names); `payload` the static
    part: model/train sections, the work unit, protocol, resource plan, executor, space and storage.
    """
    import ray.tune

    if config.get(REUSE_KEY):
        replay(config[REUSE_KEY])
        return
    space = {k: _dist(v) for k, v in payload["space"].items()}
    model_cfg, train_cfg = apply_params(payload, space, config)
    plan = payload["plan"]
    loop_config = {"model": model_cfg, "train": train_cfg, "unit": payload["unit"],
                   "protocol": payload["protocol"], "torch_threads": plan["torch_threads"],
                   "selection_key": payload["selection_key"]}
    if payload.get("executor", "train") == "tune":
        from harness.run.loop import run_epochs

        run_epochs(loop_config, TuneBackend(plan["use_gpu"]))
        return
    import ray.train
    from ray.train.torch import TorchTrainer
    from ray.tune.integration.ray_train import TuneReportCallback

    from harness.run.worker import train_loop

    trial_id = ray.tune.get_context().get_trial_id()
    resources = {"CPU": plan["cpus_per_worker"]}
    if plan["use_gpu"]:
        resources["GPU"] = plan["gpus_per_worker"]
    trainer = TorchTrainer(
        train_loop,
        train_loop_config=loop_config,
        scaling_config=ray.train.ScalingConfig(
            num_workers=plan["num_workers"], use_gpu=plan["use_gpu"], resources_per_worker=resources,
        ),
        run_config=ray.train.RunConfig(
            name=train_run_name(payload["experiment"], payload["unit"]["key"], trial_id),
            storage_path=f"{payload['storage_path'].rstrip('/')}/{TRAIN_RUNS_DIR}",
            storage_filesystem=payload.get("storage_filesystem"),
            callbacks=[TuneReportCallback()],
            # Keeps the best checkpoint by the selection metric; Ray always keeps the latest too (resume).
            checkpoint_config=ray.train.CheckpointConfig(
                num_to_keep=1, checkpoint_score_attribute=payload["selection_key"], checkpoint_score_order="max",
            ),
            # a lost worker restarts the worker group from the latest checkpoint (harness.run.checkpoint)
            failure_config=ray.train.FailureConfig(max_failures=int(payload.get("max_failures", 0))),
        ),
    )
    trainer.fit()


def _dist(data: dict[str, Any]):
    from harness.config.search_space import Distribution

    return Distribution.model_validate(data)
