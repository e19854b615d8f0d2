"""Hostile configs through the real CLI: each gives ONE clear message naming the field, exit code 2,
no traceback, and writes nothing (no results directory, no data or cache directory, no corpus)."""
from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from ..experiment_data import DELETE, base_config, deep_set, run_cli, write_config


def no_synth(cfg: dict) -> dict:
    """The corpus as a real (non-generated) one, whose root must exist."""
    return deep_set(cfg, "corpora.studio.synth", DELETE)


# (id, config edit: dotted path -> value, or a function of the base config, or raw file text; text in the message)
CASES: list[tuple[str, Any, str]] = [
    ("unknown-top-field", {"epochz": 3}, "epochz: unknown field"),
    ("unknown-nested-field", {"train.lrr": 0.1}, "train.lrr: unknown field"),
    ("wrong-type", {"train.epochs": "many"}, "train.epochs"),
    ("negative-epochs", {"train.epochs": -1}, "train.epochs"),
    ("zero-batch", {"train.batch_size": 0}, "train.batch_size"),
    ("list-for-int", {"search.num_samples": [1]}, "search.num_samples"),
    ("empty-search-space", {"search.space": {}}, "search.space"),
    ("unknown-distribution", {"search.space": {"train.lr": {"type": "gaussian", "low": 0, "high": 1}}},
     "search.space.train.lr"),
    ("choice-without-values", {"search.space": {"model.attn_heads": {"type": "choice", "values": []}}},
     "search.space.model.attn_heads"),
    ("loguniform-low-zero", {"search.space": {"train.lr": {"type": "loguniform", "low": 0, "high": 1}}},
     "search.space.train.lr"),
    ("low-above-high", {"search.space": {"train.lr": {"type": "uniform", "low": 2, "high": 1}}},
     "search.space.train.lr"),
    ("searched-field-missing", {"search.space": {"train.nope": {"type": "choice", "values": [1, 2]}}},
     "search.space.train.nope"),
    ("searched-value-invalid", {"search.space": {"train.epochs": {"type": "choice", "values": [0, 2]}}},
     "search.space.train.epochs"),
    ("unknown-corpus-within", {"pairs.within": ["nowhere"]}, "pairs.within.0"),
    ("unknown-corpus-cross", {"pairs.cross": [{"source": "studio", "target": "nowhere"}]}, "pairs.cross.0.target"),
    ("no-pairs", {"pairs.within": []}, "pairs"),
    ("no-corpora", {"corpora": {}, "pairs": {}}, "corpora"),
    ("missing-importer", {"corpora.studio.importer": DELETE}, "corpora.studio.importer"),
    ("unknown-importer", {"corpora.studio.importer": "savey"}, "corpora.studio.importer"),
    ("missing-root", lambda c: no_synth(deep_set(c, "corpora.studio.root", "/nonexistent/studio")),
     "corpora.studio.root"),
    ("label-not-canonical", {"pairs.labels": ["anger", "angry"]}, "pairs.labels"),
    ("impossible-resources", {"resources": {"num_cpus": 1, "cpus_per_worker": 4}}, "resources"),
    ("zero-cpus", {"resources.cpus_per_worker": 0}, "resources.cpus_per_worker"),
    ("bad-protocol", {"protocol.name": "peeking"}, "protocol.name"),
    ("bad-asha", {"search.asha.reduction_factor": 1}, "search.asha.reduction_factor"),
    ("bad-name", {"name": "../escape"}, "name"),
    ("bad-yaml", "name: x\ncorpora: {studio: [unclosed\n", "invalid YAML"),
    ("empty-file", "", "top level must be a mapping"),
    ("top-level-list", "- a\n- b\n", "top level must be a mapping"),
    ("binary-garbage", "\x00\x01\x02", "config"),
]


def make(tmp: Path, edit: Any) -> Path:
    if isinstance(edit, str):
        return write_config(tmp, edit)
    cfg = base_config(tmp)
    if callable(edit):
        cfg = edit(cfg)
    else:
        for dotted, value in edit.items():
            cfg = deep_set(cfg, dotted, value)
    return write_config(tmp, cfg)


@pytest.mark.parametrize("edit,expected", [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_malformed_config_is_one_clear_message_and_writes_nothing(tmp_path: Path, monkeypatch, edit, expected):
    monkeypatch.chdir(tmp_path)
    config = make(tmp_path, edit)
    result = run_cli("sweep", str(config))
    output = " ".join(result.output.split())  # rich / terminal wrapping aside
    assert result.exit_code == 2, result.output
    assert expected in output, result.output
    assert "Traceback" not in result.output and output.count("error:") == 1
    assert [p.name for p in tmp_path.iterdir()] == [config.name]  # nothing written next to it


@pytest.mark.parametrize("args,expected", [
    (["--set", "train.epoch=3"], "train.epoch"),
    (["--set", "train.epochs"], "train.epochs"),
    (["--set", "train.epochs=zero"], "train.epochs"),
], ids=["unknown-override", "override-without-value", "override-wrong-type"])
def test_malformed_override_is_one_clear_message(tmp_path: Path, monkeypatch, args, expected):
    monkeypatch.chdir(tmp_path)
    config = make(tmp_path, {})
    result = run_cli("sweep", str(config), *args)
    assert result.exit_code == 2 and expected in result.output and "Traceback" not in result.output, result.output
    assert [p.name for p in tmp_path.iterdir()] == [config.name]


def test_missing_config_file(tmp_path: Path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    result = run_cli("sweep", str(tmp_path / "absent.yaml"))
    assert result.exit_code == 2 and "no such config file" in result.output and "Traceback" not in result.output
    assert list(tmp_path.iterdir()) == []
