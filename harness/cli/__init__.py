"""The `fdan-bench` command line: the Typer app (`harness.cli.app`) and one module per command group."""
from harness.cli.app import app, main

__all__ = ["app", "main"]
