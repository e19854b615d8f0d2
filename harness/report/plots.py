"""The report's figures under ``plots/``, drawn from the saved tables with matplotlib's Agg canvas.

Search figures (the whole run): ``hparams.png`` (``hparams_plot``), ``importance_<kind>.png``
(``importance_plot``), ``cross_corpus_uar*.png`` (below). Per pair (and protocol / variant):
``confusion_<pair>.png``, the selected models' confusion matrices summed over folds (``per_class``,
``confusion_plots``), and ``curves_<pair>.png``, learning curves (``curves``). No figure shows a single
"best" model: a reader compares pairs, and a pair's folds are pooled or drawn side by side.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from harness.report.confusion_plots import plot_pair_confusions
from harness.report.curves import plot_curves
from harness.report.figures import safe_name, save_figure
from harness.report.hparams_plot import plot_hparams
from harness.report.importance import searched_distributions
from harness.report.importance_plot import render_importance
from harness.report.per_class import PooledConfusion
from harness.report.plot_inputs import PlotInputs
from harness.report.selection import selection_column, selection_label

Plot = tuple[str, str]  # (title, path relative to the results directory)


@dataclass
class Figures:
    """What :func:`render_plots` drew: search figures, per-pair figures by (protocol, variant, pair), and notes."""

    search: list[Plot] = field(default_factory=list)
    pairs: dict[tuple[str, str, str], list[Plot]] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)

    @property
    def all(self) -> list[Plot]:
        return [*self.search, *(p for plots in self.pairs.values() for p in plots)]


def pair_title(protocol: str, variant: str, pair: str) -> str:
    """How a (protocol, variant, pair) group is named in the report."""
    return f"{pair}{f' — {variant}' if variant else ''} [{protocol}]"


def cross_corpus_grid(trials: pd.DataFrame, protocol: str | None = None) -> pd.DataFrame:
    """Source × target matrix of the selected trials' fused test UAR (percent, mean over folds): a row per source
    and a column per target that has a pair, so no row or column is empty by construction."""
    sel = trials[trials["selected"].astype(bool)]
    if protocol is not None:
        sel = sel[sel["protocol"].astype(str) == protocol]
    if "test_fused_uar" not in sel:
        sel = sel.assign(test_fused_uar=np.nan)
    sel = sel.assign(source=sel["source"].astype(str), target=sel["target"].astype(str),
                     uar=pd.to_numeric(sel["test_fused_uar"], errors="coerce").astype(float) * 100.0)
    per_fold = sel.groupby(["source", "target", "fold"])["uar"].mean().reset_index()
    grid = per_fold.groupby(["source", "target"])["uar"].mean().unstack("target")
    return grid.reindex(index=sorted(grid.index), columns=sorted(grid.columns))


def plot_cross_corpus(grid: pd.DataFrame, path: Path, title: str) -> None:
    """Heat map of :func:`cross_corpus_grid`; empty cells are left blank."""
    rows, cols = grid.shape
    fig = Figure(figsize=(1.2 * cols + 2.8, 1.0 * rows + 1.8))
    ax = fig.add_subplot()
    values = grid.to_numpy(dtype=float)
    image = ax.imshow(np.ma.masked_invalid(values), cmap="viridis", vmin=0.0, vmax=100.0)
    for (r, c), v in np.ndenumerate(values):
        if np.isfinite(v):
            ax.text(c, r, f"{v:.1f}", ha="center", va="center", fontsize=8, color="white" if v < 60 else "black")
    ax.set_xticks(range(cols), list(grid.columns), rotation=30, ha="right")
    ax.set_yticks(range(rows), list(grid.index))
    ax.set_xlabel("target corpus")
    ax.set_ylabel("source corpus")
    ax.set_title(title, fontsize=9)
    fig.colorbar(image, ax=ax, label="fused test UAR (%)")
    fig.tight_layout()
    save_figure(fig, path)


def render_search_plots(results_dir: Path, trials: pd.DataFrame, config: dict | None, figures: Figures) -> None:
    """hparams, importance per pair kind and the cross-corpus heat maps."""
    plots_dir = Path(results_dir) / "plots"
    metric_col = selection_column(trials)
    if metric_col is None:
        figures.notes.append("no selection score (best_score / selection_metric columns) in trials: "
                             "hyper-parameter and importance plots skipped")
    else:
        space = searched_distributions(config)
        if plot_hparams(trials, metric_col, plots_dir / "hparams.png", space):
            figures.search.append((f"{selection_label(trials, metric_col)} against each searched hyper-parameter",
                                   "plots/hparams.png"))
        else:
            figures.notes.append("no param_* columns in trials: no hyper-parameter plot")
        plots, notes = render_importance(trials, metric_col, space, plots_dir)
        figures.search += plots
        figures.notes += notes
    is_cross = trials["source"].astype(str) != trials["target"].astype(str)
    cross_protocols = sorted(trials.loc[trials["selected"].astype(bool) & is_cross, "protocol"].astype(str).unique())
    for protocol in cross_protocols:
        suffix = "" if len(cross_protocols) == 1 else f"_{safe_name(protocol)}"
        rel = f"plots/cross_corpus_uar{suffix}.png"
        plot_cross_corpus(cross_corpus_grid(trials, protocol), Path(results_dir) / rel,
                          f"fused test UAR (%), source × target\nprotocol {protocol}")
        figures.search.append((f"cross-corpus heat map ({protocol})", rel))


def render_pair_plots(results_dir: Path, metrics: pd.DataFrame, trials: pd.DataFrame,
                      pooled: list[PooledConfusion], figures: Figures) -> None:
    """Per (protocol, variant, pair): the pooled confusion matrices and the learning curves; a figure drawn from
    the same inputs by the previous rendering is kept (harness.report.plot_inputs)."""
    kept = PlotInputs(Path(results_dir) / "plots")
    by_trial = {str(t): rows for t, rows in metrics.groupby(metrics["trial_id"].astype(str), sort=False)} \
        if "trial_id" in metrics else {}
    variant = trials["variant"].fillna("").astype(str) if "variant" in trials else pd.Series("", index=trials.index)
    groups = dict.fromkeys((c.protocol, c.variant, c.pair) for c in pooled)
    selected = trials[trials["selected"].astype(bool)]
    for key in zip(selected["protocol"].astype(str), variant[selected.index], selected["pair"].astype(str)):
        groups.setdefault(key)
    many = len({(p, v) for p, v, _ in groups}) > 1
    stems: set[str] = set()
    for protocol, var, pair in groups:
        title = pair_title(protocol, var, pair)
        base = stem = safe_name("_".join([pair, *([protocol, var] if many else [])]))
        copies = 1
        while stem in stems:  # two names made file-safe alike (`a→b`, a corpus `a_b`) get files of their own
            copies += 1
            stem = f"{base}_{copies}"
        stems.add(stem)
        plots = figures.pairs.setdefault((protocol, var, pair), [])
        mine = [c for c in pooled if (c.protocol, c.variant, c.pair) == (protocol, var, pair)]
        if mine:
            rel = f"plots/confusion_{stem}.png"
            heading = f"{title}: test confusion of the selected models, summed over {mine[0].folds} fold(s)"
            kept.draw(rel, (heading, mine), lambda: plot_pair_confusions(mine, Path(results_dir) / rel, heading))
            plots.append((f"confusion matrices, {mine[0].folds} fold(s) pooled", rel))
        else:
            figures.notes.append(f"{title}: no confusion matrix stored for its selected trials")
        rows = trials[(trials["protocol"].astype(str) == protocol) & (variant == var) & (trials["pair"].astype(str) == pair)]
        parts = [by_trial[t] for t in dict.fromkeys(rows["trial_id"].astype(str)) if t in by_trial]
        runs = pd.concat(parts) if parts else metrics.iloc[:0]  # the per-epoch rows of this group's trials
        rel = f"plots/curves_{stem}.png"
        heading = f"{title}: learning curves"
        if kept.draw(rel, (heading, rows, runs), lambda: plot_curves(runs, rows, Path(results_dir) / rel, heading)):
            plots.append(("learning curves", rel))
        else:
            figures.notes.append(f"{title}: no per-epoch metrics of its selected trials: no learning curves")
    kept.save()


def render_plots(results_dir: Path, metrics: pd.DataFrame, trials: pd.DataFrame, pooled: list[PooledConfusion],
                 config: dict | None) -> Figures:
    """Draw every figure into ``results_dir/plots`` (removing figures of an earlier rendering that this one has not)."""
    plots_dir = Path(results_dir) / "plots"
    plots_dir.mkdir(parents=True, exist_ok=True)
    figures = Figures()
    render_search_plots(results_dir, trials, config, figures)
    render_pair_plots(results_dir, metrics, trials, pooled, figures)
    drawn = {Path(results_dir) / rel for _, rel in figures.all}
    for stale in plots_dir.glob("*.png"):  # figures of an earlier rendering that this one does not have
        if stale not in drawn:
            stale.unlink()
    return figures
