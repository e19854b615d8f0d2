"""The `csv` importer: your own corpus, described by one CSV table.

ROOT is the folder holding the table: `corpus.csv` (else `labels.csv`) in ROOT, or the file named by
the option `table` (a path relative to ROOT). Media paths in the table are relative to the table's
folder (absolute paths are refused; `\\` is read as `/`). Encoding utf-8 / utf-8-sig / cp1252,
delimiter `,` `;` or tab, column names case-insensitive (fdan.corpora.csvtext). Columns:

  label          required: the corpus' label, mapped by `label_map`, else used as is if canonical
  speaker        required
  video, audio   at least one of the two columns; per row at least one file (video: faces, and audio
                 too when `audio` is empty; audio alone: an audio-only row)
  utterance_id   optional (default: the media path without its suffix, plus `@start-end` for a
                 segment); must be unique
  start, end     optional segment in seconds, cutting the video (or an audio-only row's audio);
                 see the segment rule on `Utterance`
  split          optional: train / dev (also val, valid, validation) / test / all
  fold           optional integer >= 0 (or -1: none, with an official split)

fold per row: the `fold` cell if filled; else -1 when split is train/dev/test; else speaker folds:
option `folds` = None gives one fold per speaker (leave-one-speaker-out), an integer N deals the
sorted speakers round-robin over N folds (fdan.corpora.native.speaker_folds).

Options: `table` (str), `label_map` ({corpus label: canonical label, or null to drop it}; keys
matched exactly, then case-insensitively), `corpus` (name; default the ROOT folder's name), `folds`.
A row is skipped with a reason for an unmapped or dropped label, an empty speaker, no media file, a
missing file, an absolute path, a bad start/end/split/fold, a duplicate utterance_id.
"""
from __future__ import annotations

import math
import posixpath
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

from fdan.corpora.base import CANONICAL_LABELS, CorpusError, ScanResult, Skip, Utterance, register_importer
from fdan.corpora.fold_file import apply_fold_file
from fdan.corpora.csvtext import read_csv_table
from fdan.corpora.native import check_folds, rel, speaker_folds

DEFAULT_TABLES = ("corpus.csv", "labels.csv")
COLUMNS: dict[str, tuple[str, ...]] = {
    "utterance_id": ("id", "utterance"), "video": ("video_path", "video_file"),
    "audio": ("audio_path", "audio_file"),
    "label": ("emotion",), "speaker": ("speaker_id",), "start": ("start_s",), "end": ("end_s",),
    "split": (), "fold": (),
}
SPLITS = {
    "train": "train", "dev": "dev", "val": "dev", "valid": "dev", "validation": "dev", "test": "test", "all": "all",
}


class RowError(ValueError):
    """One table row that cannot become an Utterance; the message is the skip reason."""


def _seconds(text: str, column: str) -> float | None:
    if not text:
        return None
    try:
        value = float(text)
    except ValueError:
        raise RowError(f"{column} {text!r} is not a number of seconds") from None
    if not math.isfinite(value) or value < 0:
        raise RowError(f"{column} {text!r} must be a finite number >= 0")
    return value


@register_importer("csv")
@dataclass
class CsvImporter:
    """Importer for a corpus described by a CSV table (module docstring)."""

    table: str = ""
    label_map: dict[str, str | None] = field(default_factory=dict)
    corpus: str = ""
    folds: int | None = None
    fold_file: str = ""  # folds from a file (fdan.corpora.fold_file), e.g. EmoBox's partition
    name: ClassVar[str] = "csv"

    def __post_init__(self) -> None:
        if not isinstance(self.table, str):
            raise ValueError(f"option table={self.table!r} must be a path (relative to ROOT) or empty")
        if not isinstance(self.label_map, dict):
            raise ValueError(f"option label_map must map corpus labels to canonical labels, got {self.label_map!r}")

        def canonical(v: object) -> str | None:
            return v if v is None else str(v).strip().lower()

        bad = {k: v for k, v in self.label_map.items() if v is not None and canonical(v) not in CANONICAL_LABELS}
        if bad:
            raise ValueError(f"option label_map: {bad} map to non-canonical labels; canonical: "
                             f"{', '.join(CANONICAL_LABELS)} (or null to drop a label)")
        # exact keys first, then keys compared case-insensitively (numeric YAML keys read as text)
        self._exact = {str(k).strip(): canonical(v) for k, v in self.label_map.items()}
        self._folded = {k.lower(): v for k, v in self._exact.items()}
        if self.folds is not None:
            check_folds(self.folds)

    def _table_path(self, root: Path) -> Path:
        if self.table:
            path = root / self.table
            if Path(self.table).is_absolute() or not path.resolve().is_relative_to(root.resolve()):
                raise CorpusError(f"csv importer: option table={self.table!r} must be a path inside ROOT {root}")
            if not path.is_file():
                raise CorpusError(f"csv importer: table {self.table!r} not found under {root}")
            return path
        for name in DEFAULT_TABLES:
            if (root / name).is_file():
                return root / name
        raise CorpusError(f"{root}: no {' or '.join(DEFAULT_TABLES)} in it; name your table with the "
                          "importer option table")

    def _label(self, raw: str) -> str:
        if raw in self._exact or raw.lower() in self._folded:
            mapped = self._exact[raw] if raw in self._exact else self._folded[raw.lower()]
            if mapped is None:
                raise RowError(f"label {raw!r} dropped by label_map")
            return mapped
        if raw.lower() in CANONICAL_LABELS:
            return raw.lower()
        raise RowError(f"label {raw!r} is not canonical and not in label_map")

    @staticmethod
    def _media(root: Path, base: str, text: str, column: str) -> str:
        """The root-relative path of a table cell ("" stays ""); RowError if absolute or missing."""
        if not text:
            return ""
        text = text.replace("\\", "/")
        if text.startswith("/") or (len(text) > 1 and text[1] == ":"):
            raise RowError(f"{column} path {text!r} is absolute; give it relative to the table's folder")
        path = posixpath.normpath(posixpath.join(base, text))
        if not (root / path).is_file():
            raise RowError(f"missing {column} file {path}")
        return path

    def _row(self, root: Path, base: str, row: dict[str, str]) -> dict[str, Any]:
        """The Utterance fields of one table row (fold None: to be dealt by speaker); RowError if unusable."""
        if not row["label"]:
            raise RowError("empty label")
        label = self._label(row["label"])
        if not row["speaker"]:
            raise RowError("empty speaker")
        video = self._media(root, base, row["video"], "video")
        audio = self._media(root, base, row["audio"], "audio")
        if not video and not audio:
            raise RowError("neither a video nor an audio file")
        start, end = _seconds(row["start"], "start"), _seconds(row["end"], "end")
        if start is not None and end is not None and end <= start:
            raise RowError(f"segment end {end} <= start {start}")
        split = SPLITS.get(row["split"].lower() or "all")
        if split is None:
            raise RowError(f"split {row['split']!r} is not one of {', '.join(SPLITS)}")
        fold: int | None = -1 if split != "all" else None
        if row["fold"]:
            try:
                value = float(row["fold"])  # "2.0" as written by tools that store folds as floats
            except ValueError:
                value = math.nan
            if not value.is_integer():
                raise RowError(f"fold {row['fold']!r} is not an integer")
            fold = int(value)
            if fold < -1:
                raise RowError(f"fold {fold} < -1")
        uid = row["utterance_id"] or posixpath.splitext(video or audio)[0]
        if not row["utterance_id"] and (start is not None or end is not None):  # several segments of one file
            uid += f"@{'' if start is None else f'{start:g}'}-{'' if end is None else f'{end:g}'}"
        return dict(utterance_id=uid, speaker=row["speaker"], corpus_label=row["label"], label=label,
                    split=split, fold=fold, audio_path=audio, video_path=video, start=start, end=end)

    def scan(self, root: Path) -> ScanResult:
        root = Path(root).expanduser()
        if root.is_file():
            raise CorpusError(f"csv importer: ROOT {root} is a file; pass the folder that holds it "
                              f"(and table={root.name!r} unless it is {' or '.join(DEFAULT_TABLES)})")
        if not root.is_dir():
            raise CorpusError(f"corpus root {root} does not exist")
        path = self._table_path(root)
        table = read_csv_table(path, COLUMNS, required=["label", "speaker"])
        if "video" not in table.columns and "audio" not in table.columns:
            raise CorpusError(f"{path}: needs a video or an audio column; header columns found: "
                              f"{', '.join(table.columns)}")
        table_rel, base = rel(root, path), posixpath.dirname(rel(root, path))
        corpus = self.corpus or root.resolve().name
        rows: list[dict[str, Any]] = []
        skipped: list[Skip] = []
        seen: set[str] = set()
        for row, n in zip(table.rows, table.row_numbers):
            try:
                rec = self._row(root, base, row)
                if rec["utterance_id"] in seen:
                    raise RowError(f"duplicate utterance_id {rec['utterance_id']!r}")
            except RowError as exc:
                skipped.append(Skip(f"{table_rel}:{n}", f"{table_rel} line {n}: {exc}"))
                continue
            seen.add(rec["utterance_id"])
            rows.append(rec)
        unfolded = sorted({r["speaker"] for r in rows if r["fold"] is None})
        if self.folds is None:
            fold_of = {spk: i for i, spk in enumerate(unfolded)}
        else:
            fold_of = speaker_folds(unfolded, self.folds, corpus) if unfolded else {}
        for r in rows:
            if r["fold"] is None:
                r["fold"] = fold_of[r["speaker"]]
        utts = [Utterance(corpus=corpus, **r) for r in rows]
        return apply_fold_file(ScanResult(corpus=corpus, utterances=utts, skipped=skipped), self.fold_file, root)
