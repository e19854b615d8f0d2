"""The experiment file's ``tracking:`` section: where each trial's parameters and per-epoch metrics are logged
besides the results tables (TensorBoard, MLflow, Weights & Biases), through Ray Tune's logger callbacks."""
from __future__ import annotations

import importlib.util
from typing import Literal

from pydantic import Field, field_validator

from harness.config.section import Section


def _installed(enabled: bool, package: str) -> bool:
    """An enabled tracker's package must be importable: the run then fails when the config loads, before any work."""
    if enabled and importlib.util.find_spec(package) is None:
        raise ValueError(f"needs the {package} package, which is not installed: pip install {package} "
                         "(into the project's environment), or set enabled: false")
    return enabled


class MlflowTracking(Section):
    """MLflow through Ray Tune's ``MLflowLoggerCallback``: one MLflow run per trial."""

    enabled: bool = False
    tracking_uri: str | None = Field(
        None, description="MLflow tracking URI (a server http://host:5000, a file: store, sqlite:///...); "
        "None = the local file store <results>/mlruns")
    experiment_name: str | None = Field(None, description="MLflow experiment; None = the experiment's name")
    save_artifact: bool = Field(False, description="also upload each trial's Tune directory as run artifacts")

    @field_validator("enabled")
    @classmethod
    def _mlflow_installed(cls, v: bool) -> bool:
        return _installed(v, "mlflow")


class WandbTracking(Section):
    """Weights & Biases through Ray Tune's ``WandbLoggerCallback``: one W&B run per trial, grouped by unit."""

    enabled: bool = False
    project: str | None = Field(None, description="W&B project; None = the experiment's name")
    entity: str | None = Field(None, description="W&B team or user; None = the account's default")
    mode: Literal["offline", "online"] = Field(
        "offline", description="offline: runs are written under <results>/wandb and need no network or account "
        "(`wandb sync` uploads them later); online: needs WANDB_API_KEY in the environment")

    @field_validator("enabled")
    @classmethod
    def _wandb_installed(cls, v: bool) -> bool:
        return _installed(v, "wandb")


class TrackingConfig(Section):
    """Experiment tracking besides the results tables. TensorBoard needs no setting: Ray Tune writes its event
    files for every trial under <results>/ray (``tensorboard --logdir results/<experiment>/ray``); MLflow and
    W&B are opt-in."""

    mlflow: MlflowTracking = Field(default_factory=MlflowTracking)
    wandb: WandbTracking = Field(default_factory=WandbTracking)
