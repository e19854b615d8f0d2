"""The leaderboard: held-out test metrics of the selected trials, per pair and overall, with the paper's numbers.

Numbers: trial metrics are fractions in [0, 1] (as ``fdan.metrics`` returns them); the leaderboard shows
percent. Per pair, each fold's selected trial contributes one value; the cell is the mean ± sample standard
deviation (ddof=1) over folds, and "± –" where there is one fold (no spread to report). The overall row per
protocol is the mean over pairs of the pair means, ± the standard deviation of those pair means.
"""
from __future__ import annotations

from typing import Any

import pandas as pd

from harness.results.columns import HEADS, METRICS

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


def _mean_std(frame: pd.DataFrame, by: str | list[str], prefix: str) -> pd.DataFrame:
    """``<head>_<metric>_mean`` / ``_std`` (ddof=1) of the ``<prefix><head>_<metric>`` columns per ``by`` group."""
    cols = [f"{prefix}{h}_{m}" for h in HEADS for m in METRICS]
    out = frame.groupby(by, sort=True)[cols].agg(["mean", "std"])
    out.columns = [f"{col[len(prefix):]}_{stat}" for col, stat in out.columns]
    return out


def build_leaderboard(trials: pd.DataFrame, config: dict | None = None) -> pd.DataFrame:
    """Numeric leaderboard from the trials table.

    Rows: one per (protocol, pair) over the selected trials — within-corpus pairs first, then cross-corpus,
    by name — followed by one ``overall`` row per protocol. Columns: pair, kind (within/cross, "mixed" for
    an overall row over both), protocol, folds, :func:`value_columns` in percent, paper.
    ``config`` is accepted for symmetry with the report; the board depends on the trials only.
    """
    del config
    columns = ["pair", "kind", "protocol", "folds", *value_columns(), "paper"]
    tests = [f"test_{h}_{m}" for h in HEADS for m in METRICS]
    selected = trials[trials["selected"].astype(bool)].reindex(columns=[*trials.columns, *(
        c for c in tests if c not in trials)])
    if selected.empty:
        return pd.DataFrame(columns=columns)
    selected = selected.assign(protocol=selected["protocol"].astype(str), pair=selected["pair"].astype(str),
                               **{c: pd.to_numeric(selected[c], errors="coerce").astype(float) * 100.0 for c in tests})
    # average duplicates within a fold first, so each fold weighs once
    per_fold = selected.groupby(["protocol", "pair", "fold"], sort=True)[tests].mean().reset_index()
    pairs = _mean_std(per_fold, ["protocol", "pair"], "test_")
    ends = selected.groupby(["protocol", "pair"], sort=True)[["source", "target"]].first()
    pairs["folds"] = per_fold.groupby(["protocol", "pair"], sort=True).size()
    pairs["kind"] = ["within" if str(s) == str(t) else "cross" for s, t in zip(ends["source"], ends["target"])]
    pairs["paper"] = [paper_cell(s, t) for s, t in zip(ends["source"], ends["target"])]
    pairs = pairs.reset_index()
    pairs = pairs.assign(_order=pairs["kind"].map({"within": 0, "cross": 1})).sort_values(["protocol", "_order", "pair"])
    overall = _mean_std(pairs.rename(columns=lambda c: f"pair_{c[:-5]}" if c.endswith("_mean") else c),
                        "protocol", "pair_")
    overall["folds"] = pairs.groupby("protocol")["folds"].sum()
    overall["kind"] = pairs.groupby("protocol")["kind"].agg(lambda k: k.iloc[0] if k.nunique() == 1 else "mixed")
    overall = overall.reset_index().assign(pair=OVERALL, paper=DASH, _order=2)
    rows = pd.concat([pairs, overall], ignore_index=True).sort_values(["protocol", "_order"], kind="stable")
    return rows[columns].astype({"folds": int}).reset_index(drop=True)


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
    """A GitHub-flavoured markdown table of ``df`` (all cells as text, "|" escaped).

    Hand-written on purpose: ``DataFrame.to_markdown`` needs ``tabulate``, which is not a dependency."""
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

    ``selection`` names the selection metric (as the trials table stores it); ``plots`` are
    (title, relative path) pairs linked under the table; ``notes`` are extra lines (for example why a plot
    could not be drawn). The output is deterministic: no timestamps.
    """
    config = config or {}
    name = experiment or config.get("experiment") or config.get("name") or "experiment"
    lines = [f"# Leaderboard — {name}", ""]
    if config.get("label"):
        lines += [f"_{config['label']}_", ""]
    selection = selection or "unspecified"
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
