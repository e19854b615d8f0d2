"""Paired tests between systems on the same test rows: matching, a hand-checkable case, the CLI."""
from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from harness.cli import app
from harness.report.paired import load_systems, paired_table
from harness.results.errors import ResultsError
from harness.results.io import write_results
from harness.results.predictions import write_predictions

from ..results_data import make_inputs

LABELS = ["anger", "happiness"]


def predictions(experiment: str, variant: str, correct: list[bool], fold_of=lambda i: i % 2) -> pd.DataFrame:
    """20 rows of pair `p` (true labels alternate), `predicted` right where `correct` says; head fused + audio."""
    rows = []
    for head in ("fused", "audio"):
        for i, ok in enumerate(correct):
            label = LABELS[i % 2]
            pred = label if ok else LABELS[1 - i % 2]
            rows.append({"experiment": experiment, "pair": "p", "source": "p", "target": "p", "fold": fold_of(i),
                         "variant": variant, "trial_id": f"{variant}-t", "method": variant or "fdan",
                         "utterance_id": f"u{i:02d}", "speaker": f"s{i % 4}", "label": label, "head": head,
                         "predicted": pred, "prob_anger": 0.9 if pred == "anger" else 0.1,
                         "prob_happiness": 0.1 if pred == "anger" else 0.9})
    return pd.DataFrame(rows)


# a right on rows 0..13, b right on rows 4..19: n01 = 4 (rows 0-3), n10 = 6 (rows 14-19)
A = [i < 14 for i in range(20)]
B = [i >= 4 for i in range(20)]


def test_hand_checkable_case():
    systems = {"x/fdan": predictions("x", "fdan", A), "x/mmd": predictions("x", "mmd", B)}
    table = paired_table(systems, n_boot=500)
    row = table.iloc[0]
    assert (row["baseline"], row["system"], row["pair"], row["n"]) == ("x/fdan", "x/mmd", "p", 20)
    assert row["war_a"] == pytest.approx(0.70) and row["war_b"] == pytest.approx(0.80)
    assert row["war_diff"] == pytest.approx(0.10) and row["war_lo"] <= 0.10 <= row["war_hi"]
    assert (row["mcnemar_n01"], row["mcnemar_n10"], row["mcnemar_method"]) == (4, 6, "exact")
    # exact two-sided binomial: 2 * P(X <= 4), X ~ Bin(10, 1/2)
    assert row["mcnemar_p"] == pytest.approx(2 * sum(math.comb(10, k) for k in range(5)) / 2**10)
    # UAR: class anger = even rows; a right on 7 of 10 each class; b right on 8 of 10 each class
    assert row["uar_a"] == pytest.approx(0.70) and row["uar_b"] == pytest.approx(0.80)


def test_only_shared_rows_are_compared_and_labels_must_agree():
    a = predictions("x", "a", A)
    b = predictions("x", "b", B)
    b_part = b[b["utterance_id"] < "u10"]  # b predicted only half of the rows
    table = paired_table({"a": a, "b": b_part}, n_boot=200)
    assert table.iloc[0]["n"] == 10
    bad = b.assign(label=np.where(b["utterance_id"] == "u02", "happiness", b["label"]))
    with pytest.raises(ResultsError, match="disagree on true labels"):
        paired_table({"a": a, "b": bad}, n_boot=200)
    with pytest.raises(ResultsError, match="two systems"):
        paired_table({"a": a})
    with pytest.raises(ResultsError, match="unknown baseline"):
        paired_table({"a": a, "b": b}, baseline="c")


def test_cli_compare_stats_over_variants_and_directories(tmp_path):
    one = tmp_path / "one"
    write_results(one, **make_inputs("one"))
    write_predictions(one, pd.concat([predictions("one", "fdan", A), predictions("one", "mmd", B)]))
    two = tmp_path / "two"
    write_results(two, **make_inputs("two"))
    write_predictions(two, predictions("two", "", B))
    assert list(load_systems([one, two])) == ["one/fdan", "one/mmd", "two"]
    out = tmp_path / "cmp.md"
    res = CliRunner().invoke(app, ["compare", str(one), str(two), "--stats", "--n-boot", "200", "--out", str(out)],
                             terminal_width=250)
    assert res.exit_code == 0, res.output
    assert "one/mmd vs one/fdan" in res.output and "two vs one/fdan" in res.output
    text = out.read_text()
    assert "## Paired tests, fused head" in text and "+10.00" in text
    res = CliRunner().invoke(app, ["compare", str(one), "--stats", "--baseline", "one/mmd", "--head", "audio",
                                   "--out", str(tmp_path / "cmp.csv"), "--n-boot", "200"], terminal_width=250)
    assert res.exit_code == 0, res.output
    paired = pd.read_csv(tmp_path / "cmp.paired.csv")
    assert list(paired["system"]) == ["one/fdan"] and paired.loc[0, "war_diff"] == pytest.approx(-0.10)
    res = CliRunner().invoke(app, ["compare", str(tmp_path / "nowhere"), "--stats"])
    assert res.exit_code == 2


def test_seed_runs_are_tested_separately():
    a = pd.concat([predictions("x", "a", A).assign(seed=s) for s in (0, 1)])
    b = pd.concat([predictions("x", "b", B).assign(seed=s) for s in (0, 1)])
    table = paired_table({"a": a, "b": b}, n_boot=200)
    assert list(table["seed"]) == [0, 1] and list(table["n"]) == [20, 20]
