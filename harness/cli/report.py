"""`fdan-bench report` and `fdan-bench compare`: re-render one results directory, or set several side by side."""
from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated, NoReturn

import pandas as pd
import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from harness.report.compare import compare as compare_dirs
from harness.report.compare import compare_markdown, compare_table
from harness.report.leaderboard import PROTOCOL_NOTE, format_leaderboard
from harness.report.render import render_report
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
    """Re-render leaderboard.md and plots/ of a results directory from its saved tables."""
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
        common = ["pair", "kind", "protocol", "folds"]
        for head in HEADS:  # one table per head keeps each readable in an ordinary terminal
            cols = common + [c for c in shown.columns if c.startswith(f"{head} ")]
            cols += ["paper (WAR/UAR)"] if head == "fused" else []
            console.print(rich_table(shown[cols], f"Leaderboard — {rendered.experiment}: {head} head, test %"))
    console.print(f"[dim]{PROTOCOL_NOTE}[/]", highlight=False)
    for note in rendered.notes:
        console.print(f"[yellow]note:[/] {note}", highlight=False)
    console.print(f"Wrote {rendered.path / 'leaderboard.md'} and {len(rendered.plots)} plot(s) in "
                  f"{rendered.path / 'plots'}", highlight=False)


def compare(
    results_dirs: Annotated[list[Path], typer.Argument(help="Results directories to set side by side.")],
    out: Annotated[
        Path | None,
        typer.Option("--out", help="Also write the comparison: .csv gets the numeric table, anything else markdown."),
    ] = None,
) -> None:
    """Set several experiments side by side (test WAR / UAR / macro-F1 per pair, mean ± std over folds)."""
    console = _console()
    try:
        with _console(stderr=True).status(f"Loading {len(results_dirs)} results director(ies) …"):
            df = compare_dirs(results_dirs)
    except ResultsError as exc:
        _fail(escape(str(exc)))
    table = compare_table(df, "fused")
    # "exp [protocol] UAR" headers on three lines keep the columns as narrow as their cells
    table.columns = [c.replace(" [", "\n[").replace("] ", "]\n") for c in table.columns]
    console.print(rich_table(table, "Fused head, test % (mean ± std over folds)"))
    if df["protocol"].astype(str).nunique() > 1:
        console.print("[bold yellow]Protocols differ between columns: not a like-for-like comparison.[/]")
    if out is not None:
        try:
            out.parent.mkdir(parents=True, exist_ok=True)
            if out.suffix.lower() == ".csv":
                df.to_csv(out, index=False)
            else:
                out.write_text(compare_markdown(df))
        except OSError as exc:
            _fail(escape(f"cannot write {out}: {exc}"))
        console.print(f"Wrote {out}", highlight=False)
