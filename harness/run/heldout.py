"""Held-out evaluation of a unit's chosen checkpoint (a Ray task, on a GPU when the plan uses GPUs).

The test rows are touched here exactly once per (pair x fold) under the speaker-independent
protocol: after hyper-parameters and epoch were chosen on validation data.
"""
from __future__ import annotations

import os
from typing import Any

import numpy as np


def evaluate_checkpoint(checkpoint_path: str, unit: dict[str, Any], torch_threads: int = 1) -> dict[str, Any]:
    """Evaluate the checkpoint on the unit's test rows -> {"metrics": {head: {metric: v}}, "loss", "confusion"}."""
    import torch
    from ray.train import Checkpoint

    from fdan.features.featureset import FeatureSet
    from fdan.train import evaluate
    from harness.run.worker import CHECKPOINT_FILE, build_model, make_loader

    torch.set_num_threads(torch_threads)
    device = "cuda" if torch.cuda.is_available() else "cpu"
    with Checkpoint(checkpoint_path).as_directory() as ckpt_dir:
        state = torch.load(os.path.join(ckpt_dir, CHECKPOINT_FILE), map_location=device, weights_only=False)
    labels = list(unit["labels"])
    if list(state["labels"]) != labels:
        raise RuntimeError(f"checkpoint {checkpoint_path} has labels {state['labels']}, the unit {labels}")
    model = build_model(state["model_config"], len(labels)).to(device)
    model.load_state_dict(state["model"])
    target = FeatureSet.open(unit["target_dir"])
    ds = target.dataset(unit["test_idx"], {label: i for i, label in enumerate(labels)})
    result = evaluate(model, make_loader(ds, 16, shuffle=False, num_workers=0, seed=0), len(labels), device)
    return {
        "metrics": result.metrics,
        "loss": float(result.loss),
        "confusion": {h: np.asarray(m).astype(int).tolist() for h, m in result.confusion.items()},
        "epoch": int(state["epoch"]),
    }


def evaluate_remote(checkpoint_path: str, unit: dict[str, Any], plan: dict[str, Any]) -> dict[str, Any]:
    """Run `evaluate_checkpoint` as a Ray task with one trial worker's resources."""
    import ray

    task = ray.remote(evaluate_checkpoint).options(
        num_cpus=plan["cpus_per_worker"], num_gpus=plan["gpus_per_worker"] if plan["use_gpu"] else 0,
    )
    return ray.get(task.remote(checkpoint_path, unit, plan["torch_threads"]))
