"""`fdan-bench train CONFIG` (one run per pair x fold at the config's settings) and
`fdan-bench sweep CONFIG` (hyper-parameter search per pair x fold), both on Ray.

Exit codes: 0 done; 2 invalid config, missing corpus, or a results directory that clashes;
130 interrupted (the message says how to resume); 1 anything else (a failed run).
"""
from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated, Optional

import typer

from harness.cli.plan import ClusterOpt, EstimateOpt, PlanOpt, show_plan
from harness.config import ConfigError, ExperimentConfig, load_config
from harness.errors import InputError, SweepFailed, SweepInterrupted

ConfigArg = Annotated[Path, typer.Argument(help="experiment YAML, e.g. experiments/quickstart.yaml", show_default=False)]
SetOpt = Annotated[Optional[list[str]], typer.Option("--set", help="dotted override KEY=VALUE, repeatable (train.epochs=3)")]
AddressOpt = Annotated[Optional[str], typer.Option(help="Ray cluster to join ('auto' = the running one); default: start a local one")]
SmokeOpt = Annotated[bool, typer.Option("--smoke-test", help="shrink epochs, samples, folds and inputs (CI)")]


def _fail(message: str, code: int) -> None:
    typer.echo(f"error: {message}", err=True)
    raise typer.Exit(code)


def _load(config: Path, overrides: list[str] | None, smoke_test: bool) -> ExperimentConfig:
    sets = list(overrides or []) + (["smoke_test=true"] if smoke_test else [])
    try:
        return load_config(config, sets)
    except ConfigError as exc:
        _fail(str(exc), 2)
        raise  # unreachable; keeps type checkers happy


def _run(cfg: ExperimentConfig, *, address: str | None, resume: bool, search: bool, command: str, config: Path,
         cluster_yaml: Path | None = None) -> None:
    from fdan.corpora import CorpusError  # lazy: the run (Ray, Tune, the models) only when a run starts
    from harness.experiment.run import run_experiment
    from harness.report.render import render_report

    try:
        # the report is re-rendered after every unit: `fdan-bench report` works on a running sweep too
        out = run_experiment(cfg, address=address, resume=resume, search=search, on_results=render_report,
                             cluster_yaml=cluster_yaml)
    except (InputError, CorpusError) as exc:  # fdan's own input error (a corpus that cannot be read) too
        _fail(str(exc), 2)
    except SweepFailed as exc:
        _fail(f"{exc}\nfix the cause, then retry the failed trials with: fdan-bench {command} {config} --resume", 1)
    except (SweepInterrupted, KeyboardInterrupt) as exc:
        detail = f" ({exc})" if str(exc) else ""
        _fail(f"interrupted{detail}; continue with: fdan-bench {command} {config} --resume "
              "(with the same --set options)", 130)
    else:
        typer.echo(f"results: {out} (report.html, leaderboard.md, metrics/trials tables, plots/)")


def train(
    config: ConfigArg,
    set_: SetOpt = None,
    address: AddressOpt = None,
    resume: Annotated[bool, typer.Option(help="continue an interrupted run")] = False,
    smoke_test: SmokeOpt = False,
    plan: PlanOpt = False,
    cluster: ClusterOpt = None,
    estimate_from: EstimateOpt = None,
) -> None:
    """Train one model per (pair x fold) at the config's settings (no search), then test it.

    Results go to <output_dir>/<name>-train.
    """
    cfg = _load(config, set_, smoke_test)
    cfg = cfg.model_copy(update={"name": f"{cfg.name}-train"})
    if plan:
        return show_plan(cfg, search=False, address=address, cluster_yaml=cluster, estimate_from=estimate_from)
    _run(cfg, address=address, resume=resume, search=False, command="train", config=config, cluster_yaml=cluster)


def sweep(
    config: ConfigArg,
    address: AddressOpt = None,
    resume: Annotated[bool, typer.Option(help="continue an interrupted sweep; finished trials are not redone")] = False,
    set_: SetOpt = None,
    smoke_test: SmokeOpt = False,
    plan: PlanOpt = False,
    cluster: ClusterOpt = None,
    estimate_from: EstimateOpt = None,
) -> None:
    """Search hyper-parameters per (pair x fold) with Optuna TPE + ASHA on Ray Tune; test the chosen models.

    Results go to <output_dir>/<name>: metrics and trials tables, confusion.json, config.resolved.yaml,
    env.json, report.html, leaderboard.md, per_class.csv and plots/.
    """
    cfg = _load(config, set_, smoke_test)
    if not cfg.search.space:
        _fail(f"{config}: search.space: empty, nothing to search; add distributions (README, \"Search space\") "
              f"or train at the config's own settings with: fdan-bench train {config}", 2)
    if plan:
        return show_plan(cfg, search=True, address=address, cluster_yaml=cluster, estimate_from=estimate_from)
    _run(cfg, address=address, resume=resume, search=True, command="sweep", config=config, cluster_yaml=cluster)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(typer.run(sweep))
