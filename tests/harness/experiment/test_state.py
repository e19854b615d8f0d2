"""Resume state: the tables are rewritten after every unit (so `report` / `compare` work on a crashed sweep),
errored units are retried, and a torn state or unit file is one clear message (exit 2), not a traceback.

The unit loop of `run_experiment` runs for real here; Ray, the corpora and `run_unit` are replaced by
fakes that return the summaries `tests/harness/results_data.py` builds (the Ray path is tests/harness/experiment/test_sweep.py).
"""
from __future__ import annotations

import contextlib
import json
import re
from pathlib import Path

import pandas as pd
import pytest

from fdan.features.featureset import FeatureSet
from harness.config import load_config
from harness.errors import SweepError, SweepFailed
import harness.experiment.corpora
import harness.experiment.run as experiment
from harness.experiment.state import read_unit, write_state
from harness.report.render import render_report
from harness.tuning.work_unit import WorkUnit

from ..experiment_data import base_config, fixed_plan, run_cli, write_config
from ..results_data import make_confusions, make_metrics, make_trials

TRIALS = make_trials()
UNITS = [WorkUnit(src, tgt, fold, ("anger", "happiness"), (0,), (1,), (2,))
         for (src, tgt), fold in [(("savee", "savee"), 0), (("savee", "savee"), 1), (("savee", "meld"), 0),
                                  (("savee", "meld"), 1)]]


def summary(unit: WorkUnit, failed: str | None = None) -> dict:
    trials = TRIALS[(TRIALS["pair"] == unit.pair) & (TRIALS["fold"] == unit.fold)].copy()
    if failed:
        trials["selected"] = False
        trials["status"] = "error"
    return {"key": unit.key, "trials": trials.to_dict("records"), "metrics": make_metrics(trials).to_dict("records"),
            "confusions": [] if failed else make_confusions(trials), "failed": failed}


@pytest.fixture
def fake_run(tmp_path: Path, monkeypatch):
    """A config on disk and a sweep loop whose units are the fakes above; returns (config path, calls)."""
    monkeypatch.chdir(tmp_path)
    config = write_config(tmp_path, base_config(tmp_path))
    calls: list[str] = []
    behaviour: dict[str, object] = {}

    @contextlib.contextmanager
    def cluster(cfg, address):
        yield {"CPU": 2.0}

    def run_unit(cfg, unit, dirs, plan, search, resume):
        calls.append(unit.key)
        what = behaviour.get(unit.key)
        if isinstance(what, BaseException):
            raise what
        return summary(unit, failed=what)

    monkeypatch.setattr(experiment, "ray_cluster", cluster)
    monkeypatch.setattr(experiment, "check_nodes", lambda *args: None)  # the preflight asks Ray for its nodes
    monkeypatch.setattr(experiment, "resolve_plan", lambda cfg, caches, manifests: fixed_plan(cfg, UNITS))
    monkeypatch.setattr(experiment, "run_unit", run_unit)
    monkeypatch.setattr(experiment, "prepare_corpora", lambda cfg, names, log: {n: tmp_path for n in names})
    monkeypatch.setattr(FeatureSet, "open", classmethod(lambda cls, d: type("FS", (), {"manifest": None})()))
    return config, calls, behaviour


def sweep(config: Path, resume: bool = False, report: bool = False) -> Path:
    return experiment.run_experiment(load_config(config), resume=resume, log=lambda _: None,
                                     on_results=render_report if report else None)


def test_crashed_sweep_keeps_tables_and_report_of_finished_units_then_resumes(fake_run, tmp_path):
    config, calls, behaviour = fake_run
    results = tmp_path / "results" / "hostile"
    behaviour[UNITS[1].key] = RuntimeError("the node running the trial died")
    with pytest.raises(RuntimeError, match="node running"):
        sweep(config, report=True)
    trials = pd.read_parquet(results / "trials.parquet")
    assert sorted(set(zip(trials["pair"], trials["fold"]))) == [("savee", 0)]
    assert "| savee |" in re.sub(" +", " ", (results / "leaderboard.md").read_text())  # to_markdown pads cells
    report = run_cli("report", str(results))
    assert report.exit_code == 0, report.output
    compare = run_cli("compare", str(results), str(results))
    assert compare.exit_code == 0 and "savee" in compare.output, compare.output

    behaviour.clear()
    calls.clear()
    sweep(config, resume=True)
    assert calls == [UNITS[1].key, UNITS[2].key, UNITS[3].key]  # finished units are kept, not run again
    trials = pd.read_parquet(results / "trials.parquet")
    assert len(trials) == len(TRIALS) and trials["selected"].sum() == len(UNITS)


def test_a_unit_with_errored_trials_is_not_recorded_finished_and_is_retried(fake_run, tmp_path):
    config, calls, behaviour = fake_run
    results = tmp_path / "results" / "hostile"
    behaviour[UNITS[1].key] = "2 of 3 trial(s) errored"
    with pytest.raises(SweepFailed, match=r"(?s)1 of 4 unit\(s\) not finished.*savee fold 1: 2 of 3"):
        sweep(config)
    units = sorted(p.name for p in (results / "units").iterdir())
    assert units == sorted([f"{UNITS[0].key}.json", f"{UNITS[1].key}.failed.json", f"{UNITS[2].key}.json",
                            f"{UNITS[3].key}.json"])
    trials = pd.read_parquet(results / "trials.parquet")  # the failed unit's trials are shown, none selected
    failed = trials[trials["fold"].eq(1) & trials["pair"].eq("savee")]
    assert len(failed) == 3 and not failed["selected"].any() and set(failed["status"]) == {"error"}
    behaviour.clear()
    calls.clear()
    sweep(config, resume=True)
    assert calls == [UNITS[1].key]
    assert not (results / "units" / f"{UNITS[1].key}.failed.json").exists()


@pytest.mark.parametrize("damage", ["truncate", "empty", "other-unit", "not-json-object"])
def test_torn_unit_record_on_resume_is_one_clear_message(fake_run, tmp_path, damage):
    config, calls, _ = fake_run
    results = tmp_path / "results" / "hostile"
    sweep(config)
    record = results / "units" / f"{UNITS[1].key}.json"
    text = record.read_text()
    record.write_text({"truncate": text[: len(text) // 2], "empty": "",
                       "other-unit": text.replace(UNITS[1].key, UNITS[0].key), "not-json-object": "[1, 2]"}[damage])
    with pytest.raises(SweepError, match=r"record of finished unit savee__fold1.*Delete that file"):
        read_unit(results, UNITS[1].key)
    calls.clear()
    result = run_cli("sweep", str(config), "--resume")
    assert result.exit_code == 2, result.output
    assert str(record) in result.output.replace("\n", "") and "Traceback" not in result.output
    assert calls == []  # refused before anything ran


@pytest.mark.parametrize("content", ["name: hostile\ncorpora: {studio: {importer: sy", "", "- a\n- b\n", "\x00\xff"])
def test_torn_sweep_state_on_resume_is_one_clear_message(tmp_path: Path, monkeypatch, content):
    monkeypatch.chdir(tmp_path)
    config = write_config(tmp_path, base_config(tmp_path))
    results = tmp_path / "results" / "hostile"
    write_state(results, load_config(config))
    (results / "sweep.config.yaml").write_bytes(content.encode("latin-1"))
    result = run_cli("sweep", str(config), "--resume")
    assert result.exit_code == 2, result.output
    assert "sweep.config.yaml" in result.output and "Traceback" not in result.output
    assert sorted(p.name for p in results.iterdir()) == ["sweep.config.yaml"]  # nothing else written
