"""A (pair x fold) work unit: the rows one unit trains, validates, adapts and tests on (built by
`harness.experiment.units`, tuned by `harness.tuning.unit`)."""
from __future__ import annotations

from dataclasses import dataclass, field

from harness.results.columns import ORACLE_SUFFIX

ARROW = "→"


@dataclass(frozen=True)
class WorkUnit:
    """One (pair x fold) unit: row indices refer to the source / target feature-set manifests."""

    source: str
    target: str
    fold: int
    labels: tuple[str, ...]
    train_idx: tuple[int, ...]
    val_idx: tuple[int, ...]
    test_idx: tuple[int, ...]
    adapt_idx: tuple[int, ...] = ()
    target_val_idx: tuple[int, ...] = ()  # labelled target validation speakers (target_oracle rule only), ⊂ adapt_idx
    val_speakers: tuple[str, ...] = field(default=())
    train_speakers: int = 0  # how many speakers the model trains on (the leaderboard states it beside the paper's)
    test_speakers: tuple[str, ...] = field(default=())
    n_dropped: int = 0  # rows of the pair's corpora outside its shared label space (reported, not silent)
    transductive: bool = False  # cross_folds: none — the unlabelled adaptation rows are the test rows
    variant: str = ""  # harness.config.variants name ("" without variants); part of the key
    oracle_for: str = ""  # pairs.oracle: the cross pair's source corpus this target-trained ceiling unit stands beside

    @property
    def cross(self) -> bool:
        return self.source != self.target

    @property
    def pair(self) -> str:
        if self.oracle_for:
            return f"{pair_name(self.oracle_for, self.target)}{ORACLE_SUFFIX}"
        return pair_name(self.source, self.target)

    @property
    def key(self) -> str:
        """File-safe, deterministic id: `synth-studio->synth-street__fold0` (Tune experiment names),
        `...__fold0__<variant>` for a variant."""
        ends = (self.oracle_for, self.target) if self.oracle_for else (self.source, self.target)
        oracle = "__oracle" if self.oracle_for else ""
        key = f"{pair_name(*ends, safe=True)}{oracle}__fold{self.fold if self.fold >= 0 else 'split'}"
        return f"{key}__{self.variant}" if self.variant else key

    @property
    def label_to_index(self) -> dict[str, int]:
        return {label: i for i, label in enumerate(self.labels)}


def pair_name(source: str, target: str, safe: bool = False) -> str:
    """`synth-studio` within a corpus, `synth-studio→synth-street` across (`->` when `safe`)."""
    return source if source == target else f"{source}{'->' if safe else ARROW}{target}"
