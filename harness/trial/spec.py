"""What a unit hands to the Ray processes that train and test it: one typed object instead of a dict.

:class:`TrialSpec` is the static part of every trial of a unit (Tune ships it to each trial with
`tune.with_parameters`); :meth:`TrialSpec.with_params` gives one trial's own spec with its sampled
values set. The same object reaches the Tune trial, the Ray Train workers (`train_loop_config`) and,
after selection, the held-out Ray task (its :class:`UnitRows` with the test rows added). The test
rows reach the trials only under the `paper` protocol (best-test-epoch selection, by design).
"""
from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

from fdan.config import FeatureConfig, ModelConfig, TrainConfig
from fdan.training.selection import Selection
from harness.cluster.resources import ResourcePlan
from harness.config.dotted import with_values
from harness.config.search_space import SearchSpace, decode



@dataclass(frozen=True)
class UnitRows:
    """The rows of one (pair x fold) unit, as manifest row indices of its source / target feature caches."""

    key: str
    labels: tuple[str, ...]
    source_dir: str
    target_dir: str
    train_idx: tuple[int, ...] = ()
    val_idx: tuple[int, ...] = ()
    adapt_idx: tuple[int, ...] = ()  # unlabelled target rows (cross-corpus); their labels are never read
    target_val_idx: tuple[int, ...] = ()  # labelled target validation speakers: read by the target_oracle score only
    test_idx: tuple[int, ...] = ()  # empty in trials, except under the `paper` protocol

    @property
    def label_to_index(self) -> dict[str, int]:
        return {label: i for i, label in enumerate(self.labels)}


@dataclass(frozen=True)
class TrialSpec:
    """Everything a trial of a unit needs (module doc). `space` is empty when the unit does not search."""

    experiment: str
    unit: UnitRows
    model: ModelConfig
    train: TrainConfig
    protocol: str  # speaker-independent | paper
    selection_key: str  # e.g. val_fused_uar: the reported column Tune and Train keep the best checkpoint by
    plan: ResourcePlan
    executor: str  # tune | train (harness.trial.entry.choose_executor)
    storage_path: str
    storage_filesystem: Any = None  # a pyarrow filesystem (None: local); pickles with the spec
    max_failures: int = 0
    space: SearchSpace = field(default_factory=dict)
    rules: tuple[str, ...] = ()  # cross-corpus selection rules recorded per epoch (harness.trial.selection_epoch)
    rule_metric: str = "fused_uar"  # <head>_<metric> the labelled rules (source_val, target_oracle) read
    features: FeatureConfig | None = None  # what made the inputs: saved into each checkpoint, for `fdan-bench export`

    @property
    def selection(self) -> Selection:
        split, _, metric = self.selection_key.partition("_")
        return Selection(metric, split)

    def with_params(self, params: dict[str, Any]) -> "TrialSpec":
        """This spec with a trial's sampled values (Tune keys = field leaf names) set in its sections."""
        if not self.space:
            return self
        sections = with_values({"model": self.model, "train": self.train}, decode(self.space, params))
        return replace(self, **sections)
