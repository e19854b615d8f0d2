"""Corpus importers: read a corpus in its native release layout into `Utterance` records.

An importer never decodes media; it only finds files and labels. Files it cannot use (unknown label
code, missing partner stream file, unparsable name) become `Skip` records, never silent losses.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Protocol

CANONICAL_LABELS: tuple[str, ...] = (
    "anger", "happiness", "sadness", "neutral", "fear", "disgust", "surprise", "calm",
)


class CorpusError(ValueError):
    """A corpus root that is missing or matches no known layout (one clear message)."""


@dataclass(frozen=True)
class Utterance:
    corpus: str
    utterance_id: str
    speaker: str
    corpus_label: str
    label: str  # canonical, one of CANONICAL_LABELS
    split: str  # train/dev/test for corpora with official splits, else "all"
    fold: int  # speaker-independent fold, -1 where official splits are used
    audio_path: str  # relative to the corpus root ("" if the audio comes from the video file)
    video_path: str  # relative to the corpus root

    def __post_init__(self) -> None:
        if self.label not in CANONICAL_LABELS:
            raise ValueError(f"{self.utterance_id}: label {self.label!r} is not canonical {CANONICAL_LABELS}")


@dataclass(frozen=True)
class Skip:
    path: str  # relative to the corpus root
    reason: str


@dataclass
class ScanResult:
    corpus: str
    utterances: list[Utterance]
    skipped: list[Skip]


class CorpusImporter(Protocol):
    name: str

    def scan(self, root: Path) -> ScanResult:
        """List the usable utterances under `root`; raise CorpusError if root matches no layout."""
        ...


_IMPORTERS: dict[str, Callable[[], CorpusImporter]] = {}


def register_importer(name: str) -> Callable[[Callable[[], CorpusImporter]], Callable[[], CorpusImporter]]:
    def deco(factory: Callable[[], CorpusImporter]) -> Callable[[], CorpusImporter]:
        _IMPORTERS[name] = factory
        return factory

    return deco


def list_importers() -> list[str]:
    return sorted(_IMPORTERS)


def get_importer(name: str) -> CorpusImporter:
    if name not in _IMPORTERS:
        raise CorpusError(f"unknown corpus importer {name!r}; known: {', '.join(list_importers())}")
    return _IMPORTERS[name]()


def check_root(root: Path) -> Path:
    root = Path(root).expanduser()
    if not root.exists():
        raise CorpusError(f"corpus root {root} does not exist")
    if not root.is_dir():
        raise CorpusError(f"corpus root {root} is not a directory")
    return root
