"""The leaderboard: held-out test metrics of the selected trials, per pair and overall, with the paper's numbers.

Numbers: trial metrics are fractions in [0, 1] (as ``fdan.metrics`` returns them); the leaderboard shows
percent. Per pair, each fold's selected trial contributes one value; the cell is the mean ± sample standard
deviation (ddof=1) over folds, and "± –" where there is one fold (no spread to report). The overall row per
protocol is the mean over pairs of the pair means, ± the standard deviation of those pair means.
"""
from __future__ import annotations

import math
from typing import Any

import pandas as pd

HEADS: tuple[str, ...] = ("fused", "audio", "face")
METRICS: tuple[str, ...] = ("war", "uar", "macro_f1")
METRIC_LABELS: dict[str, str] = {"war": "WAR", "uar": "UAR", "macro_f1": "macro-F1"}
# FDAN paper (arXiv 2410.22023), within-corpus WAR / UAR in percent, keyed by lower-case corpus name
PAPER_RESULTS: dict[str, tuple[float, float]] = {"savee": (86.66, 86.19), "meld": (81.16, 75.91)}
DASH = "–"
OVERALL = "overall"

PROTOCOL_NOTE = (
    "Test-set percentages of the trial selected per pair × fold: mean ± sample std (ddof=1) over folds; "
    "\"± –\" means a single fold. Overall rows: mean over pairs ± std of the pair means. "
    "Protocol difference: the paper column is the FDAN paper's reported within-corpus WAR / UAR "
    "(arXiv 2410.22023), which is the best test epoch of its public code — model selection on test data, "
    "with a single modality at test time. Our rows select the model on validation data and report the fused, "
    "audio-only and face-only heads, unless the protocol column says \"paper\" (best test epoch, for "
    "comparison only). The paper column is therefore not a like-for-like comparison."
)


def value_columns() -> list[str]:
    """Numeric column names of the board: ``<head>_<metric>_mean`` and ``_std`` for every head and metric."""
    return [f"{h}_{m}_{s}" for h in HEADS for m in METRICS for s in ("mean", "std")]


def paper_cell(source: str, target: str) -> str:
    """The paper's "WAR / UAR" for a within-corpus pair on SAVEE or MELD (case-insensitive), else "–"."""
    key = str(source).strip().lower()
    if str(source).strip().lower() != str(target).strip().lower() or key not in PAPER_RESULTS:
        return DASH
    war, uar = PAPER_RESULTS[key]
    return f"{war:.2f} / {uar:.2f}"


def _pair_row(group: pd.DataFrame) -> dict[str, Any]:
    first = group.iloc[0]
    # average duplicates within a fold first, so each fold weighs once
    per_fold = group.groupby("fold", sort=True)[
        [f"test_{h}_{m}" for h in HEADS for m in METRICS]
    ].mean()
    row: dict[str, Any] = {
        "pair": str(first["pair"]),
        "kind": "within" if str(first["source"]) == str(first["target"]) else "cross",
        "protocol": str(first["protocol"]),
        "folds": int(per_fold.shape[0]),
    }
    for h in HEADS:
        for m in METRICS:
            values = per_fold[f"test_{h}_{m}"].astype(float) * 100.0
            row[f"{h}_{m}_mean"] = values.mean()
            row[f"{h}_{m}_std"] = values.std(ddof=1)
    row["paper"] = paper_cell(first["source"], first["target"])
    return row


def _overall_row(pairs: pd.DataFrame, protocol: str) -> dict[str, Any]:
    kinds = set(pairs["kind"])
    row: dict[str, Any] = {
        "pair": OVERALL,
        "kind": kinds.pop() if len(kinds) == 1 else "mixed",
        "protocol": protocol,
        "folds": int(pairs["folds"].sum()),
    }
    for h in HEADS:
        for m in METRICS:
            means = pairs[f"{h}_{m}_mean"].astype(float)
            row[f"{h}_{m}_mean"] = means.mean()
            row[f"{h}_{m}_std"] = means.std(ddof=1)
    row["paper"] = DASH
    return row


def build_leaderboard(trials: pd.DataFrame, config: dict | None = None) -> pd.DataFrame:
    """Numeric leaderboard from the trials table.

    Rows: one per (protocol, pair) over the selected trials — within-corpus pairs first, then cross-corpus,
    by name — followed by one ``overall`` row per protocol. Columns: pair, kind (within/cross, "mixed" for
    an overall row over both), protocol, folds, :func:`value_columns` in percent, paper.
    ``config`` is accepted for symmetry with the report; the board depends on the trials only.
    """
    del config
    columns = ["pair", "kind", "protocol", "folds", *value_columns(), "paper"]
    selected = trials[trials["selected"].astype(bool)].copy()
    for h in HEADS:
        for m in METRICS:
            if f"test_{h}_{m}" not in selected:
                selected[f"test_{h}_{m}"] = math.nan
    if selected.empty:
        return pd.DataFrame(columns=columns)
    selected["protocol"] = selected["protocol"].astype(str)
    rows: list[dict[str, Any]] = []
    for protocol, by_protocol in selected.groupby("protocol", sort=True):
        pair_rows = pd.DataFrame([_pair_row(g) for _, g in by_protocol.groupby("pair", sort=True)])
        order = pair_rows["kind"].map(_kind_order)
        pair_rows = pair_rows.assign(_order=order).sort_values(["_order", "pair"]).drop(columns="_order")
        rows.extend(pair_rows.to_dict("records"))
        rows.append(_overall_row(pair_rows, str(protocol)))
    return pd.DataFrame(rows, columns=columns).reset_index(drop=True)


def _kind_order(kind: str) -> int:
    return {"within": 0, "cross": 1}.get(kind, 2)


def mean_std_cell(mean: float, std: float) -> str:
    """``"72.50 ± 1.25"``; ``"72.50 ± –"`` without a std (one fold); ``"–"`` without a mean."""
    if mean is None or pd.isna(mean):
        return DASH
    return f"{mean:.2f} ± {DASH if std is None or pd.isna(std) else f'{std:.2f}'}"


def format_leaderboard(board: pd.DataFrame) -> pd.DataFrame:
    """Display form of :func:`build_leaderboard`: strings, one "mean ± std" column per head and metric."""
    out = pd.DataFrame({
        "pair": board["pair"].astype(str),
        "kind": board["kind"].astype(str),
        "protocol": board["protocol"].astype(str),
        "folds": board["folds"].astype(str),
    })
    for h in HEADS:
        for m in METRICS:
            out[f"{h} {METRIC_LABELS[m]}"] = [
                mean_std_cell(mu, sd) for mu, sd in zip(board[f"{h}_{m}_mean"], board[f"{h}_{m}_std"])
            ]
    out["paper (WAR/UAR)"] = board["paper"].astype(str)
    return out.reset_index(drop=True)


def markdown_table(df: pd.DataFrame) -> str:
    """A GitHub-flavoured markdown table of ``df`` (all cells as text, "|" escaped)."""
    def cell(v: Any) -> str:
        return str(v).replace("|", "\\|").replace("\n", " ")

    lines = ["| " + " | ".join(cell(c) for c in df.columns) + " |",
             "|" + "|".join("---" for _ in df.columns) + "|"]
    lines += ["| " + " | ".join(cell(v) for v in row) + " |" for row in df.itertuples(index=False)]
    return "\n".join(lines)


def _protocol_name(config: dict) -> str:
    protocol = config.get("protocol")
    if isinstance(protocol, dict):
        protocol = protocol.get("name")
    return str(protocol or "unspecified")


def render_leaderboard_md(
    board: pd.DataFrame,
    config: dict | None = None,
    *,
    experiment: str | None = None,
    selection: str | None = None,
    plots: list[tuple[str, str]] | None = None,
    notes: list[str] | None = None,
) -> str:
    """The ``leaderboard.md`` text: title, selection metric, the formatted board, the protocol note, plots.

    ``selection`` names the selection metric (default: the config's ``selection_metric``); ``plots`` are
    (title, relative path) pairs linked under the table; ``notes`` are extra lines (for example why a plot
    could not be drawn). The output is deterministic: no timestamps.
    """
    config = config or {}
    name = experiment or config.get("experiment") or config.get("name") or "experiment"
    lines = [f"# Leaderboard — {name}", ""]
    if config.get("label"):
        lines += [f"_{config['label']}_", ""]
    selection = selection or str(config.get("selection_metric") or "unspecified")
    lines += [f"Selection metric: `{selection}`; configured protocol: `{_protocol_name(config)}`.", ""]
    if board.empty:
        lines.append("_No selected trials: nothing to rank._")
    else:
        lines.append(markdown_table(format_leaderboard(board)))
    lines += ["", f"> {PROTOCOL_NOTE}", ""]
    if plots:
        lines += ["## Plots", ""]
        lines += [f"- [{title}]({path})" for title, path in plots]
        lines.append("")
    if notes:
        lines += ["## Notes", ""]
        lines += [f"- {n}" for n in notes]
        lines.append("")
    return "\n".join(lines)
