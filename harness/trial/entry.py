"""The Ray Tune function trial: apply the sampled hyper-parameters, then run the trial loop on its executor.

Executors (`TrialSpec.executor`, chosen by `choose_executor`, recorded in the trials table):
- `train`: a Train V2 `TorchTrainer` (`TrainBackend` workers, DDP when there are several, GPUs);
  `TuneReportCallback` forwards each epoch's rank-0 metrics (with the checkpoint's storage path as
  `checkpoint_path`; `result.checkpoint` stays None under V2) to Tune. The Train run is named from the
  unit and the Tune trial id, so a restored trial resumes the same run.
- `tune`: the same loop (`harness.trial.loop.run_epochs`) directly in this trial process, reporting with
  `ray.tune.report(metrics, checkpoint=...)`; no Train controller and worker to start (they cost
  ~10 s per trial on 2 cores, more than a frozen-trunk trial's training). Used for one-worker CPU trials
  on cached trunk outputs.
A trial whose configuration is a repeat of one already evaluated in the unit (`harness.tuning.dedupe`)
trains nothing: it replays the original's per-epoch reports, marked with `reused_from`.
"""
from __future__ import annotations

import contextlib
from typing import Any, Iterator

import torch

from fdan.config import ModelConfig
from harness.cluster.resources import ResourcePlan
from harness.trial.checkpoint import checkpoint_directory
from harness.trial.loop import run_epochs
from harness.trial.spec import TrialSpec
from harness.trial.worker import train_loop

TRAIN_RUNS_DIR = "train_runs"
EXECUTORS = ("tune", "train")
REUSE_KEY = "__reuse"  # in a trial config: {"trial_id": original, "history": [per-epoch reports]} (harness.tuning.dedupe)


def choose_executor(model_cfg: ModelConfig, plan: ResourcePlan) -> str:
    """`tune` for a frozen-trunk trial on one CPU worker (start-up would dominate it), else `train`."""
    small = model_cfg.freeze_backbone and plan.num_workers == 1 and not plan.use_gpu
    return "tune" if small else "train"


def train_run_name(experiment: str, unit_key: str, trial_id: str) -> str:
    """Train run of a trial, scoped by experiment: two experiments on one storage never share (or resume) a run."""
    return f"{experiment}__{unit_key}__{trial_id}"


class TuneBackend:
    """`harness.trial.loop.Backend` in the Tune trial process itself: one device, no DDP."""

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

        with checkpoint_directory(ray.tune.get_checkpoint()) as directory:
            yield directory

    def report(self, metrics: dict[str, Any], checkpoint_dir: str | None, improved: bool) -> None:
        """A checkpoint only when the selection score reached its best so far (the latest on ties), or another
        cross-corpus rule's pick moved to this epoch (`improved`, harness.trial.loop): with `num_to_keep` Tune
        forces an experiment snapshot after each checkpoint, so fewer checkpoints, fewer snapshots. Tune keeps
        the best one (the trial's best epoch) and the latest (every rule's pick; where a restored trial resumes)."""
        import ray.tune

        ckpt = ray.tune.Checkpoint.from_directory(checkpoint_dir) if checkpoint_dir is not None and improved else None
        # the Ray node that trains this trial (rank 0's), for the trials table's `node_id`
        ray.tune.report({**metrics, "node_id": ray.get_runtime_context().get_node_id()}, checkpoint=ckpt)


def replay(reuse: dict[str, Any]) -> None:
    """Report the original trial's epochs again (no training, no checkpoint), each marked `reused_from`."""
    import ray.tune

    for row in reuse["history"]:
        ray.tune.report({**row, "reused_from": reuse["trial_id"]})


def run_trial(config: dict[str, Any], spec: TrialSpec) -> None:
    """Tune trainable (wrapped with `tune.with_parameters(run_trial, spec=...)`, harness.tuning.tuner).

    `config` holds the sampled hyper-parameters (Tune keys = field leaf names); `spec` the unit's static part.
    """
    import ray.tune

    if config.get(REUSE_KEY):
        replay(config[REUSE_KEY])
        return
    spec = spec.with_params(config)
    plan = spec.plan
    if spec.executor == "tune":
        run_epochs(spec, TuneBackend(plan.use_gpu))
        return
    import ray.train
    from ray.train.torch import TorchTrainer
    from ray.tune.integration.ray_train import TuneReportCallback

    trial_id = ray.tune.get_context().get_trial_id()
    trainer = TorchTrainer(
        train_loop,
        train_loop_config={"spec": spec},
        scaling_config=ray.train.ScalingConfig(
            num_workers=plan.num_workers, use_gpu=plan.use_gpu, resources_per_worker=plan.resources_per_worker(),
        ),
        run_config=ray.train.RunConfig(
            name=train_run_name(spec.experiment, spec.unit.key, trial_id),
            storage_path=f"{spec.storage_path.rstrip('/')}/{TRAIN_RUNS_DIR}",
            storage_filesystem=spec.storage_filesystem,
            callbacks=[TuneReportCallback()],
            # Keeps the best checkpoint by the selection metric; Ray always keeps the latest too (resume).
            checkpoint_config=ray.train.CheckpointConfig(
                num_to_keep=1, checkpoint_score_attribute=spec.selection_key, checkpoint_score_order="max",
            ),
            # a lost worker restarts the worker group from the latest checkpoint (harness.trial.checkpoint)
            failure_config=ray.train.FailureConfig(max_failures=int(spec.max_failures)),
        ),
    )
    trainer.fit()
