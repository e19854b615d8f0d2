"""Where a corpus' feature cache lives: the one naming rule `fdan-bench prepare` and the sweep share.

    <cache_root>/<corpus>-<sha256(feature version, feature config, importer name, importer options)[:12]>

`corpus` is the name the importer's scan reports (`ScanResult.corpus`, e.g. `savee`,
`synth-studio`); the options are the importer's effective settings (its dataclass fields, defaults
included, so `calm: drop` spelled out or left to the default give one directory, while
`calm: merge` gives another). The corpus root's location is deliberately not part of the name: a
cache on shared storage is found from every node whatever path the corpus is mounted at. What the
directory holds is still checked against the content key (`cache.cache_key`: config, every
utterance record and each source file's relative path, size and mtime), so a changed corpus is
re-prepared in place rather than silently reused.
"""
from __future__ import annotations

import dataclasses
import hashlib
import importlib
import json
import pkgutil
from pathlib import Path
from typing import Any, Mapping

from fdan.config import FeatureConfig
from fdan.corpora.base import CorpusError, CorpusImporter, get_importer

# Bump when extraction changes in a way FeatureConfig does not capture, to invalidate old caches.
# 2: faces from the audio window, one followed face, segments, mel_len.npy + face_mask.npy.
# 3: speaker-face rule and face_choice, banded/region face search, truncation checks, kept-with-note rows.
FEATURE_VERSION = 3


def resolve_importer(importer: str | CorpusImporter, options: Mapping[str, Any] | None = None) -> CorpusImporter:
    """The importer instance: `importer` itself, or the registered one of that name built with
    `options` (CorpusError for an unknown name or option). Importers register on import, so a name
    not yet registered makes every fdan.corpora submodule load once, then is asked for again."""
    if not isinstance(importer, str):
        if options:
            raise ValueError("importer options apply to an importer given by name, not to an instance")
        return importer
    try:
        return get_importer(importer, **(options or {}))
    except CorpusError as exc:
        if "unknown corpus importer" not in str(exc):
            raise
    import fdan.corpora as corpora  # lazy: every importer module, only for an unknown name

    for mod in pkgutil.iter_modules(corpora.__path__):
        try:
            importlib.import_module(f"fdan.corpora.{mod.name}")
        except Exception:  # a broken optional importer must not hide the one asked for
            continue
    return get_importer(importer, **(options or {}))


def importer_settings(imp: CorpusImporter) -> dict[str, Any]:
    """The importer's effective options: its dataclass fields and values ({} for option-less ones)."""
    if dataclasses.is_dataclass(imp) and not isinstance(imp, type):
        return {f.name: getattr(imp, f.name) for f in dataclasses.fields(imp) if f.name != "name"}
    return {}


def cache_dir_for(cache_root: str | Path, corpus_name: str, feature_cfg: FeatureConfig,
                  importer: str | CorpusImporter, importer_options: Mapping[str, Any] | None = None) -> Path:
    """The absolute cache directory of `corpus_name` (the scan's corpus name) read by `importer`
    (name + options, or an instance) with `feature_cfg`, under `cache_root` (see module docstring)."""
    imp = resolve_importer(importer, importer_options)
    ident = {"feature_version": FEATURE_VERSION, "features": feature_cfg.model_dump(mode="json"),
             "importer": getattr(imp, "name", str(importer)), "options": importer_settings(imp)}
    digest = hashlib.sha256(json.dumps(ident, sort_keys=True, default=str).encode()).hexdigest()
    return Path(cache_root).expanduser().resolve() / f"{corpus_name}-{digest[:12]}"
