"""Every corpus filename / label parser, fuzzed: it returns its result or its documented reason / skip,
and raises nothing but its documented error (CorpusError for an unusable table), whatever the input.

Strings mix random text with near-misses of the real formats (the regexes' own alphabet), so the
examples reach deep into each parser instead of failing its first check.
"""
from __future__ import annotations

import tempfile
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fdan.corpora import CANONICAL_LABELS, CorpusError, ScanResult
from fdan.corpora.cremad import parse_stem, read_votes
from fdan.corpora.csv_table import CsvImporter
from fdan.corpora.csvtext import decode_text, read_csv_table
from fdan.corpora.enterface import Place, locate
from fdan.corpora.iemocap import IemocapImporter
from fdan.corpora.meld import MeldImporter
from fdan.corpora.ravdess import RavdessName
from fdan.corpora.ravdess import parse_name as ravdess_name
from fdan.corpora.savee import parse_name as savee_name

FUZZ = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
# text built from the pieces real names are made of, plus anything at all
PIECES = st.sampled_from(["0", "1", "2", "01", "03", "1001", "-", "_", ".", " ", "/", "sa", "su", "a", "an", "ANG",
                          "DFA", "XX", "HI", "s", "avi", ".avi", "subject", "subject 1", "sentence 2", "anger",
                          "[", "]", "\t", "Ses01F_impro01_F000", "ang", "neu", "\x00", "é", "\ufeff", "\n", "\r"])
NEARLY = st.lists(PIECES, max_size=12).map("".join)
TEXT = st.one_of(st.text(max_size=40), NEARLY)


def is_reason(value: object) -> bool:
    return isinstance(value, str) and len(value) > 0


@FUZZ
@given(TEXT)
def test_savee_name(stem: str):
    out = savee_name(stem)
    assert is_reason(out) or (isinstance(out, tuple) and isinstance(out[1], int))


@FUZZ
@given(st.one_of(TEXT, st.lists(st.sampled_from(["01", "02", "03", "08", "24", "99", "1"]), min_size=7,
                                max_size=7).map("-".join)))
def test_ravdess_name(stem: str):
    out = ravdess_name(stem)
    assert is_reason(out) or isinstance(out, RavdessName)


@FUZZ
@given(st.one_of(TEXT, st.tuples(st.sampled_from(["1001", "1091", "12", "abcd"]),
                                 st.sampled_from(["DFA", "IEO", "xyz", "ITS"]),
                                 st.sampled_from(["ANG", "HAP", "NEU", "FOO", "ang"]),
                                 st.sampled_from(["XX", "HI", "LO", "MD", "ZZ", "x"])).map("_".join)))
def test_cremad_stem(stem: str):
    out = parse_stem(stem)
    assert is_reason(out) or (isinstance(out, tuple) and len(out) == 2)


@FUZZ
@given(st.lists(TEXT, min_size=1, max_size=4).map("/".join))
def test_enterface_path(rel_path: str):
    out = locate(rel_path)
    assert is_reason(out) or isinstance(out, Place)


@FUZZ
@given(st.binary(max_size=200))
def test_decode_text_decodes_any_bytes(data: bytes):
    text, encoding = decode_text(data)
    assert isinstance(text, str) and encoding


CSV_BYTES = st.one_of(st.binary(max_size=300), st.lists(NEARLY, max_size=6).map(
    lambda lines: ("FileName,VoiceVote,Speaker,Emotion,Dialogue_ID,Utterance_ID\n" + "\n".join(lines)).encode()),
    st.lists(NEARLY, max_size=6).map(lambda lines: "\n".join(lines).encode("utf-8", "surrogatepass")))


def table_file(folder: Path, name: str, data: bytes) -> Path:
    path = folder / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return path


@FUZZ
@given(CSV_BYTES)
def test_csv_table_reader(data: bytes):
    with tempfile.TemporaryDirectory() as tmp:
        try:
            table = read_csv_table(table_file(Path(tmp), "t.csv", data), {"speaker": (), "emotion": ("label",)},
                                   required=["speaker"])
        except CorpusError:
            return
        assert all(set(row) == {"speaker", "emotion"} for row in table.rows)


@FUZZ
@given(CSV_BYTES)
def test_cremad_votes_table(data: bytes):
    with tempfile.TemporaryDirectory() as tmp:
        try:
            votes = read_votes(table_file(Path(tmp), "summaryTable.csv", data), "voice")
        except CorpusError:
            return
        assert all(isinstance(k, str) and isinstance(v, str) for k, v in votes.items())


LABEL_LINES = st.lists(st.one_of(NEARLY, st.tuples(
    st.sampled_from(["0.5", "1.25", "3", "2.", "-1", "x"]), st.sampled_from(["1.0", "0.1", "4", "."]),
    st.sampled_from(["Ses01F_impro01_F000", "Ses02M_script01_M001", "bad", "Ses01F_x_Q"]),
    st.sampled_from(["ang", "neu", "hap", "exc", "xxx", "oth", "fru"])).map(
        lambda t: f"[{t[0]} - {t[1]}]\t{t[2]}\t{t[3]}\t[2.5, 2.5, 2.5]")), max_size=8).map("\n".join)


@FUZZ
@given(LABEL_LINES)
def test_iemocap_label_file(text: str):
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        table_file(root / "Session1" / "dialog" / "EmoEvaluation", "Ses01F_impro01.txt", text.encode("latin-1", "replace"))
        (root / "Session1" / "sentences" / "wav" / "Ses01F_impro01").mkdir(parents=True)
        table_file(root / "Session1" / "sentences" / "wav" / "Ses01F_impro01", "Ses01F_impro01_F000.wav", b"RIFF")
        result = IemocapImporter(labels="full").scan(root)
        assert isinstance(result, ScanResult)
        assert all(u.label in CANONICAL_LABELS for u in result.utterances)


@FUZZ
@given(CSV_BYTES)
def test_meld_table(data: bytes):
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        table_file(root, "train_sent_emo.csv", data)
        table_file(root / "train_splits", "dia0_utt0.mp4", b"")
        try:
            result = MeldImporter().scan(root)
        except CorpusError:
            return
        assert all(u.label in CANONICAL_LABELS for u in result.utterances)


@FUZZ
@given(st.one_of(CSV_BYTES, st.lists(NEARLY, max_size=5).map(
    lambda lines: ("utterance_id,audio,label,speaker,split,fold,start,end\n" + "\n".join(lines)).encode())))
def test_csv_importer_table(data: bytes):
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        table_file(root, "labels.csv", data)
        table_file(root, "a.wav", b"RIFF")
        try:
            result = CsvImporter().scan(root)
        except CorpusError:
            return
        assert all(u.label in CANONICAL_LABELS for u in result.utterances)
