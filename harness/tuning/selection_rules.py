"""Which validation score selects a unit's model (`protocol.cross_selection`), and how the protocol column says so.

Within-corpus units and the `paper` protocol keep `protocol.selection_key`. A cross-corpus unit is
selected by the first rule of `protocol.cross_selection` (the primary): `source_val` is
`protocol.selection_key` itself (labelled source validation speakers, today's rule); any other rule
`r` is the per-epoch score `sel_<r>` that the trial records (harness.trial.selection_epoch; higher is
better for every rule). Every listed rule is recorded every epoch, and every other rule's pick is
tested too (harness.tuning.rule_picks), so one sweep reports the rules side by side without retraining.

Protocol column of a cross-corpus row: `<protocol>` under `source_val`, `<protocol>/<rule>` under any
other rule, and `<protocol>/target_oracle (upper bound)` when labelled target speakers chose it.
"""
from __future__ import annotations

from harness.config import ExperimentConfig
from harness.tuning.work_unit import WorkUnit

SCORE_PREFIX = "sel_"
ORACLE_NOTE = " (upper bound)"


def primary_rule(cfg: ExperimentConfig) -> str:
    return cfg.protocol.cross_selection[0]


def scored_rules(cfg: ExperimentConfig, unit: WorkUnit) -> list[str]:
    """The rules a trial of ``unit`` records per epoch: every listed rule for cross-corpus units under a
    validation protocol, none otherwise (and none when `source_val` is the only rule: nothing to add)."""
    rules = list(cfg.protocol.cross_selection)
    if not unit.cross or cfg.protocol.name == "paper" or rules == ["source_val"]:
        return []
    return rules


def unit_selection_key(cfg: ExperimentConfig, unit: WorkUnit) -> str:
    """The reported metric that picks ``unit``'s trial and epoch (module docstring)."""
    rule = primary_rule(cfg)
    if scored_rules(cfg, unit) and rule != "source_val":
        return f"{SCORE_PREFIX}{rule}"
    return cfg.protocol.selection_key


def protocol_label(cfg: ExperimentConfig, unit: WorkUnit, rule: str | None = None) -> str:
    """The protocol column of ``unit``'s rows selected by ``rule`` (default: the primary; module docstring);
    transductive units keep their suffix."""
    label = cfg.protocol.name
    rule = primary_rule(cfg) if rule is None else rule
    if scored_rules(cfg, unit) and rule != "source_val":
        label += f"/{rule}" + (ORACLE_NOTE if rule == "target_oracle" else "")
    return f"{label}+transductive" if unit.transductive else label
