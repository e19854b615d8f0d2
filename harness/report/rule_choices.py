"""What every cross-corpus selection rule would pick, side by side, from one sweep's per-epoch records.

Trials record each rule's score per epoch (`metrics` rows with split `selection`, metric = the rule;
harness.trial.selection_epoch). Per unit (variant, pair, fold) and rule this picks the (trial, epoch) with
the highest score (ties: the later epoch, as Ray keeps it) and shows, at that pick, the labelled
source-validation score (`source_val`) and, where recorded, the labelled target-validation score
(`target_oracle`, an upper bound): how far each label-free rule's choice is from the oracle's, without
retraining. The sweep tests each rule's own pick too (harness.tuning.rule_picks, same rule: highest score,
the later epoch on ties; that pick skips trials without a checkpoint, e.g. replayed repeats, which this
table may name instead when they tie with their original); its test metrics are in selections.csv and
the leaderboard rows under the rule's protocol.
"""
from __future__ import annotations

import pandas as pd

UNIT = ["variant", "pair", "fold"]


def rule_choices(metrics: pd.DataFrame) -> pd.DataFrame:
    """Columns: variant, pair, fold, rule, trial_id, epoch, score, source_val, target_oracle (NaN if not recorded).
    Empty when no trial recorded rule scores."""
    columns = [*UNIT, "rule", "trial_id", "epoch", "score", "source_val", "target_oracle"]
    sel = metrics[metrics["split"].astype(str) == "selection"] if "split" in metrics else metrics.iloc[0:0]
    if sel.empty:
        return pd.DataFrame(columns=columns)
    sel = sel.assign(variant=sel["variant"].fillna("").astype(str) if "variant" in sel else "")
    wide = sel.pivot_table(index=[*UNIT, "trial_id", "epoch"], columns="metric", values="value", aggfunc="last")
    wide = wide.reset_index().sort_values([*UNIT, "epoch"], kind="stable")
    rows = []
    for key, group in wide.groupby(UNIT, sort=True):
        for rule in [c for c in wide.columns if c not in (*UNIT, "trial_id", "epoch")]:
            scores = group[rule].dropna()
            if scores.empty:
                continue
            best = group.loc[scores[scores == scores.max()].index[-1]]
            rows.append({**dict(zip(UNIT, key)), "rule": rule, "trial_id": best["trial_id"], "epoch": int(best["epoch"]),
                         "score": float(best[rule]), "source_val": best.get("source_val", float("nan")),
                         "target_oracle": best.get("target_oracle", float("nan"))})
    return pd.DataFrame(rows, columns=columns)
