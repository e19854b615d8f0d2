"""`fdan-bench report` / `compare`: re-rendering, side-by-side comparison, and bad input (exit 2)."""
from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from harness.cli import app
from harness.report.compare import compare, compare_markdown, compare_table
from harness.report.render import render_report
from harness.results.io import write_results

from ..results_data import make_inputs

runner = CliRunner()


@pytest.fixture(scope="module")
def two_dirs(tmp_path_factory) -> tuple[Path, Path]:
    root = tmp_path_factory.mktemp("results")
    write_results(root / "a", **make_inputs("exp-a"))
    render_report(root / "a")
    # the second only needs tables for compare: its plots are not drawn
    write_results(root / "b", **make_inputs("exp-b", protocol="paper", shift=0.05))
    return root / "a", root / "b"


def test_render_report_after_write_results(two_dirs):
    a, _ = two_dirs
    for name in ("metrics.parquet", "metrics.csv", "trials.parquet", "trials.csv", "confusion.json",
                 "config.resolved.yaml", "env.json", "leaderboard.md", "per_class.csv", "report.html"):
        assert (a / name).is_file(), name
    # hparams, the cross-corpus heat map, and per pair its pooled confusion matrices and learning curves
    assert len(list((a / "plots").glob("*.png"))) == 6


def test_report_re_renders_identical_leaderboard(two_dirs):
    a, _ = two_dirs
    before = (a / "leaderboard.md").read_text()
    (a / "leaderboard.md").unlink()
    result = runner.invoke(app, ["report", str(a)])
    assert result.exit_code == 0, result.output
    assert (a / "leaderboard.md").read_text() == before
    page = (a / "report.html").read_text()
    runner.invoke(app, ["report", str(a)])
    assert (a / "report.html").read_text() == page  # deterministic: no timestamps, the same figures
    assert "Leaderboard — exp-a" in result.output and "65.00 ± 7.07" in result.output
    for line in before.splitlines():
        if line.startswith("- [") and "](plots/" in line:
            assert (a / line.split("](", 1)[1].rstrip(")")).is_file(), line


def test_compare_frame_and_table(two_dirs):
    df = compare(list(two_dirs))
    assert df["experiment"].unique().tolist() == ["exp-a", "exp-b"]
    a = df[(df["experiment"] == "exp-a") & (df["pair"] == "savee")].iloc[0]
    b = df[(df["experiment"] == "exp-b") & (df["pair"] == "savee")].iloc[0]
    assert a["fused_uar_mean"] == pytest.approx(65.0) and b["fused_uar_mean"] == pytest.approx(70.0)
    table = compare_table(df, "fused")
    assert table["pair"].tolist() == ["savee", "savee→meld", "overall (within)", "overall (cross)"]
    assert table.loc[0, "exp-a [speaker-independent] UAR"] == "65.00 ± 7.07"
    assert table.loc[0, "exp-b [paper] UAR"] == "70.00 ± 7.07"
    md = compare_markdown(df)
    assert "Protocols differ" in md and "## audio head" in md and "exp-b [paper] macro-F1" in md


def test_compare_same_name_twice_is_disambiguated(two_dirs):
    a, _ = two_dirs
    df = compare([a, a])
    names = df["experiment"].unique().tolist()
    assert len(names) == 2 and names[0] == "exp-a" and str(a) in names[1]


def test_compare_cli_writes_out(two_dirs, tmp_path):
    result = runner.invoke(app, ["compare", *map(str, two_dirs), "--out", str(tmp_path / "cmp.md")])
    assert result.exit_code == 0, result.output
    assert "[speaker-independent]" in result.output and "[paper]" in result.output  # not eaten as markup
    assert "exp-a" in result.output and "exp-b" in result.output and "70.00 ± 7.07" in result.output
    text = (tmp_path / "cmp.md").read_text()
    assert "exp-a [speaker-independent] WAR" in text and "exp-b [paper] WAR" in text
    result = runner.invoke(app, ["compare", *map(str, two_dirs), "--out", str(tmp_path / "cmp.csv")])
    assert result.exit_code == 0, result.output
    assert len(pd.read_csv(tmp_path / "cmp.csv")) == 8  # 2 experiments x (2 pairs + 2 overall rows)
    classes = pd.read_csv(tmp_path / "cmp.per_class.csv")
    assert set(classes["experiment"]) == {"exp-a", "exp-b"} and set(classes["head"]) == {"fused", "audio", "face"}
    assert "### fused head" in text and "exp-b [paper] R / P / F1" in text  # per class, side by side
    result = runner.invoke(app, ["compare", *map(str, two_dirs), "--out", str(tmp_path / "cmp.html")])
    assert result.exit_code == 0, result.output
    page = (tmp_path / "cmp.html").read_text()
    assert page.startswith("<!DOCTYPE html>") and "exp-a [speaker-independent] UAR" in page
    assert "exp-b [paper] R / P / F1" in page and "Protocols differ" in page


def _error_lines(result) -> list[str]:
    return [line for line in result.output.splitlines() if line.strip()]


@pytest.mark.parametrize("command", ["report", "compare"])
def test_missing_dir_exits_2_with_one_line(tmp_path, command, two_dirs):
    args = [command, str(tmp_path / "missing")] + ([str(two_dirs[0])] if command == "compare" else [])
    result = runner.invoke(app, args)
    assert result.exit_code == 2
    lines = _error_lines(result)
    assert len(lines) == 1 and "error:" in lines[0] and "not found" in lines[0]


def test_dir_without_trials_table_exits_2(tmp_path, two_dirs):
    a, _ = two_dirs
    (tmp_path / "x").mkdir()
    (tmp_path / "x" / "metrics.parquet").write_bytes((a / "metrics.parquet").read_bytes())
    result = runner.invoke(app, ["report", str(tmp_path / "x")])
    assert result.exit_code == 2
    lines = _error_lines(result)
    assert len(lines) == 1 and "no trials table" in lines[0]


def test_table_missing_a_column_exits_2(tmp_path, two_dirs):
    a, _ = two_dirs
    (tmp_path / "y").mkdir()
    (tmp_path / "y" / "metrics.parquet").write_bytes((a / "metrics.parquet").read_bytes())
    pd.read_parquet(a / "trials.parquet").drop(columns="selected").to_parquet(tmp_path / "y" / "trials.parquet")
    result = runner.invoke(app, ["report", str(tmp_path / "y")])
    assert result.exit_code == 2 and "missing column(s) selected" in result.output
