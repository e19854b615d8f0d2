"""Several results directories side by side: stacked numeric leaderboards, display tables, markdown."""
from __future__ import annotations

from pathlib import Path
from typing import Sequence

import pandas as pd

from harness.report.compare_classes import per_class_side_by_side
from harness.report.leaderboard import (
    DASH, METRIC_LABELS, OVERALL, PROTOCOL_NOTE, build_leaderboard, markdown_table, mean_std_cell,
)
from harness.results.columns import HEADS, METRICS
from harness.results.errors import ResultsError
from harness.results.io import load_results
from harness.results.selections import ALL_RULES, load_selections


def compare(dirs: Sequence[Path | str], rules: Sequence[str] | None = None) -> pd.DataFrame:
    """The leaderboards of several results directories stacked, with an ``experiment`` column first.

    An experiment name used by two directories is disambiguated with the directory path. ``rules``
    (`compare --selection`): besides the primary rule's rows, the rows of these cross-corpus rules' own picks
    (``["all"]``: every recorded rule; harness.results.selections), each under its rule's protocol.
    """
    if not dirs:
        raise ResultsError("compare needs at least one results directory")
    frames: list[pd.DataFrame] = []
    seen: set[str] = set()
    recorded: set[str] = set()
    for d in dirs:
        results = load_results(d)
        name = results.experiment
        if name in seen:
            name = f"{name} ({results.path})"
        seen.add(name)
        picks = load_selections(results.path) if rules else None
        recorded |= set(picks["selection"]) if picks is not None else set()
        if picks is not None and ALL_RULES not in rules:
            picks = picks[picks["selection"].isin(list(rules))]
        board = build_leaderboard(results.trials, results.config, picks)
        board.insert(0, "experiment", name)
        frames.append(board)
    unknown = [r for r in (rules or []) if r != ALL_RULES and r not in recorded]
    if unknown:
        raise ResultsError(f"--selection {', '.join(unknown)}: no such rule was tested in "
                           f"{', '.join(str(d) for d in dirs)} (recorded: {', '.join(sorted(recorded)) or 'none'})")
    return pd.concat(frames, ignore_index=True)


def _pair_order(df: pd.DataFrame) -> list[str]:
    pairs = list(dict.fromkeys(df["pair"].astype(str)))
    overall = [p for p in pairs if p.startswith(OVERALL)]  # "overall (within)", "overall (cross)"
    return [p for p in pairs if p not in overall] + overall


def compare_table(df: pd.DataFrame, head: str = "fused") -> pd.DataFrame:
    """Side-by-side display table for one head: a row per pair (overall last); for every
    (experiment, protocol, variant) a WAR, UAR and macro-F1 column of "mean ± std" cells ("–" where absent)."""
    variant = df["variant"].astype(str) if "variant" in df else pd.Series("", index=df.index)
    groups = list(dict.fromkeys(zip(df["experiment"].astype(str), df["protocol"].astype(str), variant)))
    pairs = _pair_order(df)
    kinds = df.drop_duplicates("pair").set_index("pair")["kind"].astype(str)
    out = pd.DataFrame({"pair": pairs, "kind": [kinds.get(p, DASH) for p in pairs]})
    for experiment, protocol, var in groups:
        rows = df[(df["experiment"] == experiment) & (df["protocol"].astype(str) == protocol) & (variant == var)]
        rows = rows.drop_duplicates("pair").set_index("pair")
        name = f"{experiment} {var}" if var else experiment
        for m in METRICS:
            cells = []
            for p in pairs:
                if p in rows.index:
                    cells.append(mean_std_cell(rows.at[p, f"{head}_{m}_mean"], rows.at[p, f"{head}_{m}_std"]))
                else:
                    cells.append(DASH)
            out[f"{name} [{protocol}] {METRIC_LABELS[m]}"] = cells
    return out


def compare_markdown(df: pd.DataFrame, per_class: pd.DataFrame | None = None) -> str:
    """Markdown of :func:`compare`'s frame: one side-by-side table per head, with the protocol note; with
    ``per_class`` (:func:`harness.report.compare_classes.compare_per_class`) the per-class tables per head too."""
    experiments = list(dict.fromkeys(df["experiment"].astype(str)))
    lines = [f"# Comparison — {', '.join(experiments)}", ""]
    protocols = sorted(set(df["protocol"].astype(str)))
    if len(protocols) > 1:
        lines += [f"**Protocols differ between columns ({', '.join(protocols)}): "
                  "those columns are not a like-for-like comparison.**", ""]
    for head in HEADS:
        lines += [f"## {head} head (test, %, mean ± std over folds)", "", markdown_table(compare_table(df, head)), ""]
    lines += [f"> {PROTOCOL_NOTE}", ""]
    if per_class is not None and not per_class.empty:
        lines += ["## Per class (test recall / precision / F1 %, confusion counts summed over folds)", ""]
        for head in HEADS:
            lines += [f"### {head} head", "", markdown_table(per_class_side_by_side(per_class, head)), ""]
    return "\n".join(lines)
