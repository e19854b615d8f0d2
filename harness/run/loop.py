"""The per-epoch loop of one trial, shared by both executors: inside a Ray Train worker or in the Tune trial.

`run_epochs(config, backend)`: data, model, optimizer, resume from the backend's checkpoint, then per
epoch train, validate, and `backend.report(metrics, checkpoint_dir)`. The backend is the only part
that differs: `TrainBackend` (ray.train: DDP-prepared model and loaders, rank 0 checkpoints, the
report is a barrier) or `TuneBackend` (ray.tune: this process, one device, no DDP). Reported
metrics: `epoch`, `train_<loss part>`, `val_loss`, `val_<head>_<metric>` and, under the `paper`
protocol only, `test_loss`, `test_<head>_<metric>` (audio / face heads evaluated on their modality
alone, `harness.run.modality_eval`). The checkpoint (`model.pt`) holds the model
state (without frozen trunks: they are rebuilt from the config), optimizer, scheduler, epoch, step;
`improved` tells the backend whether the epoch's selection score (`selection_key`) is the best so far.

With `model.freeze_backbone` the trial reads the cached trunk outputs (fdan.features.token_cache)
instead of the media features and trains FDAN above its trunks (`fdan.model.frozen.FromTrunkOutputs`).
"""
from __future__ import annotations

import os
import tempfile
from typing import Any, Protocol

import torch
from torch.utils.data import DataLoader, Dataset, RandomSampler

from fdan.alignment import attach_alignment
from fdan.config import ModelConfig, TrainConfig
from fdan.train import build_optimizer, build_scheduler, seed_everything, train_epoch
from harness.run.checkpoint import (
    CHECKPOINT_FILE, load_checkpoint, restore_rng, rng_state, save_checkpoint, set_loader_epoch,
)
from harness.run.faults import maybe_fail, maybe_hold
from harness.run.modality_eval import evaluate_heads


class Backend(Protocol):
    device: torch.device
    rank: int

    def prepare_loader(self, loader: DataLoader) -> DataLoader: ...
    def prepare_model(self, model: torch.nn.Module) -> torch.nn.Module: ...
    def checkpoint_dir(self) -> Any: ...  # a context manager giving the latest checkpoint's directory, or None
    def report(self, metrics: dict[str, Any], checkpoint_dir: str | None, improved: bool) -> None: ...


def loader_workers(train_cfg: TrainConfig, device: torch.device, cached: bool) -> int:
    """DataLoader workers: the config's; on a GPU run with media features, default 4 (the GPU waits on
    decoding otherwise); cached trunk outputs are in memory and need none."""
    if train_cfg.num_workers or cached or device.type != "cuda":
        return 0 if cached else train_cfg.num_workers
    return min(4, max(1, (os.cpu_count() or 2) - 1))


def make_loader(ds: Dataset, batch_size: int, *, shuffle: bool, num_workers: int, seed: int,
                device: torch.device | str = "cpu") -> DataLoader:
    """A seeded DataLoader over `ds`; shuffled loaders drop a short last batch (unless it is the only one).

    GPU runs pin host memory (asynchronous copies); worker processes persist across epochs.
    """
    # drop_last keeps BatchNorm away from a 1-row final batch; tiny sets keep their one short batch.
    drop_last = shuffle and len(ds) > batch_size
    # The sampler has its own generator, reseeded per epoch (harness.run.checkpoint.set_loader_epoch): the
    # order of an epoch is then the same after a resume; the loader's generator only seeds its workers.
    sampler = RandomSampler(ds, generator=torch.Generator().manual_seed(seed)) if shuffle else None
    return DataLoader(ds, batch_size=batch_size, sampler=sampler, drop_last=drop_last, num_workers=num_workers,
                      generator=torch.Generator().manual_seed(seed) if shuffle else None,
                      collate_fn=getattr(ds, "collate", None),
                      pin_memory=torch.device(device).type == "cuda", persistent_workers=num_workers > 0)


def uses_tokens(model_cfg: dict[str, Any]) -> bool:
    return bool(model_cfg.get("freeze_backbone"))


def build_model(model_cfg: dict[str, Any], num_classes: int) -> torch.nn.Module:
    """The trial's model; with frozen trunks, FDAN from their cached outputs (the trunks are dropped);
    restricted to `model.modalities` (fdan.model.modalities)."""
    from fdan.model import create_model
    from fdan.model.frozen import FromTrunkOutputs

    from fdan.model.modalities import restrict_modalities

    cfg = ModelConfig.model_validate({**model_cfg, "num_classes": num_classes})
    if cfg.freeze_backbone:  # the trunks are dropped for their cached outputs: not worth freezing (seeding) first
        model = create_model(**{**cfg.model_dump(), "freeze_backbone": False,
                                "token_standardise": "on" if cfg.standardises_tokens else "off"})
        model.cfg = cfg
        model = FromTrunkOutputs(model)
    else:
        model = create_model(**cfg.model_dump())
    return restrict_modalities(model, cfg.modalities)  # model.modalities: [audio] / [face] ignore the other input


def model_state(model: torch.nn.Module) -> dict[str, torch.Tensor]:
    from fdan.model.frozen import trainable_state

    return trainable_state(model)


def load_model_state(model: torch.nn.Module, state: dict[str, torch.Tensor]) -> None:
    from fdan.model.frozen import load_trainable_state

    load_trainable_state(model, state)


def dataset(directory: str, rows: list[int], label_to_index: dict[str, int] | None, model_cfg: dict[str, Any]) -> Dataset:
    """Rows of a feature cache: its cached trunk outputs (frozen trunks) or its media features."""
    if uses_tokens(model_cfg):
        from fdan.features.token_cache import TokenSet

        return TokenSet.open(directory, model_cfg).dataset(rows, label_to_index)
    from fdan.features.featureset import FeatureSet

    return FeatureSet.open(directory).dataset(rows, label_to_index)


def eval_metrics(prefix: str, result: Any) -> dict[str, float]:
    """Flatten an `EvalResult` into `<prefix>_loss`, `<prefix>_<head>_<metric>`."""
    out = {f"{prefix}_loss": float(result.loss)}
    out.update({f"{prefix}_{h}_{m}": float(v) for h, ms in result.metrics.items() for m, v in ms.items()})
    return out


def run_epochs(config: dict[str, Any], backend: Backend) -> None:
    """The trial: `config` = {"model", "train", "unit", "protocol", "torch_threads"} (see harness.run.trial)."""
    torch.set_num_threads(int(config["torch_threads"]))  # one intra-op thread per CPU worker: no oversubscription
    unit, model_cfg = config["unit"], config["model"]
    train_cfg = TrainConfig.model_validate(config["train"])
    seed_everything(train_cfg.seed)
    device = backend.device
    if device.type == "cuda":
        torch.backends.cudnn.benchmark = True  # fixed shapes per length bucket: autotune once
    labels = unit["labels"]
    l2i = {label: i for i, label in enumerate(labels)}
    workers = loader_workers(train_cfg, device, uses_tokens(model_cfg))

    def loader(directory: str, rows: list[int], labelled: bool, shuffle: bool, seed_offset: int) -> DataLoader:
        ds = dataset(directory, rows, l2i if labelled else None, model_cfg)
        return make_loader(ds, train_cfg.batch_size, shuffle=shuffle, num_workers=workers,
                           seed=train_cfg.seed + seed_offset, device=device)

    train_loader = backend.prepare_loader(loader(unit["source_dir"], unit["train_idx"], True, True, 0))
    target_loader = None
    if unit["adapt_idx"]:  # cross-corpus: unlabelled target rows (label -1), never their labels
        target_loader = backend.prepare_loader(loader(unit["target_dir"], unit["adapt_idx"], False, True, 1))
    # Every rank evaluates the whole validation / test set; only rank 0's report reaches Tune.
    val_loader = loader(unit["source_dir"], unit["val_idx"], True, False, 0)
    test_loader = loader(unit["target_dir"], unit["test_idx"], True, False, 0) if config["protocol"] == "paper" else None

    model = build_model(model_cfg, len(labels)).to(device)
    # train.method's own parameters (DANN's discriminators) join the model: optimised, moved, checkpointed with it
    attach_alignment(model, train_cfg)
    optimizer = build_optimizer(model, train_cfg)  # before prepare_model wraps the model in DDP
    if len(train_loader) == 0:
        raise ValueError(f"{len(unit['train_idx'])} training rows give no batch of {train_cfg.batch_size} per worker; "
                         "lower train.batch_size or resources.workers_per_trial")
    total_steps = train_cfg.epochs * len(train_loader)
    scheduler = build_scheduler(optimizer, train_cfg, total_steps)
    start_epoch, step = 1, 0
    with backend.checkpoint_dir() as ckpt_dir:
        if ckpt_dir is not None:
            state = load_checkpoint(os.path.join(ckpt_dir, CHECKPOINT_FILE), map_location=device)
            load_model_state(model, state["model"])
            optimizer.load_state_dict(state["optimizer"])
            scheduler.load_state_dict(state["scheduler"])
            start_epoch, step = int(state["epoch"]) + 1, int(state["step"])
            restore_rng(state.get("rng"))
    model = backend.prepare_model(model)
    plain = getattr(model, "module", model)
    key, best = config.get("selection_key"), float("-inf")
    if start_epoch > 1:  # a resumed attempt compares against the best score before the interruption
        best = float(state.get("best_score", best))

    for epoch in range(start_epoch, train_cfg.epochs + 1):
        maybe_hold(epoch)  # fault injection of the failure tests (harness.run.faults); no-ops otherwise
        maybe_fail(epoch)
        for offset, dl in enumerate((train_loader, target_loader)):  # the order depends on (seed, epoch) only
            set_loader_epoch(dl, train_cfg.seed + offset, epoch)
        losses, step = train_epoch(model, train_loader, optimizer, scheduler, train_cfg, step=step,
                                   total_steps=total_steps, device=device, target_loader=target_loader)
        metrics: dict[str, Any] = {"epoch": epoch, **{f"train_{k}": float(v) for k, v in losses.items()},
                                   "attempt_start_epoch": start_epoch,  # > 1: this attempt resumed a checkpoint
                                   "unit_key": unit.get("key")}  # checked against its unit (harness.run.unit)
        metrics.update(eval_metrics("val", evaluate_heads(plain, val_loader, len(labels), device, amp=train_cfg.amp)))
        if test_loader is not None:
            metrics.update(eval_metrics("test", evaluate_heads(plain, test_loader, len(labels), device, amp=train_cfg.amp)))
        # improved: the selection score reached its best so far (ties count: the later epoch is kept, as Ray does)
        score = metrics.get(key, float("nan")) if key else float("nan")
        improved = not key or score >= best
        best = max(best, score) if score == score else best
        with tempfile.TemporaryDirectory() as tmp:
            written = None
            if backend.rank == 0:
                save_checkpoint(os.path.join(tmp, CHECKPOINT_FILE), model=model_state(plain),
                                optimizer=optimizer.state_dict(), scheduler=scheduler.state_dict(), epoch=epoch,
                                step=step, labels=labels, model_config=model_cfg, rng=rng_state(), best_score=best,
                                feature_config=unit.get("features"))
                written = tmp
            backend.report(metrics, written, improved)
