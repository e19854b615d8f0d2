"""Rendering a results directory from its saved tables: ``leaderboard.md``, ``per_class.csv``, ``plots/`` and
``report.html``."""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from harness.report.label_shift import distributions_markdown, label_distributions
from harness.report.leaderboard import build_leaderboard, markdown_table, render_leaderboard_md
from harness.report.per_class import PER_CLASS_FILE, per_class_markdown, per_class_table, pooled_confusions
from harness.report.plots import render_plots
from harness.report.rule_choices import rule_choices
from harness.report.report_page import REPORT_FILE, render_report_html
from harness.report.selection import selection_column, selection_label
from harness.report.speaker_interval import speaker_intervals, with_intervals
from harness.results.atomic import atomic_write, write_text
from harness.results.io import load_results
from harness.results.predictions import PREDICTIONS_FILE, load_predictions
from harness.results.selections import load_selections


@dataclass
class Report:
    """What :func:`render_report` produced."""

    path: Path
    experiment: str
    board: pd.DataFrame
    plots: list[tuple[str, str]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    per_class: pd.DataFrame = field(default_factory=pd.DataFrame)


def render_report(out_dir: Path | str) -> Report:
    """(Re-)render ``leaderboard.md``, ``per_class.csv``, ``plots/`` and ``report.html`` of a results directory
    from its saved files only (and, for the label distributions, the feature caches the run used, when present).

    Rendering twice from the same files gives the same ``leaderboard.md`` and ``report.html``. Raises
    :class:`~harness.results.errors.ResultsError` for a missing directory or table.
    """
    results = load_results(out_dir)
    # protocol.cross_selection: every rule's own pick is a row of its own (selections.csv)
    board = build_leaderboard(results.trials, results.config, load_selections(results.path))
    if (results.path / PREDICTIONS_FILE).is_file():
        board = with_intervals(board, speaker_intervals(load_predictions(results.path)))
    pooled = pooled_confusions(results.confusions, results.trials)
    per_class = per_class_table(pooled)
    atomic_write(results.path / PER_CLASS_FILE, lambda tmp: per_class.to_csv(tmp, index=False))
    figures = render_plots(results.path, results.metrics, results.trials, pooled, results.config)
    dists, dist_notes = label_distributions(results.trials, results.config, results.path)
    notes = [*figures.notes, *dist_notes]
    metric_col = selection_column(results.trials)
    selection = selection_label(results.trials, metric_col) if metric_col else None
    sections = [per_class_markdown(per_class)] + ([distributions_markdown(dists)] if dists else [])
    text = render_leaderboard_md(board, results.config, experiment=results.experiment, selection=selection,
                                 plots=figures.all, notes=notes, sections=sections)
    choices = rule_choices(results.metrics)
    if not choices.empty:  # protocol.cross_selection: what each rule picks, side by side
        text += ("\n## Cross-corpus selection rules\n\nPer unit, the trial and epoch each rule picks (highest score; "
                 "risks and entropies negated) with the labelled source- and target-validation scores there "
                 "(target_oracle: an upper bound, never a method). Each rule's pick is tested: the leaderboard rows "
                 "whose protocol names the rule (no suffix: source_val), and selections.csv.\n\n"
                 + markdown_table(choices.round(4)) + "\n")
    write_text(results.path / "leaderboard.md", text)
    page = render_report_html(results, board, per_class, dists, figures, notes, selection)
    write_text(results.path / REPORT_FILE, page)
    return Report(path=results.path, experiment=results.experiment, board=board, plots=figures.all, notes=notes,
                  per_class=per_class)
