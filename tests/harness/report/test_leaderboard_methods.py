"""Leaderboard rows per variant with its method, and the paper's figures where it reports that corpus and method."""
from __future__ import annotations

import pandas as pd

from harness.report.leaderboard import build_leaderboard, format_leaderboard
from harness.report.paper_figures import paper_cell

from ..results_data import make_trials


def test_paper_figures_by_corpus_method_modality_and_trunk():
    assert paper_cell("savee", "savee") == "86.66 / 86.19"  # FDAN, both modalities (the default)
    assert paper_cell("MELD", "meld", "fdan", "audio+face", "resnet34") == "81.16 / 75.91"
    assert paper_cell("savee", "savee", "source_only", "face", "vgg19") == "67.70 / 66.41"
    assert paper_cell("meld", "meld", "source_only", "audio", "resnet18") == "58.68 / 59.80"
    for args in [("savee", "savee", "dann"), ("savee", "savee", "source_only"),  # source_only on both: not reported
                 ("savee", "savee", "fdan", "audio"), ("savee", "meld"), ("ravdess", "ravdess"),
                 ("savee", "savee", "source_only", "audio", "resnet101")]:
        assert paper_cell(*args) == "–", args


def test_rows_per_variant_in_config_order_with_method_and_modalities():
    base = make_trials()
    runs = []
    for variant, method, modalities, shift in [("fdan", "fdan", "audio+face", 0.0), ("base-audio", "source_only", "audio", -0.1)]:
        t = base.copy()
        t = t.assign(variant=variant, method=method, modalities=modalities, backbone="resnet34",
                     trial_id=t["trial_id"] + variant)
        tests = [c for c in t.columns if c.startswith("test_")]
        t[tests] = t[tests] + shift
        runs.append(t)
    board = build_leaderboard(pd.concat(runs, ignore_index=True), {})
    assert list(board["variant"]) == ["fdan"] * 4 + ["base-audio"] * 4
    assert list(board["pair"]) == ["savee", "savee→meld", "overall (within)", "overall (cross)"] * 2
    assert list(board["method"]) == ["fdan"] * 4 + ["source_only"] * 4
    assert board.loc[0, "paper"] == "86.66 / 86.19" and board.loc[4, "paper"] == "69.79 / 70.33"
    assert board.loc[0, "fused_uar_mean"] - board.loc[4, "fused_uar_mean"] == 10.0 * 1  # the 0.1 shift, in percent
    shown = format_leaderboard(board)
    assert list(shown.columns[:6]) == ["pair", "kind", "protocol", "variant", "method", "modalities"]


def test_results_without_method_columns_take_the_config():
    board = build_leaderboard(make_trials(), {"train": {"method": "mmd"}, "model": {"modalities": ["face"]}})
    assert set(board["method"]) == {"mmd"} and set(board["modalities"]) == {"face"} and set(board["variant"]) == {""}
