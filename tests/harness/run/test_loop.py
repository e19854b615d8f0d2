"""The per-epoch trial loop both executors share: reports, checkpoints on improvement, resume; executor choice."""
from __future__ import annotations

import contextlib
import shutil
from pathlib import Path

import pytest
import torch

from harness.cluster.resources import ResourcePlan
from harness.run.loop import CHECKPOINT_FILE, run_epochs
from harness.run.trial import choose_executor
from tests.fdan.features.test_token_cache import LABELS, MODEL, write_feature_cache


class Recorder:
    """A Backend in this process that keeps every report and copies the checkpoints it is given."""

    def __init__(self, store: Path, resume_from: Path | None = None, improved_only: bool = True) -> None:
        self.device, self.rank = torch.device("cpu"), 0
        self.store, self.resume_from, self.improved_only = store, resume_from, improved_only
        self.reports: list[dict] = []
        self.checkpoints: list[Path] = []

    def prepare_loader(self, loader, seed):
        return loader

    def prepare_model(self, model):
        return model

    @contextlib.contextmanager
    def checkpoint_dir(self):
        yield str(self.resume_from) if self.resume_from else None

    def report(self, metrics, checkpoint_dir, improved):
        self.reports.append(metrics)
        if checkpoint_dir is not None and (improved or not self.improved_only):
            dest = self.store / f"epoch{metrics['epoch']}"
            shutil.copytree(checkpoint_dir, dest)
            self.checkpoints.append(dest)


def config(features: Path, epochs: int) -> dict:
    rows = list(range(20))
    return {"model": dict(MODEL), "train": {"epochs": epochs, "batch_size": 4, "optimizer": "adamw", "lr": 0.01,
                                            "lr_schedule": "constant"},
            "unit": {"labels": LABELS, "train_idx": rows[:12], "val_idx": rows[12:16], "adapt_idx": rows[16:],
                     "test_idx": [], "source_dir": str(features), "target_dir": str(features)},
            "protocol": "speaker-independent", "torch_threads": 1, "selection_key": "val_fused_uar"}


def test_the_loop_reports_every_epoch_checkpoints_improvements_and_resumes(tmp_path: Path) -> None:
    features = write_feature_cache(tmp_path / "features")
    rec = Recorder(tmp_path / "ckpt")
    run_epochs(config(features, epochs=3), rec)
    assert [r["epoch"] for r in rec.reports] == [1, 2, 3]
    assert {"train_loss", "train_lmmd_corpus", "val_loss", "val_fused_uar", "val_audio_war"} <= set(rec.reports[0])
    scores = [r["val_fused_uar"] for r in rec.reports]
    improved = [e for e, s in enumerate(scores, 1) if s >= max(scores[:e])]
    assert [int(p.name[5:]) for p in rec.checkpoints] == improved  # the best epoch (latest on ties) has one
    state = torch.load(rec.checkpoints[-1] / CHECKPOINT_FILE, weights_only=False)
    assert not any(".trunk." in k for k in state["model"])  # frozen trunks are rebuilt, never stored
    resumed = Recorder(tmp_path / "ckpt2", resume_from=rec.checkpoints[-1])
    run_epochs(config(features, epochs=4), resumed)
    assert [r["epoch"] for r in resumed.reports] == list(range(improved[-1] + 1, 5))


@pytest.mark.parametrize("frozen, workers, gpu, expected", [
    (True, 1, False, "tune"), (True, 2, False, "train"), (True, 1, True, "train"), (False, 1, False, "train")])
def test_small_frozen_cpu_trials_run_in_the_tune_trial(frozen: bool, workers: int, gpu: bool, expected: str) -> None:
    plan = ResourcePlan(use_gpu=gpu, num_workers=workers, cpus_per_worker=0.5, gpus_per_worker=1.0 if gpu else 0.0,
                        driver_cpus=0.5, max_concurrent_trials=1, torch_threads=1)
    assert choose_executor({"freeze_backbone": frozen}, plan) == expected



def test_trial_models_of_frozen_trunks_standardise_their_tokens():
    """`build_model` drops the frozen trunks for their cached outputs: the `auto` standardisation must still
    follow `freeze_backbone` (it once built the model as unfrozen, and frozen random trunks then learned nothing)."""
    from harness.run.loop import build_model

    base = {"backbone": "resnet18", "attn_dim": 16, "attn_heads": 2, "adapt_dim": 16}
    frozen = build_model({**base, "freeze_backbone": True, "trunk_stages": 2}, 3)
    assert frozen.net.audio_tokens.embed.standardise is not None and frozen.net.face_tokens.embed.standardise is not None
    assert build_model({**base, "freeze_backbone": False}, 3).audio_tokens.embed.standardise is None
    assert build_model({**base, "freeze_backbone": True, "token_standardise": "off"}, 3).net.audio_tokens.embed.standardise is None
