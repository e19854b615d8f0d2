"""Label tables of unknown encoding and delimiter (fdan.corpora.csvtext)."""
from __future__ import annotations

import codecs
from pathlib import Path

import pytest

from fdan.corpora import CorpusError
from fdan.corpora.csvtext import read_csv_table

COLUMNS = {"speaker": ("speaker_id",), "emotion": (), "text": ("utterance",)}
ROWS = ["Ross", "joy", "\u201cWe were on a break!\u201d \u2014 he said"]


@pytest.mark.parametrize("encoding,bom,delimiter,expected", [
    ("utf-8", False, ",", "utf-8"), ("utf-8", True, ",", "utf-8 (with BOM)"), ("cp1252", False, ",", "cp1252"),
    ("cp1252", True, ";", "cp1252 (with BOM)"), ("utf-8", False, "\t", "utf-8"),
])
def test_encodings_and_delimiters(tmp_path: Path, encoding: str, bom: bool, delimiter: str, expected: str) -> None:
    header = delimiter.join([" Speaker_ID ", "EMOTION", "Utterance"])
    body = delimiter.join(f'"{c}"' for c in ROWS)
    data = (codecs.BOM_UTF8 if bom else b"") + f"{header}\r\n{body}\r\n\r\n".encode(encoding)
    (tmp_path / "t.csv").write_bytes(data)
    table = read_csv_table(tmp_path / "t.csv", COLUMNS, required=["speaker", "emotion"])
    assert table.encoding == expected and table.columns == ["speaker", "emotion", "text"]
    assert table.rows == [dict(zip(COLUMNS, ROWS))] and table.row_numbers == [2]


def test_row_numbers_missing_cells_and_columns(tmp_path: Path) -> None:
    path = tmp_path / "t.csv"
    path.write_text('speaker,emotion\nA,joy\n\nB\n"C\nD",anger\nE,sadness\n')
    table = read_csv_table(path, COLUMNS, required=["speaker"])
    assert [r["speaker"] for r in table.rows] == ["A", "B", "C\nD", "E"]
    assert table.row_numbers == [2, 4, 5, 7]  # the line each record starts on; line 3 is blank
    assert table.rows[1] == {"speaker": "B", "emotion": "", "text": ""}
    with pytest.raises(CorpusError, match="missing column.*text"):
        read_csv_table(path, COLUMNS, required=["speaker", "text"])
    (tmp_path / "empty.csv").write_bytes(b"")
    with pytest.raises(CorpusError, match="is empty"):
        read_csv_table(tmp_path / "empty.csv", COLUMNS, required=["speaker"])
