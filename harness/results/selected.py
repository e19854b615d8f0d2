"""Which trial of a results directory a user means: the selected model of a (pair, fold), or a trial id.

Pure pandas over the trials table; the checkpoint path is resolved for where the directory is now
(:mod:`harness.results.paths`).
"""
from __future__ import annotations

import difflib
import math
from dataclasses import dataclass
from typing import Any

import pandas as pd

from harness.results.errors import ResultsError
from harness.results.io import Results
from harness.results.paths import resolve_in_results

# trials-table columns copied into a model file's provenance
PROVENANCE_COLUMNS = ("experiment", "pair", "source", "target", "fold", "variant", "trial_id", "protocol",
                      "method", "backbone", "modalities", "best_epoch", "best_score", "selection_metric", "seed")


@dataclass
class ChosenTrial:
    row: dict[str, Any]
    checkpoint: str  # resolved: a local directory, or a path inside `storage`'s filesystem
    storage: str | None = None  # the run's object-store URI (config `storage`), None for local storage
    storage_options: dict[str, Any] | None = None

    @property
    def provenance(self) -> dict[str, Any]:
        out = {k: self.row[k] for k in PROVENANCE_COLUMNS if k in self.row and not _missing(self.row[k])}
        out["metrics"] = {k: float(v) for k, v in self.row.items()
                          if (k.startswith("best_val_") or k.startswith("best_test_") or k.startswith("test_"))
                          and not _missing(v)}
        out["checkpoint_path"] = self.row.get("checkpoint_path")
        return out


def _missing(value: Any) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


def choose_trial(results: Results, *, pair: str | None = None, fold: int | None = None,
                 trial_id: str | None = None, variant: str | None = None) -> ChosenTrial:
    """The trial named by ``trial_id``, else the selected trial of (pair, fold); a directory with one
    selected model needs neither. ResultsError lists the choices when the request is ambiguous or wrong."""
    trials = results.trials
    if trial_id is not None:
        rows = trials[trials["trial_id"].astype(str) == str(trial_id)]
        if rows.empty:
            close = difflib.get_close_matches(str(trial_id), trials["trial_id"].astype(str).tolist(), n=3)
            hint = f"; did you mean {', '.join(close)}?" if close else ""
            raise ResultsError(f"{results.path}: no trial {trial_id!r}{hint}")
    else:
        rows = trials[trials["selected"]]
        if pair is not None:
            rows = rows[rows["pair"].astype(str) == pair]
        if fold is not None:
            rows = rows[rows["fold"].astype(int) == int(fold)]
        if variant is not None and "variant" in rows:
            rows = rows[rows["variant"].fillna("").astype(str) == variant]
        if rows.empty:
            raise ResultsError(f"{results.path}: no selected model for {_what(pair, fold)}; selected: "
                               f"{_choices(trials[trials['selected']])}")
        if len(rows) > 1:
            raise ResultsError(f"{results.path}: {len(rows)} selected models match; name one with --pair / --fold "
                               f"(or --trial): {_choices(rows)}")
    row = rows.iloc[0].to_dict()
    path = row.get("checkpoint_path")
    if _missing(path) or not str(path):
        raise ResultsError(f"{results.path}: trial {row['trial_id']} has no checkpoint (status {row.get('status')})")
    storage = str(results.config.get("storage") or "")
    if "://" in storage and not storage.startswith("file://"):  # Ray's path inside the bucket's filesystem
        return ChosenTrial(row=row, checkpoint=str(path), storage=storage,
                           storage_options=results.config.get("storage_options") or None)
    return ChosenTrial(row=row, checkpoint=resolve_in_results(str(path), results.path))


def _what(pair: str | None, fold: int | None) -> str:
    return " ".join(p for p in (f"pair {pair}" if pair else "", f"fold {fold}" if fold is not None else "") if p) or "it"


def _choices(rows: pd.DataFrame) -> str:
    items = [f"{r.pair} fold {r.fold} (trial {r.trial_id})" for r in rows.itertuples()]
    return "; ".join(items) if items else "none"
