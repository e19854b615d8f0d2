"""`selections.csv`: what every cross-corpus selection rule picked in each unit, and that pick's test metrics.

Written for units swept with `protocol.cross_selection` rules (harness.tuning.rule_picks); one row per
(unit, seed, rule). Columns: experiment, pair, source, target, fold, variant ("" without variants), seed
(with `search.seeds`), selection (the rule), primary (the rule that selected the unit's trials-table row),
protocol (the leaderboard's protocol column for that rule, e.g. `speaker-independent/iwv`), trial_id, epoch
(the picked trial and epoch), score (the rule's `sel_<rule>` there), method, modalities, backbone, labels,
n_test, n_train_speakers, and `test_<head>_<metric>` (fractions). The leaderboard reads it for one row per
rule; results without the file (older runs, within-corpus only, one rule) have the primary rule's rows only.
"""
from __future__ import annotations

from pathlib import Path

import pandas as pd

from harness.results.atomic import atomic_write
from harness.results.columns import validate_columns
from harness.results.errors import ResultsError

SELECTIONS_FILE = "selections.csv"
ALL_RULES = "all"  # `compare --selection all`: every rule a results directory recorded
SELECTION_COLUMNS: tuple[str, ...] = ("experiment", "pair", "source", "target", "fold", "variant", "selection",
                                      "primary", "protocol", "trial_id", "epoch", "score")


def write_selections(out_dir: Path | str, selections: pd.DataFrame) -> Path:
    """Validate and atomically write `selections.csv` into `out_dir`; returns its path."""
    validate_columns(selections, SELECTION_COLUMNS, "selections")
    table = selections.reset_index(drop=True)
    return atomic_write(Path(out_dir) / SELECTIONS_FILE, lambda tmp: table.to_csv(tmp, index=False))


def load_selections(results_dir: Path | str) -> pd.DataFrame:
    """The selections table of a results directory; an empty table (with its columns) when there is none."""
    path = Path(results_dir) / SELECTIONS_FILE
    if not path.is_file():
        return pd.DataFrame(columns=list(SELECTION_COLUMNS))
    try:
        table = pd.read_csv(path, keep_default_na=False, na_values=[""])
    except Exception as exc:
        raise ResultsError(f"{path}: cannot read the selections table: {exc}") from exc
    validate_columns(table, SELECTION_COLUMNS, str(path))
    for col in ("variant", "selection", "protocol"):  # "" reads back as NaN from CSV
        table[col] = table[col].map(lambda v: "" if pd.isna(v) else str(v))
    table["primary"] = table["primary"].map(lambda v: str(v).strip().lower() in ("true", "1"))
    return table


def primary_rule(config: dict) -> str:
    """The primary cross-corpus rule of a resolved config (`protocol.cross_selection[0]`; `source_val` when the
    config predates the rules or names none)."""
    protocol = config.get("protocol") if isinstance(config, dict) else None
    rules = protocol.get("cross_selection") if isinstance(protocol, dict) else None
    return str(rules[0]) if isinstance(rules, list) and rules else "source_val"


def rule_rows(rules: pd.Series, wanted: list[str] | None, primary: str) -> pd.Series:
    """Which rows (their ``selection`` rule, "" for none) a comparison keeps: ``wanted`` None keeps the primary
    rule's models (rows of no rule included: units selected by `protocol.selection_key` alone); else the
    rows of those rules, every recorded rule for ``["all"]``."""
    rules = rules.fillna("").astype(str)
    if not wanted:
        return rules.isin(["", primary])
    return rules != "" if ALL_RULES in wanted else rules.isin(wanted)


def fill_primary(table: pd.DataFrame, primary: str, rows: pd.Series | None = None) -> pd.DataFrame:
    """Name the primary rule on rows without a ``selection`` in a (pair, variant) whose other rows name rules: the
    units of a sweep begun before rule picks were kept and resumed after (their rows are the primary rule's pick,
    and must group with it, not apart). ``rows``: only these rows may be filled (the trials table's selected ones)."""
    if "selection" not in table or table.empty:
        return table
    out = table.copy()
    rule = out["selection"].fillna("").astype(str)
    variant = out["variant"].fillna("").astype(str) if "variant" in out else pd.Series("", index=out.index)
    named = (rule != "").groupby([out["pair"].astype(str), variant]).transform("any")
    fill = named & (rule == "") & (rows if rows is not None else True)
    out["selection"] = rule.where(~fill, primary)
    return out
