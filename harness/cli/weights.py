"""`fdan-bench weights fetch|list`: torchvision's ImageNet trunk weights in the torch hub cache (harness.cluster.weights)."""
from __future__ import annotations

from typing import Optional

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from harness.cluster.weights import DEFAULT_BASE_URL, WeightsFetchError, fetch, is_valid, weights_files

weights_app = typer.Typer(help="ImageNet trunk weights for `model.weights: imagenet`: fetch them, list them.",
                          no_args_is_help=True)
BackboneOpt = typer.Option(None, "--backbone", help="only this trunk (repeatable); default: every supported one")


def _files(backbone: Optional[list[str]]):
    try:
        return weights_files(backbone or None)
    except ValueError as exc:
        Console(stderr=True).print(f"[bold red]error:[/] {escape(str(exc))}", highlight=False, soft_wrap=True)
        raise typer.Exit(2) from None


@weights_app.command("fetch")
def fetch_command(
    backbone: Optional[list[str]] = BackboneOpt,
    base_url: Optional[str] = typer.Option(None, "--base-url", help=f"a mirror of {DEFAULT_BASE_URL} (same file names)"),
) -> None:
    """Download the files into the torch hub cache, each checked against the sha256 prefix in its published name."""
    console = Console()
    failed = 0
    for file in _files(backbone):
        try:
            downloaded = fetch(file, base_url, progress=console.is_terminal)
        except WeightsFetchError as exc:
            console.print(f"[red]failed[/] {file.backbone}: {escape(str(exc))}", highlight=False, soft_wrap=True)
            failed += 1
            continue
        console.print(f"{'fetched' if downloaded else 'present'} {file.backbone}: {file.path} (sha256 {file.hash_prefix}…)",
                      highlight=False, soft_wrap=True)
    if failed:
        raise typer.Exit(1)


@weights_app.command("list")
def list_command(backbone: Optional[list[str]] = BackboneOpt) -> None:
    """Each supported trunk's file, where it belongs, and whether a valid copy is there."""
    table = Table(header_style="bold")
    for col in ("backbone", "status", "path"):
        table.add_column(col)
    for file in _files(backbone):
        status = "ok" if is_valid(file) else ("hash mismatch" if file.path.is_file() else "missing")
        table.add_row(file.backbone, status, str(file.path))
    Console().print(table)
