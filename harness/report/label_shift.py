"""Per-pair label distributions of the source and target corpora, read from their feature caches' manifests,
so that a shift of the label priors between corpora is visible beside the results.

A pair's distributions count every usable utterance of each corpus (``manifest.csv``) whose label is in the
pair's label space (the trials table's ``labels``). Their difference is summarised by the total variation
distance ``TV = 1/2 * sum_k |p_source(k) - p_target(k)|`` (0: same priors, 1: disjoint). The caches are
found under the resolved config's ``cache_dir`` by their ``meta.json`` (importer, corpus root and feature
configuration as the run used them); a cache that is not there (results copied elsewhere) gives a note.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from harness.report.leaderboard import markdown_table


@dataclass(frozen=True)
class LabelDistribution:
    """One pair's label counts: a row per label of the pair's label space, columns ``source`` and ``target``."""

    pair: str
    source: str
    target: str
    counts: pd.DataFrame  # index label; int columns source, target

    @property
    def shares(self) -> pd.DataFrame:
        """The counts as fractions of each column's total."""
        totals = self.counts.sum(axis=0).replace(0, float("nan"))
        return self.counts / totals

    @property
    def total_variation(self) -> float:
        """``1/2 * sum |p_source - p_target|`` over the pair's labels."""
        shares = self.shares
        return float(0.5 * (shares["source"] - shares["target"]).abs().sum())


def base_dirs(results_path: Path, config: dict) -> list[Path]:
    """Where the run's relative paths may start: the working directory, then the folder that holds
    ``output_dir`` (``results/<experiment>`` -> the project folder)."""
    out = [Path.cwd()]
    output_dir = Path(str(config.get("output_dir") or "results"))
    resolved = Path(results_path).resolve()
    if not output_dir.is_absolute() and len(resolved.parents) > len(output_dir.parts):
        out.append(resolved.parents[len(output_dir.parts)])
    return list(dict.fromkeys(out))


def _resolve(path: str, bases: list[Path]) -> list[Path]:
    p = Path(path).expanduser()
    return [p.resolve()] if p.is_absolute() else [(b / p).resolve() for b in bases]


def find_manifest(name: str, config: dict, bases: list[Path]) -> Path | None:
    """The ``manifest.csv`` of corpus ``name``'s cache as the run made it (newest when several match), or None."""
    spec = (config.get("corpora") or {}).get(name) or {}
    features = config.get("features") or {}
    roots = set(_resolve(str(spec.get("root", "")), bases)) if spec.get("root") else set()
    found: list[tuple[str, Path]] = []
    for cache_root in _resolve(str(config.get("cache_dir") or "data/cache"), bases):
        for meta_path in sorted(cache_root.glob("*/meta.json")) if cache_root.is_dir() else []:
            try:
                meta = json.loads(meta_path.read_text())
            except (OSError, json.JSONDecodeError):
                continue
            same_features = all(meta.get("feature_config", {}).get(k) == v for k, v in features.items())
            if (meta.get("importer") == spec.get("importer") and Path(str(meta.get("root", ""))).resolve() in roots
                    and same_features and (meta_path.parent / "manifest.csv").is_file()):
                found.append((str(meta.get("created", "")), meta_path.parent / "manifest.csv"))
    return max(found)[1] if found else None


def label_distributions(trials: pd.DataFrame, config: dict, results_path: Path) -> tuple[list[LabelDistribution], list[str]]:
    """The label distributions of every pair with a selected trial, and notes for pairs without a readable cache."""
    selected = trials[trials["selected"].astype(bool)]
    if selected.empty:
        return [], []
    bases = base_dirs(results_path, config)
    pairs = selected.drop_duplicates("pair")
    manifests: dict[str, pd.Series | None] = {}
    out: list[LabelDistribution] = []
    notes: list[str] = []
    for row in pairs.itertuples(index=False):
        source, target = str(row.source), str(row.target)
        for name in (source, target):
            if name not in manifests:
                path = find_manifest(name, config, bases)
                manifests[name] = None if path is None else pd.read_csv(path, usecols=["label"])["label"].astype(str)
        missing = [n for n in dict.fromkeys((source, target)) if manifests[n] is None]
        if missing:
            notes.append(f"label distribution of {row.pair}: no feature cache of {', '.join(missing)} found under "
                         f"{config.get('cache_dir') or 'data/cache'} (looked from {', '.join(map(str, bases))})")
            continue
        labels = str(getattr(row, "labels", "") or "")
        space = labels.split("|") if labels and labels != "nan" else sorted(set(manifests[source]) | set(manifests[target]))
        counts = pd.DataFrame({side: manifests[n].value_counts().reindex(space, fill_value=0).astype(int)
                               for side, n in (("source", source), ("target", target))})
        counts.index.name = "label"
        out.append(LabelDistribution(str(row.pair), source, target, counts))
    return out, notes


def distribution_display(dist: LabelDistribution) -> pd.DataFrame:
    """Display table: label, then ``n (share %)`` for the source and (cross-corpus pairs) the target."""
    shares = dist.shares
    out = pd.DataFrame({"label": list(dist.counts.index)})
    sides = [("source", dist.source)] if dist.source == dist.target else [("source", dist.source), ("target", dist.target)]
    for side, name in sides:
        out[f"{side}: {name}"] = [f"{n} ({100 * s:.1f} %)" for n, s in zip(dist.counts[side], shares[side].fillna(0))]
    return out


def distributions_markdown(dists: list[LabelDistribution]) -> str:
    """The ``leaderboard.md`` section: each pair's label counts and shares, source beside target, with TV."""
    lines = ["## Label distributions", "",
             "Usable utterances per label of the pair's label space in each corpus's feature cache; "
             "TV = total variation distance between the source and target label priors.", ""]
    for d in dists:
        shift = "" if d.source == d.target else f" — TV = {d.total_variation:.3f}"
        lines += [f"### {d.pair}{shift}", "", markdown_table(distribution_display(d)), ""]
    return "\n".join(lines).rstrip()
