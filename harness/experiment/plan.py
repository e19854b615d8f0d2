"""An experiment resolved once: its corpora, their feature caches, the (pair x fold) units per pair and
the variants each unit runs under. `fdan-bench sweep/train --plan` (`harness.experiment.describe`) and
the run (`harness.experiment.run`) both read this object; neither derives pairs or units on its own.

Units need each corpus' speakers (folds) and labels, known from its prepared feature cache's manifest (or,
for `--plan` only, from its importer's scan: `harness.experiment.plan_scan`): a pair with a corpus that has
neither (only `--plan` meets that) has `units` None and says why.
"""
from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path

import pandas as pd

from harness.config import ExperimentConfig
from harness.config.variants import Variant, expand_variants, oracle_variant
from harness.experiment.units import PairError, expand_pair, pair_list
from harness.tuning.work_unit import WorkUnit, pair_name
from fdan.alignment.scopes import unread_fields


@dataclass(frozen=True)
class PairUnits:
    """One (source, target) pair: its units, or why they are unknown / cannot run."""

    source: str
    target: str
    units: tuple[WorkUnit, ...] | None  # None: a corpus without a prepared cache (`note` says which)
    note: str = ""
    error: PairError | None = None  # the pair cannot run (too few classes or speakers)

    @property
    def pair(self) -> str:
        return pair_name(self.source, self.target)


@dataclass(frozen=True)
class ExperimentPlan:
    """What an experiment runs (module doc)."""

    cfg: ExperimentConfig
    corpora: tuple[str, ...]  # the corpora the pairs use, in first-use order
    caches: dict[str, Path | None]  # feature cache per corpus (None: not prepared)
    pairs: tuple[PairUnits, ...]
    variants: tuple[tuple[Variant, ExperimentConfig], ...]  # ("", cfg) without `variants`

    def runs(self) -> list[tuple[WorkUnit, ExperimentConfig]]:
        """Every unit once per variant, with that variant's config (the variants of a unit one after another);
        raises the first pair's PairError."""
        out = []
        for pair in self.pairs:
            if pair.error is not None:
                raise pair.error
            if pair.units is None:
                raise PairError(f"{pair.pair}: {pair.note}")
            out += [(replace(unit, variant=v.name), unit_config(vcfg, unit)) for unit in pair.units
                    for v, vcfg in self.unit_variants(unit)]
        return out

    def unit_variants(self, unit: WorkUnit) -> list[tuple[Variant, ExperimentConfig]]:
        """The variants a unit runs under: every one, except that an oracle unit runs under those `pairs.oracle`
        names when it is a list (the ceiling once per pair and fold, not once per method)."""
        if not unit.oracle_for:
            return list(self.variants)
        return [(v, vcfg) for v, vcfg in self.variants if oracle_variant(self.cfg, v.name)]


DECIDING_FIELDS = {"train.method", "model.modalities", "train.lmmd_target_weights"}  # what unread_fields reads


def unit_config(cfg: ExperimentConfig, unit: WorkUnit) -> ExperimentConfig:
    """`cfg` for one unit: its search space without the fields that unit's training never reads
    (fdan.alignment.scopes.unread_fields: e.g. the corpus term's weight for `source_only`, for a within-corpus
    or an oracle unit), so that no trial repeats another with a value that cannot change it. A unit left with
    no searched field trains once, at the config's own settings. Nothing is left out when the fields that decide
    what is read (`train.method`, `model.modalities`, `train.lmmd_target_weights`) are themselves searched."""
    if set(cfg.search.space) & DECIDING_FIELDS:
        return cfg
    unread = unread_fields(cfg.train, two_modalities=len(cfg.model.modalities) == 2,
                           reads_target_rows=bool(unit.adapt_idx))
    space = {k: d for k, d in cfg.search.space.items() if not (k.startswith("train.") and k[len("train."):] in unread)}
    if len(space) == len(cfg.search.space):
        return cfg
    return cfg.model_copy(update={"search": cfg.search.model_copy(update={"space": space})})


def corpora_used(cfg: ExperimentConfig) -> list[str]:
    """Corpora the pairs need, in first-use order, each once."""
    return list(dict.fromkeys(name for pair in pair_list(cfg) for name in pair))


def resolve_plan(cfg: ExperimentConfig, caches: dict[str, Path | None], manifests: dict[str, pd.DataFrame],
                 notes: dict[str, str] | None = None) -> ExperimentPlan:
    """The plan of `cfg` given each corpus' cache (None: not prepared; `notes[name]` says why) and the
    manifests of the prepared ones (and, for `--plan`, the scanned manifests of unprepared ones)."""
    notes = notes or {}
    pairs = []
    for source, target in pair_list(cfg):
        names = list(dict.fromkeys((source, target)))
        missing = [notes.get(n, f"{n}: not prepared yet") for n in names if caches.get(n) is None and n not in manifests]
        if missing:
            pairs.append(PairUnits(source, target, None, "; ".join(missing)))
            continue
        scanned = [n for n in names if caches.get(n) is None]
        note = f"counted from a scan of {', '.join(scanned)} (not prepared yet)" if scanned else ""
        try:
            pairs.append(PairUnits(source, target, tuple(expand_pair(cfg, source, target, manifests)), note))
        except PairError as exc:
            pairs.append(PairUnits(source, target, (), f"cannot run: {exc}", exc))
    return ExperimentPlan(cfg, tuple(corpora_used(cfg)), dict(caches), tuple(pairs), tuple(expand_variants(cfg)))
