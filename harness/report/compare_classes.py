"""Per-class results of several results directories side by side (``fdan-bench compare``)."""
from __future__ import annotations

from pathlib import Path
from typing import Sequence

import pandas as pd

from harness.report.leaderboard import DASH
from harness.report.per_class import per_class_table, pooled_confusions
from harness.results.io import load_results


def compare_per_class(dirs: Sequence[Path | str]) -> pd.DataFrame:
    """The ``per_class.csv`` tables of several directories stacked, with an ``experiment`` column first
    (named as :func:`harness.report.compare.compare` names them: a repeated name gets its directory)."""
    frames = []
    seen: set[str] = set()
    for d in dirs:
        results = load_results(d)
        name = results.experiment
        if name in seen:
            name = f"{name} ({results.path})"
        seen.add(name)
        table = per_class_table(pooled_confusions(results.confusions, results.trials))
        table.insert(0, "experiment", name)
        frames.append(table)
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()


def _cell(rows: pd.DataFrame) -> str:
    if rows.empty:
        return DASH
    r = rows.iloc[0]
    return " / ".join(DASH if pd.isna(v) else f"{100 * v:.1f}" for v in (r["recall"], r["precision"], r["f1"]))


def per_class_side_by_side(table: pd.DataFrame, head: str = "fused") -> pd.DataFrame:
    """One head's per-class "recall / precision / F1" (%): a row per (pair, class), a column per
    (experiment, protocol, variant); "–" where an experiment lacks the pair or class."""
    if table.empty:
        return pd.DataFrame(columns=["pair", "class"])
    mine = table[table["head"].astype(str) == head]
    keys = list(dict.fromkeys(zip(mine["pair"].astype(str), mine["label"].astype(str))))
    out = pd.DataFrame({"pair": [p for p, _ in keys], "class": [c for _, c in keys]})
    systems = list(dict.fromkeys(zip(mine["experiment"].astype(str), mine["protocol"].astype(str),
                                     mine["variant"].fillna("").astype(str))))
    for experiment, protocol, variant in systems:
        rows = mine[(mine["experiment"] == experiment) & (mine["protocol"].astype(str) == protocol)
                    & (mine["variant"].fillna("").astype(str) == variant)]
        name = f"{experiment} {variant}" if variant else experiment
        out[f"{name} [{protocol}] R / P / F1"] = [
            _cell(rows[(rows["pair"].astype(str) == p) & (rows["label"].astype(str) == c)]) for p, c in keys]
    return out
