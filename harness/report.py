"""Rendering a results directory (leaderboard.md + plots/) and comparing several side by side."""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Sequence

import pandas as pd

from harness.leaderboard import (
    DASH, HEADS, METRIC_LABELS, METRICS, OVERALL, PROTOCOL_NOTE, build_leaderboard, markdown_table,
    mean_std_cell, render_leaderboard_md,
)
from harness.plots import render_plots
from harness.results import ResultsError, load_results
from harness.selection_metric import selection_column, selection_label


@dataclass
class Report:
    """What :func:`render_report` produced."""

    path: Path
    experiment: str
    board: pd.DataFrame
    plots: list[tuple[str, str]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def render_report(out_dir: Path | str) -> Report:
    """(Re-)render ``leaderboard.md`` and ``plots/`` of a results directory from its saved files only.

    Rendering twice from the same files gives the same ``leaderboard.md``. Raises
    :class:`~harness.results.ResultsError` for a missing directory or table.
    """
    results = load_results(out_dir)
    board = build_leaderboard(results.trials, results.config)
    plots, notes = render_plots(results.path, results.trials, results.confusions, results.config)
    metric_col = selection_column(results.trials, results.config)
    selection = selection_label(results.trials, metric_col) if metric_col else None
    text = render_leaderboard_md(board, results.config, experiment=results.experiment, selection=selection,
                                 plots=plots, notes=notes)
    (results.path / "leaderboard.md").write_text(text)
    return Report(path=results.path, experiment=results.experiment, board=board, plots=plots, notes=notes)


def compare(dirs: Sequence[Path | str]) -> pd.DataFrame:
    """The leaderboards of several results directories stacked, with an ``experiment`` column first.

    An experiment name used by two directories is disambiguated with the directory path.
    """
    if not dirs:
        raise ResultsError("compare needs at least one results directory")
    frames: list[pd.DataFrame] = []
    seen: set[str] = set()
    for d in dirs:
        results = load_results(d)
        name = results.experiment
        if name in seen:
            name = f"{name} ({results.path})"
        seen.add(name)
        board = build_leaderboard(results.trials, results.config)
        board.insert(0, "experiment", name)
        frames.append(board)
    return pd.concat(frames, ignore_index=True)


def _pair_order(df: pd.DataFrame) -> list[str]:
    pairs = list(dict.fromkeys(df["pair"].astype(str)))
    return [p for p in pairs if p != OVERALL] + ([OVERALL] if OVERALL in pairs else [])


def compare_table(df: pd.DataFrame, head: str = "fused") -> pd.DataFrame:
    """Side-by-side display table for one head: a row per pair (overall last); for every
    (experiment, protocol) a WAR, UAR and macro-F1 column of "mean ± std" cells ("–" where absent)."""
    groups = list(dict.fromkeys(zip(df["experiment"].astype(str), df["protocol"].astype(str))))
    pairs = _pair_order(df)
    kinds = df.drop_duplicates("pair").set_index("pair")["kind"].astype(str)
    out = pd.DataFrame({"pair": pairs, "kind": [kinds.get(p, DASH) for p in pairs]})
    for experiment, protocol in groups:
        rows = df[(df["experiment"] == experiment) & (df["protocol"].astype(str) == protocol)]
        rows = rows.drop_duplicates("pair").set_index("pair")
        for m in METRICS:
            cells = []
            for p in pairs:
                if p in rows.index:
                    cells.append(mean_std_cell(rows.at[p, f"{head}_{m}_mean"], rows.at[p, f"{head}_{m}_std"]))
                else:
                    cells.append(DASH)
            out[f"{experiment} [{protocol}] {METRIC_LABELS[m]}"] = cells
    return out


def compare_markdown(df: pd.DataFrame) -> str:
    """Markdown of :func:`compare`'s frame: one side-by-side table per head, with the protocol note."""
    experiments = list(dict.fromkeys(df["experiment"].astype(str)))
    lines = [f"# Comparison — {', '.join(experiments)}", ""]
    protocols = sorted(set(df["protocol"].astype(str)))
    if len(protocols) > 1:
        lines += [f"**Protocols differ between columns ({', '.join(protocols)}): "
                  "those columns are not a like-for-like comparison.**", ""]
    for head in HEADS:
        lines += [f"## {head} head (test, %, mean ± std over folds)", "", markdown_table(compare_table(df, head)), ""]
    lines += [f"> {PROTOCOL_NOTE}", ""]
    return "\n".join(lines)
