"""Held-out evaluation of a unit's chosen checkpoint (a Ray task, on a GPU when the plan uses GPUs).

The test rows are touched here once per chosen model of a (pair x fold) under the speaker-independent
protocol: after hyper-parameters and epoch were chosen on validation data (the primary rule's pick and,
with several `protocol.cross_selection` rules, each other rule's pick, each chosen on its own score alone).
The checkpoint path is the one Ray reported: a path inside the run's storage filesystem (an object
store for `storage: s3://...`), so it is opened through that filesystem (`harness.cluster.storage`).
"""
from __future__ import annotations

import copy
import os
from typing import Any

import numpy as np

from fdan.alignment.scopes import without_alignment
from fdan.features.featureset import FeatureSet
from fdan.model.frozen import load_trainable_state
from fdan.training.target_statistics import with_target_statistics
from harness.cluster.resources import ResourcePlan
from harness.trial.checkpoint import CheckpointError, load_checkpoint
from harness.trial.loop import CHECKPOINT_FILE, build_model, dataset, make_loader
from harness.trial.modality_eval import evaluate_heads, prediction_rows
from harness.trial.rule_models import rule_weights
from harness.trial.spec import UnitRows


def evaluate_checkpoint(checkpoint_path: str, unit: UnitRows, torch_threads: int = 1,
                        filesystem: Any = None, epoch: int | None = None,
                        built: dict[str, Any] | None = None) -> dict[str, Any]:
    """Evaluate the checkpoint on the unit's test rows -> {"metrics": {head: {metric: v}}, "loss", "confusion",
    "predictions": [one record per (test row, head), harness.trial.modality_eval.prediction_rows], "epoch"}.
    The audio and face heads are evaluated on their modality alone (harness.trial.modality_eval).
    ``epoch``: the weights of that epoch, a cross-corpus rule's pick the checkpoint carries
    (harness.trial.rule_models); None: the checkpoint's own epoch. ``built``: untrained models by their config,
    kept between the calls of one unit's picks (building the frozen ResNet trunks costs more than the test)."""
    import torch
    from ray.train import Checkpoint

    torch.set_num_threads(torch_threads)
    device = "cuda" if torch.cuda.is_available() else "cpu"
    # filesystem None: a local path; else Ray downloads the checkpoint from the storage filesystem
    with Checkpoint(checkpoint_path, filesystem=filesystem).as_directory() as ckpt_dir:
        state = load_checkpoint(os.path.join(ckpt_dir, CHECKPOINT_FILE), map_location=device)
        weights = state["model"] if epoch is None else rule_weights(ckpt_dir, state, epoch)
    labels = list(unit.labels)
    if list(state["labels"]) != labels:
        raise RuntimeError(f"checkpoint {checkpoint_path} has labels {state['labels']}, the unit {labels}")
    built = {} if built is None else built
    key = repr((state["model_config"], len(labels)))
    if key not in built:
        built[key] = build_model(state["model_config"], len(labels)).to(device)
    model = copy.deepcopy(built[key])
    # frozen trunks are rebuilt from the config, not stored; the training-only alignment terms are not needed
    load_trainable_state(model, without_alignment(weights))
    if state.get("target_statistics") and unit.adapt_idx:  # adabn: BatchNorm statistics of the unlabelled target rows
        # (exact pooled moments: the same for any batch order; fdan.training.target_statistics)
        adapt = dataset(unit.target_dir, unit.adapt_idx, None, state["model_config"])
        model = with_target_statistics(model, make_loader(adapt, 16, shuffle=False, num_workers=0, seed=0), device)
    ds = dataset(unit.target_dir, unit.test_idx, unit.label_to_index, state["model_config"])
    # the autocast of training and validation (fdan.training.numerics: one policy for selection and test)
    result = evaluate_heads(model, make_loader(ds, 16, shuffle=False, num_workers=0, seed=0), len(labels), device,
                            amp=state.get("amp", "off"))
    manifest = FeatureSet.open(unit.target_dir).manifest
    return {
        "metrics": result.metrics,
        "predictions": prediction_rows(result, labels, manifest, {}).to_dict("records"),
        "loss": float(result.loss),
        "confusion": {h: np.asarray(m).astype(int).tolist() for h, m in result.confusion.items()},
        "epoch": int(state["epoch"] if epoch is None else epoch),
    }


def evaluate_checkpoints(picks: list[tuple[str, int | None]], unit: UnitRows, torch_threads: int = 1,
                         filesystem: Any = None, missing_ok: bool = False) -> list[dict[str, Any]]:
    """`evaluate_checkpoint` of each (checkpoint path, epoch) in turn, in one process; results in that order.
    ``missing_ok``: a checkpoint without the weights of a pick's epoch (a sweep begun before rule picks were
    kept, then resumed) gives ``{"error": message}`` for that pick instead of failing every pick."""
    out, built = [], {}
    for path, epoch in picks:
        try:
            out.append(evaluate_checkpoint(path, unit, torch_threads, filesystem, epoch, built))
        except CheckpointError as exc:
            if not missing_ok:
                raise
            out.append({"error": str(exc)})
    return out


def evaluate_many(picks: list[tuple[str, int | None]], unit: UnitRows, plan: ResourcePlan,
                  filesystem: Any = None, missing_ok: bool = False) -> list[dict[str, Any]]:
    """:func:`evaluate_checkpoints` as one Ray task (one worker start and one torch import for a unit's picks,
    which take longer than evaluating a small test fold); results in the order of ``picks``."""
    import ray

    task = ray.remote(evaluate_checkpoints).options(
        num_cpus=plan.cpus_per_worker, num_gpus=plan.gpus_per_worker if plan.use_gpu else 0,
    )
    return ray.get(task.remote(picks, unit, plan.torch_threads, filesystem, missing_ok))
