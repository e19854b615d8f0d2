"""The `savee` importer on a small SAVEE tree in the release layout, with real 44.1 kHz wavs and
DivX-style MPEG-4 avis, planted naming faults, missing partners and corrupt media."""
from __future__ import annotations

from pathlib import Path

import pytest

from fdan.corpora import CorpusError, get_importer
from tests.fdan.corpora.native_media import probe, write_corrupt, write_preset, write_wav
from tests.fdan.corpora.prepared import prepare_tables

# (speaker, wav stem, avi stem, code, canonical label): usable pairs; avi names are unpadded for DC
GOOD = [
    ("DC", "a01", "a1", "a", "anger"), ("DC", "sa01", "sa1", "sa", "sadness"), ("DC", "su02", "su2", "su", "surprise"),
    ("JE", "n01", "n01", "n", "neutral"), ("JE", "h03", "h03", "h", "happiness"),
    ("JK", "d01", "d01", "d", "disgust"), ("JK", "f01", "f01", "f", "fear"),
    ("KL", "n30", "n30", "n", "neutral"), ("KL", "SA15", "sa15", "sa", "sadness"),  # upper-case stem + .WAV
]
CORRUPT_AVI = ("JK", "a03")  # garbage bytes under a valid name: passes the scan, skipped by prepare
TRUNCATED_WAV = ("JE", "f02")
FOLD = {"DC": 0, "JE": 1, "JK": 2, "KL": 3}


def _wav(root: Path, spk: str, stem: str, suffix: str = ".wav") -> Path:
    return write_wav(root / "AudioData" / spk / f"{stem}{suffix}", 44100, 0.6)


def _avi(root: Path, spk: str, stem: str) -> Path:
    return write_preset(root / "AudioVisualClip" / spk / f"{stem}.avi", "savee", seconds=0.6)


@pytest.fixture(scope="module")
def root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("savee") / "SAVEE"
    for spk, wav, avi, _, _ in GOOD:
        _wav(root, spk, wav, ".WAV" if wav.isupper() else ".wav")
        _avi(root, spk, avi)
    _wav(root, *CORRUPT_AVI)
    write_corrupt(root / "AudioVisualClip" / CORRUPT_AVI[0] / f"{CORRUPT_AVI[1]}.avi", "garbage")
    write_corrupt(root / "AudioData" / TRUNCATED_WAV[0] / f"{TRUNCATED_WAV[1]}.wav", "truncated")
    _avi(root, *TRUNCATED_WAV)
    # planted naming faults and partner faults
    _wav(root, "JE", "x01"), _avi(root, "JE", "x01")  # unknown code
    _wav(root, "KL", "happy")  # not <code><NN>
    _wav(root, "JK", "n05")  # no avi
    _avi(root, "KL", "f09")  # no wav
    _avi(root, "DC", "a01")  # same utterance as a1.avi
    _wav(root, "XX", "a01")  # not a SAVEE speaker
    write_wav(root / "AudioData" / "DC_a02.wav", 44100, 0.3)  # loose, outside the speaker folders
    # unrelated files of a real copy: ignored
    (root / "AudioData" / "Info.txt").write_text("Surrey Audio-Visual Expressed Emotion\n")
    (root / "AudioVisualClip" / "DC" / "Thumbs.db").write_bytes(b"\0" * 64)
    (root / "VisualData" / "DC").mkdir(parents=True)
    return root


PLANTED = {  # skipped path -> words its reason must contain
    "AudioData/JE/x01.wav": "unknown SAVEE emotion code 'x'",
    "AudioVisualClip/JE/x01.avi": "unknown SAVEE emotion code 'x'",
    "AudioData/KL/happy.wav": "not a SAVEE utterance name",
    "AudioData/JK/n05.wav": "no video partner",
    "AudioVisualClip/KL/f09.avi": "no audio partner",
    "AudioVisualClip/DC/a1.avi": "duplicate of AudioVisualClip/DC/a01.avi",
    "AudioData/XX/a01.wav": "not a SAVEE speaker",
    "AudioData/DC_a02.wav": "not in a speaker folder",
}


def _expected_rows() -> list[tuple[str, ...]]:
    rows = []
    for spk, wav, avi, code, label in GOOD + [(*CORRUPT_AVI, CORRUPT_AVI[1], "a", "anger"),
                                              (*TRUNCATED_WAV, TRUNCATED_WAV[1], "f", "fear")]:
        suffix = ".WAV" if wav.isupper() else ".wav"
        avi_name = "a01" if (spk, avi) == ("DC", "a1") else avi  # a01.avi sorts before a1.avi and wins
        num = int(wav.lstrip("ADFHNSUadfhnsu"))
        rows.append((f"{spk}_{code}{num:02d}", spk, code, label, "all", str(FOLD[spk]),
                     f"AudioData/{spk}/{wav}{suffix}", f"AudioVisualClip/{spk}/{avi_name}.avi"))
    return sorted(rows)


def test_fixture_media_is_savee_like(root: Path) -> None:
    avi, wav = probe(root / "AudioVisualClip/JE/n01.avi"), probe(root / "AudioData/JE/n01.wav")
    assert (avi["container"], avi["video_codec"], avi["video_tag"]) == ("avi", "mpeg4", "DX50")
    assert (wav["audio_codec"], wav["audio_rate"]) == ("pcm_s16le", 44100)


def test_scan_labels_speakers_folds_and_skips(root: Path) -> None:
    res = get_importer("savee").scan(root)
    got = sorted((u.utterance_id, u.speaker, u.corpus_label, u.label, u.split, str(u.fold), u.audio_path,
                  u.video_path) for u in res.utterances)
    assert got == _expected_rows()
    assert {s.path: s.reason for s in res.skipped}.keys() == PLANTED.keys()
    for s in res.skipped:
        assert PLANTED[s.path] in s.reason, (s.path, s.reason)


def test_prepare_decodes_pairs_and_skips_broken_media(root: Path, tmp_path: Path) -> None:
    manifest, skipped = prepare_tables(get_importer("savee"), root, tmp_path / "cache")
    broken_avi = f"AudioVisualClip/{CORRUPT_AVI[0]}/{CORRUPT_AVI[1]}.avi"
    truncated_wav = f"AudioData/{TRUNCATED_WAV[0]}/{TRUNCATED_WAV[1]}.wav"
    # the truncated wav's pair is kept: its avi carries the same recording's audio
    expected = [r for r in _expected_rows() if broken_avi not in (r[6], r[7])]
    got = sorted(tuple(r) for r in manifest[["utterance_id", "speaker", "corpus_label", "label", "split", "fold",
                                            "audio_path", "video_path"]].itertuples(index=False))
    assert got == expected
    rows = {p: (r, o) for p, r, o in skipped[["path", "reason", "outcome"]].itertuples(index=False)}
    assert set(rows) == set(PLANTED) | {broken_avi, truncated_wav}
    reason, outcome = rows[truncated_wav]
    assert outcome == "kept" and "truncated wav" in reason and "audio stream of AudioVisualClip/" in reason
    assert rows[broken_avi][1] == "skipped"


def test_missing_or_foreign_root_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(CorpusError, match="does not exist"):
        get_importer("savee").scan(tmp_path / "nope")
    (tmp_path / "AudioWAV").mkdir()
    with pytest.raises(CorpusError, match="not a SAVEE release"):
        get_importer("savee").scan(tmp_path)
    (tmp_path / "SAVEE" / "AudioData").mkdir(parents=True)  # unzipped one level too deep
    with pytest.raises(CorpusError, match="found them in .*SAVEE: pass that folder as ROOT"):
        get_importer("savee").scan(tmp_path)


def test_missing_video_folder_is_reported(tmp_path: Path) -> None:
    _wav(tmp_path, "DC", "a01")
    res = get_importer("savee").scan(tmp_path)
    assert res.utterances == []
    assert {s.path for s in res.skipped} == {"AudioVisualClip", "AudioData/DC/a01.wav"}


def test_zip_unpacked_into_its_own_name_and_deep_strays(tmp_path: Path) -> None:
    """`AudioVisualClip/AudioVisualClip/DC/a1.avi` (Windows "Extract All") is read as the release layout;
    a file deep in a non-speaker folder is reported, not lost."""
    write_wav(tmp_path / "AudioData" / "DC" / "a01.wav", 44100, 0.4)
    write_preset(tmp_path / "AudioVisualClip" / "AudioVisualClip" / "DC" / "a1.avi", "savee", seconds=0.4)
    write_wav(tmp_path / "AudioData" / "extra" / "DC" / "h01.wav", 44100, 0.3)
    res = get_importer("savee").scan(tmp_path)
    assert [(u.utterance_id, u.audio_path, u.video_path) for u in res.utterances] == [
        ("DC_a01", "AudioData/DC/a01.wav", "AudioVisualClip/AudioVisualClip/DC/a1.avi")]
    assert {s.path: s.reason for s in res.skipped} == {
        "AudioData/extra/DC/h01.wav": "folder 'extra' is not a SAVEE speaker (DC, JE, JK, KL)"}
