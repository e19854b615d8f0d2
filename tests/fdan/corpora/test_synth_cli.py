"""`fdan-bench synth` through the Typer app."""
from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from harness.cli import app


def test_synth_command_writes_a_corpus(tmp_path: Path) -> None:
    out = tmp_path / "street"
    res = CliRunner().invoke(app, ["synth", str(out), "--corpus", "synth-street", "--seed", "2", "--speakers", "1",
                                   "--clips-per-emotion", "1"])
    assert res.exit_code == 0, res.output
    assert "synth-street" in res.output and "7 (1 speakers" in " ".join(res.output.split())
    assert (out / "corpus.json").is_file() and (out / "labels.csv").is_file()
    assert len(list(out.glob("str01/*.mp4"))) == 7


def test_unknown_corpus_exits_2(tmp_path: Path) -> None:
    res = CliRunner().invoke(app, ["synth", str(tmp_path / "x"), "--corpus", "synth-moon"])
    assert res.exit_code == 2
    assert "unknown corpus 'synth-moon'" in " ".join(res.output.split()) and "synth-studio" in res.output
    assert not (tmp_path / "x").exists()


def test_non_empty_foreign_directory_exits_2(tmp_path: Path) -> None:
    (tmp_path / "mine.txt").write_text("keep")
    res = CliRunner().invoke(app, ["synth", str(tmp_path), "--speakers", "1", "--clips-per-emotion", "1"])
    assert res.exit_code == 2 and "not empty" in " ".join(res.output.split())  # rich wraps long paths


def test_synth_command_writes_a_named_variant(tmp_path: Path) -> None:
    out = tmp_path / "shift"
    res = CliRunner().invoke(app, ["synth", str(out), "--name", "synth-shift-1.0", "--dose", "1.0", "--speakers", "1",
                                   "--clips-per-emotion", "1", "--emotion-clips", "neutral=0", "--emotion-clips", "fear=2"],
                             terminal_width=200)
    assert res.exit_code == 0, res.output
    assert "synth-shift-1.0" in res.output and "cue shift" in " ".join(res.output.split())
    meta = json.loads((out / "corpus.json").read_text())
    assert (meta["corpus"], meta["base"], meta["shift"]["dose"], meta["n_clips"]) == ("synth-shift-1.0", "synth-studio", 1.0, 7)
    bad = CliRunner().invoke(app, ["synth", str(tmp_path / "y"), "--emotion-clips", "neutral"])
    assert bad.exit_code == 2 and "EMOTION=N" in bad.output
