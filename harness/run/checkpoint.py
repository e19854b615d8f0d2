"""A trial checkpoint (`model.pt`): only tensors and plain data, so it loads with `weights_only=True`.

Checkpoints sit on shared storage; `torch.load(weights_only=False)` would unpickle (run) whatever
object a file there holds. The content is therefore restricted to what the safe loader accepts:
tensors, dicts, lists, tuples, str, int, float, bool, None. Keys:

    model        trainable state dict (tensors)
    optimizer    optimizer.state_dict()     scheduler   scheduler.state_dict() (LambdaLR: no callables)
    epoch, step  the last finished epoch and optimizer step   best_score  the best selection score so far
    labels       the unit's label space (list of str)   model_config  the model section (plain JSON data)
    feature_config  the FeatureConfig that made the inputs (plain data; `fdan-bench export` needs it)
    rng          {"torch": CPU generator state, "cuda": [per-device states]} (uint8 tensors): a resumed
                 trial draws the same dropout masks as an uninterrupted one

The batch order of an epoch is a function of (seed, epoch) alone (:func:`set_loader_epoch`), so it too
is the same after a resume, with or without persistent DataLoader workers.
"""
from __future__ import annotations

import contextlib
import json
from pathlib import Path
from typing import Any, Iterator

import torch
from torch.utils.data import DataLoader, RandomSampler

CHECKPOINT_FILE = "model.pt"


class CheckpointError(RuntimeError):
    """A checkpoint file that is unreadable or holds something other than tensors and plain data."""


def plain(data: Any) -> Any:
    """``data`` as plain JSON data (numpy scalars and other number types become Python numbers)."""
    return json.loads(json.dumps(data, default=lambda v: v.item() if hasattr(v, "item") else str(v)))


def rng_state() -> dict[str, Any]:
    """The global random state the next epoch draws dropout masks from (CPU and every CUDA device)."""
    return {"torch": torch.get_rng_state(),
            "cuda": torch.cuda.get_rng_state_all() if torch.cuda.is_available() else []}


def restore_rng(state: dict[str, Any] | None) -> None:
    """Put back what :func:`rng_state` saved (a checkpoint without ``rng`` keeps the seeded state)."""
    if not state:
        return
    torch.set_rng_state(state["torch"])
    if state.get("cuda") and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state["cuda"])


def epoch_seed(seed: int, epoch: int) -> int:
    return (int(seed) * 1_000_003 + int(epoch)) % 2**63


def set_loader_epoch(dl: DataLoader | None, seed: int, epoch: int) -> None:
    """Make the loader's batch order for ``epoch`` depend on (seed, epoch) only, never on what ran before.

    A ``DistributedSampler`` (several Train workers) is told the epoch (it shuffles by seed + epoch); a
    ``RandomSampler`` gets its generator reseeded. Either way a trial resumed at epoch e sees the batches
    an uninterrupted trial sees at epoch e.
    """
    sampler = getattr(dl, "sampler", None)
    if hasattr(sampler, "set_epoch"):
        sampler.set_epoch(epoch)
    if isinstance(sampler, RandomSampler) and sampler.generator is not None:
        sampler.generator.manual_seed(epoch_seed(seed, epoch))


def safe_types(state: Any) -> Any:
    """``state`` with numpy scalars as Python numbers, containers rebuilt, tensors untouched.

    Optimizer and scheduler states pick up numpy scalars from numpy-computed learning rates (a cosine
    schedule's ``np.cos``); the safe loader refuses those, so they are converted before saving."""
    if isinstance(state, torch.Tensor):
        return state
    if isinstance(state, dict):
        return {k: safe_types(v) for k, v in state.items()}
    if isinstance(state, (list, tuple)):
        return type(state)(safe_types(v) for v in state)
    if type(state).__module__ == "numpy" and hasattr(state, "item"):
        return state.item()
    return state


def save_checkpoint(path: str | Path, *, model: dict[str, torch.Tensor], optimizer: dict, scheduler: dict,
                    epoch: int, step: int, labels: list[str], model_config: dict[str, Any],
                    rng: dict[str, Any] | None = None, best_score: float = float("-inf"),
                    feature_config: dict[str, Any] | None = None) -> None:
    """Write a checkpoint; everything in it loads again with ``weights_only=True`` (checked by the tests)."""
    torch.save({"model": model, "optimizer": safe_types(optimizer), "scheduler": safe_types(scheduler), "epoch": int(epoch),
                "step": int(step), "labels": [str(label) for label in labels], "model_config": plain(model_config),
                "rng": rng, "best_score": float(best_score),
                "feature_config": plain(feature_config) if feature_config is not None else None}, str(path))


def load_checkpoint(path: str | Path, map_location: str | torch.device = "cpu") -> dict[str, Any]:
    """Read a checkpoint with the safe loader; CheckpointError (naming the file) for anything else."""
    try:
        state = torch.load(str(path), map_location=map_location, weights_only=True)
    except Exception as exc:  # torch raises UnpicklingError, RuntimeError, EOFError, ... for bad files
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise CheckpointError(f"checkpoint {path} cannot be loaded safely (tensors and plain data only): "
                              f"{first}") from None
    missing = [k for k in ("model", "optimizer", "scheduler", "epoch", "step", "labels", "model_config")
               if not isinstance(state, dict) or k not in state]
    if missing:
        raise CheckpointError(f"checkpoint {path} is not a trial checkpoint: missing {', '.join(missing)}")
    return state


@contextlib.contextmanager
def checkpoint_directory(checkpoint: Any) -> Iterator[str | None]:
    """A Ray checkpoint (`ray.tune.get_checkpoint()` or `ray.train.get_checkpoint()`) as a local directory,
    or None when there is none (a trial's first attempt)."""
    if checkpoint is None:
        yield None
        return
    with checkpoint.as_directory() as directory:
        yield directory
