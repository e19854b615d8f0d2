"""A trial resumed from its checkpoint trains exactly what an uninterrupted trial trains.

`harness.trial.loop.run_epochs` (the loop both executors run) on a real feature cache, with a backend
that keeps checkpoints in a folder: 4 epochs straight, versus 2 epochs, a failure at the start of
epoch 3 (harness.trial.faults), and a fresh process-like restart from the epoch-2 checkpoint. Batch
order, dropout masks and optimizer state come back, so every reported number is identical.
"""
from __future__ import annotations

import contextlib
import shutil
from pathlib import Path
from typing import Any, Iterator

import pytest
import torch

from fdan.config import FeatureConfig, ModelConfig, TrainConfig
from harness.cluster.resources import ResourcePlan
from harness.trial.faults import FAIL_ONCE_ENV, InjectedFailure
from harness.trial.loop import run_epochs
from harness.trial.spec import TrialSpec, UnitRows

pytestmark = pytest.mark.slow  # a real corpus and 8 epochs of a real (tiny) model: ~20 s idle, minutes on a busy box


class FolderBackend:
    """One CPU process, checkpoints copied into `store/<epoch>` (the latest one is resumed from)."""

    def __init__(self, store: Path) -> None:
        self.device, self.rank, self.store, self.reports = torch.device("cpu"), 0, store, []
        store.mkdir(exist_ok=True)

    def prepare_loader(self, loader):
        return loader

    def prepare_model(self, model):
        return model

    @contextlib.contextmanager
    def checkpoint_dir(self) -> Iterator[str | None]:
        saved = sorted(self.store.iterdir(), key=lambda p: int(p.name))
        yield str(saved[-1]) if saved else None

    def report(self, metrics: dict[str, Any], checkpoint_dir: str | None, improved: bool = True) -> None:
        self.reports.append(metrics)
        if checkpoint_dir is not None:
            shutil.copytree(checkpoint_dir, self.store / str(metrics["epoch"]))


@pytest.fixture(scope="module")
def loop_config(tmp_path_factory) -> TrialSpec:
    from fdan.corpora.synth import generate
    from fdan.features import FeatureSet, prepare_corpus

    tmp = tmp_path_factory.mktemp("resume")
    root = generate(tmp / "studio", speakers=2, clips_per_emotion=2, workers=1, duration_s=(0.6, 0.8))
    cfg = FeatureConfig(sample_rate=8000, n_mels=16, n_fft=256, win_length=200, hop_length=160, clip_seconds=0.5,
                        n_frames=2, face_size=32, face_detector="center")
    out = prepare_corpus("synth", root, out=tmp / "cache", cfg=cfg).out_dir
    manifest = FeatureSet.open(out).manifest
    labels = ["anger", "happiness", "sadness"]
    rows = [int(i) for i in manifest.index[manifest["label"].isin(labels)]]
    model = ModelConfig(backbone="resnet18", attn_dim=16, attn_heads=2, adapt_dim=16, dropout=0.3, attn_dropout=0.2)
    train = TrainConfig(epochs=4, batch_size=2, optimizer="adamw", lr=1e-3, lr_schedule="cosine")
    plan = ResourcePlan(use_gpu=False, num_workers=1, cpus_per_worker=0.5, gpus_per_worker=0.0, driver_cpus=0.5,
                        max_concurrent_trials=1, torch_threads=1)
    unit = UnitRows(key="u", labels=tuple(labels), source_dir=str(out), target_dir=str(out), train_idx=tuple(rows[:-2]),
                    val_idx=tuple(rows[-2:]))
    return TrialSpec(experiment="e", unit=unit, model=model, train=train, protocol="speaker-independent",
                     selection_key="val_fused_uar", plan=plan, executor="tune", storage_path=str(tmp))


def numbers(reports: list[dict]) -> list[dict]:
    return [{k: v for k, v in r.items() if k != "attempt_start_epoch"} for r in reports]


def test_resumed_run_reports_exactly_the_uninterrupted_numbers(loop_config, tmp_path: Path, monkeypatch):
    straight = FolderBackend(tmp_path / "straight")
    run_epochs(loop_config, straight)
    assert [r["epoch"] for r in straight.reports] == [1, 2, 3, 4]

    marker = tmp_path / "fail-once"
    marker.write_text("3")
    monkeypatch.setenv(FAIL_ONCE_ENV, str(marker))
    first = FolderBackend(tmp_path / "resumed")
    torch.manual_seed(999)  # whatever the process did before: the loop seeds and restores its own state
    with pytest.raises(InjectedFailure, match="epoch 3"):
        run_epochs(loop_config, first)
    retry = FolderBackend(tmp_path / "resumed")  # a new worker: nothing carried over but the checkpoints
    torch.manual_seed(12345)
    run_epochs(loop_config, retry)
    assert [r["epoch"] for r in first.reports] == [1, 2] and [r["epoch"] for r in retry.reports] == [3, 4]
    assert [r["attempt_start_epoch"] for r in retry.reports] == [3, 3]
    assert numbers(first.reports + retry.reports) == numbers(straight.reports)
