"""Paired significance tests between systems evaluated on the same test rows (`predictions.parquet`).

A *system* is one results directory's experiment, or one of its variants (`<experiment>/<variant>`,
harness.config.variants): by default the models its primary cross-corpus rule selected (and those of
units without rules); with ``rules`` (`compare --selection RULE`), each listed rule's models, named
`…@<rule>` (predictions' `selection` column; results without it hold the primary rule's models only). Two systems are compared per pair on the rows both predicted, matched on
(pair, fold, utterance_id) for one head: every test utterance of a pair once (its folds pooled);
under `search.seeds` each seed both systems ran is tested on its own (a `seed` column; -1 without).
Per comparison: the paired bootstrap of ``M(b) − M(a)`` for M ∈ {WAR, UAR} (percentile CI and
two-sided p; harness.report.significance.paired_bootstrap) and McNemar's test of equal accuracy
(harness.report.significance.mcnemar). Positive differences mean b (the compared system) beats a (the baseline).
"""
from __future__ import annotations

from pathlib import Path
from typing import Sequence

import pandas as pd

from harness.report.significance import mcnemar, paired_bootstrap
from harness.results.errors import ResultsError
from harness.results.io import load_results
from harness.results.predictions import load_predictions
from harness.results.selections import ALL_RULES, primary_rule, rule_rows

KEYS = ["pair", "fold", "utterance_id"]


def load_systems(dirs: Sequence[Path | str], rules: Sequence[str] | None = None) -> dict[str, pd.DataFrame]:
    """System name -> its prediction rows, in directory, variant (then rule) order (names unique).

    ``rules`` None: each (experiment, variant)'s primary-rule models, named `<experiment>[/<variant>]`; else
    one system per listed rule (``["all"]``: every recorded rule) named `<experiment>[/<variant>]@<rule>`,
    holding the cross-corpus units that rule selected. A listed rule no directory recorded is an error."""
    systems: dict[str, pd.DataFrame] = {}
    for d in dirs:
        results = load_results(d)
        name = results.experiment
        if any(s == name or s.startswith((f"{name}/", f"{name}@")) for s in systems):
            name = f"{name} ({Path(d)})"
        preds = load_predictions(d)
        variants = preds["variant"].fillna("").astype(str) if "variant" in preds else pd.Series("", index=preds.index)
        chosen = preds["selection"].fillna("").astype(str) if "selection" in preds else pd.Series("", index=preds.index)
        keep = rule_rows(chosen, list(rules) if rules else None, primary_rule(results.config))
        for var, rule in dict.fromkeys(zip(variants[keep], chosen[keep])):
            label = f"{name}/{var}" if var else name
            rows = (variants == var) & (keep if not rules else chosen == rule)
            systems[f"{label}@{rule}" if rules else label] = preds[rows]
    missing = [r for r in rules or [] if r != ALL_RULES and not any(s.endswith(f"@{r}") for s in systems)]
    if missing:
        raise ResultsError(f"no predictions selected by rule(s) {', '.join(missing)}: the rules a sweep tests are its "
                           "protocol.cross_selection on cross-corpus units (predictions.parquet, column selection)")
    return systems


def paired_table(systems: dict[str, pd.DataFrame], baseline: str | None = None, head: str = "fused",
                 n_boot: int = 2000, seed: int = 0) -> pd.DataFrame:
    """Every other system against `baseline` (default: the first), per pair shared by both.

    Columns: baseline, system, pair, seed, head, n (matched rows), war_a, war_b, war_diff, war_lo, war_hi, war_p,
    the same for uar, mcnemar_n01 (a right, b wrong), mcnemar_n10, mcnemar_p, mcnemar_method; fractions in [0, 1].
    """
    if len(systems) < 2:
        raise ResultsError(f"paired tests need two systems (results directories or variants); got {list(systems)}")
    names = list(systems)
    baseline = baseline if baseline is not None else names[0]
    if baseline not in systems:
        raise ResultsError(f"unknown baseline {baseline!r}; systems: {', '.join(names)}")
    rows = []
    base = systems[baseline]
    for name in names:
        if name == baseline:
            continue
        a, b = _with_seed(base[base["head"] == head]), _with_seed(systems[name][systems[name]["head"] == head])
        keys = KEYS + ["seed"]
        both = a[keys + ["label", "predicted"]].merge(b[keys + ["label", "predicted"]], on=keys, suffixes=("_a", "_b"))
        if (both["label_a"] != both["label_b"]).any():
            raise ResultsError(f"{baseline} and {name} disagree on true labels of the same rows: not the same test data")
        for (pair, run_seed), rows_p in both.groupby(["pair", "seed"], sort=False):
            y, pa, pb = rows_p["label_a"].to_numpy(), rows_p["predicted_a"].to_numpy(), rows_p["predicted_b"].to_numpy()
            boot = paired_bootstrap(y, pa, pb, n_boot=n_boot, seed=seed)
            test = mcnemar(y, pa, pb)
            row = {"baseline": baseline, "system": name, "pair": pair, "seed": int(run_seed), "head": head, "n": len(rows_p)}
            for metric in ("war", "uar"):
                row[f"{metric}_a"] = _metric(y, pa, metric)
                row[f"{metric}_b"] = _metric(y, pb, metric)
                row.update({f"{metric}_{k}": boot[metric][k] for k in ("diff", "lo", "hi", "p")})
            row.update(mcnemar_n01=test["n01"], mcnemar_n10=test["n10"], mcnemar_p=test["p"], mcnemar_method=test["method"])
            rows.append(row)
    if not rows:
        raise ResultsError(f"no test rows in common between {baseline} and the other systems for head {head!r}")
    return pd.DataFrame(rows)


def _with_seed(rows: pd.DataFrame) -> pd.DataFrame:
    """Rows with a `seed` column (-1 where the run had no search.seeds): runs of different seeds are tested
    separately, so every test covers each utterance once."""
    seed = pd.to_numeric(rows["seed"], errors="coerce").fillna(-1).astype(int) if "seed" in rows else -1
    return rows.assign(seed=seed)


def _metric(y: object, pred: object, metric: str) -> float:
    frame = pd.DataFrame({"y": y, "ok": pd.Series(pred).to_numpy() == pd.Series(y).to_numpy()})
    return float(frame["ok"].mean()) if metric == "war" else float(frame.groupby("y")["ok"].mean().mean())


def paired_display(table: pd.DataFrame) -> pd.DataFrame:
    """Display form: percent differences with their 95 % CI and p-values."""
    def pct(v: float) -> str:
        return f"{100 * v:+.2f}"

    return pd.DataFrame({
        "system vs baseline": [f"{s} vs {b}" for s, b in zip(table["system"], table["baseline"])],
        "pair": table["pair"], **({"seed": table["seed"].astype(str)} if (table["seed"] >= 0).any() else {}),
        "head": table["head"], "n": table["n"].astype(str),
        "ΔWAR [95% CI]": [f"{pct(d)} [{pct(lo)}, {pct(hi)}]" for d, lo, hi in zip(table["war_diff"], table["war_lo"], table["war_hi"])],
        "p (boot)": [f"{p:.3g}" for p in table["war_p"]],
        "ΔUAR [95% CI]": [f"{pct(d)} [{pct(lo)}, {pct(hi)}]" for d, lo, hi in zip(table["uar_diff"], table["uar_lo"], table["uar_hi"])],
        "p (boot) ": [f"{p:.3g}" for p in table["uar_p"]],
        "McNemar p": [f"{p:.3g} ({m})" for p, m in zip(table["mcnemar_p"], table["mcnemar_method"])],
    })
