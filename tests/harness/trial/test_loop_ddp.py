"""The trial loop (`run_epochs`) on two DDP ranks, as inside two Ray Train workers but with plain gloo processes
(no Ray: fast). Trunks trained and frozen, within and across corpora, DANN (discriminators at both scopes) and an
audio-only model: every rank finishes every epoch and reports the same figures, which follow one worker."""
from __future__ import annotations

import contextlib
from pathlib import Path

import torch
from torch.nn.parallel import DistributedDataParallel as DDP

from fdan.training.distributed import ddp_options, world
from fdan.training.rank_sampler import rank_loader
from fdan.config import ModelConfig, TrainConfig
from harness.cluster.resources import ResourcePlan
from harness.trial.loop import run_epochs
from harness.trial.spec import TrialSpec, UnitRows
from tests.fdan.features.test_token_cache import LABELS, MODEL, write_feature_cache
from tests.fdan.training.gloo import run_ranks

# (freeze_backbone, cross-corpus, method, modalities)
CASES = [(False, True, "dann", ["audio", "face"]), (False, False, "dann", ["audio", "face"]),
         (True, True, "dann", ["audio"]), (True, False, "mmd", ["audio", "face"])]


class GlooBackend:
    """`harness.trial.worker.TrainBackend` without Ray: this process's rank of the default gloo group (or one worker)."""

    def __init__(self) -> None:
        self.device = torch.device("cpu")
        self.rank, self.world_size = world()
        self.reports: list[dict] = []

    def prepare_loader(self, loader, seed):
        return rank_loader(loader, self.rank, self.world_size, seed)

    def prepare_model(self, model):
        return DDP(model, **ddp_options()) if self.world_size > 1 else model

    @contextlib.contextmanager
    def checkpoint_dir(self):
        yield None

    def report(self, metrics, checkpoint_dir, improved):
        self.reports.append({k: v for k, v in metrics.items() if isinstance(v, float)})


PLAN = ResourcePlan(use_gpu=False, num_workers=2, cpus_per_worker=0.5, gpus_per_worker=0.0, driver_cpus=0.5,
                    max_concurrent_trials=1, torch_threads=1)


def _config(features: str, frozen: bool, cross: bool, method: str, modalities: list[str]) -> TrialSpec:
    rows = tuple(range(28))  # 4 rows per worker: some face frames are missing, a trained trunk's BatchNorm needs 2
    # frozen trunks without their token standardisation: its statistics are per worker (4 rows here: training
    # losses 30 % apart, measured), which tests/fdan/training/test_distributed.py bounds separately
    model = {**MODEL, "dropout": 0.0, "attn_dropout": 0.0, "freeze_backbone": frozen, "modalities": modalities,
             **({"token_standardise": "off"} if frozen else {})}
    unit = UnitRows(key="u", labels=tuple(LABELS), source_dir=features, target_dir=features, train_idx=rows[:16],
                    val_idx=rows[16:20], adapt_idx=rows[20:] if cross else ())
    train = TrainConfig(epochs=2, batch_size=8, optimizer="adamw", lr=0.003, lr_schedule="constant", method=method,
                        lmmd_warmup=0.0)
    head = "fused" if len(modalities) == 2 else modalities[0]  # a single-modality model has that head only
    return TrialSpec(experiment="e", unit=unit, model=ModelConfig.model_validate(model), train=train,
                     protocol="speaker-independent", selection_key=f"val_{head}_uar", plan=PLAN, executor="train",
                     storage_path=features)


def _trials(rank: int, world_size: int, features: str) -> list[list[dict]]:
    out = []
    for case in CASES:
        backend = GlooBackend()
        run_epochs(_config(features, *case), backend)
        out.append(backend.reports)
    return out


def test_the_trial_loop_on_two_ranks_finishes_agrees_and_follows_one_worker(tmp_path: Path) -> None:
    features = str(write_feature_cache(tmp_path / "features", n=28))
    two = run_ranks(_trials, 2, features)
    one = _trials(0, 1, features)
    assert two[0] == two[1]  # losses averaged over ranks, one model (averaged BatchNorm statistics) validated
    for case, a, b in zip(CASES, one, two[0]):
        assert len(b) == 2  # both epochs reported
        assert all(torch.isfinite(torch.tensor(list(r.values()))).all() for r in b), (case, b)
        # the same global batches; BatchNorm / token statistics per worker (4 rows): a loose bound
        gap = max(abs(a[i]["train_loss"] - b[i]["train_loss"]) / a[i]["train_loss"] for i in range(2))
        assert gap < 0.15, (case, gap, a, b)
