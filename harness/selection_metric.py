"""Which trials-table column scores a trial for model selection, and which selected trial is best."""
from __future__ import annotations

import pandas as pd

DEFAULT_SELECTION = "val_fused_uar"


def selection_keys(config: dict | None) -> list[str]:
    """Selection metric names the config states, e.g. ``["val_fused_uar"]``.

    Read from a top-level ``selection_metric`` string, and from a ``protocol`` section with ``name``,
    ``selection_head`` and ``selection_metric`` (the ``paper`` protocol selects on test data).
    """
    config = config or {}
    keys = []
    if isinstance(config.get("selection_metric"), str):
        keys.append(config["selection_metric"])
    protocol = config.get("protocol")
    if isinstance(protocol, dict):
        split = "test" if protocol.get("name") == "paper" else "val"
        keys.append(f"{split}_{protocol.get('selection_head', 'fused')}_{protocol.get('selection_metric', 'uar')}")
    return keys


def selection_column(trials: pd.DataFrame, config: dict | None) -> str | None:
    """The trials column holding each trial's selection score.

    ``best_<key>`` for the first key of :func:`selection_keys` that has one (``val_fused_uar`` →
    ``best_val_fused_uar``); else the sweep's ``best_score``; else ``best_val_fused_uar``; else the first
    ``best_val_*`` column. A bare ``test_*`` column is never used: it is filled for selected trials only.
    """
    for key in selection_keys(config):
        col = key if key.startswith("best_") else f"best_{key}"
        if col in trials:
            return col
    if "best_score" in trials:
        return "best_score"
    if f"best_{DEFAULT_SELECTION}" in trials:
        return f"best_{DEFAULT_SELECTION}"
    return next((c for c in trials.columns if c.startswith("best_val_")), None)


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


def best_selected_trial(trials: pd.DataFrame, metric_col: str | None) -> pd.Series | None:
    """The selected trial with the best ``metric_col`` (ties: first in table order); None if none is selected."""
    selected = trials[trials["selected"].astype(bool)]
    if selected.empty:
        return None
    if metric_col is None or metric_col not in selected:
        return selected.iloc[0]
    values = pd.to_numeric(selected[metric_col], errors="coerce").astype(float)
    if values.isna().all():
        return selected.iloc[0]
    return selected.loc[values.idxmax() if maximizes(metric_col) else values.idxmin()]
