"""Figures under plots/ and the parameter importance behind one of them."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from matplotlib.image import imread

from harness.report.importance import optuna_distribution, param_importances, param_values, searched_distributions
from harness.report.hparams_plot import categories, log_axis
from harness.report.importance_plot import MIN_IMPORTANCE_TRIALS, render_importance
from harness.report.per_class import pooled_confusions
from harness.report.plots import cross_corpus_grid, render_plots
from harness.report.selection import selection_column, selection_label
from harness.results.errors import ResultsError

from ..results_data import make_config, make_confusions, make_metrics, make_trials

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
    figures = render_plots(out, make_metrics(trials), trials, pooled_confusions(make_confusions(trials), trials),
                           make_config())
    return out, figures


def test_all_figures_drawn(rendered):
    out, figures = rendered
    names = sorted(p.name for p in (out / "plots").glob("*.png"))
    assert names == ["confusion_savee.png", "confusion_savee_meld.png", "cross_corpus_uar.png",
                     "curves_savee.png", "curves_savee_meld.png", "hparams.png"]
    assert sorted(Path(rel).name for _, rel in figures.all) == names
    assert list(figures.pairs) == [("speaker-independent", "", "savee"), ("speaker-independent", "", "savee→meld")]
    for name in names:
        assert_png_with_content(out / "plots" / name)
    # 12 trials: importance is not drawn, and the note says how many there were and how many it needs
    assert [n for n in figures.notes if "importance" in n] == [
        f"parameter importance ({kind}-corpus) not drawn: 6 complete trial(s) over 1 pair(s), 2 (pair x fold) "
        f"unit(s); fANOVA needs at least {MIN_IMPORTANCE_TRIALS} to say more than noise" for kind in ("within", "cross")]
    assert len(figures.notes) == 2


def test_a_second_rendering_keeps_the_pair_figures_whose_inputs_did_not_change(tmp_path):
    """A sweep re-renders its report while units run: a pair whose rows did not change keeps its figures (not
    drawn again), a pair whose metrics or confusions changed is drawn again, and a pair gone is removed."""
    trials = make_trials()
    metrics = make_metrics(trials)
    confusions = make_confusions(trials)

    def render(trials, metrics, confusions):
        render_plots(tmp_path, metrics, trials, pooled_confusions(confusions, trials), make_config())
        return {p.name: p.stat().st_mtime_ns for p in (tmp_path / "plots").glob("*.png")}

    first = render(trials, metrics, confusions)
    second = render(trials, metrics, confusions)
    kept = [n for n in first if n.startswith(("confusion_", "curves_"))]
    assert len(kept) == 4 and all(second[n] == first[n] for n in kept)
    assert second["hparams.png"] != first["hparams.png"]  # search figures are whole-run: always drawn
    changed = metrics.copy()
    meld = changed["trial_id"].isin(trials.loc[trials["pair"] == "savee→meld", "trial_id"]) & (changed["split"] == "val")
    changed.loc[meld, "value"] = changed.loc[meld, "value"] * 0.5
    third = render(trials, changed, confusions)
    assert third["curves_savee_meld.png"] != second["curves_savee_meld.png"]
    assert all(third[n] == second[n] for n in ("curves_savee.png", "confusion_savee.png", "confusion_savee_meld.png"))
    recounted = [dict(c, matrix=(np.asarray(c["matrix"]) + 1).tolist()) if c["pair"] == "savee" else c for c in confusions]
    fourth = render(trials, changed, recounted)
    assert fourth["confusion_savee.png"] != third["confusion_savee.png"] and fourth["curves_savee.png"] == third["curves_savee.png"]
    within = trials[trials["pair"] == "savee"]
    assert sorted(render(within, changed, recounted)) == ["confusion_savee.png", "curves_savee.png", "hparams.png"]
    (tmp_path / "plots" / "curves_savee.png").unlink()  # a figure deleted by hand is drawn again
    assert "curves_savee.png" in render(within, changed, recounted)


def test_pairs_whose_file_names_coincide_get_a_figure_each(tmp_path):
    """`a→b` and a corpus named `a_b` are both `a_b` as file names: the second gets `a_b_<n>`, never the first's file."""
    trials = make_trials()
    trials = trials.assign(pair=trials["pair"].map({"savee": "a_b", "savee→meld": "a→b"}))
    figures = render_plots(tmp_path, make_metrics(trials), trials,
                           pooled_confusions(make_confusions(trials), trials), make_config())
    confusion = {key[2]: rel for key, plots in figures.pairs.items() for _, rel in plots if "confusion_" in rel}
    assert sorted(confusion) == ["a_b", "a→b"] and len(set(confusion.values())) == 2
    assert all((tmp_path / rel).is_file() for rel in confusion.values())


def test_importance_is_drawn_per_kind_with_enough_trials(tmp_path):
    trials = make_trials()
    many = pd.concat([trials.assign(trial_id=trials["trial_id"] + f"_{i}", **{METRIC: trials[METRIC] + 0.01 * i})
                      for i in range(3)], ignore_index=True)  # 18 trials per kind
    (tmp_path / "plots").mkdir()
    within = many[many["source"] == many["target"]]
    bigger = pd.concat([within, within.assign(trial_id=within["trial_id"] + "b", **{METRIC: within[METRIC] * 0.9})])
    plots, notes = render_importance(pd.concat([bigger, many[many["source"] != many["target"]]]), METRIC, SPACE,
                                     tmp_path / "plots")
    assert plots == [("parameter importance, within-corpus pairs (36 trials)", "plots/importance_within.png")]
    assert_png_with_content(tmp_path / "plots" / "importance_within.png")
    assert notes == ["parameter importance (cross-corpus) not drawn: 18 complete trial(s) over 1 pair(s), "
                     f"2 (pair x fold) unit(s); fANOVA needs at least {MIN_IMPORTANCE_TRIALS} to say more than noise"]


def test_choice_parameters_get_categorical_axes_in_search_order():
    assert categories(pd.Series([32, 16, 64, 16]), SPACE["batch_size"]) == ["16", "32", "64"]
    heads = searched_distributions({"search": {"space": {"model.attn_heads": {"type": "choice", "values": [4, 2]}}}})
    assert categories(pd.Series([2, 4, 2]), heads["attn_heads"]) == ["4", "2"]  # the space's order, not sorted
    assert categories(pd.Series(["sgd", "adam"]), None) == ["adam", "sgd"]
    assert categories(pd.Series([0.1, 0.2]), None) is None  # a numeric range stays continuous


def test_log_axis_for_loguniform_or_two_decades():
    assert log_axis(pd.Series([1e-3, 2e-3]), SPACE["lr"])
    assert log_axis(pd.Series([0.01, 1.0]), None)
    assert not log_axis(pd.Series([0.02, 1.0]), None)
    assert not log_axis(pd.Series([-1.0, 100.0]), None)


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


def test_trials_of_units_that_did_not_search_a_field_are_left_out_not_counted_as_none():
    """harness.experiment.plan.unit_config: a unit whose training never reads a field does not search it; its
    trials name it in `not_searched` and leave it empty. They neither count as the `null` choice nor remove the
    field from the importance (Optuna's space is the intersection of the trials' spaces)."""
    trials = make_trials().assign(param_lr=1e-3, param_batch_size=32)
    trials["param_optimizer"] = [None, "adam", "sgd"] * 4
    space = {**SPACE, **searched_distributions(
        {"search": {"space": {"train.optimizer": {"type": "choice", "values": [None, "adam", "sgd"]}}}})}
    extra = make_trials().assign(param_lr=1e-3, param_batch_size=32, param_optimizer=None, not_searched="optimizer")
    both = pd.concat([trials.assign(not_searched=""), extra], ignore_index=True)
    assert param_values(both, "optimizer").isna().sum() == len(extra)  # not the choice "None"
    imp = param_importances(both, METRIC, space)
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


def test_cross_corpus_grid_has_a_row_per_source_and_a_column_per_target():
    grid = cross_corpus_grid(make_trials())
    assert list(grid.index) == ["savee"] and list(grid.columns) == ["meld", "savee"]  # no empty "meld" row
    assert grid.loc["savee", "savee"] == pytest.approx(65.0)
    assert grid.loc["savee", "meld"] == pytest.approx(35.0)


def test_within_only_has_no_heat_map_and_notes_missing_pieces(tmp_path):
    trials = make_trials()
    trials = trials[trials["pair"] == "savee"]
    trials = trials.assign(param_lr=1e-3, param_batch_size=32, param_optimizer="sgd")
    figures = render_plots(tmp_path, make_metrics(trials).iloc[0:0], trials, [], {})
    names = sorted(p.name for p in (tmp_path / "plots").glob("*.png"))
    assert names == ["hparams.png"]
    assert any("no confusion matrix stored" in n for n in figures.notes)
    assert any("no learning curves" in n for n in figures.notes)
