"""The planted-effect table of `experiments/validation.yaml` from its predictions.parquet.

    python bench/validation_table.py results/validation [--head fused] [--n-boot 20000] [--out table.md] [--selection RULE]

Cross units are the primary selection rule's models (`protocol.cross_selection`'s first), or with
`--selection RULE` that rule's own picks (predictions.parquet's `selection` column).

Every target corpus of the validation experiment is drawn with the same seed, so its clips carry the
same utterance ids (`tgt01_ang_00`) on every target: comparisons *between pairs* (source-only on a
shifted target vs on the null target) are paired by utterance as well as those between methods on one
pair. Rows:

- accuracy (WAR) of each (variant, pair) with a 95 % speaker-cluster bootstrap interval;
- the planted effect: source_only on each target minus source_only on `synth-null`, paired;
- each method minus source_only on the same pair, paired (what `fdan-bench compare --stats` gives
  once its speaker-cluster statistics exist); `pairs.oracle` units appear as variant `oracle:<variant>`
  and are compared with source_only like a method;

with a two-sided percentile-bootstrap p (2·min(#Δ* ≤ 0, #Δ* ≥ 0) + 1) / (n_boot + 1), uncentred)
and Holm's correction over all comparisons of the call. The unit of resampling is the test speaker
(all its rows), drawn with replacement within each fold. Also prints the power check: the speaker-
cluster standard error of each paired difference and the smallest difference detectable at 80 % power
(two-sided 5 %): MDE = (z_0.975 + z_0.8) · SE.
"""
from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import pandas as pd
import yaml

from harness.results.selections import primary_rule, rule_rows

Z_POWER = 1.959964 + 0.841621  # two-sided alpha 0.05, power 0.80
ORACLE_SUFFIX = " (oracle)"  # the pair name of a pairs.oracle unit (harness.experiment.units)


def cluster_bootstrap(values: np.ndarray, speakers: pd.Series, folds: pd.Series, n_boot: int, seed: int) -> np.ndarray:
    """(n_boot,) bootstrap means of `values`: speakers drawn with replacement within each fold, all their rows.

    Per (fold, speaker) row sums S_s and counts n_s; a draw takes multinomial speaker weights w_s within
    each fold and gives sum(w_s S_s) / sum(w_s n_s)."""
    frame = pd.DataFrame({"f": folds.to_numpy(), "s": speakers.to_numpy(), "v": values})
    agg = frame.groupby(["f", "s"])["v"].agg(["sum", "count"]).reset_index()
    rng = np.random.default_rng(seed)
    num, den = np.zeros(n_boot), np.zeros(n_boot)
    for _, g in agg.groupby("f"):
        k = len(g)
        w = rng.multinomial(k, np.full(k, 1.0 / k), size=n_boot)  # (n_boot, k)
        num += w @ g["sum"].to_numpy()
        den += w @ g["count"].to_numpy()
    return num / den


def _p_two_sided(stats: np.ndarray) -> float:
    """min(1, 2·(min(#Δ* ≤ 0, #Δ* ≥ 0) + 1) / (n_boot + 1)), as harness.report.significance.paired_bootstrap."""
    return float(min(1.0, 2 * (min((stats <= 0).sum(), (stats >= 0).sum()) + 1) / (len(stats) + 1)))


def holm(p: list[float]) -> list[float]:
    """Holm's step-down adjusted p-values, in the input order."""
    order = np.argsort(p)
    m, out, running = len(p), np.empty(len(p)), 0.0
    for rank, i in enumerate(order):
        running = max(running, min(1.0, (m - rank) * p[i]))
        out[i] = running
    return out.tolist()


def paired(a: pd.DataFrame, b: pd.DataFrame, n_boot: int, seed: int) -> dict[str, float]:
    """b − a accuracy on the utterances both predicted (matched on fold + utterance_id), cluster bootstrap."""
    m = a.merge(b, on=["fold", "utterance_id"], suffixes=("_a", "_b"))
    ca = (m["predicted_a"] == m["label_a"]).to_numpy(float)
    cb = (m["predicted_b"] == m["label_b"]).to_numpy(float)
    d = cb - ca
    boot = cluster_bootstrap(d, m["speaker_a"], m["fold"], n_boot, seed)
    return {"n_rows": len(m), "n_speakers": m["speaker_a"].nunique(), "a": ca.mean(), "b": cb.mean(),
            "delta": d.mean(), "ci_low": np.quantile(boot, 0.025), "ci_high": np.quantile(boot, 0.975),
            "se": boot.std(ddof=1), "p": _p_two_sided(boot), "discordant": float((d != 0).mean())}


def accuracy(rows: pd.DataFrame, n_boot: int, seed: int) -> dict[str, float]:
    c = (rows["predicted"] == rows["label"]).to_numpy(float)
    boot = cluster_bootstrap(c, rows["speaker"], rows["fold"], n_boot, seed)
    return {"n_rows": len(rows), "war": c.mean(), "ci_low": np.quantile(boot, 0.025), "ci_high": np.quantile(boot, 0.975)}


def tables(preds: pd.DataFrame, head: str, n_boot: int, seed: int, null: str = "synth-null",
           baseline: str = "source_only") -> tuple[pd.DataFrame, pd.DataFrame]:
    """(accuracy per variant x target, comparisons with Holm-adjusted p)."""
    p = preds[preds["head"] == head].copy()
    oracle = p["pair"].astype(str).str.endswith(ORACLE_SUFFIX)  # pairs.oracle units (issue 18): their own rows
    p["variant"] = p["variant"].where(~oracle, "oracle:" + p["variant"].astype(str))
    acc = pd.DataFrame([{"variant": v, "target": t, **accuracy(g, n_boot, seed)}
                        for (v, t), g in p.groupby(["variant", "target"], sort=False)])
    by = {k: g for k, g in p.groupby(["variant", "target"])}
    comps = []
    if (baseline, null) in by:
        for t in sorted(p["target"].unique()):
            if t != null and (baseline, t) in by:
                comps.append({"comparison": "planted effect", "system": f"{baseline} on {t}", "baseline": f"{baseline} on {null}",
                              **paired(by[(baseline, null)], by[(baseline, t)], n_boot, seed)})
    for (v, t), g in by.items():
        if v != baseline and (baseline, t) in by:  # includes oracle:<variant> rows (the ceiling)
            comps.append({"comparison": "method vs source-only", "system": f"{v} on {t}", "baseline": f"{baseline} on {t}",
                          **paired(by[(baseline, t)], g, n_boot, seed)})
    cmp = pd.DataFrame(comps)
    if len(cmp):
        cmp["p_holm"] = holm(cmp["p"].tolist())
        cmp["mde_80"] = Z_POWER * cmp["se"]
    return acc, cmp


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("results", type=Path)
    ap.add_argument("--head", default="fused")
    ap.add_argument("--n-boot", type=int, default=20000)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--out", type=Path)
    ap.add_argument("--selection", help="cross-corpus rule whose own picks to tabulate (protocol.cross_selection; "
                    "default: the primary rule); units without rules (oracle units) are kept as they are")
    args = ap.parse_args()
    preds = pd.read_parquet(args.results / "predictions.parquet")
    config_file = args.results / "config.resolved.yaml"
    config = (yaml.safe_load(config_file.read_text()) or {}) if config_file.is_file() else {}
    rules = preds["selection"].fillna("").astype(str) if "selection" in preds else pd.Series("", index=preds.index)
    if args.selection and not (rules == args.selection).any():
        raise SystemExit(f"no predictions selected by rule {args.selection!r} in {args.results} (rules: "
                         f"{', '.join(sorted(set(rules) - {''})) or 'none recorded'})")
    preds = preds[rule_rows(rules, [args.selection] if args.selection else None, primary_rule(config)) | (rules == "")]
    acc, cmp = tables(preds, args.head, args.n_boot, args.seed)
    pd.set_option("display.width", 220)
    text = (f"accuracy ({args.head} WAR, 95 % speaker-cluster bootstrap)\n{acc.round(4).to_string(index=False)}\n\n"
            f"comparisons (b - a, paired by utterance)\n{cmp.round(4).to_string(index=False)}\n")
    print(text)
    if args.out:
        acc.to_csv(args.out.with_suffix(".accuracy.csv"), index=False)
        cmp.to_csv(args.out.with_suffix(".comparisons.csv"), index=False)


if __name__ == "__main__":
    main()
