"""The `cremad` importer on a small CREMA-D tree in the release layout: real 16 kHz wavs and Sorenson
FLV1/MP3 flv clips, processedResults/summaryTable.csv crowd votes, the known silent clip, bad codes,
missing partners, a git-lfs pointer and a corrupt flv."""
from __future__ import annotations

from pathlib import Path

import pytest

from fdan.corpora import CorpusError, get_importer
from tests.fdan.corpora.native_media import probe, write_corrupt, write_preset, write_wav
from tests.fdan.corpora.prepared import prepare_tables

# stem -> (acted label, VoiceVote, FaceVote, MultiModalVote); every one has wav + flv
CLIPS = {
    "1001_DFA_ANG_XX": ("anger", "A", "A", "A"),
    "1001_IEO_HAP_HI": ("happiness", "N", "H", "H"),
    "1002_TIE_NEU_XX": ("neutral", "N", "N", "N"),
    "1002_IOM_SAD_LO": ("sadness", "S", "A:S", "S"),  # face vote is a tie
    "1003_ITS_FEA_MD": ("fear", "F", "F", "Q"),  # multimodal vote letter unknown
    "1003_WSI_DIS_HI": ("disgust", "D", "N", "D"),
    "1003_IWL_ANG_HI": ("anger", "A", "A", "A"),  # corrupt flv: prepare skips it
    "1004_TSI_HAP_XX": ("happiness", None, None, None),  # not in summaryTable.csv
}
CORRUPT_FLV = "VideoFlash/1003_IWL_ANG_HI.flv"
VOTE_LABEL = {"A": "anger", "D": "disgust", "F": "fear", "H": "happiness", "N": "neutral", "S": "sadness"}
FOLD = {"1001": 0, "1002": 1, "1003": 0, "1004": 1}  # folds=2, sorted actors round-robin
PLANTED = {
    "AudioWAV/1076_MTI_SAD_XX.wav": "known broken clip (corpora.md): silent audio",
    "AudioWAV/1005_DFA_XYZ_XX.wav": "unknown CREMA-D emotion code 'XYZ'",
    "VideoFlash/1005_DFA_XYZ_XX.flv": "unknown CREMA-D emotion code 'XYZ'",
    "AudioWAV/1005_ABC_ANG_XX.wav": "unknown CREMA-D sentence code 'ABC'",
    "AudioWAV/1005_DFA_ANG_QQ.wav": "unknown CREMA-D emotion level 'QQ'",
    "AudioWAV/1005_DFA_ANG.wav": "not a CREMA-D file name",
    "AudioWAV/1005_TAI_ANG_XX.wav": "no video partner",
    "VideoFlash/1005_TAI_HAP_XX.flv": "no audio partner",
    "AudioWAV/1005_IWW_NEU_XX.wav": "git-lfs pointer",
    "VideoFlash/1005_IWW_NEU_XX.flv": "no audio partner",
}
LFS_POINTER = ("version https://git-lfs.github.com/spec/v1\n"
               "oid sha256:4d7a214614ab2935c943f9e0ff69d22eadbb8f32b1258daaa5e2ca24d17e2393\nsize 76844\n")


@pytest.fixture(scope="module")
def root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("cremad") / "CREMA-D"
    for stem in [*CLIPS, "1076_MTI_SAD_XX", "1005_DFA_XYZ_XX"]:
        write_wav(root / "AudioWAV" / f"{stem}.wav", 16000, 0.6, silent=stem.startswith("1076"))
        if f"VideoFlash/{stem}.flv" != CORRUPT_FLV:
            write_preset(root / "VideoFlash" / f"{stem}.flv", "cremad", seconds=0.6)
    write_corrupt(root / CORRUPT_FLV, "garbage")
    for stem in ("1005_ABC_ANG_XX", "1005_DFA_ANG_QQ", "1005_DFA_ANG", "1005_TAI_ANG_XX"):
        write_wav(root / "AudioWAV" / f"{stem}.wav", 16000, 0.6)
    for stem in ("1005_TAI_HAP_XX", "1005_IWW_NEU_XX"):
        write_preset(root / "VideoFlash" / f"{stem}.flv", "cremad", seconds=0.6)
    (root / "AudioWAV" / "1005_IWW_NEU_XX.wav").write_text(LFS_POINTER)
    # the rest of a real checkout: not read
    (root / "AudioMP3").mkdir()
    (root / "AudioMP3" / "1001_DFA_ANG_XX.mp3").write_bytes(b"ID3" + b"\0" * 100)
    (root / "VideoDemographics.csv").write_text("ActorID,Age,Sex,Race,Ethnicity\n1001,51,Male,Caucasian,Not Hispanic\n")
    (root / "processedResults").mkdir()
    lines = ['"","FileName","VoiceVote","VoiceLevel","FaceVote","FaceLevel","MultiModalVote","MultiModalLevel"']
    for i, (stem, (_, voice, face, multi)) in enumerate(CLIPS.items()):
        if voice is not None:
            name = f"{stem}.flv" if stem == "1003_WSI_DIS_HI" else stem  # tolerated: a name with its suffix
            lines.append(f'"{i + 1}","{name}","{voice}","60","{face}","50","{multi}","70"')
    (root / "processedResults" / "summaryTable.csv").write_text("\n".join(lines) + "\n")
    (root / "processedResults" / "tabulatedVotes.csv").write_text('"","A","fileName"\n')
    return root


def _rows(utts) -> dict[str, tuple]:
    return {u.utterance_id: (u.speaker, u.corpus_label, u.label, u.split, u.fold, u.audio_path, u.video_path)
            for u in utts}


def _row(stem: str, code: str, label: str) -> tuple:
    return (stem[:4], code, label, "all", FOLD[stem[:4]], f"AudioWAV/{stem}.wav", f"VideoFlash/{stem}.flv")


def test_fixture_media_is_cremad_like(root: Path) -> None:
    flv, wav = probe(root / "VideoFlash/1001_DFA_ANG_XX.flv"), probe(root / "AudioWAV/1001_DFA_ANG_XX.wav")
    assert (flv["container"], flv["video_codec"], flv["audio_codec"]) == ("flv", "flv", "mp3float")
    assert (wav["audio_codec"], wav["audio_rate"]) == ("pcm_s16le", 16000)


def test_scan_acted_labels_and_planted_faults(root: Path) -> None:
    res = get_importer("cremad", folds=2).scan(root)
    assert _rows(res.utterances) == {s: _row(s, s.split("_")[2], v[0]) for s, v in CLIPS.items()}
    assert {s.path for s in res.skipped} == set(PLANTED)
    for s in res.skipped:
        assert PLANTED[s.path] in s.reason, (s.path, s.reason)


@pytest.mark.parametrize("source,column", [("voice", 1), ("face", 2), ("multimodal", 3)])
def test_perceived_labels_from_summary_table(root: Path, source: str, column: int) -> None:
    res = get_importer("cremad", folds=2, label_source=source).scan(root)
    expected, not_labelled = {}, {}
    for stem, votes in CLIPS.items():
        vote = votes[column]
        if vote in VOTE_LABEL:
            expected[stem] = _row(stem, vote, VOTE_LABEL[vote])
        else:
            not_labelled[f"VideoFlash/{stem}.flv"] = ("no " if vote is None else "tie" if ":" in vote
                                                      else "unknown")
    assert _rows(res.utterances) == expected
    reasons = {s.path: s.reason for s in res.skipped}
    assert set(reasons) == set(PLANTED) | set(not_labelled)
    for path, word in not_labelled.items():
        assert word in reasons[path] and source in reasons[path], reasons[path]


def test_options_and_roots_are_checked(root: Path, tmp_path: Path) -> None:
    with pytest.raises(CorpusError, match="option label_source='crowd' is not one of 'acted', 'voice'"):
        get_importer("cremad", label_source="crowd")
    assert get_importer("crema-d").name == "cremad"  # the name experiments/*.yaml use
    (tmp_path / "CREMA-D" / "VideoFlash").mkdir(parents=True)
    with pytest.raises(CorpusError, match="found them in .*CREMA-D: pass that folder as ROOT"):
        get_importer("cremad").scan(tmp_path)
    (tmp_path / "AudioWAV").mkdir()
    with pytest.raises(CorpusError, match="VideoFlash/ missing"):
        get_importer("cremad").scan(tmp_path)
    (tmp_path / "VideoFlash").mkdir()
    with pytest.raises(CorpusError, match="needs processedResults/summaryTable.csv"):
        get_importer("cremad", label_source="voice").scan(tmp_path)


def test_prepare_decodes_wav_and_flv(root: Path, tmp_path: Path) -> None:
    manifest, skipped = prepare_tables(get_importer("cremad", folds=2), root, tmp_path / "cache")
    got = {r.utterance_id: (r.speaker, r.corpus_label, r.label, r.split, int(r.fold), r.audio_path, r.video_path)
           for r in manifest.itertuples()}
    assert got == {s: _row(s, s.split("_")[2], v[0]) for s, v in CLIPS.items() if f"VideoFlash/{s}.flv" != CORRUPT_FLV}
    assert set(skipped["path"]) == set(PLANTED) | {CORRUPT_FLV}


def test_misspelt_level_of_older_copies_pairs(tmp_path: Path) -> None:
    """`AudioWAV/1040_ITH_SAD_X.wav` (CREMA-D issue #6, renamed to _XX in 2022) pairs with its _XX flv."""
    write_wav(tmp_path / "AudioWAV" / "1040_ITH_SAD_X.wav", 16000, 0.4)
    write_preset(tmp_path / "VideoFlash" / "1040_ITH_SAD_XX.flv", "cremad", seconds=0.4)
    write_wav(tmp_path / "AudioWAV" / "1041_DFA_ANG_XX.wav", 16000, 0.4)
    write_preset(tmp_path / "VideoFlash" / "1041_DFA_ANG_XX.flv", "cremad", seconds=0.4)
    res = get_importer("cremad", folds=2).scan(tmp_path)
    assert res.skipped == []
    assert _rows(res.utterances) == {
        "1040_ITH_SAD_XX": ("1040", "SAD", "sadness", "all", 0, "AudioWAV/1040_ITH_SAD_X.wav",
                            "VideoFlash/1040_ITH_SAD_XX.flv"),
        "1041_DFA_ANG_XX": ("1041", "ANG", "anger", "all", 1, "AudioWAV/1041_DFA_ANG_XX.wav",
                            "VideoFlash/1041_DFA_ANG_XX.flv")}
