"""The smallest real sweep (1 unit, 2 trials, 1 epoch) on a tiny synthetic corpus, for cluster tests."""
from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any


def tiny_experiment(tmp: Path, name: str = "tiny") -> dict[str, Any]:
    return {
        "name": name,
        "output_dir": str(tmp / "results"),
        "cache_dir": str(tmp / "cache"),
        "corpora": {"synth-studio": {"importer": "synth", "root": str(tmp / "synth" / "studio"),
                                     "synth": {"corpus": "synth-studio", "seed": 0, "speakers": 3,
                                               "clips_per_emotion": 1, "conditions": {"duration_s": [0.6, 0.8]}}}},
        "pairs": {"within": ["synth-studio"], "max_folds": 1, "labels": ["anger", "happiness", "sadness"]},
        "features": {"sample_rate": 8000, "n_mels": 16, "n_fft": 256, "win_length": 200, "hop_length": 160,
                     "clip_seconds": 0.5, "n_frames": 2, "face_size": 32, "face_detector": "center"},
        "model": {"backbone": "resnet18", "attn_dim": 16, "attn_heads": 2, "adapt_dim": 16},
        "train": {"epochs": 1, "batch_size": 4, "optimizer": "adamw", "lr": 0.001, "lr_schedule": "constant"},
        "search": {"num_samples": 2, "seed": 0, "max_concurrent_trials": 1, "asha": {"enabled": False},
                   "space": {"train.lmmd_weight": {"type": "loguniform", "low": 0.5, "high": 10.0}}},
        "resources": {"workers_per_trial": 1, "cpus_per_worker": 0.5, "cpus_per_trial_driver": 0.5},
    }


def cli(*args: str) -> list[str]:
    return [sys.executable, "-m", "harness.cli", *args]


def reported(trial_dir: Path) -> list[dict]:
    """Every report of a trial, in order (a resumed trial may report an epoch again)."""
    path = trial_dir / "result.json"
    rows = []
    for line in (path.read_text().splitlines() if path.is_file() else []):
        try:
            rows.append(json.loads(line))
        except json.JSONDecodeError:  # a line being written
            pass
    return rows
