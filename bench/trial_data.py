"""Shared pieces of the trial benchmarks: a feature cache of quickstart size, trial configs, an in-process backend.

The feature cache holds seeded random features with the quickstart's shapes (6 speakers x 28 clips,
32 Mel bins x 151 frames, 4 faces of 32 x 32): timing does not depend on what the pixels show, and
the benchmarks then need no corpus generation. Not a benchmark itself (no `bench_` prefix).
"""
from __future__ import annotations

import contextlib
import json
import time
from pathlib import Path
from typing import Any, Iterator

import numpy as np
import pandas as pd
import torch

LABELS = ["anger", "disgust", "fear", "happiness", "neutral", "sadness", "surprise"]
MODEL = {"backbone": "resnet18", "attn_dim": 64, "attn_heads": 4, "adapt_dim": 64}
TRAIN = {"epochs": 3, "batch_size": 16, "optimizer": "adamw", "lr": 0.003, "lr_schedule": "constant", "seed": 0}


def feature_cache(directory: Path, speakers: int = 6, clips: int = 28, n_mels: int = 32, frames: int = 151,
                  k: int = 4, size: int = 32) -> Path:
    """Write a feature cache directory (the files `FeatureSet.open` reads) of seeded random features."""
    rng = np.random.default_rng(0)
    n = speakers * clips
    directory.mkdir(parents=True, exist_ok=True)
    mel_len = rng.integers(frames // 2, frames + 1, size=n).astype(np.int32)
    mel = rng.normal(size=(n, 1, n_mels, frames)).astype(np.float16)
    faces = rng.integers(0, 256, size=(n, k, 3, size, size), dtype=np.uint8)
    arrays = {"mel": mel, "mel_len": mel_len, "faces": faces, "face_mask": np.ones((n, k), dtype=bool)}
    for name, arr in arrays.items():
        np.save(directory / f"{name}.npy", arr)
    pd.DataFrame({"corpus": "bench", "utterance_id": [f"u{i}" for i in range(n)],
                  "speaker": [f"s{i // clips}" for i in range(n)], "corpus_label": "x",
                  "label": [LABELS[i % len(LABELS)] for i in range(n)], "split": "", "fold": [i // clips for i in range(n)],
                  "audio_path": "", "video_path": [f"v{i}.mp4" for i in range(n)]}).to_csv(directory / "manifest.csv", index=False)
    pd.DataFrame(columns=["path", "reason"]).to_csv(directory / "skipped.csv", index=False)
    (directory / "meta.json").write_text(json.dumps({"cache_key": f"bench-{n}-{frames}-{size}", "corpus": "bench"}))
    return directory


def loop_config(directory: Path, frozen: bool, epochs: int = 3, clips: int = 28) -> Any:
    """A within-corpus trial's spec (harness.trial.spec.TrialSpec): 4 training speakers, 1 validation speaker
    (as the quickstart)."""
    from fdan.config import ModelConfig, TrainConfig
    from harness.cluster.resources import ResourcePlan
    from harness.trial.spec import TrialSpec, UnitRows

    rows = np.arange(6 * clips)
    speaker = rows // clips
    unit = UnitRows(key="bench", labels=tuple(LABELS), source_dir=str(directory), target_dir=str(directory),
                    train_idx=tuple(rows[speaker >= 2].tolist()), val_idx=tuple(rows[speaker == 1].tolist()))
    plan = ResourcePlan(use_gpu=False, num_workers=1, cpus_per_worker=0.5, gpus_per_worker=0.0, driver_cpus=0.5,
                        max_concurrent_trials=2, torch_threads=1)
    return TrialSpec(experiment="bench", unit=unit, model=ModelConfig(**MODEL, freeze_backbone=frozen),
                     train=TrainConfig(**{**TRAIN, "epochs": epochs}), protocol="speaker-independent",
                     selection_key="val_fused_uar", plan=plan, executor="tune", storage_path=str(directory))


class LocalBackend:
    """`harness.trial.loop.Backend` for a bare loop in this process; records the time of every report."""

    def __init__(self) -> None:
        self.device = torch.device("cpu")
        self.rank = 0
        self.times: list[float] = [time.perf_counter()]

    def prepare_loader(self, loader):
        return loader

    def prepare_model(self, model):
        return model

    @contextlib.contextmanager
    def checkpoint_dir(self) -> Iterator[None]:
        yield None

    def report(self, metrics: dict[str, Any], checkpoint_dir: str | None, improved: bool) -> None:
        self.times.append(time.perf_counter())

    def epoch_times(self) -> list[float]:
        return list(np.diff(self.times))
