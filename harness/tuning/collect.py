"""Turn one work unit's Tune trials into the tidy `metrics` rows and the `trials` rows (pure pandas).

Per-trial input is the DataFrame of everything the trial reported (one row per epoch; a resumed
trial may repeat an epoch, the last report wins). Columns used: `epoch`, `train_<part>`,
`val_loss`, `val_<head>_<metric>`, `test_...` (paper protocol only), `checkpoint_path`.
"""
from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Any

import pandas as pd

from fdan.training.selection import best_index
from harness.results.columns import HEADS

_EVAL = re.compile(rf"^(val|test)_({'|'.join(HEADS)})_(.+)$")


@dataclass
class TrialRecord:
    """What the sweep knows about one finished (or stopped, or failed) trial."""

    trial_id: str
    status: str  # completed | early_stopped | error
    params: dict[str, Any]
    history: pd.DataFrame  # one row per epoch, reported metrics


def clean_history(frame: pd.DataFrame) -> pd.DataFrame:
    """Rows with an epoch, one per epoch (the last report wins), sorted."""
    if frame is None or frame.empty or "epoch" not in frame:
        return pd.DataFrame(columns=["epoch"])
    frame = frame[frame["epoch"].notna()].copy()
    frame["epoch"] = frame["epoch"].astype(int)
    return frame.drop_duplicates("epoch", keep="last").sort_values("epoch").reset_index(drop=True)


def _long_name(col: str) -> tuple[str, str, str] | None:
    """(split, head, metric) of a reported column, None for one that is not a metric (epoch, paths, ...)."""
    m = _EVAL.match(col)
    if m:
        return m.group(1), m.group(2), m.group(3)
    if col.startswith("train_"):
        return "train", "all", col[len("train_"):]
    if col in ("val_loss", "test_loss"):
        return col[:-5], "all", "loss"
    if col.startswith("sel_"):  # harness.trial.selection_epoch: a selection rule's score (metric = the rule)
        return "selection", "all", col[len("sel_"):]
    return None


def tidy_rows(history: pd.DataFrame, ids: dict[str, Any]) -> list[dict[str, Any]]:
    """Long rows (ids + epoch, split, head, metric, value) from a trial's per-epoch history.

    Rows come epoch by epoch, in the history's column order; missing and non-numeric values are dropped.
    """
    names = {c: n for c in history.columns if (n := _long_name(str(c))) is not None}
    if history.empty or not names:
        return []
    long = history.melt(id_vars="epoch", value_vars=list(names), var_name="column", ignore_index=False)
    long["value"] = pd.to_numeric(long["value"], errors="coerce")
    long = long.dropna(subset=["value"]).sort_index(kind="stable")  # by epoch row, then column (melt order)
    parts = pd.DataFrame(long["column"].map(names).tolist(), columns=["split", "head", "metric"], index=long.index)
    rows = pd.concat([long["epoch"].astype(int), parts, long["value"].astype(float)], axis=1)
    return [{**ids, **row} for row in rows.to_dict("records")]


def best_epoch(history: pd.DataFrame, key: str) -> int | None:
    """The kept epoch by the one selection rule (`fdan.training.selection`: highest `key`, the later epoch on
    ties, as Ray keeps it), None when nothing was reported."""
    if history.empty or key not in history:
        return None
    kept = best_index(pd.to_numeric(history[key], errors="coerce").tolist())
    return None if kept is None else int(history["epoch"].iloc[kept])


def trial_row(rec: TrialRecord, ids: dict[str, Any], key: str, protocol: str, max_epochs: int) -> dict[str, Any]:
    """One `trials` row (without `selected` / test columns, which the unit's selection adds)."""
    row: dict[str, Any] = {**ids, "trial_id": rec.trial_id, "protocol": protocol, "status": rec.status,
                           "epochs_run": int(rec.history["epoch"].max()) if not rec.history.empty else 0,
                           "selection_metric": key}
    if rec.status != "error" and row["epochs_run"] < max_epochs:
        row["status"] = "early_stopped"
    for name, value in rec.params.items():
        row[f"param_{name}"] = value if isinstance(value, (int, float, str, bool)) or value is None else str(value)
    epoch = best_epoch(rec.history, key)
    row["best_epoch"] = epoch
    row["best_score"] = float("nan")
    if "node_id" in rec.history and rec.history["node_id"].notna().any():  # the node that trained it (last report)
        row["node_id"] = str(rec.history["node_id"].dropna().iloc[-1])
    best = rec.history[rec.history["epoch"] == epoch].iloc[0] if epoch is not None else None
    if best is not None:
        row["best_score"] = float(best[key])
        row["checkpoint_path"] = best.get("checkpoint_path")
    for col in rec.history.columns:
        m = _EVAL.match(col)
        if m:  # best_val_* always; best_test_* only exists under the paper protocol
            row[f"best_{col}"] = float(best[col]) if best is not None else float("nan")
    return row


def select(rows: list[dict[str, Any]]) -> int | None:
    """Index of the chosen trial: highest best_score among trials with a checkpoint that did not error
    (first on ties); None when there is none. An errored trial is never selected."""
    best, best_i = -math.inf, None
    for i, row in enumerate(rows):
        score = row.get("best_score", float("nan"))
        if row.get("status") != "error" and row.get("checkpoint_path") and not math.isnan(score) and score > best:
            best, best_i = score, i
    return best_i


# Trial columns that say what was compared: leaderboard grouping (method) and the paper's figures (backbone).
SETTING_COLUMNS = ("method", "modalities", "backbone")


def setting_columns(params: dict[str, Any], defaults: dict[str, Any]) -> dict[str, Any]:
    """`method`, `modalities` ("audio+face"), `backbone` of one trial: its sampled value if the field was
    searched (params by leaf name), else the unit's configured value (`defaults`)."""
    out = {}
    for name in SETTING_COLUMNS:
        value = params.get(name, defaults.get(name))
        out[name] = "+".join(map(str, value)) if isinstance(value, (list, tuple)) else value
    return out
