"""Per-class results from confusion matrices pooled over folds: hand-checked sums and ratios."""
from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from harness.report.per_class import class_metrics, per_class_display, per_class_table, pooled_confusions

from ..results_data import make_confusions, make_trials


def entry(pair, fold, trial_id, head, labels, matrix):
    return {"pair": pair, "fold": fold, "trial_id": trial_id, "head": head, "labels": labels, "matrix": matrix}


def test_class_metrics_by_hand():
    # rows true (a, b, c), columns predicted
    m = class_metrics(np.array([[3, 1, 0], [2, 2, 0], [0, 0, 0]]))
    assert m["support"].tolist() == [4, 4, 0] and m["predicted"].tolist() == [5, 3, 0]
    assert m.loc[0, "recall"] == pytest.approx(3 / 4) and m.loc[0, "precision"] == pytest.approx(3 / 5)
    assert m.loc[0, "f1"] == pytest.approx(2 * 0.75 * 0.6 / 1.35)
    assert m.loc[1, "recall"] == pytest.approx(0.5) and m.loc[1, "precision"] == pytest.approx(2 / 3)
    assert math.isnan(m.loc[2, "recall"]) and math.isnan(m.loc[2, "precision"]) and math.isnan(m.loc[2, "f1"])
    zero = class_metrics(np.array([[0, 2], [0, 1]]))  # class 0 never right: recall 0, precision undefined
    assert zero.loc[0, "recall"] == 0 and math.isnan(zero.loc[0, "precision"]) and math.isnan(zero.loc[0, "f1"])


def test_folds_are_summed_per_pair_and_head_and_aligned_by_label():
    trials = make_trials()
    sel = trials[trials["selected"]]
    s0, s1 = sel[sel["pair"] == "savee"]["trial_id"].tolist()
    confusions = [
        entry("savee", 0, s0, "fused", ["anger", "sadness"], [[2, 1], [0, 3]]),
        entry("savee", "1", s1, "fused", ["sadness", "anger"], [[4, 0], [1, 1]]),  # other order, fold as text
        entry("savee", 0, s0, "audio", ["anger", "sadness"], [[1, 2], [1, 2]]),
        entry("savee", 0, "not-selected", "fused", ["anger", "sadness"], [[99, 0], [0, 99]]),  # ignored
    ]
    pooled = pooled_confusions(confusions, trials)
    assert [(c.pair, c.head, c.folds) for c in pooled] == [("savee", "fused", 2), ("savee", "audio", 1)]
    fused = pooled[0]
    assert fused.labels == ("anger", "sadness") and fused.kind == "within"
    assert fused.counts.tolist() == [[3, 2], [0, 7]]  # [[2,1],[0,3]] + [[1,1],[0,4]] (fold 1 realigned)
    assert fused.row_normalised.tolist() == [[0.6, 0.4], [0.0, 1.0]]
    table = per_class_table(pooled)
    anger = table[(table["head"] == "fused") & (table["label"] == "anger")].iloc[0]
    assert anger["support"] == 5 and anger["recall"] == pytest.approx(0.6) and anger["precision"] == 1.0
    shown = per_class_display(table)
    assert shown.columns.tolist() == ["class", "test n", "fused R / P / F1", "audio R / P / F1"]
    assert shown.loc[0].tolist() == ["anger", 5, "60.0 / 100.0 / 75.0", "33.3 / 50.0 / 40.0"]


def test_pooled_over_the_fixture_keeps_every_test_utterance():
    trials = make_trials()
    confusions = make_confusions(trials)
    table = per_class_table(pooled_confusions(confusions, trials))
    assert list(table.columns[:6]) == ["protocol", "variant", "pair", "kind", "head", "label"]
    for (pair, head), rows in table.groupby(["pair", "head"]):
        stored = sum(np.asarray(c["matrix"]).sum() for c in confusions if c["pair"] == pair and c["head"] == head)
        assert rows["support"].sum() == stored == rows["predicted"].sum()
    assert set(table["folds"]) == {2}


def test_no_selected_trials_or_matrices_give_an_empty_table():
    trials = make_trials()
    assert per_class_table(pooled_confusions([], trials)).empty
    assert pooled_confusions(make_confusions(trials), trials.assign(selected=False)) == []
    assert isinstance(per_class_table([]), pd.DataFrame)
