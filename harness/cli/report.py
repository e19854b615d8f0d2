"""`fdan-bench report` and `fdan-bench compare`: re-render one results directory, or set several side by side."""
from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated, NoReturn, Optional

import pandas as pd
import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from harness.report.compare import compare as compare_dirs
from harness.report.compare import compare_markdown, compare_table
from harness.report.compare_classes import compare_per_class
from harness.report.compare_page import render_compare_html
from harness.report.leaderboard import PROTOCOL_NOTE, format_leaderboard, markdown_table
from harness.report.method_stats import method_stats, stats_display
from harness.report.paired import load_systems, paired_display, paired_table
from harness.report.render import render_report
from harness.results.atomic import atomic_write, write_text
from harness.results.columns import HEADS
from harness.results.errors import ResultsError

# piped output (not a terminal) would default to 80 columns and squash the tables
PIPE_WIDTH = 200


def _console(stderr: bool = False) -> Console:
    stream = sys.stderr if stderr else sys.stdout
    return Console(stderr=stderr, width=None if stream.isatty() else PIPE_WIDTH)


def _fail(message: str) -> NoReturn:
    _console(stderr=True).print(f"[bold red]error:[/] {message}", highlight=False, soft_wrap=True)
    raise typer.Exit(2)


def rich_table(df: pd.DataFrame, title: str) -> Table:
    """A rich Table with ``df``'s columns and its cells as literal text (``[paper]`` is not markup)."""
    table = Table(title=escape(title), show_lines=False, header_style="bold")
    for col in df.columns:
        table.add_column(escape(str(col)), no_wrap=col in ("pair", "kind", "protocol", "folds"))
    for row in df.itertuples(index=False):
        table.add_row(*(escape(str(v)) for v in row))
    return table


def report(
    results_dir: Annotated[Path, typer.Argument(help="A results/<experiment> directory written by a sweep.")],
) -> None:
    """Re-render leaderboard.md, per_class.csv, plots/ and report.html of a results directory from its saved tables."""
    console = _console()
    try:
        with _console(stderr=True).status(f"Rendering {results_dir} …"):
            rendered = render_report(results_dir)
    except ResultsError as exc:
        _fail(escape(str(exc)))
    if rendered.board.empty:
        console.print("No selected trials: nothing to rank.")
    else:
        shown = format_leaderboard(rendered.board)
        common = [c for c in ("pair", "kind", "protocol", "variant", "method", "modalities", "folds") if c in shown.columns]
        for head in HEADS:  # one table per head keeps each readable in an ordinary terminal
            cols = common + [c for c in shown.columns if c.startswith(f"{head} ")]
            cols += ["paper (WAR/UAR)"] if head == "fused" else []
            console.print(rich_table(shown[cols], f"Leaderboard — {rendered.experiment}: {head} head, test %"))
    console.print(f"[dim]{PROTOCOL_NOTE}[/]", highlight=False)
    for note in rendered.notes:
        console.print(f"[yellow]note:[/] {note}", highlight=False)
    console.print(f"Wrote {rendered.path / 'report.html'}, {rendered.path / 'leaderboard.md'}, "
                  f"{rendered.path / 'per_class.csv'} and {len(rendered.plots)} plot(s) in {rendered.path / 'plots'}",
                  highlight=False)


def compare(
    results_dirs: Annotated[list[Path], typer.Argument(help="Results directories to set side by side.")],
    out: Annotated[
        Path | None,
        typer.Option("--out", help="Also write the comparison: .html a self-contained page, .csv the numeric table "
                     "(+ .per_class.csv), anything else markdown."),
    ] = None,
    stats: Annotated[bool, typer.Option("--stats", help="Each system vs --baseline on the same test rows "
                                        "(predictions.parquet): speaker-cluster bootstrap over folds and seeds, Holm-"
                                        "corrected (with --out x.csv: that table in x.csv, the leaderboards in "
                                        "x.board.csv, per-model McNemar in x.paired.csv).")] = False,
    baseline: Annotated[Optional[str], typer.Option("--baseline", help="System the others are tested against: an "
                                                    "experiment name or <experiment>/<variant>; with --selection "
                                                    "<experiment>[/<variant>]@<rule> (default: the first).")] = None,
    head: Annotated[str, typer.Option("--head", help="Head the paired tests use: fused, audio or face.")] = "fused",
    selection: Annotated[Optional[list[str]], typer.Option(
        "--selection", help="Cross-corpus selection rule(s) whose own picks to compare (repeatable; 'all': every "
        "rule the sweep tested): systems become <experiment>[/<variant>]@<rule> and the table gains those rules' "
        "rows. Default: the primary rule (protocol.cross_selection's first).")] = None,
    n_boot: Annotated[int, typer.Option("--n-boot", min=100, help="Bootstrap resamples.")] = 2000,
) -> None:
    """Set several experiments side by side (test WAR / UAR / macro-F1 per pair, mean ± std over folds);
    with --stats also test each system against a baseline on the same test utterances."""

    console = _console()
    paired = method = None
    skipped: list[str] = []
    try:
        with _console(stderr=True).status(f"Loading {len(results_dirs)} results director(ies) …"):
            df = compare_dirs(results_dirs, selection)
            if stats:
                systems = load_systems(results_dirs, selection)
                method, skipped = method_stats(systems, baseline, head, n_boot)
                paired = paired_table(systems, baseline, head, n_boot)
    except ResultsError as exc:
        _fail(escape(str(exc)))
    table = compare_table(df, "fused")
    # "exp [protocol] UAR" headers on three lines keep the columns as narrow as their cells
    table.columns = [c.replace(" [", "\n[").replace("] ", "]\n") for c in table.columns]
    console.print(rich_table(table, "Fused head, test % (mean ± std over folds)"))
    if df["protocol"].astype(str).nunique() > 1:
        console.print("[bold yellow]Protocols differ between columns: not a like-for-like comparison.[/]")
    if paired is not None:
        console.print(rich_table(stats_display(method), f"Method-level comparison, {head} head (Δ = system − "
                                 "baseline, %; 95 % speaker-cluster bootstrap over folds and seeds; Holm)"))
        console.print(rich_table(paired_display(paired), f"Per-model paired tests, {head} head (one seed, rows i.i.d.)"))
        for note in skipped:
            console.print(f"[yellow]skipped:[/] {escape(note)}", highlight=False)
    if out is not None:
        try:
            per_class = compare_per_class(results_dirs)
            if out.suffix.lower() in (".html", ".htm"):
                shown = stats_display(method) if method is not None else None  # method-level, Holm-corrected
                write_text(out, render_compare_html(df, per_class, shown, head))
            elif out.suffix.lower() == ".csv":
                if method is not None:  # the method-level table; the leaderboards beside it
                    atomic_write(out, lambda tmp: method.to_csv(tmp, index=False))
                    atomic_write(out.with_name(f"{out.stem}.board.csv"), lambda tmp: df.to_csv(tmp, index=False))
                else:
                    atomic_write(out, lambda tmp: df.to_csv(tmp, index=False))
                atomic_write(out.with_name(f"{out.stem}.per_class.csv"), lambda tmp: per_class.to_csv(tmp, index=False))
                if paired is not None:
                    side = out.with_name(f"{out.stem}.paired.csv")
                    atomic_write(side, lambda tmp: paired.to_csv(tmp, index=False))
            else:
                text = compare_markdown(df, per_class)
                if method is not None:
                    text += (f"\n## Method-level comparison, {head} head (Δ = system − baseline, %, 95 % speaker-"
                             "cluster bootstrap, Holm-corrected p)\n\n" + markdown_table(stats_display(method)) + "\n")
                if paired is not None:
                    text += (f"\n## Paired tests, {head} head (Δ = system − baseline, %, 95 % bootstrap CI)\n\n"
                             + markdown_table(paired_display(paired)) + "\n")
                write_text(out, text)
        except OSError as exc:
            _fail(escape(f"cannot write {out}: {exc}"))
        except ResultsError as exc:
            _fail(escape(str(exc)))
        console.print(f"Wrote {out}", highlight=False)
