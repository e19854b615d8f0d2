"""``plots/hparams.png``: every trial's selection score against each searched hyper-parameter.

Axes follow what was searched: a ``choice`` parameter (or any non-numeric one) gets a categorical axis, one
tick per choice in the search space's order, points jittered sideways so that trials of one choice do not
stack; a numeric range gets a log axis when it was searched ``loguniform`` or spans two decades or more
(positive values, max / min >= 100), else a linear one. Colour = pair, marker = fold, ringed = selected.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.lines import Line2D

from harness.config.search_space import Distribution
from harness.report.figures import save_figure
from harness.report.importance import param_values, searched_params
from harness.report.selection import selection_label
from harness.results.columns import PARAM_PREFIX

FOLD_MARKERS = ("o", "s", "^", "D", "v", "P", "X", "<", ">", "h")
JITTER = 0.15  # half-width of the sideways spread of a categorical axis, in category units


def categories(values: pd.Series, dist: Distribution | None) -> list[str] | None:
    """The ordered categories of a parameter's axis, or None for a numeric (continuous) axis."""
    numeric = pd.api.types.is_numeric_dtype(values) and not pd.api.types.is_bool_dtype(values)
    if dist is not None and dist.type == "choice":
        order = [str(v) for v in dist.values or []]
        seen = [v for v in dict.fromkeys(values.astype(str)) if v not in order]
        return list(dict.fromkeys(order + sorted(seen)))
    if not numeric:
        return sorted(values.astype(str).unique())
    return None


def log_axis(values: pd.Series, dist: Distribution | None) -> bool:
    """Log scale for a ``loguniform`` search or positive values spanning at least two decades."""
    if dist is not None and dist.type == "loguniform":
        return True
    v = pd.to_numeric(values, errors="coerce").dropna().astype(float)
    return bool(len(v) and v.min() > 0 and v.max() / v.min() >= 100.0)


def plot_hparams(trials: pd.DataFrame, metric_col: str, path: Path, space: dict[str, Distribution]) -> bool:
    """One panel per searched parameter; returns False (nothing drawn) when no trial has a score and a parameter."""
    data = trials[pd.to_numeric(trials[metric_col], errors="coerce").notna()]
    names = [n for n in searched_params(trials) if param_values(data, n).notna().any()]
    if not names:
        return False
    cols = min(3, len(names))
    rows = -(-len(names) // cols)
    label = selection_label(trials, metric_col)
    fig = Figure(figsize=(4.4 * cols, 3.6 * rows + 0.8), layout="constrained")
    pairs = sorted(data["pair"].astype(str).unique())
    folds = sorted(data["fold"].astype(str).unique(), key=lambda f: (len(f), f))
    colours = {p: f"C{i % 10}" for i, p in enumerate(pairs)}
    markers = {f: FOLD_MARKERS[i % len(FOLD_MARKERS)] for i, f in enumerate(folds)}
    rng = np.random.default_rng(0)  # the same jitter on every re-render
    for i, name in enumerate(names):
        ax = fig.add_subplot(rows, cols, i + 1)
        col = PARAM_PREFIX + name
        values = param_values(data, name)
        sub = data.assign(**{col: values})[values.notna()]
        cats = categories(sub[col], space.get(name))
        if cats is None:
            x_all = sub[col].astype(float)
        else:
            x_all = sub[col].astype(str).map(cats.index).astype(float) + rng.uniform(-JITTER, JITTER, len(sub))
        y_all = pd.to_numeric(sub[metric_col]).astype(float)
        for (pair, fold), g in sub.groupby([sub["pair"].astype(str), sub["fold"].astype(str)], sort=True):
            x, y = x_all[g.index], y_all[g.index]
            ax.scatter(x, y, s=30, alpha=0.8, color=colours[pair], marker=markers[fold])
            sel = g["selected"].astype(bool).to_numpy()
            if sel.any():
                ax.scatter(x[sel], y[sel], s=110, facecolors="none", edgecolors="black", linewidths=1.2)
        if cats is not None:
            ax.set_xticks(range(len(cats)), cats, rotation=30 if max(map(len, cats)) > 6 else 0, ha="right")
            ax.set_xlim(-0.5, len(cats) - 0.5)
        elif log_axis(sub[col], space.get(name)):
            ax.set_xscale("log")
        ax.set_xlabel(name + (" (choice)" if cats is not None else ""))
        ax.set_ylabel(label, fontsize=8)
        ax.grid(alpha=0.3)
    handles = [Line2D([], [], linestyle="", marker="o", color=colours[p], label=p) for p in pairs]
    handles += [Line2D([], [], linestyle="", marker=markers[f], color="0.4", label=f"fold {f}") for f in folds]
    handles += [Line2D([], [], linestyle="", marker="o", markersize=10, markerfacecolor="none",
                       markeredgecolor="black", label="selected")]
    fig.legend(handles=handles, loc="outside lower center", ncols=min(len(handles), 4), fontsize=7)
    fig.suptitle(f"{label} of every trial ({len(data)}) against each searched hyper-parameter", fontsize=9)
    save_figure(fig, path)
    return True
