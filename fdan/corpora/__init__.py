"""Corpus importers (native layouts) and the embedded synthetic corpus family."""
from fdan.corpora.base import (
    CANONICAL_LABELS,
    CorpusError,
    CorpusImporter,
    ScanResult,
    Skip,
    Utterance,
    get_importer,
    importer_options,
    list_importers,
    register_importer,
)

__all__ = [
    "CANONICAL_LABELS", "CorpusError", "CorpusImporter", "ScanResult", "Skip", "Utterance",
    "get_importer", "importer_options", "list_importers", "register_importer",
]


@register_importer("synth")
def _synth_importer(**options: object) -> CorpusImporter:
    """The "synth" importer, loaded on first use: fdan.corpora.synth brings the generator (scipy,
    OpenCV, PyAV), which reading a feature cache must not import (importing it re-registers "synth")."""
    from fdan.corpora.synth.importer import SynthImporter  # lazy: the generator brings scipy, OpenCV, PyAV

    return SynthImporter(**options)


import fdan.corpora.cremad  # noqa: E402,F401  (registers "cremad", alias "crema-d")
import fdan.corpora.csv_table  # noqa: E402,F401  (registers "csv")
import fdan.corpora.enterface  # noqa: E402,F401  (registers "enterface")
import fdan.corpora.iemocap  # noqa: E402,F401  (registers "iemocap")
import fdan.corpora.meld  # noqa: E402,F401  (registers "meld")
import fdan.corpora.ravdess  # noqa: E402,F401  (registers "ravdess")
import fdan.corpora.savee  # noqa: E402,F401  (registers "savee")
