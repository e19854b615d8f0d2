"""The Ray Train per-worker loop of one trial: `harness.trial.loop.run_epochs` on the `ray.train` backend.

Every epoch each worker calls `ray.train.report` (a barrier); rank 0 attaches the checkpoint. The
loaders get a DistributedSampler and the model DDP (`ray.train.torch.prepare_*`); devices are
placed by Ray Train. A Train run restarted under the same name resumes from its latest checkpoint
(`ray.train.get_checkpoint`).
"""
from __future__ import annotations

import contextlib
from typing import Any, Iterator

import torch
from torch.utils.data import DataLoader

from harness.trial.checkpoint import checkpoint_directory
from harness.trial.loop import run_epochs


class TrainBackend:
    """`harness.trial.loop.Backend` inside a Ray Train worker."""

    def __init__(self) -> None:
        import ray.train
        import ray.train.torch

        self.device = torch.device(ray.train.torch.get_device())
        self.rank = ray.train.get_context().get_world_rank()

    def prepare_loader(self, loader: DataLoader) -> DataLoader:
        import ray.train.torch

        return ray.train.torch.prepare_data_loader(loader, move_to_device=False)

    def prepare_model(self, model: torch.nn.Module) -> torch.nn.Module:
        import ray.train.torch

        return ray.train.torch.prepare_model(model, move_to_device=False)

    @contextlib.contextmanager
    def checkpoint_dir(self) -> Iterator[str | None]:
        import ray.train

        with checkpoint_directory(ray.train.get_checkpoint()) as directory:
            yield directory

    def report(self, metrics: dict[str, Any], checkpoint_dir: str | None, improved: bool) -> None:
        """Every epoch's checkpoint goes to Train, whose CheckpointConfig keeps the best and the latest."""
        import ray.train

        ckpt = ray.train.Checkpoint.from_directory(checkpoint_dir) if checkpoint_dir is not None else None
        # the Ray node that trains this trial (rank 0's), for the trials table's `node_id`
        ray.train.report({**metrics, "node_id": ray.get_runtime_context().get_node_id()}, checkpoint=ckpt)


def train_loop(config: dict[str, Any]) -> None:
    """`train_loop_per_worker` of the trial's TorchTrainer: `config` = {"spec": the trial's TrialSpec}
    (harness.trial.entry)."""
    run_epochs(config["spec"], TrainBackend())
