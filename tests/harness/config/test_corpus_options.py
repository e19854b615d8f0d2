"""Corpus sections at config load: importer options built and checked, canonical pair labels,
and the shipped real-corpus experiments: they load, and with their roots missing stop with the clear message."""
from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from harness.cli import app
from harness.config import ConfigError, load_config

REPO = Path(__file__).resolve().parents[3]
REAL = ["lmmd.yaml", "cross_corpus.yaml", "paper_savee.yaml", "paper_meld.yaml"]

BASE = {
    "name": "t",
    "corpora": {
        "rav": {"importer": "ravdess", "root": "data/RAVDESS", "options": {"calm": "merge", "folds": 4}},
        "a": {"importer": "synth", "root": "data/a", "synth": {"corpus": "synth-studio"}},
    },
    "pairs": {"within": ["rav"]},
}


def error_of(tmp_path: Path, overrides: list[str]) -> str:
    path = tmp_path / "exp.yaml"
    path.write_text(yaml.safe_dump(BASE))
    with pytest.raises(ConfigError) as info:
        load_config(path, overrides)
    return str(info.value)


def test_options_reach_the_config(tmp_path):
    path = tmp_path / "exp.yaml"
    path.write_text(yaml.safe_dump(BASE))
    cfg = load_config(path, ["corpora.rav.options.song=true"])
    assert cfg.corpora["rav"].options == {"calm": "merge", "folds": 4, "song": True}
    assert cfg.corpora["a"].options == {}


@pytest.mark.parametrize("overrides, field, words", [
    (["corpora.rav.options.colour=red"], "corpora.rav.options.colour", ["calm", "folds", "song"]),
    (["corpora.rav.options.calm=sometimes"], "corpora.rav.options.calm", ["sometimes"]),
    (["corpora.a.options={seed: 3}"], "corpora.a.options.seed", ["known: folds"]),
    (["corpora.rav.importer=ravdes"], "corpora.rav.importer", ["ravdess", "savee"]),
    (["pairs.labels=[anger, joy]"], "pairs.labels.1", ["'joy'", "happiness"]),
    (["pairs.labels=[anger, anger]"], "pairs.labels", ["twice"]),
])
def test_bad_corpus_settings_name_the_field(tmp_path, overrides, field, words):
    msg = error_of(tmp_path, overrides)
    assert f"{field}:" in msg, msg
    assert all(w in msg for w in words), msg


@pytest.mark.parametrize("name", REAL)
def test_real_corpus_experiments_load_with_real_importers(name):
    cfg = load_config(REPO / "experiments" / name)
    assert all(spec.synth is None for spec in cfg.corpora.values())


@pytest.mark.parametrize("name", REAL)
def test_real_corpus_experiment_without_roots_exits_2_naming_each(name, tmp_path, monkeypatch):
    """Run from an empty folder: every corpus root is missing; nothing runs and nothing is written."""
    monkeypatch.chdir(tmp_path)
    cfg = load_config(REPO / "experiments" / name)
    command = "train" if name.startswith("paper_") else "sweep"
    result = CliRunner().invoke(app, [command, str(REPO / "experiments" / name), "--set", f"output_dir={tmp_path / 'out'}"])
    assert result.exit_code == 2, result.output
    for corpus, spec in cfg.corpora.items():
        assert f"corpus {corpus!r}" in result.stderr and str(tmp_path / spec.root) in result.stderr, result.stderr
        assert spec.prepare_hint and spec.prepare_hint in result.stderr
    assert "Traceback" not in result.output
    assert list(tmp_path.iterdir()) == []
