"""Figures under plots/ and the parameter importance behind one of them."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from matplotlib.image import imread

from harness.report.importance import optuna_distribution, param_importances, searched_distributions
from harness.report.plots import confusions_of, cross_corpus_grid, plot_confusions, render_plots
from harness.report.selection import best_selected_trial, selection_column, selection_label
from harness.results.errors import ResultsError

from ..results_data import make_config, make_confusions, make_trials

METRIC = "best_val_fused_uar"
SPACE = searched_distributions(make_config())


def assert_png_with_content(path: Path) -> None:
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n", path
    pixels = imread(path)
    assert pixels.shape[0] > 100 and pixels.shape[1] > 100
    assert float(pixels[..., :3].std()) > 0.01, f"{path} is blank"


@pytest.fixture(scope="module")
def rendered(tmp_path_factory):
    trials = make_trials()
    out = tmp_path_factory.mktemp("plots")
    (out / "plots").mkdir()
    (out / "plots" / "stale.png").write_bytes(b"old")
    plots, notes = render_plots(out, trials, make_confusions(trials), make_config())
    return out, plots, notes


def test_all_figures_drawn(rendered):
    out, plots, notes = rendered
    names = sorted(p.name for p in (out / "plots").glob("*.png"))
    assert names == ["confusion_best.png", "cross_corpus_uar.png", "hparams.png", "importance.png"]
    assert sorted(Path(rel).name for _, rel in plots) == names
    for name in names:
        assert_png_with_content(out / "plots" / name)
    assert notes == []


def test_selection_column_is_what_the_trials_table_stores():
    trials = make_trials()
    assert selection_column(trials) == METRIC  # every trial stores selection_metric val_fused_uar
    assert selection_column(trials.assign(selection_metric="val_audio_war")) == "best_val_audio_war"
    assert selection_column(trials.drop(columns=METRIC)) == "best_score"  # the key's column is absent
    mixed = trials.assign(selection_metric=["val_fused_uar", "test_fused_uar"] * 6)
    assert selection_column(mixed) == "best_score" and selection_label(mixed, "best_score") == "best_score"
    paper = trials.assign(selection_metric="test_fused_uar")  # never the bare test_* column (selected rows only)
    assert selection_column(paper) == "best_score"
    assert selection_label(paper, "best_score") == "best test_fused_uar"
    assert selection_column(trials[["pair", "selected"]]) is None


def test_best_selected_trial():
    trials = make_trials()
    best = best_selected_trial(trials, METRIC)
    selected = trials[trials["selected"]]
    assert best["trial_id"] == selected.loc[selected[METRIC].idxmax(), "trial_id"]
    trials["best_val_fused_loss"] = -trials[METRIC]
    low = best_selected_trial(trials, "best_val_fused_loss")
    assert low["trial_id"] == best["trial_id"]  # a loss is minimised
    assert best_selected_trial(trials.assign(selected=False), METRIC) is None


def test_importance_values():
    imp = param_importances(make_trials(), METRIC, SPACE)
    assert imp.note is None and imp.n_trials == 12
    assert set(imp.values) == {"lr", "batch_size", "optimizer"}
    assert sum(imp.values.values()) == pytest.approx(1.0)
    assert list(imp.values.values()) == sorted(imp.values.values(), reverse=True)


def test_searched_distributions_come_from_the_config():
    from optuna.distributions import CategoricalDistribution, FloatDistribution

    assert set(SPACE) == {"lr", "batch_size", "optimizer"}  # trials column names: the dotted field's leaf
    assert optuna_distribution(SPACE["lr"]) == FloatDistribution(1e-4, 1e-2, log=True)
    assert optuna_distribution(SPACE["batch_size"]) == CategoricalDistribution([16, 32, 64])
    assert searched_distributions({}) == {}
    with pytest.raises(ResultsError, match="search.space"):
        searched_distributions({"search": {"space": {"train.lr": {"type": "loguniform", "low": 0, "high": 1}}}})


def test_importance_without_the_searched_distribution_says_so():
    imp = param_importances(make_trials(), METRIC, {k: v for k, v in SPACE.items() if k != "lr"})
    assert imp.values == {} and "lr not in the config's search.space" in imp.note


def test_importance_treats_a_missing_text_choice_as_none():
    trials = make_trials().assign(param_lr=1e-3, param_batch_size=32)
    trials["param_optimizer"] = [None, "adam", "sgd"] * 4
    space = {**SPACE, **searched_distributions(
        {"search": {"space": {"train.optimizer": {"type": "choice", "values": [None, "adam", "sgd"]}}}})}
    imp = param_importances(trials, METRIC, space)
    assert list(imp.values) == ["optimizer"] and imp.n_trials == 12


def test_importance_drops_constant_params_and_failed_trials():
    trials = make_trials().assign(param_fixed=0.1)
    trials.loc[trials.index[:4], "status"] = "ERROR"
    imp = param_importances(trials, METRIC, SPACE)
    assert "fixed" not in imp.values and imp.n_trials == 8


@pytest.mark.parametrize("edit,expected", [
    (lambda t: t.iloc[:1], "not enough trials"),
    (lambda t: t.assign(**{METRIC: np.where(np.arange(len(t)) == 0, 0.5, np.nan)}), "not enough trials"),
    (lambda t: t.assign(param_lr=1e-3, param_batch_size=32, param_optimizer="sgd"), "not enough variation"),
    (lambda t: t.assign(**{METRIC: 0.5}), "is the same for every"),
])
def test_importance_notes(edit, expected):
    imp = param_importances(edit(make_trials()), METRIC, SPACE)
    assert imp.values == {} and expected in imp.note


def test_cross_corpus_grid():
    grid = cross_corpus_grid(make_trials())
    assert list(grid.index) == ["meld", "savee"] and list(grid.columns) == ["meld", "savee"]
    assert grid.loc["savee", "savee"] == pytest.approx(65.0)
    assert grid.loc["savee", "meld"] == pytest.approx(35.0)
    assert np.isnan(grid.loc["meld", "savee"])


def test_within_only_has_no_heat_map_and_notes_missing_pieces(tmp_path):
    trials = make_trials()
    trials = trials[trials["pair"] == "savee"]
    trials = trials.assign(param_lr=1e-3, param_batch_size=32, param_optimizer="sgd")
    plots, notes = render_plots(tmp_path, trials, [], {})
    names = sorted(p.name for p in (tmp_path / "plots").glob("*.png"))
    assert names == ["hparams.png", "importance.png"]
    assert any("not enough variation" in n for n in notes)
    assert any("no confusion matrix stored" in n for n in notes)
    assert_png_with_content(tmp_path / "plots" / "importance.png")  # the note, drawn


def test_confusions_match_on_string_keys(tmp_path):
    trials = make_trials()
    best = best_selected_trial(trials, METRIC)
    confusions = [dict(c, fold=str(c["fold"]), head=h)  # fold as a string, heads out of order
                  for c, h in zip(make_confusions(trials)[::-1], ["face", "audio", "fused"] * 4)]
    mine = confusions_of(confusions, best)
    assert list(mine) == ["fused", "audio", "face"]
    assert all(c["trial_id"] == best["trial_id"] for c in mine.values())
    other = pd.Series({"pair": "x", "fold": 0, "trial_id": "none"})
    assert not plot_confusions(confusions, other, tmp_path / "d.png")
    assert not (tmp_path / "d.png").exists()
