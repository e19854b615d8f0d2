"""What the results tables hold: required columns, the model heads and metrics, and their checks.

``HEADS`` (the FDAN model's three classifier outputs) and ``METRICS`` (the per-head metrics, fractions in
[0, 1]) are ``fdan.evaluation.metrics``'s, defined there once (numpy only: reading results never imports torch).
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from fdan.evaluation.metrics import HEADS, METRICS
from harness.results.errors import ResultsError

METRICS_COLUMNS: tuple[str, ...] = (
    "experiment", "pair", "source", "target", "fold", "trial_id", "epoch", "split", "head", "metric", "value",
)
TRIALS_COLUMNS: tuple[str, ...] = (
    "experiment", "pair", "source", "target", "fold", "trial_id", "protocol", "status", "selected",
)
CONFUSION_KEYS: tuple[str, ...] = ("pair", "fold", "trial_id", "head", "labels", "matrix")
TABLES: tuple[str, ...] = ("metrics", "trials")
PARAM_PREFIX = "param_"  # trials columns of the sampled hyper-parameters: param_<leaf field name>
NOT_SEARCHED = "not_searched"  # trials column: searched fields the unit's training never reads, "|"-joined (not searched there)
ORACLE_SUFFIX = " (oracle)"  # pair name of a pairs.oracle unit: trained on labelled target speakers, its pair's ceiling


def pair_kind(pair: str, source: str, target: str) -> str:
    """``oracle`` (a pairs.oracle unit), ``within`` (source == target) or ``cross``: kinds are never pooled."""
    if str(pair).endswith(ORACLE_SUFFIX):
        return "oracle"
    return "within" if str(source) == str(target) else "cross"


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
