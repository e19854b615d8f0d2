"""The `iemocap` importer on a small IEMOCAP tree in the release layout: EmoEvaluation label files with
annotator lines, real 16 kHz sentence wavs, DivX-style MPEG-4 dialog avis, planted faults."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from fdan.corpora import CorpusError, get_importer
from fdan.features import prepare_corpus
from tests.fdan.corpora.native_media import probe, write_corrupt, write_preset, write_wav
from tests.fdan.corpora.prepared import SMALL_FEATURES, prepare_tables

# dialog -> [(start, end, turn, code, wav written?)]
DIALOGS = {
    "Ses01F_impro01": [
        (0.5, 1.5, "Ses01F_impro01_F000", "neu", True),
        (1.6, 2.8, "Ses01F_impro01_M000", "exc", True),
        (3.0, 3.9, "Ses01F_impro01_F001", "fru", True),
        (4.0, 4.5, "Ses01F_impro01_M001", "sur", True),
        (4.6, 5.2, "Ses01F_impro01_F002", "ang", False),
        (5.3, 5.9, "Ses01F_impro01_M002", "zzz", True),
        (6.0, 6.4, "Ses01F_impro01_F004", "xxx", True),
    ],
    "Ses01M_script01_1": [
        (0.2, 1.1, "Ses01M_script01_1_F000", "sad", True),
        (1.2, 2.0, "Ses01M_script01_1_M000", "hap", True),
        (2.1, 2.9, "Ses01M_script01_1_M001", "fea", True),
        (3.0, 3.6, "Ses01M_script01_1_F001", "dis", True),
    ],
    "Ses02F_impro02": [(0.3, 1.3, "Ses02F_impro02_F000", "ang", True), (1.4, 2.2, "Ses02F_impro02_M000", "hap", True)],
    "Ses02M_impro03": [(0.3, 1.0, "Ses02M_impro03_M000", "sad", True)],  # its avi is missing
}
NO_AVI = "Ses02M_impro03"
CORRUPT_WAV = "Ses02F_impro02_M000"  # garbage: passes the scan, skipped by prepare
EXPECTED_4 = {  # usable turns under labels="4class": turn -> (canonical, speaker, fold)
    "Ses01F_impro01_F000": ("neutral", "Ses01_F", 0), "Ses01F_impro01_M000": ("happiness", "Ses01_M", 0),
    "Ses01M_script01_1_F000": ("sadness", "Ses01_F", 0), "Ses01M_script01_1_M000": ("happiness", "Ses01_M", 0),
    "Ses02F_impro02_F000": ("anger", "Ses02_F", 1), "Ses02F_impro02_M000": ("happiness", "Ses02_M", 1),
}
EXPECTED_FULL_EXTRA = {
    "Ses01F_impro01_M001": ("surprise", "Ses01_M", 0), "Ses01M_script01_1_M001": ("fear", "Ses01_M", 0),
    "Ses01M_script01_1_F001": ("disgust", "Ses01_F", 0),
}
SEGMENTS = {turn: (s, e) for lines in DIALOGS.values() for s, e, turn, _, _ in lines}


def _label_file(lines: list[tuple[float, float, str, str, bool]]) -> str:
    out = ["% [START_TIME - END_TIME] TURN_NAME EMOTION [V, A, D]", ""]
    for s, e, turn, code, _ in lines:
        out += [f"[{s:.4f} - {e:.4f}]\t{turn}\t{code}\t[2.5000, 3.0000, 2.5000]",
                "C-E2:\tNeutral;\t()", "C-E3:\tNeutral; Frustration;\t(a bit)", "A-E3:\tval 3; act 2; dom  2;\t()",
                "A-F1:\tval 2; act 2; dom  3;\t()", ""]
    return "\n".join(out) + "\n"


@pytest.fixture(scope="module")
def root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("iemocap") / "IEMOCAP_full_release"
    for dialog, lines in DIALOGS.items():
        session = root / f"Session{int(dialog[3:5])}"
        evaluation = session / "dialog" / "EmoEvaluation"
        evaluation.mkdir(parents=True, exist_ok=True)
        text = _label_file(lines)
        if dialog == "Ses01F_impro01":
            text += "[7.0000 - ]\tSes01F_impro01_F005\tneu\t[2.5, 2.5, 2.5]\n"  # unparsable summary line
            text += "[7.1000 - 7.5000]\tbogus_name\tneu\t[2.5, 2.5, 2.5]\n"  # unparsable turn name
            text += "[6.5000 - 6.9000]\tSes01F_impro01_F000\tneu\t[2.5, 2.5, 2.5]\n"  # duplicate turn
        (evaluation / f"{dialog}.txt").write_text(text)
        for _, _, turn, _, has_wav in lines:
            if has_wav and turn != CORRUPT_WAV:
                write_wav(session / "sentences" / "wav" / dialog / f"{turn}.wav", 16000, 0.5)
        if dialog != NO_AVI:
            write_preset(session / "dialog" / "avi" / "DivX" / f"{dialog}.avi", "iemocap", seconds=7.6)
    s1 = root / "Session1"
    write_corrupt(root / "Session2/sentences/wav/Ses02F_impro02" / f"{CORRUPT_WAV}.wav", "garbage")
    write_wav(s1 / "sentences/wav/Ses01F_impro01/Ses01F_impro01_F003.wav", 16000, 0.3)  # wav without a label line
    write_preset(s1 / "dialog/avi/DivX/Ses01M_impro05.avi", "iemocap", seconds=0.5)  # avi without a label file
    # files of a real release that are not label files: never read as labels
    (s1 / "dialog/EmoEvaluation/Categorical").mkdir()
    (s1 / "dialog/EmoEvaluation/Categorical/Ses01F_impro01_e2_cat.txt").write_text(
        "Ses01F_impro01_F000 :Neutral state; ()\n[9.0 - 9.5]\tSes01F_impro01_F009\tang\t[1, 1, 1]\n")
    (s1 / "dialog/EmoEvaluation/._Ses01F_impro01.txt").write_bytes(b"\0\x05\x16\x07[0.1 - 0.2]")
    (s1 / "dialog/wav").mkdir(parents=True)
    (s1 / "dialog/transcriptions").mkdir(parents=True)
    (s1 / "dialog/transcriptions/Ses01F_impro01.txt").write_text("Ses01F_impro01_F000 [0.5-1.5]: Excuse me.\n")
    return root


PLANTED = {  # skipped path -> words its reason must contain (labels="4class")
    "Session1/sentences/wav/Ses01F_impro01/Ses01F_impro01_F001.wav": "'fru' (frustration) has no canonical label",
    "Session1/sentences/wav/Ses01F_impro01/Ses01F_impro01_M001.wav": "'sur' is outside the 4-class set",
    "Session1/dialog/EmoEvaluation/Ses01F_impro01.txt:27": "no sentence wav",
    "Session1/sentences/wav/Ses01F_impro01/Ses01F_impro01_M002.wav": "unknown emotion code 'zzz'",
    "Session1/sentences/wav/Ses01F_impro01/Ses01F_impro01_F004.wav": "'xxx' (no annotator agreement)",
    "Session1/dialog/EmoEvaluation/Ses01F_impro01.txt:45": "unparsable label line",
    "Session1/dialog/EmoEvaluation/Ses01F_impro01.txt:46": "unparsable turn name 'bogus_name'",
    "Session1/dialog/EmoEvaluation/Ses01F_impro01.txt:47": "duplicate label line for Ses01F_impro01_F000",
    "Session1/sentences/wav/Ses01M_script01_1/Ses01M_script01_1_M001.wav": "'fea' is outside the 4-class set",
    "Session1/sentences/wav/Ses01M_script01_1/Ses01M_script01_1_F001.wav": "'dis' is outside the 4-class set",
    "Session1/sentences/wav/Ses01F_impro01/Ses01F_impro01_F003.wav": "sentence wav without a label line",
    "Session1/dialog/avi/DivX/Ses01M_impro05.avi": "dialog video without labelled turns",
    "Session2/sentences/wav/Ses02M_impro03/Ses02M_impro03_M000.wav":
        "dialog video dialog/avi/DivX/Ses02M_impro03.avi missing",
    "Session3": "session folder missing", "Session4": "session folder missing", "Session5": "session folder missing",
}


def test_fixture_is_what_iemocap_ships(root: Path) -> None:
    info = probe(root / "Session1/dialog/avi/DivX/Ses01F_impro01.avi")
    assert (info["container"], info["video_codec"], info["video_tag"]) == ("avi", "mpeg4", "DIVX")
    assert probe(root / "Session1/sentences/wav/Ses01F_impro01/Ses01F_impro01_F000.wav")["audio_rate"] == 16000


def _check(utts: list, expected: dict[str, tuple[str, str, int]], root: Path) -> None:
    got = {u.utterance_id: u for u in utts}
    assert sorted(got) == sorted(expected)
    codes = {turn: code for lines in DIALOGS.values() for _, _, turn, code, _ in lines}
    for turn, (label, speaker, fold) in expected.items():
        u, dialog, session = got[turn], turn.rsplit("_", 1)[0], f"Session{int(turn[3:5])}"
        assert (u.label, u.corpus_label, u.speaker, u.fold, u.split) == (label, codes[turn], speaker, fold, "all")
        assert (u.start, u.end) == SEGMENTS[turn]
        assert u.video_path == f"{session}/dialog/avi/DivX/{dialog}.avi"
        assert u.audio_path == f"{session}/sentences/wav/{dialog}/{turn}.wav" and (root / u.audio_path).is_file()


def test_scan_4class(root: Path) -> None:
    res = get_importer("iemocap").scan(root)
    assert res.corpus == "iemocap"
    _check(res.utterances, EXPECTED_4, root)
    skipped = {s.path: s.reason for s in res.skipped}
    assert set(skipped) == set(PLANTED), set(skipped) ^ set(PLANTED)
    for path, words in PLANTED.items():
        assert words in skipped[path], (path, skipped[path])


def test_scan_full_label_set(root: Path) -> None:
    res = get_importer("iemocap", labels="full").scan(root)
    _check(res.utterances, EXPECTED_4 | EXPECTED_FULL_EXTRA, root)
    reasons = {s.path: s.reason for s in res.skipped}
    kept = [p for p, w in PLANTED.items() if "outside the 4-class set" in w]
    assert len(kept) == 3 and not set(kept) & set(reasons)
    assert set(reasons) == set(PLANTED) - set(kept)
    assert "has no canonical label" in reasons["Session1/sentences/wav/Ses01F_impro01/Ses01F_impro01_F001.wav"]


def test_options_and_foreign_root(tmp_path: Path) -> None:
    with pytest.raises(CorpusError, match="labels='7class' is not one of '4class', 'full'"):
        get_importer("iemocap", labels="7class")
    with pytest.raises(CorpusError, match="unknown option"):
        get_importer("iemocap", sessions=5)
    (tmp_path / "Sessions").mkdir()
    with pytest.raises(CorpusError, match="not an IEMOCAP root"):
        get_importer("iemocap").scan(tmp_path)
    (tmp_path / "IEMOCAP_full_release" / "Session1").mkdir(parents=True)  # ROOT given one level too high
    with pytest.raises(CorpusError, match="found them in .*IEMOCAP_full_release: pass that folder as ROOT"):
        get_importer("iemocap").scan(tmp_path)
    (tmp_path / "session3").mkdir()  # case-insensitive; no EmoEvaluation folder
    res = get_importer("iemocap").scan(tmp_path)
    reasons = {s.path: s.reason for s in res.skipped}
    assert res.utterances == [] and "no dialog/EmoEvaluation folder" in reasons["session3"]


def test_prepare_decodes_avi_segments_and_wavs(root: Path, tmp_path: Path) -> None:
    manifest, skipped = prepare_tables(get_importer("iemocap"), root, tmp_path / "cache")
    # the corrupt wav's turn is kept: the dialog avi's audio, cut to the turn's label times, stands in
    assert sorted(manifest["utterance_id"]) == sorted(EXPECTED_4)
    rows = {p: (r, o) for p, r, o in skipped[["path", "reason", "outcome"]].itertuples(index=False)}
    corrupt = f"Session2/sentences/wav/Ses02F_impro02/{CORRUPT_WAV}.wav"
    short = "Session1/sentences/wav/Ses01F_impro01/Ses01F_impro01_M000.wav"  # 0.5 s of wav for a 1.2 s label
    assert set(rows) == set(PLANTED) | {corrupt, short}
    assert rows[short] == ("audio (0.50 s) shorter than its label segment (1.20 s): kept", "kept")
    assert rows[corrupt][1] == "kept" and "audio stream of Session2/dialog/avi/DivX/Ses02F_impro02.avi" in rows[corrupt][0]
    assert set(manifest["face_rule"]) == {"speaker"}  # the importer's default face option


def test_faces_come_from_the_label_segment(tmp_path: Path) -> None:
    """Two turns of one dialog avi whose frame i has background blue 40 + 9 i (native_media.face_frame):
    the face frames of each turn must come from its own seconds of the video."""
    session = tmp_path / "IEMOCAP" / "Session1"
    turns = [(0.0, 0.8, "Ses01F_impro04_F000"), (1.1, 1.8, "Ses01F_impro04_M000")]
    (session / "dialog/EmoEvaluation").mkdir(parents=True)
    label_text = _label_file([(s, e, t, "neu", True) for s, e, t in turns])
    (session / "dialog/EmoEvaluation/Ses01F_impro04.txt").write_text(label_text)
    for _, _, turn in turns:
        write_wav(session / "sentences/wav/Ses01F_impro04" / f"{turn}.wav", 16000, 0.5)
    write_preset(session / "dialog/avi/DivX/Ses01F_impro04.avi", "iemocap", seconds=1.9)  # frames 0..18, 10 fps
    cfg = SMALL_FEATURES.model_copy(update={"face_detector": "center", "n_frames": 3})
    res = prepare_corpus(get_importer("iemocap"), session.parent, tmp_path / "cache", cfg)
    manifest = pd.read_csv(res.out_dir / "manifest.csv", keep_default_na=False)
    faces = np.load(res.out_dir / "faces.npy")
    blue = {uid: faces[i, :, 2, 0, 0].astype(int) for i, uid in enumerate(manifest["utterance_id"])}
    # 0.5 s of audio -> faces from [start, start + 0.5]: frames 0..5 and 11..16. The encoder's rate
    # control repeats some frames (decoded blue: frames 0-7 <= 86, 8-10 = 113, 11-18 >= 137).
    assert blue["Ses01F_impro04_F000"].max() < 100 and blue["Ses01F_impro04_M000"].min() > 125, blue
