"""fdan.corpora.native: the speaker-fold rule and the case-insensitive file finding the importers share."""
from __future__ import annotations

from pathlib import Path

import pytest

from fdan.corpora import CorpusError
from fdan.corpora.native import check_folds, files_with_suffix, find_dir, speaker_folds


def test_speaker_folds_are_sorted_round_robin_and_order_free() -> None:
    spk = ["Actor_03", "Actor_01", "Actor_05", "Actor_02", "Actor_04", "Actor_01"]
    folds = speaker_folds(spk, 2, "x")
    assert folds == {"Actor_01": 0, "Actor_02": 1, "Actor_03": 0, "Actor_04": 1, "Actor_05": 0}
    assert speaker_folds(reversed(spk), 2, "x") == folds
    with pytest.raises(CorpusError, match="2 speaker.*fewer than folds=3"):
        speaker_folds(["a", "b"], 3, "x")


@pytest.mark.parametrize("bad", [1, 0, 2.5, "5", True])
def test_check_folds_rejects(bad: object) -> None:
    with pytest.raises(ValueError, match="folds"):
        check_folds(bad)


def test_files_with_suffix_and_find_dir_ignore_case_and_hidden_files(tmp_path: Path) -> None:
    d = tmp_path / "audiowav"
    d.mkdir()
    for name in ("b.WAV", "a.wav", "._a.wav", "notes.txt"):
        (d / name).write_bytes(b"x")
    assert find_dir(tmp_path, "AudioWAV") == d
    assert find_dir(tmp_path, "VideoFlash") is None
    assert [p.name for p in files_with_suffix(d, [".wav"])] == ["a.wav", "b.WAV"]
