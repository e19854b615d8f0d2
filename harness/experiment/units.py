"""Expansion of an experiment into (pair x fold) work units with one shared label space per pair.

Within-corpus pair (source == target), speaker-independent:
  - corpora with speaker folds (manifest `fold` >= 0): unit f tests on fold f; of the remaining
    speakers, `val_speakers` become validation speakers (rotating with f), the rest train.
  - corpora with official splits (`fold` == -1): one unit, train / dev / test splits (no dev split:
    validation speakers are carved from the training speakers).
Cross-corpus pair source -> target: the source is labelled (train + validation speakers carved from
it); the target is unlabelled during training (`adapt` rows) and labelled only for the test rows.
With `cross_folds: target` the target's test fold is never among the adaptation rows.

The label space of a pair is the intersection of the classes both corpora contain (canonical order),
optionally restricted by `pairs.labels`; rows outside it are dropped.
"""
from __future__ import annotations

from itertools import permutations

import pandas as pd

from fdan.corpora.base import CANONICAL_LABELS
from harness.config import ExperimentConfig
from harness.errors import InputError
from harness.experiment.validation_split import ValidationSplitError, carve_validation
from harness.tuning.work_unit import WorkUnit, pair_name


class PairError(InputError, ValueError):
    """A pair that cannot be formed (too few classes or speakers); the message names the pair."""


def pair_list(cfg: ExperimentConfig) -> list[tuple[str, str]]:
    """The (source, target) pairs the config asks for, in config order, without duplicates."""
    names = list(cfg.corpora)
    within = names if cfg.pairs.within == "all" else list(cfg.pairs.within)
    cross = list(permutations(names, 2)) if cfg.pairs.cross == "all" else [(p.source, p.target) for p in cfg.pairs.cross]
    out: list[tuple[str, str]] = []
    for pair in [(n, n) for n in within] + cross:
        if pair not in out:
            out.append(pair)
    return out


def shared_labels(source: pd.DataFrame, target: pd.DataFrame, restrict: list[str] | None = None) -> tuple[str, ...]:
    """Canonical labels present in both manifests (and in `restrict` if given), in canonical order."""
    common = set(source["label"]) & set(target["label"])
    if restrict is not None:
        common &= set(restrict)
    return tuple(label for label in CANONICAL_LABELS if label in common)


def _idx(frame: pd.DataFrame) -> tuple[int, ...]:
    return tuple(int(i) for i in frame.index)


def _carve_val(frame: pd.DataFrame, n_val: int, rotate: int, what: str) -> tuple[pd.DataFrame, pd.DataFrame, tuple[str, ...]]:
    """Split `frame` into (train, val) by speaker (whole sessions for IEMOCAP): harness.experiment.validation_split."""
    try:
        return carve_validation(frame, n_val, rotate, what)
    except ValidationSplitError as exc:
        raise PairError(str(exc)) from None


def _source_split(frame: pd.DataFrame, n_val: int, rotate: int, what: str) -> tuple[pd.DataFrame, pd.DataFrame, tuple[str, ...]]:
    """Labelled training rows and validation rows of a source corpus (dev split if it has one)."""
    if (frame["split"] == "dev").any():
        train = frame[frame["split"].isin(["train", "all"])]
        val = frame[frame["split"] == "dev"]
        return train, val, ()
    return _carve_val(frame, n_val, rotate, what)


def _test_parts(frame: pd.DataFrame, cfg: ExperimentConfig) -> list[tuple[int, pd.DataFrame, pd.DataFrame]]:
    """(fold, rest, test) for each held-out part of a corpus, filtered by pairs.folds / max_folds."""
    if (frame["fold"] >= 0).any():
        folds = sorted(int(f) for f in frame.loc[frame["fold"] >= 0, "fold"].unique())
        if cfg.pairs.folds is not None:
            folds = [f for f in folds if f in cfg.pairs.folds]
        if cfg.pairs.max_folds is not None:
            folds = folds[: cfg.pairs.max_folds]
        return [(f, frame[frame["fold"] != f], frame[frame["fold"] == f]) for f in folds]
    test = frame[frame["split"] == "test"]
    return [(-1, frame[frame["split"] != "test"], test)] if len(test) else []


def expand_pair(cfg: ExperimentConfig, source: str, target: str, manifests: dict[str, pd.DataFrame]) -> list[WorkUnit]:
    """All work units of one pair. `manifests` maps corpus name -> feature-set manifest (index = array row)."""
    what = pair_name(source, target)
    labels = shared_labels(manifests[source], manifests[target], cfg.pairs.labels)
    if len(labels) < 2:
        raise PairError(f"{what}: the corpora share {len(labels)} class(es) {list(labels)}; a pair needs at least 2")
    src = manifests[source][manifests[source]["label"].isin(labels)]
    tgt = manifests[target][manifests[target]["label"].isin(labels)]
    dropped = len(manifests[source]) - len(src) + (len(manifests[target]) - len(tgt) if source != target else 0)
    n_val = cfg.protocol.val_speakers
    units: list[WorkUnit] = []
    if source == target:
        for fold, rest, test in _test_parts(src, cfg):
            train, val, val_spk = _source_split(rest, n_val, max(fold, 0), f"{what} fold {fold}")
            units.append(WorkUnit(source, target, fold, labels, _idx(train), _idx(val), _idx(test),
                                  val_speakers=val_spk, train_speakers=int(train["speaker"].nunique()), test_speakers=_speakers(test), n_dropped=dropped))
        if not units:
            raise PairError(f"{what}: no test fold or test split left (check pairs.folds)")
        return units
    train, val, val_spk = _source_split(src, n_val, 0, f"{what} source")
    if cfg.pairs.cross_folds == "none":
        parts = [(-1, tgt, tgt)]
    else:
        parts = _test_parts(tgt, cfg)
    for fold, rest, test in parts:
        target_val = ()
        if "target_oracle" in cfg.protocol.cross_selection:
            if cfg.pairs.cross_folds == "none":
                raise PairError(f"{what}: the target_oracle rule needs labelled target speakers outside the test rows; "
                                "pairs.cross_folds: none tests on every target row")
            target_val = _idx(_carve_val(rest, n_val, max(fold, 0), f"{what} target fold {fold}")[1])
        units.append(WorkUnit(source, target, fold, labels, _idx(train), _idx(val), _idx(test),
                              adapt_idx=_idx(rest), target_val_idx=target_val,
                              train_speakers=int(train["speaker"].nunique()), val_speakers=val_spk, test_speakers=_speakers(test),
                              n_dropped=dropped, transductive=cfg.pairs.cross_folds == "none"))
    if not units:
        raise PairError(f"{what}: the target has no test fold or test split left (check pairs.folds)")
    if cfg.pairs.oracle:
        units += _oracle_units(cfg, units, tgt, n_val, what)
    return units


def _oracle_units(cfg: ExperimentConfig, cross: list[WorkUnit], tgt: pd.DataFrame, n_val: int,
                  what: str) -> list[WorkUnit]:
    """pairs.oracle: per cross unit, one trained on the labelled target speakers outside its test fold (validation
    speakers carved from them), tested on the same held-out rows, in the pair's label space: the ceiling."""
    if cfg.pairs.cross_folds == "none":
        raise PairError(f"{what}: pairs.oracle needs target folds (labelled target speakers outside the test rows); "
                        "pairs.cross_folds: none tests on every target row")
    out = []
    for unit in cross:
        rest = tgt.drop(index=list(unit.test_idx))
        train, val, val_spk = _source_split(rest, n_val, max(unit.fold, 0), f"{what} oracle fold {unit.fold}")
        out.append(WorkUnit(unit.target, unit.target, unit.fold, unit.labels, _idx(train), _idx(val), unit.test_idx,
                            val_speakers=val_spk, train_speakers=int(train["speaker"].nunique()),
                            test_speakers=unit.test_speakers, n_dropped=unit.n_dropped, oracle_for=unit.source))
    return out


def _speakers(frame: pd.DataFrame) -> tuple[str, ...]:
    return tuple(sorted(frame["speaker"].astype(str).unique()))


def expand_units(cfg: ExperimentConfig, manifests: dict[str, pd.DataFrame]) -> list[WorkUnit]:
    """Every (pair x fold) unit of the experiment, pairs in config order, folds ascending."""
    units: list[WorkUnit] = []
    for source, target in pair_list(cfg):
        units.extend(expand_pair(cfg, source, target, manifests))
    return units
