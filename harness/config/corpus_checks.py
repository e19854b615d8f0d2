"""Config-load checks that need the corpus library: importer names and options, canonical labels.

Each check returns `(dotted field path, message)` for the first problem, or None, so the schema can
raise one error naming the field (`corpora.<name>.options.<opt>`, `pairs.labels.<i>`). Building an
importer only validates its options; nothing is read from disk here.
"""
from __future__ import annotations

from typing import Any, Mapping

from fdan.corpora import CANONICAL_LABELS, CorpusError, importer_options, list_importers
from fdan.features.cache_name import resolve_importer


def importer_problem(name: str, importer: str, options: Mapping[str, Any]) -> tuple[str, str] | None:
    """Why corpus `name`'s importer cannot be built with `options` (field path, message), or None."""
    try:
        resolve_importer(importer, options)
        return None
    except CorpusError as exc:
        message = str(exc)
    if importer not in list_importers():
        return f"corpora.{name}.importer", message
    known = importer_options(importer)
    for opt in options:
        if opt not in known:
            return (f"corpora.{name}.options.{opt}",
                    f"unknown option for importer {importer!r}; known: {', '.join(known) or '(none)'}")
    for opt, value in options.items():  # which value is refused: build with that option alone
        try:
            resolve_importer(importer, {opt: value})
        except CorpusError as exc:
            return f"corpora.{name}.options.{opt}", str(exc)
    return f"corpora.{name}.options", message


def label_problem(labels: list[str] | None) -> tuple[str, str] | None:
    """The first `pairs.labels` entry that is not a canonical label (field path, message), or None."""
    for i, label in enumerate(labels or []):
        if label not in CANONICAL_LABELS:
            return f"pairs.labels.{i}", f"{label!r} is not a canonical label; known: {', '.join(CANONICAL_LABELS)}"
    if labels is not None and len(set(labels)) != len(labels):
        return "pairs.labels", "a label is listed twice"
    return None
