"""Which trials-table column scores a trial for model selection.

The run stores the selection key of each trial in the ``selection_metric`` column (e.g.
``val_fused_uar``; ``test_fused_uar`` under the ``paper`` protocol) and the score in ``best_score``;
both are read from the table, never guessed from a config.
"""
from __future__ import annotations

import pandas as pd


def selection_column(trials: pd.DataFrame) -> str | None:
    """The trials column holding each trial's selection score, None when the table stores none.

    ``best_<key>`` when every trial names the same ``selection_metric`` key and that column exists
    (it reads better in a plot); else ``best_score``, each trial's score under its own key.
    """
    keys = trials["selection_metric"].dropna().astype(str).unique() if "selection_metric" in trials else []
    if len(keys) == 1 and f"best_{keys[0]}" in trials:
        return f"best_{keys[0]}"
    return "best_score" if "best_score" in trials else None


def selection_label(trials: pd.DataFrame, metric_col: str) -> str:
    """Axis label for ``metric_col``: ``best_score`` is named after the sweep's ``selection_metric`` column."""
    if metric_col == "best_score" and "selection_metric" in trials:
        keys = trials["selection_metric"].dropna().astype(str).unique()
        if len(keys) == 1:
            return f"best {keys[0]}"
    return metric_col


def maximizes(metric_col: str) -> bool:
    """Losses are minimised; every other metric (WAR, UAR, F1) is maximised."""
    return "loss" not in metric_col
