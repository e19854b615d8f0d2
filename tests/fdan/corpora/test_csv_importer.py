"""The `csv` importer: one's own corpus described by a CSV table, with a label map, segments, splits or
folds, real media (H.264/AAC mp4, 16 kHz wav) and planted bad rows."""
from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from fdan.corpora import CorpusError, get_importer
from tests.fdan.corpora.native_media import write_corrupt, write_preset, write_wav
from tests.fdan.corpora.prepared import prepare_tables

LABEL_MAP = {"ang": "anger", "happy": "happiness", "frustrated": None}
TABLE = """utterance_id,video,audio,label,speaker,start,end,split,fold
u1,clips/a.mp4,,ang,s1,,,train,
u2,clips/b.mp4,audio/b.wav,HAPPY,s2,0.2,0.8,dev,
u3,,audio/c.wav,Neutral,s3,,,test,
u4,clips\\d.mp4,,sadness,s1,0.1,,all,3.0
,clips/e.mp4,,anger,s4,,,,
,clips/e.mp4,,anger,s4,0.5,,,
u5,clips/a.mp4,,bored,s1,,,train,
u6,clips/a.mp4,,frustrated,s1,,,train,
u7,clips/gone.mp4,,anger,s1,,,train,
u8,/data/abs.mp4,,anger,s1,,,train,
u9,clips/a.mp4,,anger,s1,1.0,0.5,train,
u10,clips/a.mp4,,anger,s1,soon,,train,
u11,clips/a.mp4,,anger,s1,,,holdout,
u12,clips/a.mp4,,anger,s1,,,all,x
u1,clips/b.mp4,,anger,s1,,,train,
u13,clips/a.mp4,,anger,,,,train,
u14,,,anger,s1,,,train,
u15,clips/bad.mp4,,anger,s5,,,train,
"""
PLANTED = {  # skipped path -> words its reason must contain
    "corpus.csv:8": "label 'bored' is not canonical and not in label_map",
    "corpus.csv:9": "label 'frustrated' dropped by label_map",
    "corpus.csv:10": "missing video file clips/gone.mp4",
    "corpus.csv:11": "is absolute",
    "corpus.csv:12": "segment end 0.5 <= start 1.0",
    "corpus.csv:13": "start 'soon' is not a number",
    "corpus.csv:14": "split 'holdout' is not one of",
    "corpus.csv:15": "fold 'x' is not an integer",
    "corpus.csv:16": "duplicate utterance_id 'u1'",
    "corpus.csv:17": "empty speaker",
    "corpus.csv:18": "neither a video nor an audio file",
}
EXPECTED = {  # utterance_id -> (speaker, corpus_label, label, split, fold, video, audio, start, end)
    "u1": ("s1", "ang", "anger", "train", -1, "clips/a.mp4", "", None, None),
    "u2": ("s2", "HAPPY", "happiness", "dev", -1, "clips/b.mp4", "audio/b.wav", 0.2, 0.8),
    "u3": ("s3", "Neutral", "neutral", "test", -1, "", "audio/c.wav", None, None),
    "u4": ("s1", "sadness", "sadness", "all", 3, "clips/d.mp4", "", 0.1, None),
    "clips/e": ("s4", "anger", "anger", "all", 0, "clips/e.mp4", "", None, None),  # only s4 is dealt a fold
    "clips/e@0.5-": ("s4", "anger", "anger", "all", 0, "clips/e.mp4", "", 0.5, None),
    "u15": ("s5", "anger", "anger", "train", -1, "clips/bad.mp4", "", None, None),
}


def _media(root: Path) -> None:
    for name in ("a", "b", "d", "e"):
        write_preset(root / "clips" / f"{name}.mp4", "meld", seconds=1.0)
    write_corrupt(root / "clips" / "bad.mp4", "garbage")
    write_wav(root / "audio" / "b.wav", 16000, 0.6)
    write_wav(root / "audio" / "c.wav", 16000, 0.7)


@pytest.fixture(scope="module")
def root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("own") / "my-corpus"
    _media(root)
    (root / "corpus.csv").write_text(TABLE)
    return root


def _check(res, expected: dict) -> None:  # noqa: ANN001
    got = {u.utterance_id: u for u in res.utterances}
    assert sorted(got) == sorted(expected)
    for uid, want in expected.items():
        u = got[uid]
        assert (u.speaker, u.corpus_label, u.label, u.split, u.fold, u.video_path, u.audio_path, u.start, u.end) == want


def test_scan(root: Path) -> None:
    res = get_importer("csv", label_map=LABEL_MAP).scan(root)
    assert res.corpus == "my-corpus"
    _check(res, EXPECTED)
    skipped = {s.path: s.reason for s in res.skipped}
    assert set(skipped) == set(PLANTED), set(skipped) ^ set(PLANTED)
    for path, words in PLANTED.items():
        assert words in skipped[path], (path, skipped[path])


def test_table_elsewhere_cp1252_semicolons_and_speaker_folds(tmp_path: Path) -> None:
    """A table in a sub-folder (paths relative to it), cp1252 with a smart-quoted label, `;` delimiter,
    upper-case headers, no split/fold column: speakers dealt over folds."""
    root = tmp_path / "own"
    _media(root)
    lines = ["ID;Video_Path;Emotion;Speaker", "x1;../clips/a.mp4;\u201cangry\u201d;kim", "x2;../clips/b.mp4;angry;lee",
             "x3;../clips/d.mp4;sadness;max", "x4;../clips/e.mp4;7;kim"]
    (root / "meta").mkdir()
    (root / "meta" / "table.csv").write_bytes("\r\n".join(lines).encode("cp1252"))
    label_map = {"angry": "anger", "\u201cangry\u201d": "anger", 7: " Sadness"}  # YAML: int key, odd case
    res = get_importer("csv", table="meta/table.csv", label_map=label_map, corpus="mine").scan(root)
    assert res.corpus == "mine" and res.skipped == []
    folds = {u.utterance_id: (u.video_path, u.label, u.split, u.fold) for u in res.utterances}
    assert folds == {"x1": ("clips/a.mp4", "anger", "all", 0), "x2": ("clips/b.mp4", "anger", "all", 1),
                     "x3": ("clips/d.mp4", "sadness", "all", 2), "x4": ("clips/e.mp4", "sadness", "all", 0)}
    two = get_importer("csv", table="meta/table.csv", label_map=label_map, folds=2).scan(root)
    assert {u.utterance_id: u.fold for u in two.utterances} == {"x1": 0, "x2": 1, "x3": 0, "x4": 0}
    assert {u.corpus_label for u in res.utterances} == {"\u201cangry\u201d", "angry", "sadness", "7"}


def test_clear_errors(root: Path, tmp_path: Path) -> None:
    with pytest.raises(CorpusError, match="non-canonical"):
        get_importer("csv", label_map={"ang": "rage"})
    with pytest.raises(CorpusError, match="folds"):
        get_importer("csv", folds=1)
    with pytest.raises(CorpusError, match="unknown option"):
        get_importer("csv", labelmap={})
    with pytest.raises(CorpusError, match="is a file; pass the folder"):
        get_importer("csv").scan(root / "corpus.csv")
    (tmp_path / "none").mkdir()
    with pytest.raises(CorpusError, match="no corpus.csv or labels.csv"):
        get_importer("csv").scan(tmp_path / "none")
    with pytest.raises(CorpusError, match="must be a path inside ROOT"):
        get_importer("csv", table="../corpus.csv").scan(tmp_path / "none")
    with pytest.raises(CorpusError, match="table 'x.csv' not found"):
        get_importer("csv", table="x.csv").scan(tmp_path / "none")
    (tmp_path / "none" / "labels.csv").write_text("video,speaker\na.mp4,s1\n")
    with pytest.raises(CorpusError, match="missing column.*label"):
        get_importer("csv").scan(tmp_path / "none")
    (tmp_path / "none" / "labels.csv").write_text("label,speaker\nanger,s1\n")
    with pytest.raises(CorpusError, match="needs a video or an audio column"):
        get_importer("csv").scan(tmp_path / "none")


def test_prepare_decodes_and_reports(root: Path, tmp_path: Path) -> None:
    manifest, skipped = prepare_tables(get_importer("csv", label_map=LABEL_MAP), root, tmp_path / "cache")
    assert sorted(manifest["utterance_id"]) == sorted(set(EXPECTED) - {"u15"})
    reasons = dict(zip(skipped["path"], skipped["reason"]))
    assert set(reasons) == set(PLANTED) | {"clips/bad.mp4"}


def test_readme_example_runs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The README's csv example, table and code as printed, on real media named as in the table."""
    readme = (Path(__file__).resolve().parents[3] / "README.md").read_text()
    section = readme.split("### Your own corpus (`csv`)", 1)[1].split("\n## ", 1)[0]
    table = re.search(r"`my-corpus/corpus.csv`\n\n```\n(.*?)```", section, re.S).group(1)
    code = re.search(r"```python\n(.*?)```", section, re.S).group(1)
    root = tmp_path / "my-corpus"
    root.mkdir()
    (root / "corpus.csv").write_text(table)
    write_preset(root / "clips/anna_001.mp4", "meld", seconds=1.0)
    write_preset(root / "clips/anna_session1.mp4", "meld", seconds=16.0, size=(32, 18))
    write_preset(root / "clips/ben_001.mp4", "meld", seconds=1.0)
    write_wav(root / "audio/ben_001.wav", 16000, 1.0)
    write_wav(root / "audio/cleo_001.wav", 16000, 1.0)
    write_preset(root / "clips/cleo_002.mp4", "meld", seconds=1.0)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("FDAN_BENCH_CACHE", str(tmp_path / "cache"))
    scope: dict = {}
    exec(compile(code, "README.md", "exec"), scope)
    res = scope["res"]
    assert (res.n_usable, res.n_skipped) == (4, 1)
    manifest = pd.read_csv(res.out_dir / "manifest.csv", keep_default_na=False)
    assert list(manifest["utterance_id"]) == ["anna_001", "anna_002", "ben_001", "cleo_001"]
    face_mask = np.load(res.out_dir / "face_mask.npy")
    assert face_mask[:3].all(axis=1).all() and not face_mask[3].any()  # cleo_001 is audio-only
    skipped = pd.read_csv(res.out_dir / "skipped.csv", keep_default_na=False)
    assert list(skipped["reason"]) == ["corpus.csv line 6: label 'bor' dropped by label_map"]
