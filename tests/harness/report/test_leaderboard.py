"""Leaderboard numbers and markdown."""
from __future__ import annotations

import math

import pandas as pd
import pytest

from harness.report.leaderboard import (
    PROTOCOL_NOTE, build_leaderboard, format_leaderboard, mean_std_cell, paper_cell, render_leaderboard_md,
    value_columns,
)

from ..results_data import make_config, make_trials

STD_2 = math.sqrt(((60 - 65) ** 2 + (70 - 65) ** 2) / 1)  # sample std of two folds 10 points apart: 7.07


@pytest.fixture
def board() -> pd.DataFrame:
    return build_leaderboard(make_trials(), make_config())


def test_columns_and_rows(board):
    assert list(board.columns) == ["pair", "kind", "protocol", "folds", *value_columns(), "paper"]
    assert board["pair"].tolist() == ["savee", "savee→meld", "overall"]
    assert board["kind"].tolist() == ["within", "cross", "mixed"]
    assert board["folds"].tolist() == [2, 2, 4]
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


def test_overall_is_mean_over_pairs(board):
    overall = board.set_index("pair").loc["overall"]
    assert overall["fused_uar_mean"] == pytest.approx((65.0 + 35.0) / 2)
    assert overall["fused_uar_std"] == pytest.approx(pd.Series([65.0, 35.0]).std())


def test_single_fold_and_missing_head():
    trials = make_trials()
    trials = trials[trials["fold"] == 0].drop(columns=["test_face_war"])
    board = build_leaderboard(trials, {})
    row = board.set_index("pair").loc["savee"]
    assert row["folds"] == 1 and math.isnan(row["fused_uar_std"]) and math.isnan(row["face_war_mean"])
    shown = format_leaderboard(board).set_index("pair").loc["savee"]
    assert shown["fused UAR"] == "60.00 ± –"
    assert shown["face WAR"] == "–"


def test_one_overall_row_per_protocol():
    trials = pd.concat([make_trials(), make_trials(protocol="paper", shift=0.1)], ignore_index=True)
    board = build_leaderboard(trials, {})
    overall = board[board["pair"] == "overall"]
    assert overall["protocol"].tolist() == ["paper", "speaker-independent"]
    assert overall["fused_uar_mean"].tolist() == pytest.approx([60.0, 50.0])
    assert len(board) == 6


def test_paper_column():
    assert paper_cell("SAVEE", "savee") == "86.66 / 86.19"
    assert paper_cell("Meld", "MELD") == "81.16 / 75.91"
    assert paper_cell("savee", "meld") == "–"
    assert paper_cell("ravdess", "ravdess") == "–"


def test_format_and_markdown(board):
    shown = format_leaderboard(board)
    assert list(shown.columns[4:7]) == ["fused WAR", "fused UAR", "fused macro-F1"]
    assert shown.loc[0, "fused UAR"] == "65.00 ± 7.07"
    assert shown.loc[0, "paper (WAR/UAR)"] == "86.66 / 86.19"
    assert shown.loc[1, "paper (WAR/UAR)"] == "–"
    md = render_leaderboard_md(board, make_config(), selection="best_val_fused_uar", plots=[("x", "plots/x.png")],
                               notes=["a note"])
    assert "| savee | within | speaker-independent | 2 | 67.00 ± 7.07 | 65.00 ± 7.07 |" in md
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
