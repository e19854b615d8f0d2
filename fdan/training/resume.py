"""Exact resume: the state a run continues from, the random state, and a per-epoch batch order.

A run interrupted after epoch ``e`` and continued from :class:`ResumeState` reports the numbers an
uninterrupted run reports: the model, optimizer and scheduler states come back, the global random
state (dropout masks) too (:func:`rng_state` / :func:`restore_rng`), and the batch order of an epoch
is a function of (seed, epoch) alone (:func:`set_loader_epoch`), with or without persistent DataLoader
workers. How the state is stored (a file, Ray checkpoints) is the caller's business
(``harness.trial.checkpoint``).
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import torch
from torch.utils.data import RandomSampler

__all__ = ["ResumeState", "epoch_seed", "restore_rng", "rng_state", "set_loader_epoch"]


@dataclass
class ResumeState:
    """Everything a run needs to continue after ``epoch`` (tensors and plain data only).

    ``model`` is the trainable state (``fdan.model.frozen.trainable_state``: frozen trunks are rebuilt,
    not stored); ``best_score`` / ``best_epoch`` are the selection's best so far (``fdan.training.selection``).
    """

    model: dict[str, torch.Tensor]
    optimizer: dict[str, Any]
    scheduler: dict[str, Any]
    epoch: int
    step: int
    best_score: float = -math.inf
    best_epoch: int | None = None
    rng: dict[str, Any] | None = field(default=None)


def rng_state() -> dict[str, Any]:
    """The global random state the next epoch draws dropout masks from (CPU and every CUDA device)."""
    return {"torch": torch.get_rng_state(),
            "cuda": torch.cuda.get_rng_state_all() if torch.cuda.is_available() else []}


def restore_rng(state: dict[str, Any] | None) -> None:
    """Put back what :func:`rng_state` saved (None keeps the seeded state)."""
    if not state:
        return
    torch.set_rng_state(state["torch"])
    if state.get("cuda") and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state["cuda"])


def epoch_seed(seed: int, epoch: int) -> int:
    return (int(seed) * 1_000_003 + int(epoch)) % 2**63


def set_loader_epoch(dl: Any, seed: int, epoch: int) -> None:
    """Make the loader's batch order for ``epoch`` depend on (seed, epoch) only, never on what ran before.

    A ``DistributedSampler`` (several Train workers) is told the epoch (it shuffles by seed + epoch); a
    ``RandomSampler`` with a generator of its own gets it reseeded. Either way a run resumed at epoch e
    sees the batches an uninterrupted run sees at epoch e. Anything else (a list of batches, a sampler
    on the global generator) is left alone.
    """
    sampler = getattr(dl, "sampler", None)
    if hasattr(sampler, "set_epoch"):
        sampler.set_epoch(epoch)
    if isinstance(sampler, RandomSampler) and sampler.generator is not None:
        sampler.generator.manual_seed(epoch_seed(seed, epoch))
