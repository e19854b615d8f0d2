"""The `fdan-bench` Typer app. Each command group lives in its own `harness/cli/*.py` module."""
from __future__ import annotations

import typer

from harness.cli.experiment import sweep, train
from harness.cli.jobs import jobs_app, submit
from harness.cli.predict import export, predict
from harness.cli.prepare import prepare
from harness.cli.report import compare, report
from harness.cli.synth import synth
from harness.cli.weights import weights_app

app = typer.Typer(
    name="fdan-bench",
    help="Train, tune and compare FDAN multi-modal speech emotion models across corpora.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)

# registered in this order: it is the order `fdan-bench --help` lists them
for name, command in [("synth", synth), ("prepare", prepare), ("train", train), ("sweep", sweep),
                      ("report", report), ("compare", compare), ("export", export),
                      ("predict", predict), ("submit", submit)]:
    app.command(name)(command)
app.add_typer(jobs_app, name="jobs")
app.add_typer(weights_app, name="weights")


def main() -> None:
    app()


if __name__ == "__main__":
    main()
