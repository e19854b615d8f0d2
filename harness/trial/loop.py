"""One trial's data and model around `fdan.training.fit.fit` (the one training loop), for both executors:
inside a Ray Train worker or in the Tune trial process.

`run_epochs(spec, backend)`: loaders, model and the resume state from the backend's latest checkpoint,
then `fit` with a reporter that writes each epoch's checkpoint (`model.pt`, `harness.trial.checkpoint`:
the model state without frozen trunks, which are rebuilt from the config; optimizer, scheduler, epoch,
step, RNG) and calls `backend.report(metrics, checkpoint_dir, improved)`. The backend is the only part
that differs: `TrainBackend` (ray.train: DDP-prepared model and loaders, rank 0 checkpoints, the report
is a barrier) or `TuneBackend` (ray.tune: this process, one device, no DDP). Reported metrics are
`fit`'s (`epoch`, `train_<loss part>`, `val_loss`, `val_<head>_<metric>` and, under the `paper`
protocol only, `test_...`; audio / face heads evaluated on their modality alone,
`harness.trial.modality_eval`) plus `attempt_start_epoch` and `unit_key`; `improved` is the selection
rule's verdict (`fdan.training.selection`) on the epoch's `selection_key` score, or (several
`protocol.cross_selection` rules) another rule's pick moving to this epoch: each checkpoint then also
carries the weights of every non-primary rule's pick so far (`harness.trial.rule_models`).

With `model.freeze_backbone` the trial reads the cached trunk outputs (fdan.features.token_cache)
instead of the media features and trains FDAN above its trunks (`fdan.model.frozen.FromTrunkOutputs`).
"""
from __future__ import annotations

import os
import tempfile
from typing import Any, Mapping, Protocol, Sequence

import torch
from torch.utils.data import DataLoader, Dataset, RandomSampler

from fdan.config import ModelConfig, TrainConfig
from fdan.features.featureset import FeatureSet
from fdan.features.token_cache import TokenSet
from fdan.model import create_model
from fdan.model.frozen import FromTrunkOutputs
from fdan.model.modalities import restrict_modalities
from fdan.training.distributed import sync_batchnorm
from fdan.training.fit import EpochEnd, fit, seed_everything
from fdan.training.numerics import apply_numeric_policy
from fdan.training.selection import Selection
from fdan.training.target_use import reads_target, uses_target_statistics
from harness.trial.checkpoint import CHECKPOINT_FILE, load_checkpoint, resume_state, save_checkpoint
from harness.trial.faults import maybe_fail, maybe_hold
from harness.trial.modality_eval import evaluate_heads
from harness.trial.rule_models import RuleModels
from harness.trial.selection_epoch import EpochSelection
from harness.trial.spec import TrialSpec


class Backend(Protocol):
    device: torch.device
    rank: int
    world_size: int

    def prepare_loader(self, loader: DataLoader, seed: int) -> DataLoader: ...
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
    # The sampler has its own generator, reseeded per epoch (fdan.training.resume.set_loader_epoch): the
    # order of an epoch is then the same after a resume; the loader's generator only seeds its workers.
    sampler = RandomSampler(ds, generator=torch.Generator().manual_seed(seed)) if shuffle else None
    return DataLoader(ds, batch_size=batch_size, sampler=sampler, drop_last=drop_last, num_workers=num_workers,
                      generator=torch.Generator().manual_seed(seed) if shuffle else None,
                      collate_fn=getattr(ds, "collate", None),
                      pin_memory=torch.device(device).type == "cuda", persistent_workers=num_workers > 0)


def build_model(model_cfg: ModelConfig | Mapping[str, Any], num_classes: int) -> torch.nn.Module:
    """The trial's model; with frozen trunks, FDAN from their cached outputs (the trunks are dropped);
    restricted to `model.modalities` (fdan.model.modalities)."""

    cfg = ModelConfig.model_validate({**as_model_config(model_cfg).model_dump(), "num_classes": num_classes})
    if cfg.freeze_backbone:  # the trunks are dropped for their cached outputs: not worth freezing (seeding) first
        model = create_model(**{**cfg.model_dump(), "freeze_backbone": False,
                                "token_standardise": "on" if cfg.standardises_tokens else "off"})
        model.cfg = cfg
        model = FromTrunkOutputs(model)
    else:
        model = create_model(**cfg.model_dump())
    return restrict_modalities(model, cfg.modalities)  # model.modalities: [audio] / [face] ignore the other input


def as_model_config(model_cfg: ModelConfig | Mapping[str, Any]) -> ModelConfig:
    """The model section, from a checkpoint's plain data too."""
    return model_cfg if isinstance(model_cfg, ModelConfig) else ModelConfig.model_validate(dict(model_cfg))


def dataset(directory: str, rows: Sequence[int], label_to_index: dict[str, int] | None,
            model_cfg: ModelConfig | Mapping[str, Any]) -> Dataset:
    """Rows of a feature cache: its cached trunk outputs (frozen trunks) or its media features."""
    model_cfg = as_model_config(model_cfg)
    if model_cfg.freeze_backbone:
        return TokenSet.open(directory, model_cfg).dataset(rows, label_to_index)

    return FeatureSet.open(directory).dataset(rows, label_to_index)


def run_epochs(spec: TrialSpec, backend: Backend) -> None:
    """One trial (`spec` with its sampled values set, harness.trial.entry): `fdan.training.fit.fit` on the
    backend's device, loaders and model wrapper."""
    torch.set_num_threads(int(spec.plan.torch_threads))  # one intra-op thread per CPU worker: no oversubscription
    unit, model_cfg, train_cfg = spec.unit, spec.model, spec.train
    seed_everything(train_cfg.seed)
    device = backend.device
    apply_numeric_policy(train_cfg.deterministic, device)  # fdan.training.numerics: benchmark or deterministic
    labels = list(unit.labels)
    workers = loader_workers(train_cfg, device, model_cfg.freeze_backbone)

    def loader(directory: str, rows: tuple[int, ...], labelled: bool, shuffle: bool, seed_offset: int) -> DataLoader:
        ds = dataset(directory, rows, unit.label_to_index if labelled else None, model_cfg)
        return make_loader(ds, train_cfg.batch_size, shuffle=shuffle, num_workers=workers,
                           seed=train_cfg.seed + seed_offset, device=device)

    # train.batch_size is the global batch: each of N workers draws its share of the one-worker batches
    # (fdan.training.distributed); the loaders' seeds are those fit reseeds them by per epoch
    train_loader = backend.prepare_loader(loader(unit.source_dir, unit.train_idx, True, True, 0), train_cfg.seed)
    target_loader = None
    if unit.adapt_idx and reads_target(train_cfg):  # cross-corpus with a corpus term: unlabelled target rows
        target_loader = backend.prepare_loader(loader(unit.target_dir, unit.adapt_idx, False, True, 1),
                                               train_cfg.seed + 1)
    # Every rank evaluates the whole validation / test set; only rank 0's report reaches Tune.
    val_loader = loader(unit.source_dir, unit.val_idx, True, False, 0)
    test_loader = loader(unit.target_dir, unit.test_idx, True, False, 0) if spec.protocol == "paper" else None
    rules = EpochSelection.create(spec, loader, val_loader, device, train_cfg.amp,  # cross-corpus selection rules
                                  uses_target_statistics(train_cfg))
    if len(train_loader) == 0:
        raise ValueError(f"{len(unit.train_idx)} training rows give no batch of {train_cfg.batch_size} per worker; "
                         "lower train.batch_size or resources.workers_per_trial")
    model = build_model(model_cfg, len(labels))
    others = list(spec.rules[1:])  # the primary rule's pick is Ray's kept checkpoint; the others' ride along
    with backend.checkpoint_dir() as ckpt_dir:
        resume, picks = None, RuleModels(others)
        if ckpt_dir is not None:
            saved = load_checkpoint(os.path.join(ckpt_dir, CHECKPOINT_FILE), map_location=device)
            resume, picks = resume_state(saved), RuleModels.restore(others, ckpt_dir, saved)
    start_epoch = resume.epoch + 1 if resume is not None else 1

    def report(end: EpochEnd) -> None:
        metrics = {**end.metrics, "attempt_start_epoch": start_epoch,  # > 1: this attempt resumed a checkpoint
                   "unit_key": unit.key}  # checked against its unit (harness.tuning.unit)
        with tempfile.TemporaryDirectory() as tmp:
            written, moved = None, False
            if backend.rank == 0:
                state = end.resume_state()
                save_checkpoint(os.path.join(tmp, CHECKPOINT_FILE), state, labels=labels,
                                model_config=model_cfg.model_dump(mode="json"), amp=train_cfg.amp,
                                target_statistics=uses_target_statistics(train_cfg),
                                feature_config=None if spec.features is None else spec.features.model_dump(mode="json"))
                if others:  # every non-primary rule's pick so far (harness.trial.rule_models)
                    moved = picks.update(end.epoch, end.metrics, lambda: state.model)
                    picks.save(tmp, end.epoch)
                written = tmp
            # a checkpoint when the primary rule improved or another rule's pick moved here (the latest is kept)
            backend.report(metrics, written, end.improved or moved)

    fit(model, train_loader, val_loader, train_cfg, num_classes=len(labels), device=device, target_loader=target_loader,
        test_loader=test_loader, selection=spec.selection, reporter=report, resume=resume,
        before_epoch=inject_faults,
        wrap_model=lambda m: backend.prepare_model(sync_batchnorm(m, train_cfg.sync_batchnorm, device)), evaluator=evaluate_heads, keep_best=False,
        epoch_scores=None if rules is None else lambda m, metrics: rules.scores(
            m, metrics, lambda model, dl: evaluate_heads(model, dl, len(labels), device, amp=train_cfg.amp)))


def inject_faults(epoch: int) -> None:
    """Fault injection of the failure tests (harness.trial.faults); no-ops otherwise."""
    maybe_hold(epoch)
    maybe_fail(epoch)
