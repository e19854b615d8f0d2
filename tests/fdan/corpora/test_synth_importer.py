"""The `synth` importer: scans the generated layout, reports bad rows as skips, refuses foreign roots."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

import fdan.corpora.synth.importer  # noqa: F401  (registers the importer)
from fdan.corpora import CorpusError, get_importer, list_importers
from fdan.corpora.synth import EMOTIONS
from fdan.corpora.synth.generate import generate


@pytest.fixture(scope="module")
def root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return generate(tmp_path_factory.mktemp("imp") / "c", "synth-studio", seed=0, speakers=2, clips_per_emotion=1,
                    workers=1, duration_s=(0.8, 1.0))


def test_registered() -> None:
    assert "synth" in list_importers()
    assert get_importer("synth").name == "synth"


def test_scan_clean_corpus(root: Path) -> None:
    res = get_importer("synth").scan(root)
    assert res.corpus == "synth-studio" and res.skipped == []
    assert len(res.utterances) == 2 * len(EMOTIONS)
    u = res.utterances[0]
    assert (u.split, u.label, u.corpus_label) == ("all", u.corpus_label, u.label)
    assert {x.label for x in res.utterances} == set(EMOTIONS)
    folds = {x.speaker: x.fold for x in res.utterances}
    assert folds == {"stu01": 0, "stu02": 1}  # leave-one-speaker-out
    for x in res.utterances:
        assert not Path(x.video_path).is_absolute() and (root / x.video_path).is_file()
        assert (root / x.audio_path).is_file()


def test_bad_rows_become_skips(root: Path, tmp_path: Path) -> None:
    bad = tmp_path / "bad"
    bad.mkdir()
    (bad / "corpus.json").write_text((root / "corpus.json").read_text())
    lines = (root / "labels.csv").read_text().splitlines()
    header, rows = lines[0], lines[1:]
    for spk in ("stu01", "stu02"):
        (bad / spk).symlink_to(root / spk, target_is_directory=True)
    planted_emotion = rows[0].replace(",anger,", ",rage,")
    missing_video = rows[1].replace(".mp4", "_gone.mp4")
    missing_audio = rows[2].replace(".wav", "_gone.wav")
    (bad / "labels.csv").write_text("\n".join([header, planted_emotion, missing_video, missing_audio, *rows[3:]]) + "\n")
    res = get_importer("synth").scan(bad)
    assert len(res.utterances) == len(rows) - 3
    reasons = [s.reason for s in res.skipped]
    assert len(reasons) == 3
    assert "unknown emotion 'rage'" in reasons[0]
    assert "missing media file" in reasons[1] and "_gone.mp4" in reasons[1]
    assert "missing media file" in reasons[2] and "_gone.wav" in reasons[2]
    assert res.skipped[0].path.endswith(".mp4")


def test_foreign_roots_are_corpus_errors(tmp_path: Path) -> None:
    imp = get_importer("synth")
    with pytest.raises(CorpusError, match="does not exist"):
        imp.scan(tmp_path / "nowhere")
    with pytest.raises(CorpusError, match=r"expected corpus.json and labels.csv.*missing corpus.json, labels.csv"):
        imp.scan(tmp_path)
    (tmp_path / "corpus.json").write_text(json.dumps({"family": "ravdess"}))
    (tmp_path / "labels.csv").write_text("utterance_id,speaker,emotion,video_path,audio_path\n")
    with pytest.raises(CorpusError, match="family is 'ravdess'"):
        imp.scan(tmp_path)
    (tmp_path / "corpus.json").write_text(json.dumps({"family": "synth"}))
    (tmp_path / "labels.csv").write_text("utterance_id,emotion\n")
    with pytest.raises(CorpusError, match="missing column"):
        imp.scan(tmp_path)
