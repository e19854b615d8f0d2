"""The results directory of one experiment: writing and loading its tables and side files.

Layout of ``results/<experiment>/`` (column-by-column description in README.md, "Results")::

    metrics.parquet, metrics.csv   tidy long rows, one value per (trial, epoch, split, head, metric)
    trials.parquet, trials.csv     one row per trial: hyper-parameters, best validation and test metrics
    confusion.json                 confusion matrices of the selected models
    config.resolved.yaml           the resolved experiment config
    env.json                       package versions, git commit, hardware, Ray cluster resources
    leaderboard.md, plots/         rendered from the files above by :func:`harness.report.render_report`
"""
from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import yaml

METRICS_COLUMNS: tuple[str, ...] = (
    "experiment", "pair", "source", "target", "fold", "trial_id", "epoch", "split", "head", "metric", "value",
)
TRIALS_COLUMNS: tuple[str, ...] = (
    "experiment", "pair", "source", "target", "fold", "trial_id", "protocol", "status", "selected",
)
CONFUSION_KEYS: tuple[str, ...] = ("pair", "fold", "trial_id", "head", "labels", "matrix")
TABLES: tuple[str, ...] = ("metrics", "trials")


class ResultsError(ValueError):
    """A results directory or table that cannot be used; the message says exactly what is wrong."""


@dataclass
class Results:
    """Everything stored in one results directory."""

    path: Path
    metrics: pd.DataFrame
    trials: pd.DataFrame
    confusions: list[dict] = field(default_factory=list)
    config: dict = field(default_factory=dict)
    env: dict = field(default_factory=dict)

    @property
    def experiment(self) -> str:
        """The experiment name: config ``experiment`` (or ``name``), else the trials column, else the directory."""
        name = self.config.get("experiment") or self.config.get("name")
        if not name and "experiment" in self.trials and len(self.trials):
            name = str(self.trials["experiment"].iloc[0])
        return str(name or self.path.name)


def validate_columns(df: pd.DataFrame, required: tuple[str, ...], table: str) -> None:
    """Raise :class:`ResultsError` naming every column of ``required`` that ``df`` lacks."""
    if not isinstance(df, pd.DataFrame):
        raise ResultsError(f"{table}: expected a pandas DataFrame, got {type(df).__name__}")
    missing = [c for c in required if c not in df.columns]
    if missing:
        raise ResultsError(
            f"{table} is missing column(s) {', '.join(missing)} (required: {', '.join(required)})"
        )


def validate_confusions(confusions: list[dict]) -> None:
    """Check each confusion entry has its keys and a square matrix matching its labels."""
    for i, entry in enumerate(confusions):
        missing = [k for k in CONFUSION_KEYS if k not in entry]
        if missing:
            raise ResultsError(f"confusions[{i}] is missing key(s) {', '.join(missing)}")
        matrix = np.asarray(entry["matrix"])
        n = len(entry["labels"])
        if matrix.shape != (n, n):
            raise ResultsError(f"confusions[{i}]: matrix shape {matrix.shape} does not match {n} labels")


def to_plain(value: Any) -> Any:
    """Recursively convert numpy scalars/arrays, paths, tuples and sets into YAML/JSON-safe Python values."""
    if isinstance(value, dict):
        return {str(k): to_plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set)):
        return [to_plain(v) for v in value]
    if isinstance(value, np.ndarray):
        return to_plain(value.tolist())
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, Path):
        return str(value)
    if hasattr(value, "model_dump"):  # a pydantic model
        return to_plain(value.model_dump())
    if isinstance(value, float) and math.isnan(value):
        return None
    return value


def _storable(df: pd.DataFrame) -> pd.DataFrame:
    """Make object columns Parquet-safe: containers become JSON strings, mixed scalar types become strings."""
    out = df.copy()
    for col in out.columns:
        if out[col].dtype != object:
            continue
        values = out[col].dropna()
        if values.map(lambda v: isinstance(v, (list, tuple, dict, np.ndarray))).any():
            out[col] = out[col].map(lambda v: v if _is_missing(v) else json.dumps(to_plain(v)))
        elif values.map(type).nunique() > 1:
            out[col] = out[col].map(lambda v: v if _is_missing(v) else str(v))
    return out


def _is_missing(value: Any) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


def write_results(
    out_dir: Path | str,
    *,
    metrics: pd.DataFrame,
    trials: pd.DataFrame,
    confusions: list[dict],
    config: dict,
    cluster_resources: dict,
) -> None:
    """Validate and write every result file of one experiment into ``out_dir``, then render the report.

    Nothing is written when validation fails, so a bad call leaves no half-written directory behind.
    """
    # imported here: harness.report imports this module, and torch (for GPU info) is slow to import
    from harness.envinfo import collect_env
    from harness.report import render_report

    validate_columns(metrics, METRICS_COLUMNS, "metrics")
    validate_columns(trials, TRIALS_COLUMNS, "trials")
    validate_confusions(confusions)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    for name, df in (("metrics", metrics), ("trials", trials)):
        table = _storable(df.reset_index(drop=True))
        table.to_parquet(out / f"{name}.parquet", index=False)
        table.to_csv(out / f"{name}.csv", index=False)
    (out / "confusion.json").write_text(json.dumps(to_plain(confusions), indent=1) + "\n")
    (out / "config.resolved.yaml").write_text(
        yaml.safe_dump(to_plain(config or {}), sort_keys=False, allow_unicode=True)
    )
    env = collect_env(to_plain(cluster_resources or {}))
    (out / "env.json").write_text(json.dumps(to_plain(env), indent=2) + "\n")
    render_report(out)


def _read_table(path: Path, name: str) -> pd.DataFrame:
    parquet, csv = path / f"{name}.parquet", path / f"{name}.csv"
    try:
        if parquet.is_file():
            return pd.read_parquet(parquet)
        if csv.is_file():
            return pd.read_csv(csv)
    except Exception as exc:  # corrupt file: one clear message instead of a pyarrow traceback
        raise ResultsError(f"{path}: cannot read the {name} table: {exc}") from exc
    raise ResultsError(f"{path}: no {name} table ({name}.parquet or {name}.csv) — is this a results directory?")


def load_results(results_dir: Path | str) -> Results:
    """Load a results directory; a missing directory or table raises :class:`ResultsError`.

    Tables are read from Parquet (CSV when the Parquet file is absent). ``confusion.json``,
    ``config.resolved.yaml`` and ``env.json`` are optional and default to empty.
    """
    path = Path(results_dir)
    if not path.is_dir():
        raise ResultsError(f"{path}: {'not a directory' if path.exists() else 'results directory not found'}")
    metrics = _read_table(path, "metrics")
    trials = _read_table(path, "trials")
    validate_columns(metrics, METRICS_COLUMNS, f"{path}/metrics")
    validate_columns(trials, TRIALS_COLUMNS, f"{path}/trials")
    trials["selected"] = trials["selected"].map(_as_bool)
    confusions: list[dict] = []
    config: dict = {}
    env: dict = {}
    try:
        if (path / "confusion.json").is_file():
            confusions = json.loads((path / "confusion.json").read_text())
        if (path / "config.resolved.yaml").is_file():
            config = yaml.safe_load((path / "config.resolved.yaml").read_text()) or {}
        if (path / "env.json").is_file():
            env = json.loads((path / "env.json").read_text())
    except (json.JSONDecodeError, yaml.YAMLError) as exc:
        raise ResultsError(f"{path}: unreadable side file: {exc}") from exc
    if not isinstance(config, dict):
        raise ResultsError(f"{path}/config.resolved.yaml: expected a mapping, got {type(config).__name__}")
    return Results(path=path, metrics=metrics, trials=trials, confusions=confusions, config=config, env=env)


def _as_bool(value: Any) -> bool:
    """``selected`` read back from CSV may be a string; NaN means not selected."""
    if isinstance(value, str):
        return value.strip().lower() in {"true", "1", "yes"}
    if _is_missing(value):
        return False
    return bool(value)
