"""One sweep, several cross-corpus selection rules: a leaderboard row per rule, and `compare` per rule."""
from __future__ import annotations

import re

import pandas as pd
import pytest
from typer.testing import CliRunner

from harness.cli import app
from harness.report.leaderboard import build_leaderboard
from harness.report.paired import load_systems
from harness.report.render import render_report
from harness.results.columns import HEADS, METRICS
from harness.results.errors import ResultsError
from harness.results.io import write_results
from harness.results.predictions import write_predictions
from harness.results.selections import load_selections, write_selections

from ..results_data import make_inputs
from .test_method_stats import predictions

CROSS = "savee→meld"
PROTOCOL = "speaker-independent"


def _inputs() -> dict:
    """make_inputs with cross_selection [source_val, snd, target_oracle]: the cross rows name source_val."""
    inputs = make_inputs("x")
    trials = inputs["trials"]
    trials["selection"] = [("source_val" if p == CROSS else None) if s else None
                           for p, s in zip(trials["pair"], trials["selected"])]
    inputs["config"]["protocol"]["cross_selection"] = ["source_val", "snd", "target_oracle"]
    return inputs


def _selections(trials: pd.DataFrame) -> pd.DataFrame:
    """Per cross fold: the primary's row (its trial) and snd's / target_oracle's own picks (test UAR 0.5 / 0.8)."""
    rows = []
    for row in trials[trials["selected"] & (trials["pair"] == CROSS)].to_dict("records"):
        base = {k: row[k] for k in ("experiment", "pair", "source", "target", "fold", "labels")}
        rows.append({**base, "variant": "", "selection": "source_val", "primary": True, "protocol": PROTOCOL,
                     "trial_id": row["trial_id"], "epoch": 2, "score": 0.7,
                     **{f"test_{h}_{m}": row[f"test_{h}_{m}"] for h in HEADS for m in METRICS}})
        for rule, value, label in (("snd", 0.5, f"{PROTOCOL}/snd"),
                                   ("target_oracle", 0.8, f"{PROTOCOL}/target_oracle (upper bound)")):
            rows.append({**base, "variant": "", "selection": rule, "primary": False, "protocol": label,
                         "trial_id": "t-other", "epoch": 1, "score": 0.1,
                         **{f"test_{h}_{m}": value for h in HEADS for m in METRICS}})
    return pd.DataFrame(rows)


def test_each_rules_pick_is_a_row_under_its_protocol():
    inputs = _inputs()
    board = build_leaderboard(inputs["trials"], inputs["config"], _selections(inputs["trials"]))
    cross = board[board["pair"] == CROSS].set_index("protocol")
    assert set(cross.index) == {PROTOCOL, f"{PROTOCOL}/snd", f"{PROTOCOL}/target_oracle (upper bound)"}
    assert cross.at[f"{PROTOCOL}/snd", "fused_uar_mean"] == pytest.approx(50.0)
    assert cross.at[f"{PROTOCOL}/snd", "selection"] == "snd" and cross.at[PROTOCOL, "selection"] == "source_val"
    assert cross.at[PROTOCOL, "fused_uar_mean"] == pytest.approx(35.0)  # the primary's rows: the trials table's
    assert (cross["folds"] == 2).all()
    overall = board[board["pair"] == "overall (cross)"]
    assert sorted(overall["protocol"]) == sorted(cross.index)  # an overall row per rule, never pooled
    # the within-corpus pair has its one row; without the selections the board is the primary's alone
    assert (board["pair"] == "savee").sum() == 1
    plain = build_leaderboard(inputs["trials"], inputs["config"])
    assert set(plain.loc[plain["pair"] == CROSS, "protocol"]) == {PROTOCOL}


def _results(tmp_path):
    out = tmp_path / "x"
    inputs = _inputs()
    write_results(out, **inputs)
    write_selections(out, _selections(inputs["trials"]))
    cross = predictions(0.5).assign(pair=CROSS, experiment="x")
    write_predictions(out, pd.concat([predictions(0.6).assign(pair="savee", experiment="x"),  # within: no rule
                                      cross.assign(selection="source_val"),
                                      predictions(0.5, rng_seed=4).assign(pair=CROSS, experiment="x", selection="snd"),
                                      predictions(0.9, rng_seed=5).assign(pair=CROSS, experiment="x",
                                                                          selection="target_oracle")]))
    return out


def test_report_and_compare_name_the_rule(tmp_path):
    out = _results(tmp_path)
    assert set(load_selections(out)["selection"]) == {"source_val", "snd", "target_oracle"}
    rendered = render_report(out)
    text = re.sub(" +", " ", (out / "leaderboard.md").read_text())
    assert f"| {CROSS} | cross | {PROTOCOL}/snd |" in text
    assert f"| {CROSS} | cross | {PROTOCOL}/target_oracle (upper bound) |" in text
    cells = rendered.board.set_index(["pair", "protocol"])  # each rule's interval from its own test rows
    assert cells.at[(CROSS, f"{PROTOCOL}/target_oracle (upper bound)"), "fused_war_ci_low"] > \
        cells.at[(CROSS, f"{PROTOCOL}/snd"), "fused_war_ci_high"]
    # compare: the primary rule by default (names unchanged), each rule's models with --selection
    assert list(load_systems([out])) == ["x"]
    assert set(load_systems([out])["x"]["pair"]) == {"savee", CROSS}
    assert list(load_systems([out], ["snd", "source_val"])) == ["x@source_val", "x@snd"]
    assert list(load_systems([out], ["all"])) == ["x@source_val", "x@snd", "x@target_oracle"]
    with pytest.raises(ResultsError, match="no predictions selected by rule"):
        load_systems([out], ["iwv"])
    res = CliRunner().invoke(app, ["compare", str(out), "--selection", "snd", "--selection", "target_oracle",
                                   "--stats", "--n-boot", "200", "--out", str(tmp_path / "c.csv")], terminal_width=250)
    assert res.exit_code == 0, res.output
    stats = pd.read_csv(tmp_path / "c.csv")
    assert set(stats["system"]) == {"x@target_oracle"} and set(stats["baseline"]) == {"x@snd"}
    board = pd.read_csv(tmp_path / "c.board.csv")
    assert set(board.loc[board["pair"] == CROSS, "protocol"]) == {PROTOCOL, f"{PROTOCOL}/snd",
                                                                   f"{PROTOCOL}/target_oracle (upper bound)"}
    res = CliRunner().invoke(app, ["compare", str(out), "--selection", "iwvv"], terminal_width=250)
    assert res.exit_code != 0 and "iwvv" in res.output and "recorded: snd, source_val, target_oracle" in res.output
    res = CliRunner().invoke(app, ["compare", str(out), "--out", str(tmp_path / "d.csv")], terminal_width=250)
    assert res.exit_code == 0, res.output
    assert set(pd.read_csv(tmp_path / "d.csv")["protocol"]) == {PROTOCOL}  # default: the primary rule's rows


def test_units_from_before_rule_picks_join_the_primary_rules_rows():
    """A sweep begun before rule picks were kept, resumed after: its kept units' rows carry no selection and must
    group with the primary rule's (fill_primary, applied when the run writes its tables), never apart."""
    from harness.results.selections import fill_primary

    preds = pd.DataFrame({"pair": ["p", "p", "p", "w"], "variant": "", "fold": [0, 1, 1, 0],
                          "selection": ["", "dev", "snd", ""]})
    assert fill_primary(preds, "dev")["selection"].tolist() == ["dev", "dev", "snd", ""]  # within pair w: no rules
    trials = preds.assign(selected=[True, True, False, False])
    trials.loc[2, "selection"] = ""
    assert fill_primary(trials, "dev", trials["selected"])["selection"].tolist() == ["dev", "dev", "", ""]
