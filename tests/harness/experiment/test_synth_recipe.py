"""A `synth:` block that no longer matches the corpus under its root is refused, naming the fields; the
variant fields (name, shift, emotion_clips) are validated when the config loads. No Ray."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from harness.config import ConfigError, validate_config
from harness.experiment.corpora import CorpusMissing, ensure_root

SYNTH = {"corpus": "synth-studio", "name": "synth-shift-1.0", "seed": 3, "speakers": 2, "clips_per_emotion": 1,
         "shift": {"dose": 1.0}, "emotion_clips": {"neutral": 0}, "conditions": {"duration_s": [0.5, 0.6]}}


def _config(root: Path, synth: dict) -> object:
    return validate_config({"name": "t", "corpora": {"c": {"importer": "synth", "root": str(root), "synth": synth}},
                            "pairs": {"within": ["c"]}})


def test_generated_once_reused_when_equal_refused_when_changed(tmp_path: Path) -> None:
    root = tmp_path / "c"
    logs: list[str] = []
    assert ensure_root("c", _config(root, SYNTH).corpora["c"], logs.append) == root.resolve()
    assert len(logs) == 1 and "generating" in logs[0]
    meta = json.loads((root / "corpus.json").read_text())
    assert (meta["corpus"], meta["shift"]["dose"], meta["n_clips"]) == ("synth-shift-1.0", 1.0, 2 * 6)
    stamp = (root / "labels.csv").stat().st_mtime_ns

    assert ensure_root("c", _config(root, SYNTH).corpora["c"], logs.append) == root.resolve()
    assert len(logs) == 1 and (root / "labels.csv").stat().st_mtime_ns == stamp  # same recipe: reused as is

    changed = {**SYNTH, "seed": 4, "shift": {"dose": 0.5}, "conditions": {"duration_s": [0.5, 0.7]}}
    with pytest.raises(CorpusMissing) as err:
        ensure_root("c", _config(root, changed).corpora["c"], logs.append)
    msg = str(err.value)
    for field in ("seed: on disk 3, asked 4", "shift.dose: on disk 1.0, asked 0.5", "conditions.duration_s"):
        assert field in msg
    assert f"Delete {root.resolve()}" in msg and (root / "labels.csv").stat().st_mtime_ns == stamp


def test_a_root_that_is_no_synthetic_corpus_is_refused(tmp_path: Path) -> None:
    root = tmp_path / "mine"
    root.mkdir()
    (root / "notes.txt").write_text("not a corpus")
    with pytest.raises(CorpusMissing, match="corpus.json: cannot be read"):
        ensure_root("c", _config(root, SYNTH).corpora["c"])


@pytest.mark.parametrize("field, value, where", [
    ("shift", {"dose": 3.0}, "corpora.c.synth.shift.dose"),
    ("shift", {"dose": 1.0, "offsets": {"pitch": 1.0}}, "unknown shift cue"),
    ("emotion_clips", {"joy": 1}, "unknown emotion"),
    ("emotion_clips", {"neutral": -1}, "whole numbers >= 0"),
])
def test_bad_variant_fields_are_config_errors(tmp_path: Path, field: str, value: object, where: str) -> None:
    with pytest.raises(ConfigError, match=where):
        _config(tmp_path / "c", {**SYNTH, field: value})
