"""Rendering a results directory: ``leaderboard.md`` and ``plots/`` from its saved tables."""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from harness.report.leaderboard import build_leaderboard, markdown_table, render_leaderboard_md
from harness.report.plots import render_plots
from harness.report.rule_choices import rule_choices
from harness.report.selection import selection_column, selection_label
from harness.report.speaker_interval import speaker_intervals, with_intervals
from harness.results.atomic import write_text
from harness.results.io import load_results
from harness.results.predictions import PREDICTIONS_FILE, load_predictions


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
    :class:`~harness.results.errors.ResultsError` for a missing directory or table.
    """
    results = load_results(out_dir)
    board = build_leaderboard(results.trials, results.config)
    if (results.path / PREDICTIONS_FILE).is_file():
        board = with_intervals(board, speaker_intervals(load_predictions(results.path)))
    plots, notes = render_plots(results.path, results.trials, results.confusions, results.config)
    metric_col = selection_column(results.trials)
    selection = selection_label(results.trials, metric_col) if metric_col else None
    text = render_leaderboard_md(board, results.config, experiment=results.experiment, selection=selection,
                                 plots=plots, notes=notes)
    choices = rule_choices(results.metrics)
    if not choices.empty:  # protocol.cross_selection: what each rule picks, side by side
        text += ("\n## Cross-corpus selection rules\n\nPer unit, the trial and epoch each rule picks (highest score; "
                 "risks and entropies negated) with the labelled source- and target-validation scores there "
                 "(target_oracle: an upper bound, never a method). Test rows: only the primary rule's pick.\n\n"
                 + markdown_table(choices.round(4)) + "\n")
    write_text(results.path / "leaderboard.md", text)
    return Report(path=results.path, experiment=results.experiment, board=board, plots=plots, notes=notes)
