"""Corpus importers (native layouts) and the embedded synthetic corpus family."""
from fdan.corpora.base import (
    CANONICAL_LABELS,
    CorpusError,
    CorpusImporter,
    ScanResult,
    Skip,
    Utterance,
    get_importer,
    list_importers,
    register_importer,
)

__all__ = [
    "CANONICAL_LABELS", "CorpusError", "CorpusImporter", "ScanResult", "Skip", "Utterance",
    "get_importer", "list_importers", "register_importer",
]

import fdan.corpora.synth  # noqa: E402,F401  (registers the "synth" importer)
