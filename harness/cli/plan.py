"""`--plan` of `fdan-bench sweep` and `train`: print what would run (harness.experiment.describe) and exit 0."""
from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from harness.cluster.reach import ClusterUnreachable
from harness.config import ExperimentConfig
from harness.experiment.plan_estimate import EstimateError

PlanOpt = Annotated[bool, typer.Option("--plan", help="print units, trials, resources and concurrency; run nothing")]
ClusterOpt = Annotated[Optional[Path], typer.Option(
    "--cluster", help="the joined cluster's launcher config (cluster.yaml): trials are sized for its maximum size "
    "(node types at max_workers), also in --plan")]
EstimateOpt = Annotated[Optional[Path], typer.Option(
    "--estimate-from", help="with --plan: estimate wall time, worker-hours (and node-hours with --cluster) from the "
    "trial times of this earlier results directory (e.g. a --smoke-test or one-fold run of the same experiment)")]


def show_plan(cfg: ExperimentConfig, *, search: bool, address: str | None, cluster_yaml: Path | None,
              estimate_from: Path | None = None) -> None:
    """Print the plan; with an address, read the joined cluster's present resources (starts no trial)."""
    from harness.experiment.describe import describe_plan, local_resources  # lazy: torch; `fdan-bench --help` stays fast

    if cluster_yaml is not None and not cluster_yaml.is_file():
        typer.echo(f"error: --cluster {cluster_yaml}: no such file", err=True)
        raise typer.Exit(2)
    address = address or cfg.ray.address
    if address:
        from harness.cluster.local import ClusterAuthError, ray_cluster  # lazy: Ray, only to ask a joined cluster

        try:
            with ray_cluster(cfg, address) as resources:
                now, where = resources, f"cluster at {address}"
        except (ClusterUnreachable, ClusterAuthError) as exc:
            typer.echo(f"error: {exc}", err=True)
            raise typer.Exit(2)
    else:
        now, where = local_resources(cfg), "a local cluster on this machine"
    try:
        typer.echo(describe_plan(cfg, search, now, where, cluster_yaml, estimate_from))
    except EstimateError as exc:
        typer.echo(f"error: --estimate-from: {exc}", err=True)
        raise typer.Exit(2)
