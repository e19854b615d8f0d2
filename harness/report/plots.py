"""The report's figures under ``plots/``, drawn from the saved tables with matplotlib's Agg canvas.

Figures are built with the object API (``matplotlib.figure.Figure``), never pyplot, so rendering needs no
display, keeps no global figure state and does not change the process-wide backend.
"""
from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from harness.config.search_space import Distribution
from harness.report.importance import (
    Importance, param_importances, param_values, searched_distributions, searched_params,
)
from harness.report.selection import best_selected_trial, maximizes, selection_column, selection_label
from harness.results.atomic import atomic_write
from harness.results.columns import HEADS, PARAM_PREFIX

Plot = tuple[str, str]  # (title, path relative to the results directory)


def _save(fig: Figure, path: Path) -> None:
    atomic_write(path, lambda tmp: fig.savefig(tmp, dpi=100, metadata={"Software": None}))


def _safe(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", name)


def plot_hparams(trials: pd.DataFrame, metric_col: str, path: Path, space: dict[str, Distribution]) -> bool:
    """One panel per searched parameter: ``metric_col`` of every trial against the parameter, coloured by pair.

    Selected trials are ringed. Parameters searched ``loguniform`` (``space``) get a log axis;
    non-numeric ones are placed at evenly spaced categories. Returns False when there is nothing to draw.
    """
    data = trials[pd.to_numeric(trials[metric_col], errors="coerce").notna()]
    names = [n for n in searched_params(trials) if param_values(data, n).notna().any()]
    if not names:
        return False
    cols = min(3, len(names))
    label = selection_label(trials, metric_col)
    rows = -(-len(names) // cols)
    fig = Figure(figsize=(4.2 * cols, 3.4 * rows))
    pairs = sorted(data["pair"].astype(str).unique())
    colours = {p: f"C{i % 10}" for i, p in enumerate(pairs)}
    for i, name in enumerate(names):
        ax = fig.add_subplot(rows, cols, i + 1)
        col = PARAM_PREFIX + name
        values = param_values(data, name)
        sub = data.assign(**{col: values})[values.notna()]
        numeric = pd.api.types.is_numeric_dtype(sub[col]) and not pd.api.types.is_bool_dtype(sub[col])
        cats = sorted(sub[col].astype(str).unique())
        for pair, g in sub.groupby(sub["pair"].astype(str), sort=True):
            x = g[col].astype(float) if numeric else g[col].astype(str).map(cats.index)
            y = pd.to_numeric(g[metric_col]).astype(float)
            ax.scatter(x, y, s=28, alpha=0.8, color=colours[pair], label=pair)
            sel = g["selected"].astype(bool).to_numpy()
            if sel.any():
                ax.scatter(x[sel], y[sel], s=90, facecolors="none", edgecolors="black", linewidths=1.2)
        if numeric and name in space and space[name].type == "loguniform":
            ax.set_xscale("log")
        if not numeric:
            ax.set_xticks(range(len(cats)), cats, rotation=30, ha="right")
        ax.set_xlabel(name)
        ax.set_ylabel(label, fontsize=8)
        if i == 0:
            ax.legend(fontsize=7, title="pair", title_fontsize=7)
    fig.suptitle(f"{label} against each searched hyper-parameter (ringed: selected trials)", fontsize=9)
    fig.tight_layout()
    _save(fig, path)
    return True


def plot_importance(importance: Importance, metric_col: str, path: Path) -> None:
    """Horizontal bars of fANOVA importances, or a figure stating the note when there are none."""
    fig = Figure(figsize=(5.5, max(2.0, 0.5 + 0.4 * len(importance.values))))
    ax = fig.add_subplot()
    if importance.values:
        names = list(importance.values)[::-1]
        ax.barh(names, [importance.values[n] for n in names], color="tab:blue")
        ax.set_xlabel("fANOVA importance (normalised)")
        ax.set_title(f"Parameter importance for {metric_col} ({importance.n_trials} trials, pooled)", fontsize=9)
    else:
        ax.axis("off")
        ax.text(0.5, 0.5, importance.note or "no importance", ha="center", va="center", wrap=True, fontsize=9)
    fig.tight_layout()
    _save(fig, path)


def confusions_of(confusions: list[dict], trial: pd.Series) -> dict[str, dict]:
    """The stored confusion entries of ``trial`` by head, fused/audio/face first.

    Keys compare as text: a fold read back from JSON or CSV may be a string or an int.
    """
    key = (str(trial["pair"]), str(trial["fold"]), str(trial["trial_id"]))
    mine = {str(c["head"]): c for c in confusions
            if (str(c["pair"]), str(c["fold"]), str(c["trial_id"])) == key}
    return {h: mine[h] for h in [h for h in HEADS if h in mine] + sorted(h for h in mine if h not in HEADS)}


def plot_confusions(confusions: list[dict], best: pd.Series, path: Path) -> bool:
    """Row-normalised confusion heat maps (counts annotated) of ``best``'s fused, audio and face heads.

    Returns False (and draws nothing) when no matrix of that trial is stored.
    """
    mine = confusions_of(confusions, best)
    heads = list(mine)
    if not heads:
        return False
    key = (str(best["pair"]), str(best["fold"]), str(best["trial_id"]))
    fig = Figure(figsize=(4.2 * len(heads), 4.0))
    for i, head in enumerate(heads):
        ax = fig.add_subplot(1, len(heads), i + 1)
        labels = [str(x) for x in mine[head]["labels"]]
        counts = np.asarray(mine[head]["matrix"], dtype=float)
        rows = counts.sum(axis=1, keepdims=True)
        norm = np.divide(counts, rows, out=np.zeros_like(counts), where=rows > 0)
        ax.imshow(norm, cmap="Blues", vmin=0.0, vmax=1.0)
        for (r, c), n in np.ndenumerate(counts):
            ax.text(c, r, f"{n:g}", ha="center", va="center", fontsize=7,
                    color="white" if norm[r, c] > 0.5 else "black")
        ax.set_xticks(range(len(labels)), labels, rotation=45, ha="right", fontsize=7)
        ax.set_yticks(range(len(labels)), labels, fontsize=7)
        ax.set_xlabel("predicted")
        ax.set_ylabel("true")
        ax.set_title(f"{head}", fontsize=9)
    fig.suptitle(f"Best selected model: {key[0]}, fold {key[1]}, trial {key[2]} (row-normalised colour)", fontsize=9)
    fig.tight_layout()
    _save(fig, path)
    return True


def cross_corpus_grid(trials: pd.DataFrame, protocol: str | None = None) -> pd.DataFrame:
    """Source × target matrix of the selected trials' fused test UAR (percent, mean over folds)."""
    sel = trials[trials["selected"].astype(bool)]
    if protocol is not None:
        sel = sel[sel["protocol"].astype(str) == protocol]
    if "test_fused_uar" not in sel:
        sel = sel.assign(test_fused_uar=np.nan)
    sel = sel.assign(source=sel["source"].astype(str), target=sel["target"].astype(str),
                     uar=pd.to_numeric(sel["test_fused_uar"], errors="coerce").astype(float) * 100.0)
    per_fold = sel.groupby(["source", "target", "fold"])["uar"].mean().reset_index()
    grid = per_fold.groupby(["source", "target"])["uar"].mean().unstack("target")
    corpora = sorted(set(grid.index) | set(grid.columns))
    return grid.reindex(index=corpora, columns=corpora)


def plot_cross_corpus(grid: pd.DataFrame, path: Path, title: str) -> None:
    """Heat map of :func:`cross_corpus_grid`; empty cells are left blank."""
    n = len(grid)
    fig = Figure(figsize=(1.2 * n + 2.5, 1.0 * n + 1.8))
    ax = fig.add_subplot()
    values = grid.to_numpy(dtype=float)
    image = ax.imshow(np.ma.masked_invalid(values), cmap="viridis", vmin=0.0, vmax=100.0)
    for (r, c), v in np.ndenumerate(values):
        if np.isfinite(v):
            ax.text(c, r, f"{v:.1f}", ha="center", va="center", fontsize=8, color="white" if v < 60 else "black")
    ax.set_xticks(range(n), list(grid.columns), rotation=30, ha="right")
    ax.set_yticks(range(n), list(grid.index))
    ax.set_xlabel("target corpus")
    ax.set_ylabel("source corpus")
    ax.set_title(title, fontsize=9)
    fig.colorbar(image, ax=ax, label="fused test UAR (%)")
    fig.tight_layout()
    _save(fig, path)


def render_plots(results_dir: Path, trials: pd.DataFrame, confusions: list[dict],
                 config: dict | None) -> tuple[list[Plot], list[str]]:
    """Draw every figure into ``results_dir/plots``; return the (title, relative path) list and notes on
    figures that could not be drawn."""
    plots_dir = Path(results_dir) / "plots"
    plots_dir.mkdir(parents=True, exist_ok=True)
    for stale in plots_dir.glob("*.png"):  # a re-render must not leave figures of an earlier rendering
        stale.unlink()
    plots: list[Plot] = []
    notes: list[str] = []
    metric_col = selection_column(trials)
    space = searched_distributions(config)
    if metric_col is None:
        notes.append("no selection score (best_score / selection_metric columns) in trials: "
                     "hyper-parameter and importance plots skipped")
    else:
        if plot_hparams(trials, metric_col, plots_dir / "hparams.png", space):
            plots.append((f"{selection_label(trials, metric_col)} against each searched hyper-parameter",
                          "plots/hparams.png"))
        else:
            notes.append("no param_* columns in trials: no hyper-parameter plot")
        importance = param_importances(trials, metric_col, space, maximize=maximizes(metric_col))
        plot_importance(importance, selection_label(trials, metric_col), plots_dir / "importance.png")
        plots.append((f"parameter importance ({selection_label(trials, metric_col)})", "plots/importance.png"))
        if importance.note:
            notes.append(importance.note)
    best = best_selected_trial(trials, metric_col)
    if best is None:
        notes.append("no selected trial: no confusion matrix")
    elif plot_confusions(confusions, best, plots_dir / "confusion_best.png"):
        plots.append(("confusion matrices of the best selected model", "plots/confusion_best.png"))
    else:
        notes.append(f"no confusion matrix stored for the best selected trial {best['trial_id']}")
    is_cross = trials["source"].astype(str) != trials["target"].astype(str)
    cross_protocols = sorted(trials.loc[trials["selected"].astype(bool) & is_cross, "protocol"].astype(str).unique())
    for protocol in cross_protocols:
        suffix = "" if len(cross_protocols) == 1 else f"_{_safe(protocol)}"
        rel = f"plots/cross_corpus_uar{suffix}.png"
        plot_cross_corpus(cross_corpus_grid(trials, protocol), Path(results_dir) / rel,
                          f"fused test UAR (%), source × target, protocol {protocol}")
        plots.append((f"cross-corpus heat map ({protocol})", rel))
    return plots, notes
