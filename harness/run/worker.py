"""The Ray Train per-worker loop of one trial: data, model, epochs, per-epoch report + checkpoint.

Every epoch each worker calls `ray.train.report` (a barrier); rank 0 attaches a checkpoint
(`model.pt`: unwrapped model state, optimizer, scheduler, step, epoch). Reported metrics:
`epoch`, `train_<loss part>`, `val_loss`, `val_<head>_<metric>` and, under the `paper` protocol
only, `test_loss`, `test_<head>_<metric>` (best-test-epoch selection, for comparison with the paper).
A Train run restarted under the same name resumes from its latest checkpoint (`ray.train.get_checkpoint`).
"""
from __future__ import annotations

import os
import tempfile
from typing import Any

import torch
from torch.utils.data import DataLoader, Dataset

from fdan.config import ModelConfig, TrainConfig
from fdan.features.featureset import FeatureSet
from fdan.model import create_model
from fdan.train import build_optimizer, build_scheduler, evaluate, seed_everything, train_epoch

CHECKPOINT_FILE = "model.pt"


def make_loader(ds: Dataset, batch_size: int, *, shuffle: bool, num_workers: int, seed: int) -> DataLoader:
    """A seeded DataLoader over `ds`; shuffled loaders drop a short last batch (unless it is the only one)."""
    # drop_last keeps BatchNorm away from a 1-row final batch; tiny sets keep their one short batch.
    drop_last = shuffle and len(ds) > batch_size
    gen = torch.Generator().manual_seed(seed)
    return DataLoader(ds, batch_size=batch_size, shuffle=shuffle, drop_last=drop_last,
                      num_workers=num_workers, generator=gen if shuffle else None)


def eval_metrics(prefix: str, result: Any) -> dict[str, float]:
    """Flatten an `EvalResult` into `<prefix>_loss`, `<prefix>_<head>_<metric>`."""
    out = {f"{prefix}_loss": float(result.loss)}
    out.update({f"{prefix}_{h}_{m}": float(v) for h, ms in result.metrics.items() for m, v in ms.items()})
    return out


def build_model(model_cfg: dict[str, Any], num_classes: int) -> torch.nn.Module:
    cfg = ModelConfig.model_validate({**model_cfg, "num_classes": num_classes})
    return create_model(**cfg.model_dump())


def train_loop(config: dict[str, Any]) -> None:
    """`train_loop_per_worker` of the trial's TorchTrainer. `config` is built by harness.run.trial."""
    import ray.train
    import ray.train.torch

    torch.set_num_threads(int(config["torch_threads"]))  # one intra-op thread per CPU worker: no oversubscription
    unit = config["unit"]
    train_cfg = TrainConfig.model_validate(config["train"])
    seed_everything(train_cfg.seed)
    labels = unit["labels"]
    l2i = {label: i for i, label in enumerate(labels)}
    source = FeatureSet.open(unit["source_dir"])
    target = FeatureSet.open(unit["target_dir"])

    def loader(fs: FeatureSet, rows: list[int], labelled: bool, shuffle: bool, seed_offset: int) -> DataLoader:
        ds = fs.dataset(rows, l2i if labelled else None)
        return make_loader(ds, train_cfg.batch_size, shuffle=shuffle, num_workers=train_cfg.num_workers, seed=train_cfg.seed + seed_offset)

    train_loader = ray.train.torch.prepare_data_loader(loader(source, unit["train_idx"], True, True, 0), move_to_device=False)
    target_loader = None
    if unit["adapt_idx"]:  # cross-corpus: unlabelled target rows (label -1), never their labels
        target_loader = ray.train.torch.prepare_data_loader(loader(target, unit["adapt_idx"], False, True, 1), move_to_device=False)
    # Every rank evaluates the whole validation / test set; only rank 0's report reaches Tune.
    val_loader = loader(source, unit["val_idx"], True, False, 0)
    test_loader = loader(target, unit["test_idx"], True, False, 0) if config["protocol"] == "paper" else None

    device = ray.train.torch.get_device()
    model = build_model(config["model"], len(labels)).to(device)
    optimizer = build_optimizer(model, train_cfg)  # before prepare_model wraps the model in DDP
    if len(train_loader) == 0:
        raise ValueError(f"{len(unit['train_idx'])} training rows give no batch of {train_cfg.batch_size} per worker; "
                         "lower train.batch_size or resources.workers_per_trial")
    total_steps = train_cfg.epochs * len(train_loader)
    scheduler = build_scheduler(optimizer, train_cfg, total_steps)
    start_epoch, step = 1, 0
    checkpoint = ray.train.get_checkpoint()
    if checkpoint is not None:
        with checkpoint.as_directory() as ckpt_dir:
            state = torch.load(os.path.join(ckpt_dir, CHECKPOINT_FILE), map_location=device, weights_only=False)
        model.load_state_dict(state["model"])
        optimizer.load_state_dict(state["optimizer"])
        scheduler.load_state_dict(state["scheduler"])
        start_epoch, step = int(state["epoch"]) + 1, int(state["step"])
    model = ray.train.torch.prepare_model(model, move_to_device=False)
    plain = getattr(model, "module", model)
    rank = ray.train.get_context().get_world_rank()

    for epoch in range(start_epoch, train_cfg.epochs + 1):
        for dl in (train_loader, target_loader):  # DistributedSampler reshuffles only when told the epoch
            sampler = getattr(dl, "sampler", None)
            if hasattr(sampler, "set_epoch"):
                sampler.set_epoch(epoch)
        losses, step = train_epoch(model, train_loader, optimizer, scheduler, train_cfg, step=step,
                                   total_steps=total_steps, device=device, target_loader=target_loader)
        metrics: dict[str, Any] = {"epoch": epoch, **{f"train_{k}": float(v) for k, v in losses.items()}}
        metrics.update(eval_metrics("val", evaluate(plain, val_loader, len(labels), device)))
        if test_loader is not None:
            metrics.update(eval_metrics("test", evaluate(plain, test_loader, len(labels), device)))
        with tempfile.TemporaryDirectory() as tmp:
            ckpt = None
            if rank == 0:
                torch.save({"model": plain.state_dict(), "optimizer": optimizer.state_dict(),
                            "scheduler": scheduler.state_dict(), "epoch": epoch, "step": step,
                            "labels": labels, "model_config": config["model"]}, os.path.join(tmp, CHECKPOINT_FILE))
                ckpt = ray.train.Checkpoint.from_directory(tmp)
            ray.train.report(metrics, checkpoint=ckpt)
