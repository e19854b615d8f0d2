"""Leaderboard cells gain a 95 % speaker-bootstrap interval from predictions.parquet."""
from __future__ import annotations

import pandas as pd

from harness.report.leaderboard import format_leaderboard
from harness.report.speaker_interval import speaker_intervals, with_intervals

from .test_method_stats import predictions


def test_interval_per_variant_pair_and_head_in_percent():
    preds = pd.concat([predictions(0.7, seeds=(0, 1)).assign(variant="v"),
                       predictions(0.7, seeds=(0,)).assign(variant="v", head="audio")])
    cells = speaker_intervals(preds, n_boot=300)
    assert list(cells[["variant", "pair"]].itertuples(index=False, name=None)) == [("v", "a->b")]
    row = cells.iloc[0]
    war = 100 * (preds[preds["head"] == "fused"]["predicted"] == preds[preds["head"] == "fused"]["label"]).mean()
    assert row["fused_war_ci_low"] < war < row["fused_war_ci_high"] <= 100
    assert row["audio_uar_ci_low"] < row["audio_uar_ci_high"]


def test_formatted_cell_shows_the_interval_and_rows_without_one_stay_plain():
    board = pd.DataFrame({"pair": ["a->b", "overall (cross)"], "kind": "cross", "protocol": "p", "variant": "v",
                          "folds": [2, 2], "paper": "–",
                          **{f"{h}_{m}_{s}": [70.0, 70.0] for h in ("fused", "audio", "face")
                             for m in ("war", "uar", "macro_f1") for s in ("mean", "std")}})
    cells = pd.DataFrame({"variant": ["v"], "pair": ["a->b"], "fused_war_ci_low": [61.25], "fused_war_ci_high": [78.5]})
    shown = format_leaderboard(with_intervals(board, cells))
    assert list(shown["fused WAR"]) == ["70.00 ± 70.00 [61.2, 78.5]", "70.00 ± 70.00"]
