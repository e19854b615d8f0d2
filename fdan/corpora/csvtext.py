"""Read a label table (CSV) whose encoding and delimiter the release did not fix.

Released tables vary: MELD's CSVs are cp1252 with smart quotes in the Utterance text, some copies
are re-saved as UTF-8 with a byte-order mark, hand-made tables use `;` or tabs. `read_csv_table`
drops a UTF-8 byte-order mark and decodes with the first of utf-8, cp1252, latin-1 that decodes the
whole file (latin-1 always does), takes the delimiter most frequent in the header line among `,`,
`;` and tab, and matches column names case-insensitively with surrounding spaces stripped.
"""
from __future__ import annotations

import codecs
import csv
import io
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from fdan.corpora.base import CorpusError

ENCODINGS: tuple[str, ...] = ("utf-8", "cp1252", "latin-1")
_DELIMITERS = (",", ";", "\t")


@dataclass
class CsvTable:
    """rows[i] maps each canonical column name (see `read_csv_table`) to its stripped text ("" if absent);
    row_numbers[i] is the 1-based line of the file on which rows[i] starts (the header is line 1)."""

    path: Path
    encoding: str
    columns: list[str]  # canonical names of the columns found
    rows: list[dict[str, str]] = field(default_factory=list)
    row_numbers: list[int] = field(default_factory=list)


def decode_text(data: bytes) -> tuple[str, str]:
    """(text, encoding): a UTF-8 byte-order mark removed, then the first of ENCODINGS that decodes the
    rest (also for a BOM file with cp1252 bytes in it, as re-saved copies sometimes are)."""
    bom = data.startswith(codecs.BOM_UTF8)
    body = data[len(codecs.BOM_UTF8):] if bom else data
    for enc in ENCODINGS:
        try:
            return body.decode(enc), enc + (" (with BOM)" if bom else "")
        except UnicodeDecodeError:
            continue
    raise AssertionError("latin-1 decodes any bytes")  # pragma: no cover


def _norm(name: str) -> str:
    return " ".join(name.replace("\ufeff", "").strip().lower().split())


def read_csv_table(path: Path, columns: Mapping[str, Sequence[str]], required: Sequence[str]) -> CsvTable:
    """Read `path`; `columns` maps each canonical column name to the header spellings accepted for it
    (compared after lower-casing and collapsing spaces). Raises CorpusError when the file cannot be
    read or a column in `required` is absent; a missing optional column reads as "" in every row."""
    try:
        text, encoding = decode_text(path.read_bytes())
    except OSError as exc:
        raise CorpusError(f"cannot read {path}: {exc.strerror or exc}") from exc
    header = text.split("\n", 1)[0]
    delimiter = max(_DELIMITERS, key=header.count)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    records: list[tuple[int, list[str]]] = []  # (line the record starts on, cells)
    start = 1
    try:
        for cells in reader:
            records.append((start, cells))
            start = reader.line_num + 1
    except csv.Error as exc:
        raise CorpusError(f"{path}: not a readable CSV table ({exc})") from exc
    if not records:
        raise CorpusError(f"{path} is empty (expected a header row)")
    header_cells = records[0][1]
    found = [_norm(h) for h in header_cells]
    index: dict[str, int] = {}
    for canonical, spellings in columns.items():
        for spelling in (canonical, *spellings):
            if _norm(spelling) in found:
                index[canonical] = found.index(_norm(spelling))
                break
    absent = [c for c in required if c not in index]
    if absent:
        raise CorpusError(f"{path}: missing column(s) {', '.join(absent)}; header has {', '.join(header_cells)}")
    table = CsvTable(path=path, encoding=encoding, columns=[c for c in columns if c in index])
    for number, record in records[1:]:
        if not any(cell.strip() for cell in record):
            continue  # blank line
        table.rows.append({c: (record[i].strip() if i < len(record) else "") for c, i in index.items()}
                          | {c: "" for c in columns if c not in index})
        table.row_numbers.append(number)
    return table
