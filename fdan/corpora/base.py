"""Corpus importers: read a corpus in its native release layout into `Utterance` records.

An importer never decodes media; it only finds files and labels. Files it cannot use (unknown label
code, missing partner stream file, unparsable name) become `Skip` records, never silent losses.
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Protocol

FACE_RULES: tuple[str, ...] = ("largest", "speaker")  # which face of several: fdan.features.faces

CANONICAL_LABELS: tuple[str, ...] = (
    "anger", "happiness", "sadness", "neutral", "fear", "disgust", "surprise", "calm",
)


class CorpusError(ValueError):
    """A corpus root that is missing or matches no known layout (one clear message)."""


@dataclass(frozen=True)
class Utterance:
    """One labelled utterance: where its media lie and which seconds of them belong to it.

    Segment rule (`start`/`end`, seconds): they cut `video_path`, both its frames and its audio stream
    when the audio comes from the video (`audio_path` ""). A separate `audio_path` file is already the
    utterance and is used whole (IEMOCAP: dialog AVI cut by the label times, sentence wav as is).
    On an audio-only row (`video_path` "") they cut `audio_path`.
    """

    corpus: str
    utterance_id: str
    speaker: str
    corpus_label: str
    label: str  # canonical, one of CANONICAL_LABELS
    split: str  # train/dev/test for corpora with official splits, else "all"
    fold: int  # speaker-independent fold, -1 where official splits are used
    audio_path: str  # relative to the corpus root ("" if the audio comes from the video file)
    video_path: str  # relative to the corpus root ("" for an audio-only row)
    start: float | None = None  # segment start in seconds (None = from the start); see the segment rule
    end: float | None = None  # segment end in seconds (None = to the end of the file)
    face_rule: str = "largest"  # which face when several are in frame: FACE_RULES (fdan.features.faces)

    def __post_init__(self) -> None:
        if self.label not in CANONICAL_LABELS:
            raise ValueError(f"{self.utterance_id}: label {self.label!r} is not canonical {CANONICAL_LABELS}")
        if self.start is not None and self.start < 0:
            raise ValueError(f"{self.utterance_id}: segment start {self.start} < 0")
        if self.face_rule not in FACE_RULES:
            raise ValueError(f"{self.utterance_id}: face_rule {self.face_rule!r} is not one of {FACE_RULES}")
        if self.start is not None and self.end is not None and self.end <= self.start:
            raise ValueError(f"{self.utterance_id}: segment end {self.end} <= start {self.start}")


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


_IMPORTERS: dict[str, Callable[..., CorpusImporter]] = {}


def register_importer(name: str) -> Callable[[Callable[..., CorpusImporter]], Callable[..., CorpusImporter]]:
    """Register an importer factory under `name`; the factory takes the importer's options as keywords.

    Importers are small dataclasses whose fields are their options (e.g. RAVDESS `calm`), so
    `get_importer("ravdess", calm="merge")` builds one; the factory validates the values.
    """
    def deco(factory: Callable[..., CorpusImporter]) -> Callable[..., CorpusImporter]:
        _IMPORTERS[name] = factory
        return factory

    return deco


def list_importers() -> list[str]:
    return sorted(_IMPORTERS)


def importer_options(name: str) -> list[str]:
    """Option names the importer `name` accepts (its dataclass fields; [] for option-less importers)."""
    factory = _IMPORTERS[name]
    # dataclasses.fields, not __dataclass_fields__: the latter also lists ClassVar attributes (`name`)
    return sorted(f.name for f in dataclasses.fields(factory)) if dataclasses.is_dataclass(factory) else []


def get_importer(name: str, **options: object) -> CorpusImporter:
    """The importer `name` built with `options`; unknown name or option → CorpusError naming the known ones."""
    if name not in _IMPORTERS:
        import difflib

        close = difflib.get_close_matches(name, list_importers(), n=1)
        hint = f"; did you mean {close[0]!r}?" if close else ""
        raise CorpusError(f"unknown corpus importer {name!r}; known: {', '.join(list_importers())}{hint}")
    known = importer_options(name)
    unknown = sorted(set(options) - set(known))
    if unknown:
        raise CorpusError(f"importer {name!r}: unknown option(s) {', '.join(unknown)}; "
                          f"known: {', '.join(known) or '(none)'}")
    try:
        return _IMPORTERS[name](**options)
    except (TypeError, ValueError) as exc:
        raise CorpusError(f"importer {name!r}: {exc}") from exc


def check_root(root: Path) -> Path:
    root = Path(root).expanduser()
    if not root.exists():
        raise CorpusError(f"corpus root {root} does not exist")
    if not root.is_dir():
        raise CorpusError(f"corpus root {root} is not a directory")
    return root
