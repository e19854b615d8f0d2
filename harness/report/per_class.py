"""Per-class test results: confusion matrices of the selected models summed over folds, and per-class
recall / precision / F1 computed from those sums.

For one (protocol, variant, pair, head), with ``C`` the confusion counts summed over the pair's folds
(and seeds), rows = true class, columns = predicted class::

    support_k   = sum_j C[k, j]              (test utterances of class k)
    recall_k    = C[k, k] / sum_j C[k, j]
    precision_k = C[k, k] / sum_i C[i, k]
    F1_k        = 2 precision_k recall_k / (precision_k + recall_k)

These are pooled over folds (every test utterance counts once), not means of per-fold values; 0 / 0 is
left undefined (NaN, shown "–"). Values are fractions in [0, 1] like the trials table's.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from harness.report.leaderboard import DASH, markdown_table
from harness.results.columns import HEADS, pair_kind

PER_CLASS_FILE = "per_class.csv"
PER_CLASS_COLUMNS = ("protocol", "variant", "pair", "kind", "head", "label", "support", "predicted",
                     "recall", "precision", "f1", "folds")


@dataclass(frozen=True)
class PooledConfusion:
    """The confusion counts of one (protocol, variant, pair, head), summed over the folds of its selected trials."""

    protocol: str
    variant: str
    pair: str
    kind: str  # within | cross | oracle (harness.results.columns.pair_kind)
    head: str
    labels: tuple[str, ...]
    counts: np.ndarray  # (C, C) int, rows true, columns predicted
    folds: int

    @property
    def row_normalised(self) -> np.ndarray:
        """Each row divided by its sum (recall on the diagonal); a row without utterances stays 0."""
        rows = self.counts.sum(axis=1, keepdims=True).astype(float)
        return np.divide(self.counts, rows, out=np.zeros(self.counts.shape, dtype=float), where=rows > 0)


def _head_order(head: str) -> tuple[int, str]:
    return (HEADS.index(head), "") if head in HEADS else (len(HEADS), head)


def pooled_confusions(confusions: list[dict], trials: pd.DataFrame) -> list[PooledConfusion]:
    """Sum the stored matrices of the selected trials per (protocol, variant, pair, head).

    Entries are matched to their trial by (pair, fold, trial_id) compared as text (a fold read back from
    JSON or CSV may be a string or an int); entries of unselected or unknown trials are ignored. Folds
    whose label lists differ are aligned by label (union, in first-seen order). Ordered like the leaderboard:
    protocol, variant (first appearance), within before cross, pair, then fused / audio / face.
    """
    selected = trials[trials["selected"].astype(bool)]
    if selected.empty or not confusions:
        return []
    variant = selected["variant"].fillna("").astype(str) if "variant" in selected else pd.Series("", index=selected.index)
    keys = zip(selected["pair"].astype(str), selected["fold"].astype(str), selected["trial_id"].astype(str))
    info = {k: (str(p), v, pair_kind(k[0], s, t))
            for k, p, v, s, t in zip(keys, selected["protocol"], variant, selected["source"], selected["target"])}
    groups: dict[tuple[str, str, str, str], list[dict]] = {}
    kinds: dict[str, str] = {}
    for entry in confusions:
        key = (str(entry["pair"]), str(entry["fold"]), str(entry["trial_id"]))
        if key in info:
            protocol, var, kinds[key[0]] = info[key]
            groups.setdefault((protocol, var, key[0], str(entry["head"])), []).append(entry)
    variants = list(dict.fromkeys(variant))
    out = []
    for (protocol, var, pair, head), entries in groups.items():
        labels = list(dict.fromkeys(str(x) for e in entries for x in e["labels"]))
        total = pd.DataFrame(0, index=labels, columns=labels)
        for e in entries:
            names = [str(x) for x in e["labels"]]
            total = total.add(pd.DataFrame(np.asarray(e["matrix"]), index=names, columns=names), fill_value=0)
        total = total.reindex(index=labels, columns=labels).fillna(0)
        folds = len({str(e["fold"]) for e in entries})
        out.append(PooledConfusion(protocol, var, pair, kinds[pair], head, tuple(labels),
                                   total.to_numpy().round().astype(int), folds))
    return sorted(out, key=lambda c: (c.protocol, variants.index(c.variant), c.kind != "within", c.pair,
                                      _head_order(c.head)))


def class_metrics(counts: np.ndarray) -> pd.DataFrame:
    """support, predicted, recall, precision, f1 per class (rows in ``counts``' order) of one count matrix."""
    counts = np.asarray(counts, dtype=float)
    diag = np.diag(counts)
    support, predicted = counts.sum(axis=1), counts.sum(axis=0)
    with np.errstate(divide="ignore", invalid="ignore"):
        recall = np.where(support > 0, diag / support, np.nan)
        precision = np.where(predicted > 0, diag / predicted, np.nan)
        f1 = np.where(recall + precision > 0, 2 * precision * recall / (precision + recall), np.nan)
    f1 = np.where(np.isnan(recall) | np.isnan(precision), np.nan, np.nan_to_num(f1))
    return pd.DataFrame({"support": support.astype(int), "predicted": predicted.astype(int),
                         "recall": recall, "precision": precision, "f1": f1})


def per_class_table(pooled: list[PooledConfusion]) -> pd.DataFrame:
    """The long per-class table (``per_class.csv``): one row per (protocol, variant, pair, head, label)."""
    frames = []
    for c in pooled:
        m = class_metrics(c.counts)
        m.insert(0, "label", list(c.labels))
        for col, value in reversed(list(dict(protocol=c.protocol, variant=c.variant, pair=c.pair, kind=c.kind,
                                             head=c.head).items())):
            m.insert(0, col, value)
        m["folds"] = c.folds
        frames.append(m)
    if not frames:
        return pd.DataFrame(columns=list(PER_CLASS_COLUMNS))
    return pd.concat(frames, ignore_index=True)[list(PER_CLASS_COLUMNS)]


def _pct(v: float) -> str:
    return DASH if pd.isna(v) else f"{100 * v:.1f}"


def per_class_display(table: pd.DataFrame) -> pd.DataFrame:
    """One pair's rows of :func:`per_class_table` as a display table: a row per class, its test support,
    and per head a "recall / precision / F1" cell in percent."""
    labels = list(dict.fromkeys(table["label"]))
    out = pd.DataFrame({"class": labels})
    support = table.drop_duplicates("label").set_index("label")["support"]
    out["test n"] = [int(support[x]) for x in labels]
    for head, rows in sorted(table.groupby("head", sort=False), key=lambda hr: _head_order(str(hr[0]))):
        rows = rows.set_index("label")
        out[f"{head} R / P / F1"] = [
            DASH if x not in rows.index else
            f"{_pct(rows.at[x, 'recall'])} / {_pct(rows.at[x, 'precision'])} / {_pct(rows.at[x, 'f1'])}"
            for x in labels]
    return out


def pair_groups(table: pd.DataFrame) -> list[tuple[str, pd.DataFrame]]:
    """(title, rows) per (protocol, variant, pair) of :func:`per_class_table`, in the table's order."""
    if table.empty:
        return []
    keys = ["protocol", "variant", "pair"]
    out = []
    for key, rows in table.groupby(keys, sort=False):
        protocol, variant, pair = (str(k) for k in key)
        folds = int(rows["folds"].max())
        title = f"{pair}{f' — {variant}' if variant else ''} [{protocol}], {folds} fold(s) pooled"
        out.append((title, rows))
    return out


def per_class_markdown(table: pd.DataFrame) -> str:
    """The ``leaderboard.md`` section: one table per (protocol, variant, pair), classes as rows."""
    lines = ["## Per-class test results", "",
             "Recall / precision / F1 (%) per class and head, from the selected models' confusion matrices summed "
             f"over folds (every test utterance counted once; all of them in `{PER_CLASS_FILE}`).", ""]
    if table.empty:
        return "\n".join(lines + ["_No confusion matrices stored: no per-class results._"])
    for title, rows in pair_groups(table):
        lines += [f"### {title}", "", markdown_table(per_class_display(rows)), ""]
    return "\n".join(lines).rstrip()
