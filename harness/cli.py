"""The `fdan-bench` command line. Each command lives in its own `harness/cmd_*.py` module."""
from __future__ import annotations

import importlib

import typer

app = typer.Typer(
    name="fdan-bench",
    help="Train, tune and compare FDAN multi-modal speech emotion models across corpora.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)

# (command name, module, function): one module per command group, registered in this order.
_COMMANDS = [
    ("synth", "harness.cmd_synth", "synth"),
    ("prepare", "harness.cmd_prepare", "prepare"),
    ("train", "harness.cmd_run", "train"),
    ("sweep", "harness.cmd_run", "sweep"),
    ("report", "harness.cmd_report", "report"),
    ("compare", "harness.cmd_report", "compare"),
]

for _name, _module, _func in _COMMANDS:
    app.command(_name)(getattr(importlib.import_module(_module), _func))


def main() -> None:
    app()


if __name__ == "__main__":
    main()
