"""No wasted trials: small discrete spaces are enumerated, and a repeated configuration is not trained again.

- `grid_size(space)`: the number of distinct configurations when every distribution is a `choice`
  (None otherwise). When it is at most `search.num_samples` the unit runs each configuration exactly
  once as a Tune grid (`tune.grid_search`) instead of sampling `num_samples` of them with repeats.
- `DedupSearcher` wraps the unit's searcher (Optuna TPE). When the searcher proposes a configuration
  it proposed before in the unit, that trial trains nothing: once the first trial with the same
  configuration has finished, the repeat is released with its per-epoch reports
  (`harness.trial.entry.REUSE_KEY`) and replays them, marked `reused_from` (the trials table says so).
  The inner searcher is told the repeat's result, so Optuna's model sees it as evaluated. A repeat
  of a trial that errored is trained normally.
"""
from __future__ import annotations

import json
import math
import pickle
from typing import Any

from ray.tune.search import Searcher

from harness.config.search_space import SearchSpace, param_name
from harness.trial.entry import REUSE_KEY

_REPORTED_PREFIXES = ("train_", "val_", "test_", "sel_")  # sel_<rule>: the cross-corpus rules' scores


def grid_size(space: SearchSpace) -> int | None:
    """Distinct configurations of an all-`choice` space (the product of the value counts), else None."""
    if not space or any(d.type != "choice" for d in space.values()):
        return None
    return math.prod(len(d.values or []) for d in space.values())


def grid_space(space: SearchSpace) -> dict[str, Any]:
    """Tune `param_space` enumerating an all-`choice` space (index-searched choices by index, as sampled)."""
    from ray import tune

    return {param_name(k): tune.grid_search(list(range(len(d.values or []))) if d.by_index else list(d.values or []))
            for k, d in space.items()}


def config_key(params: dict[str, Any]) -> str:
    """A canonical text of the sampled values (Tune keys), equal for equal configurations."""
    return json.dumps({k: v for k, v in params.items() if k != REUSE_KEY}, sort_keys=True, default=str)


def epoch_report(result: dict[str, Any]) -> dict[str, Any] | None:
    """The loop's own metrics in one Tune result (epoch, train_/val_/test_ values), None if it has no epoch."""
    if result.get("epoch") is None:
        return None
    return {k: v for k, v in result.items()
            if k == "epoch" or (k.startswith(_REPORTED_PREFIXES) and isinstance(v, (int, float)))}


class DedupSearcher(Searcher):
    """A searcher that proposes the inner searcher's configurations, replaying the repeats (module doc)."""

    def __init__(self, inner: Searcher) -> None:
        super().__init__(metric=inner.metric, mode=inner.mode)
        self.inner = inner
        self.first: dict[str, str] = {}  # config key -> trial that trains it
        self.history: dict[str, list[dict[str, Any]]] = {}  # trial -> its epoch reports so far
        self.done: dict[str, bool] = {}  # finished trial -> ok (False: errored)
        self.held: list[tuple[str, dict[str, Any], str]] = []  # (key, config, inner trial id) awaiting their original
        self.inner_id: dict[str, str] = {}  # released repeat -> the inner searcher's trial id for it
        self.repeats = 0

    def set_search_properties(self, metric: str | None, mode: str | None, config: dict, **spec: Any) -> bool:
        ok = self.inner.set_search_properties(metric, mode, config, **spec)
        self._metric, self._mode = self.inner.metric, self.inner.mode
        return ok

    def _release(self, trial_id: str, key: str, config: dict[str, Any], inner_tid: str) -> dict[str, Any]:
        self.inner_id[trial_id] = inner_tid
        original = self.first[key]
        if not self.done[original]:  # the original errored: this one trains
            self.first[key] = trial_id
            return config
        self.repeats += 1
        return {**config, REUSE_KEY: {"trial_id": original, "history": list(self.history.get(original, []))}}

    def suggest(self, trial_id: str) -> dict[str, Any] | str | None:
        for i, (key, config, inner_tid) in enumerate(self.held):
            if self.first[key] in self.done:
                del self.held[i]
                return self._release(trial_id, key, config, inner_tid)
        config = self.inner.suggest(trial_id)
        if config is None or config == Searcher.FINISHED:
            return config
        key = config_key(config)
        if key not in self.first:
            self.first[key] = trial_id
            return config
        if self.first[key] in self.done:
            return self._release(trial_id, key, config, trial_id)
        self.held.append((key, config, trial_id))  # ask again once the original finishes
        return None

    def on_trial_result(self, trial_id: str, result: dict[str, Any]) -> None:
        report = epoch_report(result)
        if report is not None:
            self.history.setdefault(trial_id, []).append(report)
        self.inner.on_trial_result(self.inner_id.get(trial_id, trial_id), result)

    def on_trial_complete(self, trial_id: str, result: dict[str, Any] | None = None, error: bool = False) -> None:
        self.done[trial_id] = not error
        self.inner.on_trial_complete(self.inner_id.get(trial_id, trial_id), result=result, error=error)

    def save(self, checkpoint_path: str) -> None:
        with open(checkpoint_path, "wb") as f:
            pickle.dump(self.__dict__.copy(), f)

    def restore(self, checkpoint_path: str) -> None:
        with open(checkpoint_path, "rb") as f:
            self.__dict__.update(pickle.load(f))
