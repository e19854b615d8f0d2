"""Exact folds for `--plan` before a corpus is prepared: the importer's scan of its root (files and labels
only, nothing decoded) gives the manifest rows the cache would hold, so `expand_pair` counts the units.

The one difference from the prepared cache: files that fail to decode are dropped when preparing, which
can only remove rows (rarely a speaker, so a fold). The plan says which corpora were counted this way.
"""
from __future__ import annotations

from dataclasses import asdict

import pandas as pd

from fdan.corpora.base import CorpusError
from fdan.features.cache_name import resolve_importer
from harness.config import ExperimentConfig


def scanned_manifest(cfg: ExperimentConfig, name: str) -> pd.DataFrame | None:
    """Corpus ``name``'s manifest from a scan of its root; None when the root is missing or unreadable."""
    spec = cfg.corpora[name]
    if not spec.root.is_dir():
        return None
    try:
        scan = resolve_importer(spec.importer, spec.options).scan(spec.root)
    except (CorpusError, OSError, ValueError):
        return None
    frame = pd.DataFrame([asdict(u) for u in scan.utterances])
    return frame if len(frame) else None
