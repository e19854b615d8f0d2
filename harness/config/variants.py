"""Experiment variants: settings compared side by side, each with its own search and selected model per unit.

`variants:` in an experiment file is a list of mappings from dotted model / train fields to values,
optionally with a `name`::

    variants:
      - {train.method: fdan}
      - {train.method: dann}
      - {name: audio-only, train.method: source_only, model.modalities: [audio]}

Each variant runs every (pair x fold) unit with those fields set (its own Tune experiment, its own
selected trial), so the leaderboard has one row per (variant, pair). Without `variants` the
experiment is one unnamed variant. A variant's name defaults to its values joined by `-` (lists by
`+`): `source_only-audio`; names must be unique and file-safe (they become part of unit keys).
A single-modality variant (`model.modalities: [audio]`) is selected on its one head: its
`protocol.selection_head` becomes that modality (the metric stays `protocol.selection_metric`).
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from pydantic import ValidationError

from fdan.config import ModelConfig, TrainConfig
from harness.config.dotted import by_section, with_values

if TYPE_CHECKING:
    from harness.config.schema import ExperimentConfig

SECTIONS = {"model": ModelConfig, "train": TrainConfig}
_SAFE = re.compile(r"[^A-Za-z0-9_.+-]+")


@dataclass(frozen=True)
class Variant:
    name: str  # "" for the experiment without variants
    overrides: dict[str, Any]  # dotted field -> value


def _text(value: Any) -> str:
    if isinstance(value, (list, tuple)):
        return "+".join(_text(v) for v in value)
    return str(value)


def variant_name(entry: dict[str, Any]) -> str:
    if "name" in entry:
        return str(entry["name"])
    return _SAFE.sub("_", "-".join(_text(v) for k, v in entry.items())) or "default"


def parse_variants(entries: list[dict[str, Any]]) -> list[Variant]:
    return [Variant(variant_name(e), {k: v for k, v in e.items() if k != "name"}) for e in entries]


def variant_problem(cfg: "ExperimentConfig") -> tuple[str, str] | None:
    """The first invalid variant entry as (dotted field path, message), or None."""
    seen: dict[str, int] = {}
    for i, variant in enumerate(parse_variants(cfg.variants)):
        where = f"variants.{i}"
        if not variant.overrides:
            return where, "a variant needs at least one model.* or train.* field"
        if _SAFE.search(variant.name):
            return f"{where}.name", f"{variant.name!r} is not file-safe (letters, digits, _ . + - only)"
        if variant.name in seen:
            return where, f"same name {variant.name!r} as variants.{seen[variant.name]}; give one a `name`"
        seen[variant.name] = i
        for key in variant.overrides:
            section, _, field = key.partition(".")
            if section not in SECTIONS or field not in SECTIONS[section].model_fields:
                return f"{where}.{key}", "must name a field of the model or train section (e.g. train.method)"
            if key in cfg.search.space:
                return f"{where}.{key}", "is also searched (search.space): a field is either compared or searched"
        for section, updates in by_section(variant.overrides).items():
            try:
                SECTIONS[section].model_validate({**getattr(cfg, section).model_dump(), **updates})
            except ValidationError as exc:
                reason = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg'].removeprefix('Value error, ')}"
                                   for e in exc.errors())
                return where, f"invalid {section} settings: {reason}"
    return None


def oracle_problem(cfg: "ExperimentConfig") -> tuple[str, str] | None:
    """`pairs.oracle` as a list names variants (the oracle units run under those only): each must exist."""
    if not isinstance(cfg.pairs.oracle, list):
        return None
    if not cfg.variants:
        return "pairs.oracle", "a list names variants, and this experiment has none: use true (or false)"
    if not cfg.pairs.oracle:
        return "pairs.oracle", "an empty list runs no oracle unit: use false"
    names = [v.name for v in parse_variants(cfg.variants)]
    for i, name in enumerate(cfg.pairs.oracle):
        if name not in names:
            return f"pairs.oracle.{i}", f"no variant is named {name!r} (variants: {', '.join(names)})"
    return None


def oracle_variant(cfg: "ExperimentConfig", variant: str) -> bool:
    """True when the oracle units run under variant ``variant`` (`pairs.oracle`: true, or a list naming it)."""
    oracle = cfg.pairs.oracle
    return variant in oracle if isinstance(oracle, list) else bool(oracle)


def adabn_problem(cfg: "ExperimentConfig") -> tuple[str, str] | None:
    """An `adabn` run (the config's own or a variant's) that could not do what it claims, as (path, message):
    without a BatchNorm layer to re-estimate (frozen trunks with `model.token_standardise: off`) it would silently
    be `source_only`, and under the `paper` protocol its per-epoch test would use the source statistics."""
    for i, (variant, vcfg) in enumerate(expand_variants(cfg) if cfg.variants else [(None, cfg)]):
        if vcfg.train.method != "adabn":
            continue
        where = "train.method" if variant is None or "train.method" not in variant.overrides else f"variants.{i}"
        if vcfg.model.freeze_backbone and not vcfg.model.standardises_tokens:
            return where, ("adabn re-estimates BatchNorm statistics, and frozen trunks with model.token_standardise: "
                           "off leave none outside the trunks: set token_standardise on (or auto)")
        if cfg.protocol.name == "paper":
            return where, "adabn is not supported under protocol paper (its per-epoch test would use source statistics)"
    return None


def expand_variants(cfg: "ExperimentConfig") -> list[tuple[Variant, "ExperimentConfig"]]:
    """(variant, the experiment config with its fields set) for each variant; one ("", cfg) without any."""
    if not cfg.variants:
        return [(Variant("", {}), _selectable(cfg))]
    out = []
    for variant in parse_variants(cfg.variants):
        sections = with_values({name: getattr(cfg, name) for name in SECTIONS}, variant.overrides)
        out.append((variant, _selectable(cfg.model_copy(update=sections))))
    return out


def _selectable(cfg: "ExperimentConfig") -> "ExperimentConfig":
    """A single-modality model has only that head: it is selected on it (`protocol.selection_head`)."""
    mods = list(cfg.model.modalities)
    if len(mods) == 1 and cfg.protocol.selection_head != mods[0]:
        return cfg.model_copy(update={"protocol": cfg.protocol.model_copy(update={"selection_head": mods[0]})})
    return cfg
