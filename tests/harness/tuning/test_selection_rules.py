"""Cross-corpus selection rules: which key selects, the protocol column, and the per-epoch scores a trial records."""
from __future__ import annotations

import math
from types import SimpleNamespace

import pytest
import torch
from torch.utils.data import DataLoader

from fdan.evaluation.evaluate import evaluate
from fdan.model import create_model
from harness.config import validate_config
from harness.tuning.work_unit import WorkUnit
from harness.trial.selection_epoch import EpochSelection
from harness.tuning.selection_rules import protocol_label, scored_rules, unit_selection_key
from tests.fdan.model_helpers import TINY
from tests.fdan.training.test_train_cross_corpus import _Rows

CROSS = WorkUnit("a", "b", 0, ("x", "y"), (0,), (1,), (2,), adapt_idx=(3, 4))
WITHIN = WorkUnit("a", "a", 0, ("x", "y"), (0,), (1,), (2,))


def _cfg(rules: list[str], name: str = "speaker-independent"):
    return validate_config({"name": "x", "corpora": {c: {"importer": "synth", "root": f"/{c}"} for c in "ab"},
                            "pairs": {"cross": [{"source": "a", "target": "b"}]},
                            "protocol": {"name": name, "cross_selection": rules}})


def test_the_primary_rule_selects_cross_units_only_and_the_protocol_says_which():
    cfg = _cfg(["dev", "source_val", "target_oracle"])
    assert unit_selection_key(cfg, CROSS) == "sel_dev" and protocol_label(cfg, CROSS) == "speaker-independent/dev"
    assert unit_selection_key(cfg, WITHIN) == "val_fused_uar" and protocol_label(cfg, WITHIN) == "speaker-independent"
    assert scored_rules(cfg, CROSS) == ["dev", "source_val", "target_oracle"] and scored_rules(cfg, WITHIN) == []
    oracle = _cfg(["target_oracle"])
    assert protocol_label(oracle, CROSS) == "speaker-independent/target_oracle (upper bound)"
    default = _cfg(["source_val"])  # today's rule: nothing extra recorded, key and label unchanged
    assert scored_rules(default, CROSS) == [] and unit_selection_key(default, CROSS) == "val_fused_uar"
    assert scored_rules(_cfg(["snd"], "paper"), CROSS) == []


def _loader(n: int, labelled: bool) -> DataLoader:
    return DataLoader(_Rows(n, labelled), batch_size=4)


def test_a_trial_records_every_rules_score_in_eval_mode():
    torch.manual_seed(0)
    model = create_model(**TINY)
    rules = ["iwv", "dev", "snd", "entropy", "im", "source_val", "target_oracle"]
    sel = EpochSelection(rules, "fused", "uar", _loader(12, True), _loader(12, False), _loader(8, True), "cpu", "off")
    before = {k: v.clone() for k, v in model.state_dict().items()}
    scores = sel.scores(model, {"val_fused_uar": 0.5}, lambda m, dl: evaluate(m, dl, 4))
    assert set(scores) == {f"sel_{r}" for r in rules} and all(math.isfinite(v) for v in scores.values())
    assert scores["sel_source_val"] == 0.5 and scores["sel_entropy"] <= 0 and scores["sel_iwv"] <= 0
    assert scores["sel_target_oracle"] == pytest.approx(evaluate(model, _loader(8, True), 4).metrics["fused"]["uar"])
    assert all(torch.equal(before[k], v) for k, v in model.state_dict().items())  # BatchNorm statistics untouched


def test_create_needs_the_rows_its_rules_read():
    def loader(directory, rows, labelled, shuffle, seed_offset):
        return _loader(len(rows), labelled)

    def spec(rules: tuple[str, ...]) -> SimpleNamespace:
        unit = SimpleNamespace(adapt_idx=(), target_val_idx=(), target_dir="t")
        return SimpleNamespace(rules=rules, unit=unit, rule_metric="fused_uar")

    assert EpochSelection.create(spec(()), loader, _loader(4, True), "cpu", "off") is None
    with pytest.raises(ValueError, match="unlabelled target rows"):
        EpochSelection.create(spec(("snd",)), loader, _loader(4, True), "cpu", "off")
    with pytest.raises(ValueError, match="target validation speakers"):
        EpochSelection.create(spec(("target_oracle",)), loader, _loader(4, True), "cpu", "off")
