"""Leaderboard numbers and markdown."""
from __future__ import annotations

import math
import re

import pandas as pd
import pytest

from harness.report.leaderboard import (
    PROTOCOL_NOTE, build_leaderboard, format_leaderboard, mean_std_cell, render_leaderboard_md, value_columns,
)
from harness.report.paper_figures import paper_cell

from harness.results.errors import ResultsError

from ..results_data import make_config, make_trials

STD_2 = math.sqrt(((60 - 65) ** 2 + (70 - 65) ** 2) / 1)  # sample std of two folds 10 points apart: 7.07


@pytest.fixture
def board() -> pd.DataFrame:
    return build_leaderboard(make_trials(), make_config())


def test_columns_and_rows(board):
    assert list(board.columns) == ["pair", "kind", "protocol", "selection", "variant", "method", "modalities",
                                   "n_classes", "folds", *value_columns(), "paper"]
    assert set(board["selection"]) == {""}  # no cross-corpus rule recorded
    assert board["pair"].tolist() == ["savee", "savee→meld", "overall (within)", "overall (cross)"]
    assert board["kind"].tolist() == ["within", "cross", "within", "cross"]  # overall rows never pool the kinds
    assert board["n_classes"].tolist() == [4, 3, 4, 3]
    assert board["folds"].tolist() == [2, 2, 2, 2]
    assert set(board["protocol"]) == {"speaker-independent"}


def test_mean_and_std_over_folds_of_selected_trials_only(board):
    row = board.set_index("pair").loc["savee"]
    # selected fused UAR 0.60 and 0.70; unselected trials carry 0.99 and must not count
    assert row["fused_uar_mean"] == pytest.approx(65.0)
    assert row["fused_uar_std"] == pytest.approx(STD_2)
    assert row["fused_war_mean"] == pytest.approx(67.0)
    assert row["audio_uar_mean"] == pytest.approx(55.0)
    assert row["face_macro_f1_mean"] == pytest.approx(44.0)
    cross = board.set_index("pair").loc["savee→meld"]
    assert cross["fused_uar_mean"] == pytest.approx(35.0)


def test_overall_is_mean_over_pairs_of_its_kind():
    trials = make_trials()
    meld = trials[trials["pair"] == "savee"].assign(pair="meld", source="meld", target="meld",
                                                     trial_id=lambda t: t["trial_id"] + "m")
    meld["test_fused_uar"] += 0.10
    board = build_leaderboard(pd.concat([trials, meld], ignore_index=True), {}).set_index("pair")
    within = board.loc["overall (within)"]
    assert within["fused_uar_mean"] == pytest.approx((65.0 + 75.0) / 2)
    assert within["fused_uar_std"] == pytest.approx(pd.Series([65.0, 75.0]).std())
    assert within["folds"] == 4 and within["n_classes"] == 4
    cross = board.loc["overall (cross)"]
    assert cross["fused_uar_mean"] == pytest.approx(35.0) and math.isnan(cross["fused_uar_std"])


def test_exactly_one_selected_trial_per_unit_is_asserted_not_averaged():
    trials = make_trials()
    trials.loc[1, "selected"] = True  # a second selected trial in unit (savee, fold 0)
    with pytest.raises(ResultsError, match=r"more than one selected trial for .*'savee'.*'fold': 0.* \(2\)"):
        build_leaderboard(trials, {})


def test_label_space_size_span_where_folds_differ():
    trials = make_trials()
    trials.loc[trials["pair"].eq("savee") & trials["fold"].eq(1), "labels"] = "anger|sadness|neutral"
    board = build_leaderboard(trials, {}).set_index("pair")
    assert board.loc["savee", "n_classes"] == "3–4" and board.loc["overall (within)", "n_classes"] == "3–4"
    assert format_leaderboard(board.reset_index()).set_index("pair").loc["savee", "classes"] == "3–4"


def test_single_fold_and_missing_head():
    trials = make_trials()
    trials = trials[trials["fold"] == 0].drop(columns=["test_face_war"])
    board = build_leaderboard(trials, {})
    row = board.set_index("pair").loc["savee"]
    assert row["folds"] == 1 and math.isnan(row["fused_uar_std"]) and math.isnan(row["face_war_mean"])
    shown = format_leaderboard(board).set_index("pair").loc["savee"]
    assert shown["fused UAR"] == "60.00 ± –"
    assert shown["face WAR"] == "–"


def test_overall_rows_per_protocol_and_kind():
    trials = pd.concat([make_trials(), make_trials(protocol="paper", shift=0.1)], ignore_index=True)
    board = build_leaderboard(trials, {})
    overall = board[board["pair"] == "overall (within)"]
    assert overall["protocol"].tolist() == ["paper", "speaker-independent"]
    assert overall["fused_uar_mean"].tolist() == pytest.approx([75.0, 65.0])
    assert len(board) == 8


def test_paper_column():
    assert paper_cell("SAVEE", "savee") == "86.66 / 86.19"
    assert paper_cell("Meld", "MELD") == "81.16 / 75.91"
    assert paper_cell("savee", "meld") == "–"
    assert paper_cell("ravdess", "ravdess") == "–"


def test_format_and_markdown(board):
    shown = format_leaderboard(board)
    assert list(shown.columns[:10]) == ["pair", "kind", "protocol", "method", "modalities", "classes", "folds",
                                        "fused WAR", "fused UAR", "fused macro-F1"]  # no variant column without variants
    assert shown.loc[0, "fused UAR"] == "65.00 ± 7.07"
    assert shown.loc[0, "paper (WAR/UAR)"] == "86.66 / 86.19"
    assert shown.loc[1, "paper (WAR/UAR)"] == "–"
    md = render_leaderboard_md(board, make_config(), selection="best_val_fused_uar", plots=[("x", "plots/x.png")],
                               notes=["a note"])
    assert "| savee | within | speaker-independent | fdan | audio+face | 4 | 2 | 67.00 ± 7.07 | 65.00 ± 7.07 |" in \
        re.sub(" +", " ", md)  # to_markdown pads cells to the column width
    assert PROTOCOL_NOTE in md and "[x](plots/x.png)" in md and "- a note" in md
    assert "Selection metric: `best_val_fused_uar`" in md
    assert "Selection metric: `unspecified`" in render_leaderboard_md(board, make_config())  # never guessed


def test_markdown_header_from_sweep_config(board):
    config = {"name": "savee-si", "label": "our protocol",
              "protocol": {"name": "speaker-independent", "selection_head": "fused", "selection_metric": "uar"}}
    md = render_leaderboard_md(board, config, selection="best_val_fused_uar")
    assert md.startswith("# Leaderboard — savee-si\n\n_our protocol_")
    assert "Selection metric: `best_val_fused_uar`; configured protocol: `speaker-independent`." in md


def test_no_selected_trials():
    trials = make_trials().assign(selected=False)
    board = build_leaderboard(trials, {})
    assert board.empty
    assert "No selected trials" in render_leaderboard_md(board, {})


def test_mean_std_cell():
    assert mean_std_cell(12.345, 0.5) == "12.35 ± 0.50"
    assert mean_std_cell(float("nan"), 1.0) == "–"
