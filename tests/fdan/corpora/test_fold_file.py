"""Folds from a file (importer option fold_file): a table by utterance or speaker, or EmoBox's partition."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from fdan.corpora import get_importer
from fdan.corpora.base import CorpusError
from fdan.features import prepare_corpus
from tests.fdan.corpora.prepared import SMALL_FEATURES

SPEAKERS = {"ann": ["ann_1", "ann_2"], "bob": ["bob_1"], "cy": ["cy_1", "cy_2"]}


@pytest.fixture
def corpus(tmp_path: Path) -> Path:
    """A csv-importer corpus of 5 utterances (empty media files: scanning never decodes)."""
    root = tmp_path / "mine"
    (root / "clips").mkdir(parents=True)
    rows = ["utterance_id,speaker,label,video"]
    for spk, utts in SPEAKERS.items():
        for u in utts:
            (root / "clips" / f"{u}.mp4").write_bytes(b"x")
            rows.append(f"{u},{spk},anger,clips/{u}.mp4")
    (root / "corpus.csv").write_text("\n".join(rows) + "\n")
    return root


def _folds(root: Path, fold_file: str) -> tuple[dict[str, int], dict[str, str]]:
    res = get_importer("csv", fold_file=fold_file).scan(root)
    return {u.utterance_id: u.fold for u in res.utterances}, {s.path: s.reason for s in res.skipped}


def test_table_by_utterance_assigns_folds_and_skips_the_rest(corpus: Path, tmp_path: Path):
    table = tmp_path / "folds.csv"
    # ids or file stems both match; ann_2 is not listed
    table.write_text("utterance_id,fold\nann_1,0\nbob_1,1\ncy_1,2\ncy_2,0\n")
    folds, skipped = _folds(corpus, str(table))
    assert folds == {"ann_1": 0, "bob_1": 1, "cy_1": 2, "cy_2": 0}
    assert skipped == {"clips/ann_2.mp4": "ann_2: not in fold file folds.csv"}


def test_table_by_speaker_relative_to_the_root(corpus: Path):
    (corpus / "spk.tsv").write_text("speaker\tfold\nann\t1\nbob\t0\ncy\t1\n")
    folds, skipped = _folds(corpus, "spk.tsv")  # not in the working directory: found in ROOT
    assert folds == {"ann_1": 1, "ann_2": 1, "bob_1": 0, "cy_1": 1, "cy_2": 1} and not skipped


def test_emobox_partition_folder(corpus: Path, tmp_path: Path):
    """EmoBox data/<dataset>/fold_<k>/<dataset>_test_fold_<k>.jsonl: fold k's test utterances, by key or wav stem."""
    emobox = tmp_path / "EmoBox" / "data" / "mine"
    tests = {1: ["ann_1", "ann_2"], 2: ["bob_1"], 3: ["cy_1", "cy_2"]}
    for k, utts in tests.items():
        (emobox / f"fold_{k}").mkdir(parents=True)
        lines = [json.dumps({"key": f"mine-{u}", "wav": f"downloads/mine/{u}.wav", "emo": "ang"}) for u in utts]
        (emobox / f"fold_{k}" / f"mine_test_fold_{k}.jsonl").write_text("\n".join(lines) + "\n")
        (emobox / f"fold_{k}" / f"mine_train_fold_{k}.jsonl").write_text("")  # train lists are not read
    folds, skipped = _folds(corpus, str(emobox))
    assert folds == {"ann_1": 0, "ann_2": 0, "bob_1": 1, "cy_1": 2, "cy_2": 2} and not skipped


def test_bad_fold_files_are_clear_errors(corpus: Path, tmp_path: Path):
    with pytest.raises(CorpusError, match="fold_file 'nope.csv' not found"):
        _folds(corpus, "nope.csv")
    bad = tmp_path / "bad.csv"
    bad.write_text("name,fold\nann_1,0\n")
    with pytest.raises(CorpusError, match="needs a `fold` column and an `utterance_id` or `speaker` column"):
        _folds(corpus, str(bad))
    bad.write_text("speaker,fold\nann,0\nann,1\n")
    with pytest.raises(CorpusError, match="speaker ann is assigned folds 0 and 1"):
        _folds(corpus, str(bad))
    bad.write_text("speaker,fold\nann,x\n")
    with pytest.raises(CorpusError, match="fold 'x' is not an integer"):
        _folds(corpus, str(bad))
    bad.write_text("speaker,fold\nzed,0\n")
    with pytest.raises(CorpusError, match="none of the 5 utterances .* is in it"):
        _folds(corpus, str(bad))
    (tmp_path / "empty").mkdir()
    with pytest.raises(CorpusError, match="holds no EmoBox"):
        _folds(corpus, str(tmp_path / "empty"))


def test_every_native_importer_takes_the_option():
    for name in ("savee", "ravdess", "cremad", "enterface", "meld", "iemocap", "csv"):
        assert get_importer(name, fold_file="x.csv").fold_file == "x.csv"


def test_the_cache_records_the_split_source(corpus: Path, tmp_path: Path):
    """meta.json names the fold file (the leaderboard's protocol reads it); scanning fails before decoding."""
    (corpus / "spk.csv").write_text("speaker,fold\nann,0\nbob,1\ncy,2\n")
    res = prepare_corpus("csv", corpus, tmp_path / "cache", SMALL_FEATURES, options={"fold_file": "spk.csv"})
    meta = json.loads((res.out_dir / "meta.json").read_text())
    assert meta["split_source"] == "file:spk.csv" and meta["importer_options"]["fold_file"] == "spk.csv"
    assert res.n_usable == 0 and res.n_skipped == 5  # the 1-byte "clips" are not media: listed, not lost
