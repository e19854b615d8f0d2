"""The `enterface` importer on a small eNTERFACE'05 tree in the release layout ('subject N/<emotion>/
sentence M/'): real MPEG-4 avis with PCM audio, the known naming faults of released copies, planted
contradictions, a duplicate and a corrupt avi."""
from __future__ import annotations

from pathlib import Path

import pytest

from fdan.corpora import CorpusError, get_importer
from tests.fdan.corpora.native_media import probe, write_corrupt, write_preset
from tests.fdan.corpora.prepared import prepare_tables

GOOD = {  # path -> (subject, code, sentence)
    "subject 1/anger/sentence 1/s1_an_1.avi": (1, "an", 1),
    "subject 1/happiness/sentence 2/s1_ha_2.avi": (1, "ha", 2),
    "subject 1/fear/sentence 3/s1_fe_3.AVI": (1, "fe", 3),
    "subject 2/sadness/sentence 1/s2_sa_1.avi": (2, "sa", 1),
    "subject 2/surprise/sentence 4/s2_su_4.avi": (2, "su", 4),
    "subject 3/anger/sentence 2/s_3_an_2.avi": (3, "an", 2),  # stray s_3_ prefix
    "subject 4/happy/s4_ha_1.avi": (4, "ha", 1),  # re-packed folder spelling, no sentence folder: from the name
    "subject 6/anger/sentence 2/s6_an_2.avi": (6, "an", 2),  # a segmented subject 6 (some copies) is used
    "subject 11/disgust/sentence 5/s12_di_5.avi": (11, "di", 5),  # subject 11's files are named s12
    "subject 16/surprise/sentence 3/s16_su_3avi": (16, "su", 3),  # no dot before avi
    "subject 16/happiness/sentence 2/s16_ha_2avi.avi": (16, "ha", 2),  # the same fault, as some copies have it
    "subject 16/fear/sentence 1/s16_fe_1.avi": (16, "fe", 1),  # corrupt: prepare skips it
}
CORRUPT = "subject 16/fear/sentence 1/s16_fe_1.avi"
LABEL = {"an": "anger", "di": "disgust", "fe": "fear", "ha": "happiness", "sa": "sadness", "su": "surprise"}
PLANTED = {
    "subject 2/anger/sentence 1/s2_fe_1.avi": "contradicts its folder",
    "subject 2/anger/sentence 2/video.avi": "not an eNTERFACE'05 file name",
    "subject 2/anger/sentence 3/s2_xx_3.avi": "unknown eNTERFACE emotion code 'xx'",
    "subject 1/anger/sentence 1/s1_an_1avi": "duplicate of subject 1/anger/sentence 1/s1_an_1.avi",
    "extras/s_an_1.avi": "no 'subject N' folder and no subject number",
    "subject 6/fear/s6_fe.avi": "subject 6 is released unsegmented",  # the release's whole-session files
    "subject 6/sadness/s6_sa_1.avi": "subject 6 is released unsegmented",
    "subject 6/disgust/s6_di_all.avi": "subject 6 is released unsegmented",  # whatever its name
    "subject 4/sadness/s4_sa.avi": "no 'sentence M' folder and no sentence number",
}


@pytest.fixture(scope="module")
def root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("enterface") / "enterface database"
    for path in [*GOOD, *PLANTED]:
        if path != CORRUPT:
            write_preset(root / path, "enterface", seconds=0.6)
    write_corrupt(root / CORRUPT, "truncated", preset="enterface", keep=0.05)
    (root / "subject 1" / "Thumbs.db").write_bytes(b"\0" * 64)
    (root / "readme.txt").write_text("eNTERFACE'05 audio-visual emotion database\n")
    return root


def _expected(folds: dict[int, int], exclude: tuple[int, ...] = ()) -> dict[str, tuple]:
    return {p: (f"s{s:02d}", code, LABEL[code], "all", folds[s], "", f"s{s:02d}_{code}_{n}")
            for p, (s, code, n) in GOOD.items() if s not in exclude}


def _rows(utts) -> dict[str, tuple]:
    return {u.video_path: (u.speaker, u.corpus_label, u.label, u.split, u.fold, u.audio_path, u.utterance_id)
            for u in utts}


def test_fixture_media_is_enterface_like(root: Path) -> None:
    m = probe(root / "subject 1/anger/sentence 1/s1_an_1.avi")
    assert (m["container"], m["video_codec"], m["audio_codec"], m["audio_rate"]) == ("avi", "mpeg4", "pcm_s16le", 48000)


def test_scan_folder_path_is_the_truth(root: Path) -> None:
    res = get_importer("enterface", folds=3).scan(root)
    # sorted subjects s01 s02 s03 s04 s06 s11 s16 dealt round-robin over 3 folds
    assert _rows(res.utterances) == _expected({1: 0, 2: 1, 3: 2, 4: 0, 6: 1, 11: 2, 16: 0})
    assert {s.path for s in res.skipped} == set(PLANTED)
    for s in res.skipped:
        assert PLANTED[s.path] in s.reason, (s.path, s.reason)


def test_exclude_subjects(root: Path) -> None:
    res = get_importer("enterface", folds=3, exclude_subjects=[6]).scan(root)
    assert _rows(res.utterances) == _expected({1: 0, 2: 1, 3: 2, 4: 0, 11: 1, 16: 2}, exclude=(6,))
    reasons = {s.path: s.reason for s in res.skipped}
    assert reasons["subject 6/anger/sentence 2/s6_an_2.avi"].startswith("subject 6 excluded")


def test_options_and_roots_are_checked(tmp_path: Path) -> None:
    with pytest.raises(CorpusError, match="exclude_subjects='6' must be a list"):
        get_importer("enterface", exclude_subjects="6")
    with pytest.raises(CorpusError, match="folds=1 must be an integer >= 2"):
        get_importer("enterface", folds=1)
    (tmp_path / "anger").mkdir()
    with pytest.raises(CorpusError, match="not an eNTERFACE'05 release"):
        get_importer("enterface").scan(tmp_path)
    (tmp_path / "enterface database" / "subject 1").mkdir(parents=True)
    with pytest.raises(CorpusError, match="found them in .*enterface database: pass that folder as ROOT"):
        get_importer("enterface").scan(tmp_path)


def test_prepare_decodes_avi_audio_and_video(root: Path, tmp_path: Path) -> None:
    manifest, skipped = prepare_tables(get_importer("enterface", folds=3), root, tmp_path / "cache")
    got = {r.video_path: (r.speaker, r.corpus_label, r.label, r.split, int(r.fold), r.audio_path, r.utterance_id)
           for r in manifest.itertuples()}
    expected = _expected({1: 0, 2: 1, 3: 2, 4: 0, 6: 1, 11: 2, 16: 0})
    del expected[CORRUPT]
    assert got == expected
    assert set(skipped["path"]) == set(PLANTED) | {CORRUPT}
