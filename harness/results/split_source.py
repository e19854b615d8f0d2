"""The split a leaderboard row was measured on, for its protocol column.

A corpus prepared with a fold file (`fdan.corpora.fold_file`, e.g. EmoBox's partition) records
`split_source` ("file:<name>") in its cache's meta.json; rows of a unit using such a cache get
"+folds=<source>" appended to their protocol (e.g. `val+folds=file:iemocap_folds.csv`), so numbers on a
published partition are never mistaken for numbers on fdan-bench's own speaker folds.
"""
from __future__ import annotations

import json
from pathlib import Path


def split_source(cache_dir: str | Path) -> str:
    """meta.json's split_source of a feature cache ("" for the corpus' own folds or official split)."""
    try:
        return str(json.loads((Path(cache_dir) / "meta.json").read_text()).get("split_source", "") or "")
    except (OSError, ValueError):
        return ""


def protocol_with_split(protocol: str, *cache_dirs: str | Path) -> str:
    """`protocol` plus "+folds=<source>" for each distinct non-default split source of the caches."""
    sources = sorted({s for d in cache_dirs if (s := split_source(d))})
    return protocol + "".join(f"+folds={s}" for s in sources)
