"""The Tune logger callbacks of the experiment file's ``tracking:`` section (``harness.config.tracking``).

MLflow (``MLflowLoggerCallback``) and Weights & Biases (``WandbLoggerCallback``) each get one run per trial:
its parameters are the trial's sampled hyper-parameters, its metrics every epoch's report (step = Tune's
``training_iteration``, one per epoch), and its tags name the experiment and the (pair x fold) unit it
belongs to. TensorBoard needs no callback here: Tune writes its event files for every trial by default.
"""
from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from harness.config import ExperimentConfig
from harness.tuning.work_unit import WorkUnit

MLRUNS_DIR = "mlruns"
WANDB_DIR = "wandb"


def unit_tags(cfg: ExperimentConfig, unit: WorkUnit) -> dict[str, str]:
    """Tags every tracked run of ``unit`` carries: experiment, unit key, pair, source, target, fold."""
    return {"experiment": cfg.name, "unit": unit.key, "pair": unit.pair, "source": unit.source,
            "target": unit.target, "fold": str(unit.fold)}


def mlflow_uri(cfg: ExperimentConfig) -> str:
    """The configured tracking URI, or the local store ``<results>/mlruns/mlflow.db`` (SQLite: MLflow 3 refuses
    its old plain-file store unless told otherwise)."""
    if cfg.tracking.mlflow.tracking_uri:
        return cfg.tracking.mlflow.tracking_uri
    return f"sqlite:///{(cfg.results_dir / MLRUNS_DIR / 'mlflow.db').resolve()}"


def ensure_mlflow_experiment(cfg: ExperimentConfig) -> None:
    """Create the MLflow experiment of the default local store with its artifacts in ``<results>/mlruns/artifacts``
    (MLflow's own default is ``./mlruns`` under the working directory); a configured URI is left to MLflow."""
    if cfg.tracking.mlflow.tracking_uri:
        return
    from mlflow.exceptions import MlflowException
    from mlflow.tracking import MlflowClient

    (cfg.results_dir / MLRUNS_DIR).mkdir(parents=True, exist_ok=True)
    client = MlflowClient(tracking_uri=mlflow_uri(cfg))
    name = cfg.tracking.mlflow.experiment_name or cfg.name
    if client.get_experiment_by_name(name) is None:
        try:
            client.create_experiment(name, artifact_location=(cfg.results_dir / MLRUNS_DIR / "artifacts").resolve().as_uri())
        except MlflowException:  # a unit beside this one created it first
            if client.get_experiment_by_name(name) is None:
                raise


def tracking_callbacks(cfg: ExperimentConfig, unit: WorkUnit) -> list[Any]:
    """The Tune callbacks ``cfg.tracking`` asks for (none by default; the config checked their packages)."""
    out: list[Any] = []
    tags = unit_tags(cfg, unit)
    if cfg.tracking.mlflow.enabled:
        from ray.air.integrations.mlflow import MLflowLoggerCallback

        ensure_mlflow_experiment(cfg)
        out.append(MLflowLoggerCallback(tracking_uri=mlflow_uri(cfg), tags=tags,
                                        experiment_name=cfg.tracking.mlflow.experiment_name or cfg.name,
                                        save_artifact=cfg.tracking.mlflow.save_artifact))
    if cfg.tracking.wandb.enabled:
        from ray.air.integrations.wandb import WandbLoggerCallback

        wandb = cfg.tracking.wandb
        directory = Path(cfg.results_dir).resolve()  # W&B writes its runs into <dir>/wandb/
        (directory / WANDB_DIR).mkdir(parents=True, exist_ok=True)
        if wandb.mode == "offline":
            # Ray checks for an API key in the driver unless WANDB_MODE says offline; the runs themselves
            # (in Ray's logging actors) get mode="offline" from the init arguments below
            os.environ["WANDB_MODE"] = "offline"
        out.append(WandbLoggerCallback(project=wandb.project or cfg.name, group=unit.key, entity=wandb.entity,
                                       mode=wandb.mode, dir=str(directory), tags=[f"{k}={v}" for k, v in tags.items()]))
    return out
