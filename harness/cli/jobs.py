"""`fdan-bench submit CONFIG --address http://HEAD:8265` (a sweep or train as a Ray Job) and
`fdan-bench jobs status|logs|stop JOB_ID --address ...` (follow it). See harness.cluster.jobs.

Paths in the config are read on the head, relative to the job's working directory (a temporary copy
of the project): data, caches and results need absolute paths on storage the cluster shares, and the
config file is sent along when it lies inside the project (else its absolute path must exist there).
"""
from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from harness.cli.experiment import ConfigArg, SetOpt, SmokeOpt
from harness.cluster.jobs import follow_logs, job_logs, job_status, project_root, stop_job, submit_job
from harness.config import ConfigError, load_config
from harness.experiment.progress import last_progress

JobAddressOpt = Annotated[str, typer.Option("--address", help="the head's dashboard, e.g. http://127.0.0.1:8265")]
JobIdArg = Annotated[str, typer.Argument(help="job id printed by `fdan-bench submit`", show_default=False)]

jobs_app = typer.Typer(help="Follow sweeps submitted as Ray Jobs: status, logs, stop.", no_args_is_help=True)


def _relative_paths(cfg) -> list[str]:
    paths = {"output_dir": cfg.output_dir, "cache_dir": cfg.cache_dir,
             **{f"corpora.{n}.root": spec.root for n, spec in cfg.corpora.items()}}
    out = [f"{k}={v}" for k, v in paths.items() if not Path(v).is_absolute()]
    if cfg.storage is None:
        out.append("storage (unset: <output_dir>/<name>/ray)")
    return out


def submit(
    config: ConfigArg,
    address: JobAddressOpt,
    set_: SetOpt = None,
    train: Annotated[bool, typer.Option("--train", help="submit `train` (no search) instead of `sweep`")] = False,
    resume: Annotated[bool, typer.Option(help="continue an interrupted run")] = False,
    smoke_test: SmokeOpt = False,
) -> None:
    """Submit a sweep (or --train) as a Ray Job on a cluster's head; prints the job id."""

    try:  # refuse a bad config here, not on the cluster
        cfg = load_config(config, list(set_ or []) + (["smoke_test=true"] if smoke_test else []))
    except ConfigError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2)
    root = project_root()
    path = config.resolve()
    config_arg = str(path.relative_to(root)) if path.is_relative_to(root) else str(path)
    if not path.is_relative_to(root):
        typer.echo(f"note: {config} is outside the project, so it is not uploaded: the job reads {path} on the head",
                   err=True)
    relative = _relative_paths(cfg)
    if relative:
        typer.echo("note: on the head these are relative to the job's temporary working directory (use absolute "
                   "shared paths, and an object store or shared path for storage): " + ", ".join(relative), err=True)
    args = ["train" if train else "sweep", config_arg, "--address", "auto"]
    for item in set_ or []:
        args += ["--set", item]
    args += (["--resume"] if resume else []) + (["--smoke-test"] if smoke_test else [])
    try:
        job_id = submit_job(address, args)
    except (ConnectionError, RuntimeError) as exc:
        typer.echo(f"error: cannot submit to {address}: {exc}", err=True)
        raise typer.Exit(2)
    typer.echo(job_id)
    typer.echo(f"follow it with: fdan-bench jobs logs {job_id} --address {address}", err=True)


def _call(fn, address: str, job_id: str):
    try:
        return fn(address, job_id)
    except (ConnectionError, RuntimeError) as exc:
        typer.echo(f"error: {address}: {exc}", err=True)
        raise typer.Exit(2)


@jobs_app.command("status")
def status(job_id: JobIdArg, address: JobAddressOpt) -> None:
    """Print the job's status (PENDING, RUNNING, SUCCEEDED, FAILED, STOPPED) and its latest progress line."""

    typer.echo(_call(job_status, address, job_id))
    progress = last_progress(_call(job_logs, address, job_id))
    if progress:
        typer.echo(progress)


@jobs_app.command("logs")
def logs(job_id: JobIdArg, address: JobAddressOpt,
         follow: Annotated[bool, typer.Option("--follow", "-f", help="keep printing new output until the job ends")] = False,
         ) -> None:
    """Print the job's output so far (with --follow: and as it comes, until the job ends)."""

    if not follow:
        typer.echo(_call(job_logs, address, job_id), nl=False)
        return
    _call(lambda a, j: follow_logs(a, j, lambda chunk: typer.echo(chunk, nl=False)), address, job_id)


@jobs_app.command("stop")
def stop(job_id: JobIdArg, address: JobAddressOpt) -> None:
    """Ask the cluster to stop the job (its trials stop; `--resume` continues it later)."""

    typer.echo("stopping" if _call(stop_job, address, job_id) else "not running")


if __name__ == "__main__":  # pragma: no cover
    jobs_app()
