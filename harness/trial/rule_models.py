"""Inside a trial: the best epoch so far of every non-primary cross-corpus selection rule, and its weights.

Ray keeps a trial's best checkpoint by one score, the primary rule's (`TrialSpec.selection_key`). So that
every other rule of `protocol.cross_selection` can have its own pick tested without retraining, the trial
tracks, per rule ``r``, the epoch with the highest ``sel_<r>`` so far (`fdan.training.selection.improves`:
the later epoch on ties, as for the primary) and keeps the trainable weights of those epochs, **one copy
per distinct epoch** however many rules chose it (CPU memory, frozen trunks excluded). Every checkpoint
the trial writes carries them beside `model.pt` in :data:`RULE_MODELS_FILE`::

    {"best":   {rule: [epoch, score]},                   # each rule's pick so far
     "models": {str(epoch): trainable state dict}}       # every picked epoch except the checkpoint's own
                                                          # (that one is `model.pt`'s "model": not stored twice)

Ray always keeps a trial's latest checkpoint, so after the trial it holds every rule's final pick; a resumed
trial restores the bookkeeping from it (:meth:`RuleModels.restore`). Tensors and plain data only, read with
``torch.load(weights_only=True)`` like `model.pt` (`harness.trial.checkpoint`).
"""
from __future__ import annotations

import math
import os
from typing import Any, Callable, Mapping, Sequence

import torch

from fdan.training.selection import improves
from harness.trial.checkpoint import CheckpointError

RULE_MODELS_FILE = "rule_models.pt"
SCORE_PREFIX = "sel_"  # harness.trial.selection_epoch: the per-epoch score of a rule


class RuleModels:
    """Per-rule best epochs and the weights of each distinct one (module doc)."""

    def __init__(self, rules: Sequence[str], best: Mapping[str, tuple[int, float]] | None = None,
                 models: Mapping[int, dict[str, torch.Tensor]] | None = None) -> None:
        self.rules = list(rules)
        self.best: dict[str, tuple[int, float]] = dict(best or {})
        self.models: dict[int, dict[str, torch.Tensor]] = dict(models or {})

    def update(self, epoch: int, metrics: Mapping[str, Any], state: Callable[[], dict[str, torch.Tensor]]) -> bool:
        """Record epoch ``epoch``'s ``sel_<rule>`` scores; ``state()`` gives its trainable weights, copied only
        when some rule now picks this epoch. True when a rule's pick moved to this epoch."""
        moved = False
        for rule in self.rules:
            score = float(metrics.get(f"{SCORE_PREFIX}{rule}", math.nan))
            if improves(score, self.best.get(rule, (0, -math.inf))[1]):
                self.best[rule] = (int(epoch), score)
                moved = True
        if moved:
            self.models[int(epoch)] = {k: v.detach().to("cpu", copy=True) for k, v in state().items()}
        picked = self.epochs()
        self.models = {e: s for e, s in self.models.items() if e in picked}  # an epoch no rule picks is dropped
        return moved

    def epochs(self) -> set[int]:
        """The distinct epochs the rules pick now."""
        return {epoch for epoch, _ in self.best.values()}

    def save(self, directory: str, checkpoint_epoch: int) -> None:
        """Write :data:`RULE_MODELS_FILE` into a checkpoint directory whose `model.pt` is epoch ``checkpoint_epoch``."""
        torch.save({"best": {r: [int(e), float(s)] for r, (e, s) in self.best.items()},
                    "models": {str(e): s for e, s in self.models.items() if e != int(checkpoint_epoch)}},
                   os.path.join(directory, RULE_MODELS_FILE))

    @classmethod
    def restore(cls, rules: Sequence[str], directory: str, checkpoint: Mapping[str, Any]) -> "RuleModels":
        """The bookkeeping a resumed trial continues from: the checkpoint directory's rule file (none: a checkpoint
        written before the rules were tracked, nothing restored) and its loaded `model.pt` ``checkpoint``."""
        saved = _read(directory)
        if saved is None:
            return cls(rules)
        best = {r: (int(e), float(s)) for r, (e, s) in saved["best"].items() if r in rules}
        models = {e: {k: v.to("cpu") for k, v in _weights(saved, checkpoint, e, directory).items()}
                  for e in {e for e, _ in best.values()}}
        return cls(rules, best, models)


def rule_weights(directory: str, checkpoint: Mapping[str, Any], epoch: int) -> dict[str, torch.Tensor]:
    """The trainable weights of ``epoch`` from a checkpoint directory (its loaded `model.pt` is ``checkpoint``):
    `model.pt`'s own when it is that epoch, else the rule file's; CheckpointError when it holds neither."""
    if int(checkpoint["epoch"]) == int(epoch):
        return checkpoint["model"]
    saved = _read(directory)
    if saved is None:
        raise CheckpointError(f"checkpoint {directory} is epoch {checkpoint['epoch']} and has no {RULE_MODELS_FILE}: "
                              f"no weights of epoch {epoch}")
    return _weights(saved, checkpoint, int(epoch), directory)


def _weights(saved: dict[str, Any], checkpoint: Mapping[str, Any], epoch: int, directory: str) -> dict[str, torch.Tensor]:
    if int(checkpoint["epoch"]) == epoch:
        return checkpoint["model"]
    if str(epoch) not in saved["models"]:
        raise CheckpointError(f"{os.path.join(directory, RULE_MODELS_FILE)} has no weights of epoch {epoch} "
                              f"(it keeps epochs {sorted(saved['models'])})")
    return saved["models"][str(epoch)]


def _read(directory: str) -> dict[str, Any] | None:
    path = os.path.join(directory, RULE_MODELS_FILE)
    if not os.path.isfile(path):
        return None
    try:
        saved = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # torch raises UnpicklingError, RuntimeError, EOFError, ... for bad files
        raise CheckpointError(f"{path} cannot be loaded safely (tensors and plain data only): {exc}") from None
    if not isinstance(saved, dict) or not isinstance(saved.get("best"), dict) or not isinstance(saved.get("models"), dict):
        raise CheckpointError(f"{path} is not a rule-models file (keys best, models)")
    return saved
