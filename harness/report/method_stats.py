"""Method-level comparison (`compare --stats`): each system against a baseline on the same test speakers.

A *system* is one results directory's experiment or a variant of it (its primary cross-corpus rule's
models), or with `compare --selection RULE` one rule's own picks, `…@<rule>`
(:func:`harness.report.paired.load_systems`). Per
corpus pair shared by a system and the baseline, and per kind (``overall (within)`` / ``overall (cross)`` / ``overall (oracle)``,
pairs as strata, when a kind has several pairs): the speaker-cluster bootstrap of ``M(system) −
M(baseline)`` (:mod:`harness.report.cluster_bootstrap`) over the test speakers of all folds, every seed's
predictions kept and averaged inside each draw. p-values are Holm-corrected over every row of one call
(:mod:`harness.report.holm`). Fractions in [0, 1]; positive ``delta`` means the system beats the baseline.

Two systems are compared only on identical test rows: a pair both predicted on different
(fold, utterance) sets, or a seed that covers other rows than its siblings, is an error naming the
difference (never a silent intersection). A pair or head one system lacks is a reported skip.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from harness.report.cluster_bootstrap import bootstrap_difference, cluster_rows
from harness.report.holm import holm
from harness.results.columns import pair_kind
from harness.results.errors import ResultsError

STATS_COLUMNS: tuple[str, ...] = ("system", "baseline", "pair", "head", "metric", "n_rows", "n_speakers", "delta",
                                  "ci_low", "ci_high", "p", "p_holm")
METRICS = ("war", "uar")
ROW_KEY = ["fold", "utterance_id"]


def _seeded(rows: pd.DataFrame) -> pd.DataFrame:
    seed = pd.to_numeric(rows["seed"], errors="coerce").fillna(-1).astype(int) if "seed" in rows else -1
    return rows.assign(seed=seed, fold=rows["fold"].astype(str), utterance_id=rows["utterance_id"].astype(str))


def _correct_matrix(name: str, pair: str, rows: pd.DataFrame, keys: pd.MultiIndex) -> np.ndarray:
    """``(S, n)`` correctness of each seed on ``keys`` (the reference row order); every seed must cover exactly
    the same rows."""
    out = []
    for seed, per_seed in rows.groupby("seed", sort=True):
        index = pd.MultiIndex.from_frame(per_seed[ROW_KEY])
        if index.has_duplicates:
            raise ResultsError(f"{name}, pair {pair}, seed {seed}: a test utterance is predicted twice")
        if len(index) != len(keys) or not index.isin(keys).all():
            raise ResultsError(f"{name}, pair {pair}: seed {seed} was tested on {len(index)} rows, another seed on "
                               f"{len(keys)} different ones; seeds of one system must share the test rows")
        ok = (per_seed["predicted"].astype(str) == per_seed["label"].astype(str)).to_numpy()
        out.append(pd.Series(ok, index=index).reindex(keys).to_numpy())
    return np.stack(out)


def _matched(base_name: str, name: str, pair: str, a: pd.DataFrame, b: pd.DataFrame) -> dict:
    """The reference rows of one pair and both systems' correctness matrices; errors on any row mismatch."""
    ka = pd.MultiIndex.from_frame(a[ROW_KEY].drop_duplicates())
    kb = pd.MultiIndex.from_frame(b[ROW_KEY].drop_duplicates())
    only_a, only_b = ka.difference(kb), kb.difference(ka)
    if len(only_a) or len(only_b):
        example = list(only_a[:2]) + list(only_b[:2])
        raise ResultsError(f"pair {pair}: {name} and {base_name} were tested on different rows ({len(only_a)} only in "
                           f"{base_name}, {len(only_b)} only in {name}; e.g. (fold, utterance) {example}): not the "
                           "same test data, so no paired comparison; re-run both on the same folds")
    first = a[a["seed"] == a["seed"].min()].set_index(ROW_KEY).reindex(ka)
    other = b[b["seed"] == b["seed"].min()].set_index(ROW_KEY).reindex(ka)
    if (first["label"].astype(str) != other["label"].astype(str)).any():
        raise ResultsError(f"pair {pair}: {base_name} and {name} disagree on true labels of the same rows")
    if first["speaker"].isna().any() or (first["speaker"].astype(str) == "").any():
        raise ResultsError(f"pair {pair}: rows without a speaker id; the speaker-cluster bootstrap needs one per row")
    return {"label": first["label"].astype(str).to_numpy(), "speaker": first["speaker"].astype(str).to_numpy(),
            "a": _correct_matrix(base_name, pair, a, ka), "b": _correct_matrix(name, pair, b, ka)}


def _rows(system: str, baseline: str, pair: str, head: str, parts: list[tuple[str, dict]], n_boot: int,
          seed: int, alpha: float) -> list[dict]:
    strata = np.concatenate([np.full(len(p["label"]), name) for name, p in parts])
    coded = cluster_rows(np.concatenate([p["label"] for _, p in parts]),
                         np.concatenate([p["speaker"] for _, p in parts]), strata)
    # an overall row stacks the pairs' (S, n) matrices side by side: every pair needs the same seed count
    if len({p["a"].shape[0] for _, p in parts}) > 1 or len({p["b"].shape[0] for _, p in parts}) > 1:
        raise ResultsError(f"{system} or {baseline}: pairs were run with different numbers of seeds; "
                           "an overall comparison needs the same seeds on every pair")
    result = bootstrap_difference(coded, np.concatenate([p["a"] for _, p in parts], axis=1),
                                  np.concatenate([p["b"] for _, p in parts], axis=1), n_boot=n_boot, seed=seed,
                                  alpha=alpha)
    return [{"system": system, "baseline": baseline, "pair": pair, "head": head, "metric": m,
             "n_rows": len(coded.y), "n_speakers": coded.n_speakers, **result[m]} for m in METRICS]


def method_stats(systems: dict[str, pd.DataFrame], baseline: str | None = None, head: str = "fused",
                 n_boot: int = 2000, seed: int = 0, alpha: float = 0.05) -> tuple[pd.DataFrame, list[str]]:
    """Every other system against ``baseline`` (default: the first): the :data:`STATS_COLUMNS` table and the
    skips (pairs or heads one side lacks) as sentences."""
    if len(systems) < 2:
        raise ResultsError(f"comparisons need two systems (results directories or variants); got {list(systems)}")
    names = list(systems)
    baseline = baseline if baseline is not None else names[0]
    if baseline not in systems:
        raise ResultsError(f"unknown baseline {baseline!r}; systems: {', '.join(names)}")
    base = _seeded(systems[baseline][systems[baseline]["head"] == head])
    rows: list[dict] = []
    skipped: list[str] = []
    for name in names:
        if name == baseline:
            continue
        other = _seeded(systems[name][systems[name]["head"] == head])
        pairs_a, pairs_b = set(base["pair"].astype(str)), set(other["pair"].astype(str))
        for side, only in ((baseline, sorted(pairs_a - pairs_b)), (name, sorted(pairs_b - pairs_a))):
            if only:  # e.g. pairs.oracle units run under the baseline's variant only
                skipped.append(f"{name} vs {baseline}, {head} head: {len(only)} pair(s) predicted by {side} only, "
                               f"not compared: {', '.join(only)}")
        kinds: dict[str, list[tuple[str, dict]]] = {}
        for pair in sorted(pairs_a & pairs_b):
            a, b = base[base["pair"].astype(str) == pair], other[other["pair"].astype(str) == pair]
            part = (pair, _matched(baseline, name, pair, a, b))
            kind = pair_kind(pair, a["source"].iloc[0], a["target"].iloc[0])
            kinds.setdefault(kind, []).append(part)
            rows += _rows(name, baseline, pair, head, [part], n_boot, seed, alpha)
        for kind, parts in kinds.items():
            if len(parts) > 1:
                rows += _rows(name, baseline, f"overall ({kind})", head, parts, n_boot, seed, alpha)
    if not rows:
        raise ResultsError(f"no test rows in common between {baseline} and the other systems for head {head!r}")
    table = pd.DataFrame(rows)
    table["p_holm"] = holm(table["p"].to_numpy())
    return table[list(STATS_COLUMNS)], skipped


def stats_display(table: pd.DataFrame) -> pd.DataFrame:
    """Display form of :func:`method_stats`: percent differences with their 95 % interval, raw and Holm p."""
    def pct(v: float) -> str:
        return "–" if pd.isna(v) else f"{100 * v:+.2f}"

    def pval(v: float) -> str:
        return "–" if pd.isna(v) else f"{v:.3g}"

    return pd.DataFrame({
        "system vs baseline": [f"{s} vs {b}" for s, b in zip(table["system"], table["baseline"])],
        "pair": table["pair"], "metric": table["metric"].str.upper(),
        "rows / speakers": [f"{r} / {k}" for r, k in zip(table["n_rows"], table["n_speakers"])],
        "Δ [95% CI]": [f"{pct(d)} [{pct(lo)}, {pct(hi)}]" for d, lo, hi in
                       zip(table["delta"], table["ci_low"], table["ci_high"])],
        "p": [pval(p) for p in table["p"]], "p (Holm)": [pval(p) for p in table["p_holm"]],
    })
