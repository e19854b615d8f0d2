"""Learning curves from ``metrics.parquet``: per pair, the training loss and the selection metric per epoch.

Each fold's selected trial is a coloured line (its selected epoch, the trials table's ``best_epoch``, is
marked with a star); the pair's other trials are thin grey lines, so a reader sees how the chosen run
compares with the rest of the search. The selection metric is the trial's ``selection_metric``
(``val_fused_uar`` by default; ``test_...`` under the ``paper`` protocol), read from the metrics rows
``split/head/metric`` it names.
"""
from __future__ import annotations

from pathlib import Path

import pandas as pd
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from harness.report.figures import save_figure
from harness.results.columns import HEADS

TRAIN_LOSS = ("train", "all", "loss")


def metric_key(selection_metric: str) -> tuple[str, str, str] | None:
    """``val_fused_uar`` -> ``("val", "fused", "uar")``; None for a key that names no split and head."""
    split, _, rest = str(selection_metric).partition("_")
    head, _, metric = rest.partition("_")
    if split not in ("val", "test") or head not in HEADS or not metric:
        return None
    return split, head, metric


def series(metrics: pd.DataFrame, trial_id: str, key: tuple[str, str, str]) -> pd.Series:
    """One trial's values of (split, head, metric) by epoch (the last row wins for a repeated epoch)."""
    split, head, metric = key
    rows = metrics[(metrics["trial_id"].astype(str) == str(trial_id)) & (metrics["split"] == split)
                   & (metrics["head"] == head) & (metrics["metric"] == metric)]
    values = rows.drop_duplicates("epoch", keep="last").set_index("epoch")["value"].sort_index()
    return pd.to_numeric(values, errors="coerce").astype(float)


def pair_selection_key(trials: pd.DataFrame) -> tuple[str, str, str] | None:
    """The selection metric the pair's trials name (the first parsable one), None when none does."""
    for name in trials.get("selection_metric", pd.Series(dtype=object)).dropna().astype(str).unique():
        key = metric_key(name)
        if key is not None:
            return key
    return None


def plot_curves(metrics: pd.DataFrame, trials: pd.DataFrame, path: Path, title: str) -> bool:
    """Draw one pair's learning curves (``trials``: that pair's rows of one protocol and variant).

    Returns False, drawing nothing, when no selected trial has a reported epoch.
    """
    key = pair_selection_key(trials)
    panels = [(TRAIN_LOSS, "training loss")] + ([(key, " ".join(key))] if key else [])
    selected = trials[trials["selected"].astype(bool)].sort_values("fold", key=lambda s: s.astype(str))
    if selected.empty or all(series(metrics, t, k).empty for t in selected["trial_id"] for k, _ in panels):
        return False
    fig = Figure(figsize=(5.0 * len(panels), 3.6))
    others = trials[~trials["selected"].astype(bool)]
    for i, (k, label) in enumerate(panels):
        ax = fig.add_subplot(1, len(panels), i + 1)
        for tid in others["trial_id"]:
            s = series(metrics, tid, k)
            ax.plot(s.index, s.to_numpy(), color="0.75", linewidth=0.8, zorder=1)
        for n, row in enumerate(selected.itertuples(index=False)):
            s = series(metrics, row.trial_id, k)
            if s.empty:
                continue
            colour = f"C{n % 10}"
            ax.plot(s.index, s.to_numpy(), color=colour, linewidth=1.8, marker="o", markersize=3, zorder=2,
                    label=f"fold {row.fold} ({row.trial_id})")
            best = getattr(row, "best_epoch", None)
            if best is not None and not pd.isna(best) and int(best) in s.index:
                ax.scatter([int(best)], [s[int(best)]], marker="*", s=180, color=colour, edgecolors="black",
                           linewidths=0.8, zorder=3)
        ax.set_xlabel("epoch")
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.set_ylabel(label)
        ax.grid(alpha=0.3)
        if i == len(panels) - 1:
            ax.legend(fontsize=7, title="selected trial (★ selected epoch)", title_fontsize=7)
    fig.suptitle(f"{title} — grey: the other trials of the search", fontsize=9)
    fig.tight_layout()
    save_figure(fig, path)
    return True
