"""Writing and loading a results directory; env.json."""
from __future__ import annotations

import json
import subprocess
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

from harness.results.envinfo import collect_env, git_info
from harness.results.errors import ResultsError
from harness.results.io import load_results, write_results

from ..results_data import make_inputs

FILES = ["metrics.parquet", "metrics.csv", "trials.parquet", "trials.csv", "confusion.json",
         "config.resolved.yaml", "env.json"]


@pytest.fixture(scope="module")
def written(tmp_path_factory) -> tuple[Path, dict]:
    inputs = make_inputs()
    out = tmp_path_factory.mktemp("res") / "toy"
    write_results(out, **inputs)
    return out, inputs


def test_write_results_writes_every_file_and_renders_nothing(written):
    out, _ = written
    for name in FILES:
        assert (out / name).is_file() and (out / name).stat().st_size > 0, name
    # leaderboard.md and plots/ are harness.report.render's, rendered from these files by the caller
    assert not (out / "leaderboard.md").exists() and not (out / "plots").exists()
    assert sorted(p.name for p in out.iterdir()) == sorted(FILES)  # no temporary file of the atomic writes left


def test_tables_round_trip(written):
    out, inputs = written
    res = load_results(out)
    pd.testing.assert_frame_equal(res.trials, inputs["trials"], check_dtype=False)
    pd.testing.assert_frame_equal(res.metrics, inputs["metrics"], check_dtype=False)
    csv = pd.read_csv(out / "trials.csv")
    assert list(csv.columns) == list(inputs["trials"].columns)
    np.testing.assert_allclose(csv["test_fused_uar"], inputs["trials"]["test_fused_uar"])
    assert res.confusions == inputs["confusions"]
    assert res.config == inputs["config"]
    assert res.experiment == "toy"


def test_env_json_records_cluster_resources_and_packages(written):
    out, _ = written
    env = json.loads((out / "env.json").read_text())
    assert env["ray_cluster_resources"] == {"CPU": 2.0, "memory": 1e9}
    assert env["packages"]["pandas"] == pd.__version__
    assert set(env["packages"]) >= {"torch", "torchvision", "torchaudio", "ray", "optuna", "numpy", "pydantic",
                                    "av", "opencv"}
    assert env["hardware"]["cpu_count"] >= 1
    assert isinstance(env["hardware"]["gpu"]["devices"], list)


@pytest.mark.parametrize("table,column", [("metrics", "head"), ("trials", "selected"), ("trials", "protocol")])
def test_missing_column_is_named_and_nothing_written(tmp_path, table, column):
    inputs = make_inputs()
    inputs[table] = inputs[table].drop(columns=column)
    with pytest.raises(ResultsError, match=rf"{table} is missing column\(s\) {column}"):
        write_results(tmp_path / "bad", **inputs)
    assert not (tmp_path / "bad").exists()


def test_bad_confusion_shape_rejected(tmp_path):
    inputs = make_inputs()
    inputs["confusions"][0]["matrix"] = [[1, 2], [3, 4]]
    with pytest.raises(ResultsError, match="does not match 4 labels"):
        write_results(tmp_path / "bad", **inputs)


def test_load_errors(tmp_path):
    with pytest.raises(ResultsError, match="not found"):
        load_results(tmp_path / "nope")
    (tmp_path / "empty").mkdir()
    with pytest.raises(ResultsError, match="no metrics table"):
        load_results(tmp_path / "empty")


def test_load_falls_back_to_csv_and_reads_selected_strings(tmp_path, written):
    out, inputs = written
    for name in ("metrics.csv", "trials.csv"):
        (tmp_path / name).write_bytes((out / name).read_bytes())
    res = load_results(tmp_path)
    assert res.trials["selected"].tolist() == inputs["trials"]["selected"].tolist()
    assert res.config == {} and res.confusions == [] and res.experiment == "toy"


def test_odd_values_are_stored(tmp_path):
    """Paths and tuples in the config, list-valued and mixed-type params: stored, not crashed on."""
    inputs = make_inputs()
    inputs["config"]["root"] = Path("/data/savee")
    inputs["config"]["dims"] = (256, np.int64(512))
    inputs["trials"]["param_hidden"] = [[256, 512]] * 6 + [[128]] * 6
    inputs["trials"]["param_mixed"] = [1, "a"] * 6
    write_results(tmp_path / "odd", **inputs)
    config = yaml.safe_load((tmp_path / "odd" / "config.resolved.yaml").read_text())
    assert config["root"] == "/data/savee" and config["dims"] == [256, 512]
    trials = load_results(tmp_path / "odd").trials
    assert json.loads(trials["param_hidden"].iloc[0]) == [256, 512]
    assert trials["param_mixed"].tolist()[:2] == ["1", "a"]


def _git(cwd: Path, *args: str) -> str:
    return subprocess.run(["git", "-c", "user.name=t", "-c", "user.email=t@t", *args], cwd=cwd,
                          check=True, capture_output=True, text=True).stdout.strip()


def test_git_info_inside_and_outside_a_checkout(tmp_path):
    outside = tmp_path / "plain"
    outside.mkdir()
    assert git_info(outside) == {"commit": None, "dirty": None}
    repo = tmp_path / "repo"
    repo.mkdir()
    _git(repo, "init", "-q")
    (repo / "a.txt").write_text("1")
    _git(repo, "add", "a.txt")
    _git(repo, "commit", "-q", "-m", "x")
    head = _git(repo, "rev-parse", "HEAD")
    assert git_info(repo) == {"commit": head, "dirty": False}
    (repo / "a.txt").write_text("2")
    assert git_info(repo) == {"commit": head, "dirty": True}
    env = collect_env({"GPU": 1}, repo_dir=repo)
    assert env["git"]["commit"] == head and env["ray_cluster_resources"] == {"GPU": 1}
    json.dumps(env)  # serialisable as is
