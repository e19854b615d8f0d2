"""The per-epoch trial loop both executors share: reports, checkpoints on improvement, resume; executor choice."""
from __future__ import annotations

import contextlib
import shutil
from pathlib import Path

import pytest
import torch

from fdan.config import ModelConfig, TrainConfig
from harness.cluster.resources import ResourcePlan
from harness.trial.entry import choose_executor
from harness.trial.loop import CHECKPOINT_FILE, run_epochs
from harness.trial.spec import TrialSpec, UnitRows
from tests.fdan.features.test_token_cache import LABELS, MODEL, write_feature_cache


class Recorder:
    """A Backend in this process that keeps every report and copies the checkpoints it is given."""

    def __init__(self, store: Path, resume_from: Path | None = None, improved_only: bool = True) -> None:
        self.device, self.rank, self.world_size = torch.device("cpu"), 0, 1
        self.store, self.resume_from, self.improved_only = store, resume_from, improved_only
        self.reports: list[dict] = []
        self.checkpoints: list[Path] = []
        self.flags: list[bool] = []  # each report's `improved`

    def prepare_loader(self, loader, seed):
        return loader

    def prepare_model(self, model):
        return model

    @contextlib.contextmanager
    def checkpoint_dir(self):
        yield str(self.resume_from) if self.resume_from else None

    def report(self, metrics, checkpoint_dir, improved):
        self.reports.append(metrics)
        self.flags.append(improved)
        if checkpoint_dir is not None and (improved or not self.improved_only):
            dest = self.store / f"epoch{metrics['epoch']}"
            shutil.copytree(checkpoint_dir, dest)
            self.checkpoints.append(dest)


PLAN = ResourcePlan(use_gpu=False, num_workers=1, cpus_per_worker=0.5, gpus_per_worker=0.0, driver_cpus=0.5,
                    max_concurrent_trials=1, torch_threads=1)


def config(features: Path, epochs: int, **train: object) -> TrialSpec:
    rows = tuple(range(20))
    unit = UnitRows(key="u", labels=tuple(LABELS), source_dir=str(features), target_dir=str(features),
                    train_idx=rows[:12], val_idx=rows[12:16], adapt_idx=rows[16:])
    return TrialSpec(experiment="e", unit=unit, model=ModelConfig.model_validate(MODEL),
                     train=TrainConfig(epochs=epochs, batch_size=4, optimizer="adamw", lr=0.01, lr_schedule="constant",
                                       **train),
                     protocol="speaker-independent", selection_key="val_fused_uar", plan=PLAN, executor="tune",
                     storage_path=str(features))


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


def test_a_trial_honours_early_stopping(tmp_path: Path, monkeypatch) -> None:
    """`train.early_stopping_patience` stops a sweep's trial too (the trial loop is `fdan.training.fit.fit`)."""
    from fdan.training.selection import Selection

    scores = iter([0.5, 0.6, 0.6, 0.2, 0.3, 0.9])
    monkeypatch.setattr(Selection, "score", lambda self, result: next(scores))
    features = write_feature_cache(tmp_path / "features")
    rec = Recorder(tmp_path / "ckpt")
    run_epochs(config(features, epochs=6, early_stopping_patience=2), rec)
    assert [r["epoch"] for r in rec.reports] == [1, 2, 3, 4, 5]  # epoch 3 ties 2 and is kept; 4 and 5 are not better
    assert [int(p.name[5:]) for p in rec.checkpoints] == [1, 2, 3]


@pytest.mark.parametrize("frozen, workers, gpu, expected", [
    (True, 1, False, "tune"), (True, 2, False, "train"), (True, 1, True, "train"), (False, 1, False, "train")])
def test_small_frozen_cpu_trials_run_in_the_tune_trial(frozen: bool, workers: int, gpu: bool, expected: str) -> None:
    plan = ResourcePlan(use_gpu=gpu, num_workers=workers, cpus_per_worker=0.5, gpus_per_worker=1.0 if gpu else 0.0,
                        driver_cpus=0.5, max_concurrent_trials=1, torch_threads=1)
    assert choose_executor(ModelConfig(freeze_backbone=frozen), plan) == expected



def test_trial_models_of_frozen_trunks_standardise_their_tokens():
    """`build_model` drops the frozen trunks for their cached outputs: the `auto` standardisation must still
    follow `freeze_backbone` (it once built the model as unfrozen, and frozen random trunks then learned nothing)."""
    from harness.trial.loop import build_model

    base = {"backbone": "resnet18", "attn_dim": 16, "attn_heads": 2, "adapt_dim": 16}
    frozen = build_model({**base, "freeze_backbone": True, "trunk_stages": 2}, 3)
    assert frozen.net.audio_tokens.embed.standardise is not None and frozen.net.face_tokens.embed.standardise is not None
    assert build_model({**base, "freeze_backbone": False}, 3).audio_tokens.embed.standardise is None
    assert build_model({**base, "freeze_backbone": True, "token_standardise": "off"}, 3).net.audio_tokens.embed.standardise is None


def _kept(scores: list[float]) -> list[int]:
    """Epochs (1-based) at which a score reaches its best so far (the later epoch on ties)."""
    return [e for e, s in enumerate(scores, 1) if s >= max(scores[:e])]


def test_a_cross_corpus_trial_records_every_rule_and_keeps_each_rules_pick(tmp_path: Path) -> None:
    """protocol.cross_selection: sel_<rule> reported every epoch; a checkpoint where the primary rule (sel_dev)
    improves or another rule's pick moves, and every checkpoint carries each other rule's pick so far."""
    from dataclasses import replace

    from harness.trial.checkpoint import load_checkpoint
    from harness.trial.rule_models import RULE_MODELS_FILE, rule_weights

    features = write_feature_cache(tmp_path / "features")
    base = config(features, epochs=4)
    rules = ("dev", "source_val", "snd", "entropy", "target_oracle")
    spec = replace(base, selection_key="sel_dev", rules=rules, rule_metric="fused_uar",
                   unit=replace(base.unit, target_val_idx=tuple(range(16, 20))))
    rec = Recorder(tmp_path / "every", improved_only=False)  # every epoch's checkpoint, and its `improved`
    run_epochs(spec, rec)
    assert all({f"sel_{r}" for r in rules} <= set(r) for r in rec.reports)
    assert all(r["sel_source_val"] == r["val_fused_uar"] for r in rec.reports)
    kept = {rule: _kept([r[f"sel_{rule}"] for r in rec.reports]) for rule in rules}
    flagged = [e for e, f in enumerate(rec.flags, 1) if f]
    assert flagged == sorted({e for k in kept.values() for e in k})  # Tune keeps these (and the latest of them)
    latest = rec.checkpoints[flagged[-1] - 1]
    saved = torch.load(latest / RULE_MODELS_FILE, weights_only=True)
    assert {r: e for r, (e, _) in saved["best"].items()} == {r: kept[r][-1] for r in rules[1:]}
    own = load_checkpoint(latest / CHECKPOINT_FILE)
    assert set(saved["models"]) == {str(kept[r][-1]) for r in rules[1:]} - {str(own["epoch"])}  # one copy per epoch
    for rule in rules[1:]:
        epoch = kept[rule][-1]
        truth = load_checkpoint(rec.checkpoints[epoch - 1] / CHECKPOINT_FILE)["model"]
        weights = rule_weights(str(latest), own, epoch)
        assert all(torch.equal(weights[k], truth[k]) for k in truth)
    with pytest.raises(Exception, match="no weights of epoch"):
        rule_weights(str(latest), own, 99)
    # a resumed trial continues every rule's bookkeeping from its checkpoint
    resumed = Recorder(tmp_path / "resumed", resume_from=rec.checkpoints[1], improved_only=False)
    run_epochs(replace(spec, train=spec.train.model_copy(update={"epochs": 3})), resumed)
    again = torch.load(resumed.checkpoints[-1] / RULE_MODELS_FILE, weights_only=True)
    before = torch.load(rec.checkpoints[1] / RULE_MODELS_FILE, weights_only=True)["best"]
    third = resumed.reports[-1]
    for rule in rules[1:]:  # epoch 3's score against the best of epochs 1-2 restored from the checkpoint
        expected = 3 if third[f"sel_{rule}"] >= before[rule][1] else before[rule][0]
        assert again["best"][rule][0] == expected


def test_source_only_trial_never_builds_a_target_loader(tmp_path: Path, monkeypatch) -> None:
    """No hidden adaptation in the harness too: a source_only cross-corpus trial reads no adaptation rows."""
    import harness.trial.loop as loop

    features = write_feature_cache(tmp_path / "features")
    opened: list[tuple[int, ...]] = []
    real = loop.dataset
    monkeypatch.setattr(loop, "dataset", lambda d, rows, *a, **k: (opened.append(tuple(rows)), real(d, rows, *a, **k))[1])
    run_epochs(config(features, epochs=1, method="source_only"), Recorder(tmp_path / "ckpt"))
    assert tuple(range(16, 20)) not in opened and opened  # train and validation rows only
