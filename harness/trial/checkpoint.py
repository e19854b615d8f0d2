"""A trial checkpoint (`model.pt`): a `fdan.training.resume.ResumeState` as tensors and plain data only, so it
loads with `weights_only=True`.

Checkpoints sit on shared storage; `torch.load(weights_only=False)` would unpickle (run) whatever
object a file there holds. The content is therefore restricted to what the safe loader accepts:
tensors, dicts, lists, tuples, str, int, float, bool, None. Keys:

    model        trainable state dict (tensors)
    optimizer    optimizer.state_dict()     scheduler   scheduler.state_dict() (LambdaLR: no callables)
    epoch, step  the last finished epoch and optimizer step
    best_score, best_epoch   the selection's best so far (fdan.training.selection)
    labels       the unit's label space (list of str)   model_config  the model section (plain JSON data)
    feature_config  the FeatureConfig that made the inputs (plain data; `fdan-bench export` needs it)
    rng          {"torch": CPU generator state, "cuda": [per-device states]} (uint8 tensors): a resumed
                 trial draws the same dropout masks as an uninterrupted one

The batch order of an epoch is a function of (seed, epoch) alone (`fdan.training.resume.set_loader_epoch`),
so it too is the same after a resume, with or without persistent DataLoader workers.
"""
from __future__ import annotations

import contextlib
import math
from pathlib import Path
from typing import Any, Iterator

import torch

from fdan.training.resume import ResumeState
from harness.results.jsonable import to_jsonable

CHECKPOINT_FILE = "model.pt"


class CheckpointError(RuntimeError):
    """A checkpoint file that is unreadable or holds something other than tensors and plain data."""


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


def save_checkpoint(path: str | Path, state: ResumeState, *, labels: list[str], model_config: dict[str, Any],
                    amp: str = "off", feature_config: dict[str, Any] | None = None, target_statistics: bool = False) -> None:
    """Write a checkpoint; everything in it loads again with ``weights_only=True`` (checked by the tests).
    ``amp``: the run's ``train.amp``, which the held-out test evaluates under (fdan.training.numerics);
    ``feature_config``: the FeatureConfig (plain data) that made the inputs, for `fdan-bench export`;
    ``target_statistics``: the method re-estimates BatchNorm statistics on target rows before testing on them (adabn)."""
    torch.save({"model": state.model, "optimizer": safe_types(state.optimizer), "scheduler": safe_types(state.scheduler),
                "epoch": int(state.epoch), "step": int(state.step), "labels": [str(label) for label in labels],
                "model_config": to_jsonable(model_config), "rng": state.rng, "best_score": float(state.best_score),
                "best_epoch": None if state.best_epoch is None else int(state.best_epoch), "amp": str(amp),
                "feature_config": None if feature_config is None else to_jsonable(feature_config),
                "target_statistics": bool(target_statistics)}, str(path))


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


def resume_state(checkpoint: dict[str, Any]) -> ResumeState:
    """The state a trial continues from, out of a loaded checkpoint."""
    return ResumeState(model=checkpoint["model"], optimizer=checkpoint["optimizer"], scheduler=checkpoint["scheduler"],
                       epoch=int(checkpoint["epoch"]), step=int(checkpoint["step"]),
                       best_score=float(checkpoint.get("best_score", -math.inf)), best_epoch=checkpoint.get("best_epoch"),
                       rng=checkpoint.get("rng"))


@contextlib.contextmanager
def checkpoint_directory(checkpoint: Any) -> Iterator[str | None]:
    """A Ray checkpoint (`ray.tune.get_checkpoint()` or `ray.train.get_checkpoint()`) as a local directory,
    or None when there is none (a trial's first attempt)."""
    if checkpoint is None:
        yield None
        return
    with checkpoint.as_directory() as directory:
        yield directory
