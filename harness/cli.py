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

# (command name, module, function): modules are imported lazily so `--help` stays fast.
_COMMANDS = [
    ("synth", "harness.cmd_synth", "synth"),
    ("prepare", "harness.cmd_prepare", "prepare"),
    ("train", "harness.cmd_run", "train"),
    ("sweep", "harness.cmd_run", "sweep"),
    ("report", "harness.cmd_report", "report"),
    ("compare", "harness.cmd_report", "compare"),
]

for _name, _module, _func in _COMMANDS:
    try:
        _fn = getattr(importlib.import_module(_module), _func)
    except ModuleNotFoundError as exc:  # a command module not written yet must not break the others
        if exc.name != _module:
            raise
        continue
    app.command(_name)(_fn)


def main() -> None:
    app()


if __name__ == "__main__":
    main()
