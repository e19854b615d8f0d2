"""Parameter importance per pair kind, drawn only where there are trials enough to estimate it.

fANOVA (``harness.report.importance``) fits a random forest to the trials' scores: on a handful of trials,
or on a small grid, its split of the variance is noise that a bar chart would present as a finding. So
trials are split by pair kind (within-corpus and cross-corpus scores are not one population) and a kind's
importance is drawn only with at least ``MIN_IMPORTANCE_TRIALS`` complete trials; otherwise the report
carries a note saying how many there were and how many are needed.
"""
from __future__ import annotations

from pathlib import Path

import pandas as pd
from matplotlib.figure import Figure

from harness.config.search_space import Distribution
from harness.report.figures import save_figure
from harness.report.importance import Importance, complete_trials, param_importances
from harness.report.selection import maximizes, selection_label

MIN_IMPORTANCE_TRIALS = 30
Plot = tuple[str, str]


def pair_kind(trials: pd.DataFrame) -> pd.Series:
    """``within`` where source == target, else ``cross``."""
    same = trials["source"].astype(str) == trials["target"].astype(str)
    return same.map({True: "within", False: "cross"})


def plot_importance(importance: Importance, title: str, path: Path) -> None:
    """Horizontal bars of normalised fANOVA importances."""
    fig = Figure(figsize=(5.8, max(2.0, 0.8 + 0.4 * len(importance.values))))
    ax = fig.add_subplot()
    names = list(importance.values)[::-1]
    ax.barh(names, [importance.values[n] for n in names], color="tab:blue")
    ax.set_xlabel("fANOVA importance (normalised, sums to 1)")
    ax.set_title(title, fontsize=9)
    fig.tight_layout()
    save_figure(fig, path)


def render_importance(trials: pd.DataFrame, metric_col: str, space: dict[str, Distribution],
                      plots_dir: Path) -> tuple[list[Plot], list[str]]:
    """``importance_<kind>.png`` per pair kind with enough complete trials; notes for the others."""
    plots: list[Plot] = []
    notes: list[str] = []
    label = selection_label(trials, metric_col)
    kinds = pair_kind(trials)
    for kind in ("within", "cross"):
        mine = trials[kinds == kind]
        if mine.empty:
            continue
        n = len(complete_trials(mine, metric_col))
        where = f"{mine['pair'].nunique()} pair(s), {mine.groupby('pair')['fold'].nunique().sum()} (pair x fold) unit(s)"
        if n < MIN_IMPORTANCE_TRIALS:
            notes.append(f"parameter importance ({kind}-corpus) not drawn: {n} complete trial(s) over {where}; "
                         f"fANOVA needs at least {MIN_IMPORTANCE_TRIALS} to say more than noise")
            continue
        importance = param_importances(mine, metric_col, space, maximize=maximizes(metric_col))
        if importance.note:
            notes.append(f"parameter importance ({kind}-corpus): {importance.note}")
            continue
        rel = f"plots/importance_{kind}.png"
        plot_importance(importance, f"Importance for {label}, {kind}-corpus: {n} trials over {where}",
                        plots_dir.parent / rel)
        plots.append((f"parameter importance, {kind}-corpus pairs ({n} trials)", rel))
    return plots, notes
