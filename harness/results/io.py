"""The results directory of one experiment: writing and loading its tables and side files.

Layout of ``results/<experiment>/`` (column-by-column description in README.md, "Results")::

    metrics.parquet, metrics.csv   tidy long rows, one value per (trial, epoch, split, head, metric)
    trials.parquet, trials.csv     one row per trial: hyper-parameters, best validation and test metrics
    confusion.json                 confusion matrices of the selected models
    predictions.parquet            per-utterance test predictions of the selected models (harness.results.predictions;
                                   column `selection`: the cross-corpus rule, one set of rows per rule)
    selections.csv                 every cross-corpus rule's pick and its test metrics (harness.results.selections)
    config.resolved.yaml           the resolved experiment config
    env.json                       package versions, git commit, hardware, Ray cluster resources
    report.html, leaderboard.md, per_class.csv, plots/   rendered from the files above by
                                   :func:`harness.report.render.render_report`
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

from harness.results.atomic import atomic_write, write_json, write_yaml
from harness.results.columns import METRICS_COLUMNS, TRIALS_COLUMNS, validate_columns, validate_confusions
from harness.results.envinfo import collect_env  # torch only inside collect_env (GPU info)
from harness.results.errors import ResultsError
from harness.results.jsonable import to_jsonable
from harness.results.paths import relative_to_results

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


def _storable(df: pd.DataFrame) -> pd.DataFrame:
    """Make object columns Parquet-safe: containers become JSON strings, mixed scalar types become strings."""
    out = df.copy()
    for col in out.columns:
        if out[col].dtype != object:
            continue
        values = out[col].dropna()
        if values.map(lambda v: isinstance(v, (list, tuple, dict, np.ndarray))).any():
            out[col] = out[col].map(lambda v: v if _is_missing(v) else json.dumps(to_jsonable(v)))
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
    """Validate and write every result file of one experiment into ``out_dir``.

    Nothing is written when validation fails, so a bad call leaves no half-written directory behind.
    ``leaderboard.md`` and ``plots/`` are rendered from these files by ``harness.report.render``.
    """
    validate_columns(metrics, METRICS_COLUMNS, "metrics")
    validate_columns(trials, TRIALS_COLUMNS, "trials")
    validate_confusions(confusions)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    if "checkpoint_path" in trials:  # relative to the directory: results stay usable after a move
        trials = trials.assign(checkpoint_path=trials["checkpoint_path"].map(lambda p: relative_to_results(p, out)))
    for name, df in (("metrics", metrics), ("trials", trials)):
        table = _storable(df.reset_index(drop=True))
        atomic_write(out / f"{name}.parquet", lambda tmp, t=table: t.to_parquet(tmp, index=False))
        atomic_write(out / f"{name}.csv", lambda tmp, t=table: t.to_csv(tmp, index=False))
    write_json(out / "confusion.json", to_jsonable(confusions), indent=1)
    write_yaml(out / "config.resolved.yaml", to_jsonable(config or {}))
    env = collect_env(to_jsonable(cluster_resources or {}))
    write_json(out / "env.json", to_jsonable(env), indent=2)


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
