"""The `meld` importer on a small MELD tree in the release layout: three CSVs (cp1252 with smart quotes,
utf-8 with BOM, plain utf-8), real H.264/AAC clips, planted faults, in the flat and the nested layout."""
from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from fdan.corpora import CorpusError, get_importer
from tests.fdan.corpora.native_media import probe, write_corrupt, write_preset
from tests.fdan.corpora.prepared import prepare_tables

HEADER = "Sr No.,Utterance,Speaker,Emotion,Sentiment,Dialogue_ID,Utterance_ID,Season,Episode,StartTime,EndTime"
FOLDERS = {"train": "train_splits", "dev": "dev_splits_complete", "test": "output_repeated_splits_test"}
ENCODING = {"train": "cp1252", "dev": "utf-8-sig", "test": "utf-8"}

# (split, dialogue, utterance, speaker, MELD emotion, canonical label, clip file name): usable rows
GOOD = [
    ("train", 0, 0, "Chandler", "joy", "happiness", "dia0_utt0.mp4"),
    ("train", 0, 1, "The Interviewer", "neutral", "neutral", "dia0_utt1.mp4"),
    ("train", 7, 2, "Rachel", "Disgust", "disgust", "dia7_utt2.mp4"),
    ("dev", 0, 0, "Monica", "sadness", "sadness", "dia0_utt0.mp4"),
    ("dev", 3, 1, "Joey", "fear", "fear", "dia3_utt1.mp4"),
    ("test", 0, 0, "Ross", "anger", "anger", "dia0_utt0.mp4"),
    ("test", 0, 1, "Phoebe", "surprise", "surprise", "dia0_utt1.MP4"),  # upper-case extension
    ("test", 4, 2, "Rachel", "joy", "happiness", "final_videos_testdia4_utt2.mp4"),  # only a prefixed clip
]
CORRUPT = ("train", 1, 0, "Joey", "neutral", "neutral", "dia1_utt0.mp4")  # passes the scan, skipped by prepare
# rows with a planted fault: (split, dialogue, utterance, speaker, emotion, clip written?)
FAULT_ROWS = [
    ("train", 125, 3, "Ross", "neutral", True),  # known broken, present
    ("dev", 110, 7, "Rachel", "joy", False),  # known broken, absent
    ("train", 3, 0, "Monica", "confused", True),  # unknown emotion
    ("train", 4, 0, "Chandler", "anger", False),  # row without its clip
    ("dev", 5, 0, "", "joy", True),  # empty Speaker
    ("test", "x", 2, "Ross", "joy", False),  # unparsable Dialogue_ID
    ("test", 0, 0, "Ross", "anger", False),  # duplicate of a good row
]


def _row(n: int, spk: str, emo: str, d: object, u: object) -> str:
    text = "\u201cOh my God!\u201d \u2014 he said\u2026"  # smart quotes, em dash, ellipsis: cp1252 bytes in train
    return f'{n},"{text}",{spk},{emo},positive,{d},{u},3,17,"00:14:38,127","00:14:40,378"'


def build(root: Path, nested: bool) -> Path:
    """Write the fixture tree; `nested`: MELD.Raw's train/train_splits/ variant (CSVs stay in ROOT)."""
    rows: dict[str, list[str]] = {s: [] for s in FOLDERS}
    for split, d, u, spk, emo, _, _ in [*GOOD, CORRUPT]:
        rows[split].append(_row(len(rows[split]), spk, emo, d, u))
    for split, d, u, spk, emo, _ in FAULT_ROWS:
        rows[split].append(_row(len(rows[split]), spk, emo, d, u))
    for split, lines in rows.items():
        (root / f"{split}_sent_emo.csv").parent.mkdir(parents=True, exist_ok=True)
        (root / f"{split}_sent_emo.csv").write_bytes(("\r\n".join([HEADER, *lines]) + "\r\n").encode(ENCODING[split]))
    folder = {s: root / s / f if nested else root / f for s, f in FOLDERS.items()}
    for split, _, _, _, _, _, name in GOOD:
        write_preset(folder[split] / name, "meld", seconds=0.6)
    write_corrupt(folder["train"] / CORRUPT[6], "truncated", preset="meld")
    for split, d, u, _, _, present in FAULT_ROWS:
        if present:
            write_preset(folder[split] / f"dia{d}_utt{u}.mp4", "meld", seconds=0.4)
    write_preset(folder["train"] / "dia2_utt0.mp4", "meld", seconds=0.4)  # clip without a row
    write_preset(folder["test"] / "final_videos_testdia0_utt0.mp4", "meld", seconds=0.4)  # prefixed twin
    shutil.copy(folder["train"] / "dia0_utt0.mp4", folder["train"] / "dia0_utt0.Mp4.mp4")  # misnamed copy
    (folder["train"] / "._dia0_utt0.mp4").write_bytes(b"\0\x05\x16\x07" + b"\0" * 60)  # macOS junk: ignored
    (folder["dev"] / ".DS_Store").write_bytes(b"\0" * 32)  # ignored
    (folder["dev"] / "readme.txt").write_text("clips\n")  # not an mp4: ignored
    return root


def planted(nested: bool) -> dict[str, str]:
    """skipped path -> words its reason must contain."""
    f = {s: f"{s}/{d}" if nested else d for s, d in FOLDERS.items()}
    return {
        f"{f['train']}/dia125_utt3.mp4": "known broken clip",
        "dev_sent_emo.csv:4": "known broken clip",
        f"{f['train']}/dia3_utt0.mp4": "unknown emotion 'confused'",
        "train_sent_emo.csv:8": "row without its clip: no dia4_utt0.mp4",
        f"{f['dev']}/dia5_utt0.mp4": "empty Speaker",
        "test_sent_emo.csv:5": "are not integers",
        "test_sent_emo.csv:6": "duplicate row for dia0_utt0",
        f"{f['train']}/dia2_utt0.mp4": "clip without a row in train_sent_emo.csv",
        f"{f['test']}/final_videos_testdia0_utt0.mp4":
            f"second copy (final_videos_test prefix) of {f['test']}/dia0_utt0.mp4",
        f"{f['train']}/dia0_utt0.Mp4.mp4": "not a MELD clip name",
    }


@pytest.fixture(scope="module", params=[False, True], ids=["flat", "nested"])
def layout(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, bool]:
    return build(tmp_path_factory.mktemp("meld") / "MELD.Raw", request.param), request.param


def test_fixture_is_what_meld_ships(layout: tuple[Path, bool]) -> None:
    root, nested = layout
    info = probe(root / ("train/train_splits" if nested else "train_splits") / "dia0_utt0.mp4")
    assert (info["video_codec"], info["audio_codec"], info["audio_rate"]) == ("h264", "aac", 48000)
    raw = (root / "train_sent_emo.csv").read_bytes()
    assert b"\x93Oh my God!\x94" in raw  # cp1252 smart quotes, not valid utf-8
    with pytest.raises(UnicodeDecodeError):
        raw.decode("utf-8")


def test_scan_labels_speakers_splits(layout: tuple[Path, bool]) -> None:
    root, nested = layout
    res = get_importer("meld").scan(root)
    assert res.corpus == "meld"
    got = {u.utterance_id: u for u in res.utterances}
    expected = [*GOOD, CORRUPT]
    assert sorted(got) == sorted(f"{s}_dia{d}_utt{u}" for s, d, u, *_ in expected)
    for split, d, u, spk, emo, label, name in expected:
        x = got[f"{split}_dia{d}_utt{u}"]
        folder = f"{split}/{FOLDERS[split]}" if nested else FOLDERS[split]
        assert (x.split, x.fold, x.speaker, x.corpus_label, x.label) == (split, -1, spk, emo.lower(), label)
        assert (x.video_path, x.audio_path, x.start, x.end) == (f"{folder}/{name}", "", None, None)
        assert (root / x.video_path).is_file()


def test_every_planted_fault_is_skipped(layout: tuple[Path, bool]) -> None:
    root, nested = layout
    skipped = {s.path: s.reason for s in get_importer("meld").scan(root).skipped}
    expected = planted(nested)
    assert set(skipped) == set(expected), set(skipped) ^ set(expected)
    for path, words in expected.items():
        assert words in skipped[path], (path, skipped[path])


def test_prepare_decodes_and_reports(tmp_path: Path) -> None:
    root = build(tmp_path / "MELD.Raw", nested=False)  # decoding does not depend on the layout variant
    manifest, skipped = prepare_tables(get_importer("meld"), root, tmp_path / "cache")
    assert sorted(manifest["utterance_id"]) == sorted(f"{s}_dia{d}_utt{u}" for s, d, u, *_ in GOOD)
    assert set(manifest["split"]) == {"train", "dev", "test"} and set(manifest["fold"]) == {"-1"}
    reasons = dict(zip(skipped["path"], skipped["reason"]))
    assert set(reasons) == set(planted(False)) | {"train_splits/dia1_utt0.mp4"}
    assert "corrupt" in reasons["train_splits/dia1_utt0.mp4"] or "truncated" in reasons["train_splits/dia1_utt0.mp4"]


def test_missing_split_and_foreign_root(layout: tuple[Path, bool], tmp_path: Path) -> None:
    root, _ = layout
    partial = tmp_path / "partial"
    shutil.copytree(root, partial)
    (partial / "test_sent_emo.csv").unlink()
    res = get_importer("meld").scan(partial)
    assert {u.split for u in res.utterances} == {"train", "dev"}
    [note] = [s for s in res.skipped if s.path == "test_sent_emo.csv"]
    assert "test split is not imported" in note.reason and "not used" in note.reason
    shutil.rmtree(next(p for p in partial.rglob("dev_splits_complete")))
    dev = [s for s in get_importer("meld").scan(partial).skipped if s.path.startswith("dev_sent_emo.csv:")]
    assert len(dev) == 4 and sum("dev_splits_complete/ (folder not found)" in s.reason for s in dev) == 2
    repacked = tmp_path / "repacked"  # a re-packed copy's folder names
    shutil.copytree(root, repacked)
    for old_name, new_name in (("dev_splits_complete", "dev_splits"), ("output_repeated_splits_test", "Test_Splits")):
        folder = next(repacked.rglob(old_name))
        folder.rename(folder.with_name(new_name))
    assert len(get_importer("meld").scan(repacked).utterances) == len(GOOD) + 1
    (tmp_path / "empty").mkdir()
    with pytest.raises(CorpusError, match="not a MELD root"):
        get_importer("meld").scan(tmp_path / "empty")
    with pytest.raises(CorpusError, match="does not exist"):
        get_importer("meld").scan(tmp_path / "absent")
    bad = tmp_path / "badcsv"
    bad.mkdir()
    (bad / "train_sent_emo.csv").write_text("Sr No.,Utterance,Speaker\n1,hi,Joey\n")
    with pytest.raises(CorpusError, match="missing column"):
        get_importer("meld").scan(bad)
