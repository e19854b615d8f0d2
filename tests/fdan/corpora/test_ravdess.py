"""The `ravdess` importer on a small RAVDESS tree in the release layout: real H.264/AAC 48 kHz mp4s in
Actor_XX/ (modality 01 and video-only 02), the audio zip's 48 kHz wavs beside them, calm and song
takes, bad codes, a misfiled and a duplicated clip, and a truncated mp4."""
from __future__ import annotations

from pathlib import Path

import pytest

from fdan.corpora import CorpusError, get_importer
from tests.fdan.corpora.native_media import probe, write_corrupt, write_preset, write_wav
from tests.fdan.corpora.prepared import prepare_tables

AV = {  # usable modality-01 speech clips -> (speaker, corpus_label, label)
    "Actor_01/01-01-01-01-01-01-01.mp4": ("Actor_01", "01", "neutral"),
    "Actor_01/01-01-03-02-01-01-01.mp4": ("Actor_01", "03", "happiness"),
    "Actor_02/01-01-05-01-02-02-02.mp4": ("Actor_02", "05", "anger"),
    "Actor_02/01-01-06-02-01-01-02.mp4": ("Actor_02", "06", "fear"),
    "Actor_03/01-01-07-01-01-01-03.mp4": ("Actor_03", "07", "disgust"),
    "Actor_03/01-01-04-01-01-01-03.MP4": ("Actor_03", "04", "sadness"),
    "Actor_03/01-01-08-01-01-01-03.mp4": ("Actor_03", "08", "surprise"),  # truncated: prepare skips it
}
TRUNCATED = "Actor_03/01-01-08-01-01-01-03.mp4"
CALM = "Actor_01/01-01-02-01-01-01-01.mp4"
SONG = "Actor_02/01-02-04-01-01-01-02.mp4"
FOLD = {"Actor_01": 0, "Actor_02": 1, "Actor_03": 0}  # folds=2: sorted actors dealt round-robin
PLANTED = {  # skipped path -> words its reason must contain (default options)
    "Actor_01/02-01-03-02-01-01-01.mp4": "video-only (modality 02)",
    "Actor_01/03-01-03-02-01-01-01.wav": "audio-only (modality 03)",
    "Audio_Speech_Actors_01-24/Actor_01/03-01-01-01-01-01-01.wav": "audio-only (modality 03)",
    CALM: "calm (02) dropped",
    SONG: "song (vocal channel 02)",
    "Actor_02/01-01-09-01-01-01-02.mp4": "unknown RAVDESS emotion code '09'",
    "Actor_02/01-01-01-02-01-01-02.mp4": "neutral (01) with strong intensity",
    "Actor_02/01-01-07-02-01-01-03.mp4": "actor 03 in the name but the file is in Actor_02/",
    "Actor_02/Kids talking.mp4": "not a RAVDESS file name",
    "Actor_01/01-01-05-01-01-01-01.wav": "modality 01 (audio-video) must be an .mp4",
    "Video_Speech_Actor_03/Actor_03/01-01-07-01-01-01-03.mp4": "duplicate of Actor_03/01-01-07-01-01-01-03.mp4",
}


@pytest.fixture(scope="module")
def root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("ravdess") / "RAVDESS"
    for path in [*AV, CALM, SONG, "Actor_02/01-01-09-01-01-01-02.mp4", "Actor_02/01-01-01-02-01-01-02.mp4",
                 "Actor_02/01-01-07-02-01-01-03.mp4", "Actor_02/Kids talking.mp4",
                 "Video_Speech_Actor_03/Actor_03/01-01-07-01-01-01-03.mp4"]:
        if path != TRUNCATED:
            write_preset(root / path, "ravdess", seconds=0.6)
    write_corrupt(root / TRUNCATED, "truncated", preset="ravdess", keep=0.4)
    write_preset(root / "Actor_01/02-01-03-02-01-01-01.mp4", "ravdess_video_only", seconds=0.6)
    for wav in ("Actor_01/03-01-03-02-01-01-01.wav", "Audio_Speech_Actors_01-24/Actor_01/03-01-01-01-01-01-01.wav",
                "Actor_01/01-01-05-01-01-01-01.wav"):
        write_wav(root / wav, 48000, 0.6)
    (root / "README.txt").write_text("RAVDESS, Livingstone & Russo 2018\n")
    (root / "Actor_01" / ".DS_Store").write_bytes(b"\0" * 32)
    (root / "Actor_01" / "._01-01-01-01-01-01-01.mp4").write_bytes(b"\0" * 32)  # macOS resource fork
    return root


def _rows(utts) -> dict[str, tuple]:
    return {u.video_path: (u.speaker, u.corpus_label, u.label, u.split, u.fold, u.audio_path, u.utterance_id)
            for u in utts}


def _expected(extra: dict[str, tuple[str, str, str]] | None = None) -> dict[str, tuple]:
    clips = {**AV, **(extra or {})}
    return {p: (spk, code, label, "all", FOLD[spk], "", Path(p).stem) for p, (spk, code, label) in clips.items()}


def test_fixture_media_is_ravdess_like(root: Path) -> None:
    av, vo = probe(root / "Actor_01/01-01-01-01-01-01-01.mp4"), probe(root / "Actor_01/02-01-03-02-01-01-01.mp4")
    assert (av["video_codec"], av["audio_codec"], av["audio_rate"]) == ("h264", "aac", 48000)
    assert (vo["video_codec"], vo["audio_codec"]) == ("h264", None)


def test_scan_default_drops_calm_and_song_and_reports_every_fault(root: Path) -> None:
    res = get_importer("ravdess", folds=2).scan(root)
    assert _rows(res.utterances) == _expected()
    assert {s.path for s in res.skipped} == set(PLANTED)
    for s in res.skipped:
        assert PLANTED[s.path] in s.reason, (s.path, s.reason)


@pytest.mark.parametrize("calm,label", [("merge", "neutral"), ("keep", "calm")])
def test_calm_option_merges_or_keeps(root: Path, calm: str, label: str) -> None:
    res = get_importer("ravdess", folds=2, calm=calm).scan(root)
    assert _rows(res.utterances) == _expected({CALM: ("Actor_01", "02", label)})
    assert CALM not in {s.path for s in res.skipped}


def test_song_option_includes_songs(root: Path) -> None:
    res = get_importer("ravdess", folds=2, song=True).scan(root)
    assert _rows(res.utterances) == _expected({SONG: ("Actor_02", "04", "sadness")})


def test_bad_options_and_roots_are_clear_errors(root: Path, tmp_path: Path) -> None:
    with pytest.raises(CorpusError, match="option calm='silent' is not one of 'drop', 'merge', 'keep'"):
        get_importer("ravdess", calm="silent")
    with pytest.raises(CorpusError, match="unknown option.*kalm.*known: calm, fold_file, folds, song"):
        get_importer("ravdess", kalm="drop")
    with pytest.raises(CorpusError, match="3 speaker.*folds=5"):
        get_importer("ravdess").scan(root)
    (tmp_path / "Actor_01").mkdir()
    with pytest.raises(CorpusError, match="holds no RAVDESS file"):
        get_importer("ravdess").scan(tmp_path)


def test_prepare_decodes_mp4_audio_and_faces(root: Path, tmp_path: Path) -> None:
    manifest, skipped = prepare_tables(get_importer("ravdess", folds=2), root, tmp_path / "cache")
    expected = {p: v for p, v in _expected().items() if p != TRUNCATED}
    got = {r.video_path: (r.speaker, r.corpus_label, r.label, r.split, int(r.fold), r.audio_path, r.utterance_id)
           for r in manifest.itertuples()}
    assert got == expected
    reasons = dict(zip(skipped["path"], skipped["reason"]))
    assert set(reasons) == set(PLANTED) | {TRUNCATED}
