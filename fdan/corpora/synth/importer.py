"""The `synth` importer: reads a generated corpus' corpus.json + labels.csv into `Utterance` records.

Emotion names in labels.csv are canonical already. There are no official splits: split is "all"
and fold is the speaker index (leave-one-speaker-out, folds 0..speakers-1), or, with the option
`folds` = N, speakers dealt round-robin over N folds (`native.speaker_folds`; fewer, larger test folds).
"""
from __future__ import annotations

import csv
import json
from dataclasses import dataclass
from pathlib import Path

from fdan.corpora.base import CANONICAL_LABELS, CorpusError, ScanResult, Skip, Utterance, check_root, register_importer
from fdan.corpora.native import check_folds, speaker_folds
from fdan.corpora.synth import layout

_REQUIRED = ("utterance_id", "speaker", "emotion", "video_path", "audio_path")


@dataclass
class SynthImporter:
    """Importer for the synthetic corpus family (see fdan/corpora/synth/layout.py); option `folds`."""

    folds: int | None = None  # None: one fold per speaker
    name = "synth"  # class attribute, not an option

    def __post_init__(self) -> None:
        if self.folds is not None:
            check_folds(self.folds)

    def settings(self) -> dict[str, int]:
        """Options that name the feature cache: none by default, so caches made before `folds` keep their names."""
        return {} if self.folds is None else {"folds": self.folds}

    def scan(self, root: Path) -> ScanResult:
        """List usable clips under `root`; bad rows (unknown emotion, missing media) become `Skip`s."""
        root = check_root(Path(root))
        meta_path, labels_path = root / layout.CORPUS_JSON, root / layout.LABELS_CSV
        missing = [p.name for p in (meta_path, labels_path) if not p.is_file()]
        if missing:
            raise CorpusError(f"{root} is not a synthetic corpus: expected {layout.CORPUS_JSON} and "
                              f"{layout.LABELS_CSV} (written by `fdan-bench synth`), missing {', '.join(missing)}")
        try:
            meta = json.loads(meta_path.read_text(encoding="utf-8"))
        except json.JSONDecodeError as exc:
            raise CorpusError(f"{meta_path} is not valid JSON: {exc}") from exc
        if not isinstance(meta, dict) or meta.get("family") != layout.FAMILY:
            raise CorpusError(f"{meta_path}: family is {meta.get('family') if isinstance(meta, dict) else None!r}, "
                              f"expected {layout.FAMILY!r}")
        corpus = str(meta.get("corpus") or root.name)

        with open(labels_path, newline="", encoding="utf-8") as fh:
            reader = csv.DictReader(fh)
            absent = [c for c in _REQUIRED if c not in (reader.fieldnames or [])]
            if absent:
                raise CorpusError(f"{labels_path}: missing column(s) {', '.join(absent)}")
            rows = list(reader)

        speakers = sorted({r["speaker"] for r in rows})
        index_of = ({s: i for i, s in enumerate(speakers)} if self.folds is None
                    else speaker_folds(speakers, self.folds, corpus))
        utts: list[Utterance] = []
        skipped: list[Skip] = []
        for n, row in enumerate(rows, start=2):
            video, audio = (row.get("video_path") or "").strip(), (row.get("audio_path") or "").strip()
            where = video or f"{layout.LABELS_CSV}:{n}"
            emotion = (row.get("emotion") or "").strip()
            if emotion not in CANONICAL_LABELS:
                skipped.append(Skip(where, f"labels.csv line {n}: unknown emotion {emotion!r}"))
                continue
            if not row.get("utterance_id") or not row.get("speaker"):
                skipped.append(Skip(where, f"labels.csv line {n}: empty utterance_id or speaker"))
                continue
            lost = [p for p in (video, audio) if p and not (root / p).is_file()]
            if not video or lost:
                skipped.append(Skip(where, f"labels.csv line {n}: missing media file {lost[0] if lost else '(no video_path)'}"))
                continue
            utts.append(Utterance(
                corpus=corpus, utterance_id=row["utterance_id"], speaker=row["speaker"], corpus_label=emotion,
                label=emotion, split="all", fold=index_of[row["speaker"]], audio_path=audio, video_path=video,
            ))
        return ScanResult(corpus=corpus, utterances=utts, skipped=skipped)


register_importer("synth")(SynthImporter)
