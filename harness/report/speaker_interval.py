"""95 % speaker-bootstrap intervals for leaderboard cells, from `predictions.parquet`.

Per (variant, pair, selection rule, head) the test rows of all folds, every seed kept: WAR / UAR with the
speaker-cluster bootstrap interval of :func:`harness.report.cluster_bootstrap.bootstrap_interval`
(test speakers resampled, seeds averaged inside each draw, ``M ± t_{K−1} · se``), in percent.
Columns ``<head>_<metric>_ci_low`` / ``_ci_high``; a pair with one test speaker gets NaN (no interval).
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from harness.report.cluster_bootstrap import bootstrap_interval, cluster_rows

INTERVAL_METRICS = ("war", "uar")


def speaker_intervals(predictions: pd.DataFrame, n_boot: int = 1000, seed: int = 0) -> pd.DataFrame:
    """One row per (variant, pair, selection) with the interval columns of every head present (percent);
    ``selection`` is the cross-corpus rule of the rows ("" where predictions carry none)."""
    preds = predictions.assign(
        variant=predictions["variant"].fillna("").astype(str) if "variant" in predictions else "",
        selection=predictions["selection"].fillna("").astype(str) if "selection" in predictions else "",
        pair=predictions["pair"].astype(str),
        seed=pd.to_numeric(predictions["seed"], errors="coerce").fillna(-1) if "seed" in predictions else -1)
    out: dict[tuple[str, str, str], dict[str, float]] = {}
    for (variant, pair, rule, head), rows in preds.groupby(["variant", "pair", "selection", "head"], sort=True):
        wide = rows.pivot_table(index=["fold", "utterance_id", "label", "speaker"], columns="seed",
                                values="predicted", aggfunc="first")
        if wide.isna().any().any():  # a seed without some row: no seed-combined interval for this cell
            continue
        index = wide.index.to_frame(index=False)
        correct = (wide.to_numpy().T.astype(str) == index["label"].astype(str).to_numpy()[None, :])
        bounds = bootstrap_interval(cluster_rows(index["label"].to_numpy(), index["speaker"].astype(str).to_numpy()),
                                    correct, n_boot=n_boot, seed=seed)
        cell = out.setdefault((variant, pair, rule), {})
        for m in INTERVAL_METRICS:
            cell[f"{head}_{m}_ci_low"], cell[f"{head}_{m}_ci_high"] = (100 * np.asarray(bounds[m])).tolist()
    frame = pd.DataFrame([{"variant": v, "pair": p, "selection": r, **c} for (v, p, r), c in out.items()])
    return frame if not frame.empty else pd.DataFrame(columns=["variant", "pair", "selection"])


def with_intervals(board: pd.DataFrame, intervals: pd.DataFrame) -> pd.DataFrame:
    """The leaderboard with the interval columns merged on (variant, pair, selection); overall rows get none."""
    if intervals.empty:
        return board
    keys = ["variant", "pair", "selection"] if "selection" in board and "selection" in intervals else ["variant", "pair"]
    merged = board.merge(intervals, on=keys, how="left")
    merged.index = board.index
    return merged
