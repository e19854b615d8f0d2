"""End to end on a local Ray cluster: a real sweep (Optuna + ASHA, Train V2 trials) over 2 pairs on tiny
synthetic corpora, interrupted with SIGINT part-way, then finished with `--resume`.

One sweep serves both checks (each Ray trial costs tens of seconds on 2 cores); it runs its units one
after another (`resources.concurrent_units: 1`, which the trials' start and end times show), so the
interruption lands at a known point; SIGINT reaches the unit's Tuner, fitted in a thread
(`harness.experiment.interrupt`). Units side by side: `test_baselines_e2e.py`.
- interrupted after the first unit is done and the second unit's first trial has finished (the tables and
  leaderboard then hold the first unit: they are rewritten after every unit);
- the resumed run keeps those finished trials (their Tune results are byte-identical afterwards)
  and writes the tables, leaderboard and plots with the documented columns.
"""
from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest
import yaml

from harness.results.columns import CONFUSION_KEYS, METRICS_COLUMNS, TRIALS_COLUMNS

pytestmark = pytest.mark.slow

CROSS = "synth-studio→synth-street"
CROSS_DIR = "e2e__synth-studio->synth-street__fold0"
TINY_SYNTH = {"speakers": 3, "clips_per_emotion": 1, "conditions": {"duration_s": [0.6, 0.8]}}


def experiment(tmp: Path) -> dict:
    return {
        "name": "e2e",
        "output_dir": str(tmp / "results"),
        "cache_dir": str(tmp / "cache"),
        "corpora": {  # generated on first use by the sweep itself
            "synth-studio": {"importer": "synth", "root": str(tmp / "synth" / "studio"),
                             "synth": {"corpus": "synth-studio", "seed": 0, **TINY_SYNTH}},
            "synth-street": {"importer": "synth", "root": str(tmp / "synth" / "street"),
                             "synth": {"corpus": "synth-street", "seed": 1, **TINY_SYNTH}},
        },
        "pairs": {"within": ["synth-studio"], "cross": [{"source": "synth-studio", "target": "synth-street"}],
                  "max_folds": 1, "labels": ["anger", "happiness", "sadness"]},
        "features": {"sample_rate": 8000, "n_mels": 16, "n_fft": 256, "win_length": 200, "hop_length": 160,
                     "clip_seconds": 0.5, "n_frames": 2, "face_size": 32, "face_detector": "center"},
        "model": {"backbone": "resnet18", "attn_dim": 16, "attn_heads": 2, "adapt_dim": 16},
        "train": {"epochs": 2, "batch_size": 4, "optimizer": "adamw", "lr": 0.001, "lr_schedule": "constant"},
        "search": {"num_samples": 2, "seed": 0, "max_concurrent_trials": 1,
                   "asha": {"enabled": True, "grace_period": 1, "reduction_factor": 2},
                   "space": {"model.attn_heads": {"type": "choice", "values": [1, 2]},
                             "train.lmmd_weight": {"type": "loguniform", "low": 0.5, "high": 10.0},
                             "train.bandwidths": {"type": "choice", "values": [None, [0.5, 1.0, 2.0]]}}},
        "resources": {"workers_per_trial": 1, "cpus_per_worker": 0.5, "cpus_per_trial_driver": 0.5, "num_cpus": 2,
                      "concurrent_units": 1},
        "tracking": {"mlflow": {"enabled": True}},  # the default local store, results/e2e/mlruns/
    }


def sweep_cmd(config: Path, *extra: str) -> list[str]:
    return [sys.executable, "-m", "harness.cli", "sweep", str(config), *extra]


def trial_dirs(results: Path) -> list[Path]:
    """Tune trial dirs of the cross-corpus unit, in start order (`run_trial_<unit hash>_<id>_<n>_...`)."""
    dirs = [p for p in (results / "ray" / CROSS_DIR).glob("run_trial_*") if p.is_dir()]
    return sorted(dirs, key=lambda p: int(re.match(r"run_trial_[0-9a-f]+_[0-9a-f]+_(\d+)_", p.name).group(1)))


@pytest.fixture(scope="module")
def resumed_sweep(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("sweep")
    config = tmp / "e2e.yaml"
    config.write_text(yaml.safe_dump(experiment(tmp), sort_keys=False))
    results = tmp / "results" / "e2e"
    log = (tmp / "first.log").open("w")
    proc = subprocess.Popen(sweep_cmd(config), cwd=tmp, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    deadline = time.time() + 600
    started: list[Path] = []
    try:
        # One trial at a time: once the second unit's second trial has started, its first one is finished.
        while time.time() < deadline and proc.poll() is None:
            started = trial_dirs(results)
            if len(started) >= 2:
                break
            time.sleep(0.5)
        assert proc.poll() is None, f"sweep ended before it could be interrupted:\n{(tmp / 'first.log').read_text()[-4000:]}"
        kept = {p.name: (p / "result.json").read_bytes() for p in started[:-1]}
        unit1 = (results / "units" / "synth-studio__fold0.json").read_bytes()
        proc.send_signal(signal.SIGINT)
        first_rc = proc.wait(timeout=180)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
        log.close()
    first_log = (tmp / "first.log").read_text()
    # tables and leaderboard are rewritten after every unit: the interrupted sweep shows its finished unit
    partial = pd.read_parquet(results / "trials.parquet")
    assert set(partial["pair"]) == {"synth-studio"} and partial["selected"].sum() == 1
    assert "| synth-studio | within |" in re.sub(" +", " ", (results / "leaderboard.md").read_text())
    resumed = subprocess.run(sweep_cmd(config, "--resume"), cwd=tmp, capture_output=True, text=True, timeout=600)
    return {"tmp": tmp, "results": results, "config": config, "first_rc": first_rc, "first_log": first_log,
            "kept": kept, "unit1": unit1, "resumed": resumed}


def test_interrupted_sweep_exits_130_with_resume_hint(resumed_sweep):
    assert resumed_sweep["first_rc"] == 130, resumed_sweep["first_log"][-4000:]
    assert "--resume" in resumed_sweep["first_log"]


def test_resume_finishes_without_repeating_finished_trials(resumed_sweep):
    res, results = resumed_sweep["resumed"], resumed_sweep["results"]
    assert res.returncode == 0, res.stdout[-4000:] + res.stderr[-4000:]
    assert "finished earlier, kept" in res.stdout  # unit 1 is not run again
    assert (results / "units" / "synth-studio__fold0.json").read_bytes() == resumed_sweep["unit1"]
    assert resumed_sweep["kept"]
    for name, before in resumed_sweep["kept"].items():  # finished Tune trials are not re-run
        assert (results / "ray" / CROSS_DIR / name / "result.json").read_bytes() == before
    trials = pd.read_parquet(results / "trials.parquet")
    assert len(trials) == 4 and trials["trial_id"].is_unique
    kept_ids = {name.split("_")[3] for name in resumed_sweep["kept"]}
    assert kept_ids <= set(trials["trial_id"])
    assert set(trials["status"]) <= {"completed", "early_stopped"}
    # concurrent_units: 1 -> every trial of the first unit ended before the second unit's first one started
    first, second = trials[trials["pair"] == "synth-studio"], trials[trials["pair"] == CROSS]
    assert (trials["started_at"] < trials["ended_at"]).all()
    assert first["ended_at"].max() <= second["started_at"].min()


def test_tables_leaderboard_and_plots(resumed_sweep):
    results = resumed_sweep["results"]
    for name in ("metrics.parquet", "metrics.csv", "trials.parquet", "trials.csv", "confusion.json",
                 "config.resolved.yaml", "env.json", "leaderboard.md"):
        assert (results / name).is_file(), name
    assert list((results / "plots").glob("*.png"))
    metrics = pd.read_parquet(results / "metrics.parquet")
    assert set(METRICS_COLUMNS) <= set(metrics.columns)
    assert set(metrics["split"]) == {"train", "val", "test"}
    assert {"fused", "audio", "face", "all"} <= set(metrics["head"])
    assert {"war", "uar", "macro_f1", "loss"} <= set(metrics["metric"])
    assert set(metrics["pair"]) == {"synth-studio", CROSS}

    trials = pd.read_parquet(results / "trials.parquet")
    expected = set(TRIALS_COLUMNS) | {"epochs_run", "best_epoch", "param_attn_heads", "param_lmmd_weight",
                                      "param_bandwidths", "best_val_fused_uar", "test_fused_uar", "test_face_war"}
    assert expected <= set(trials.columns)
    assert (trials["protocol"] == "speaker-independent").all() and (trials["experiment"] == "e2e").all()
    assert set(trials["param_attn_heads"]) <= {1, 2} and trials["param_lmmd_weight"].between(0.5, 10).all()
    for pair, group in trials.groupby("pair"):
        assert group["selected"].sum() == 1, pair
        chosen = group[group["selected"]].iloc[0]
        # chosen on validation data only; tested once on the held-out fold
        assert chosen["best_val_fused_uar"] == group["best_val_fused_uar"].max()
        assert group.loc[~group["selected"], "test_fused_uar"].isna().all()
        test_rows = metrics[(metrics["trial_id"] == chosen["trial_id"]) & (metrics["split"] == "test")]
        assert set(test_rows["epoch"]) == {chosen["best_epoch"]}
        uar = test_rows[(test_rows["head"] == "fused") & (test_rows["metric"] == "uar")]["value"].item()
        assert uar == pytest.approx(chosen["test_fused_uar"])
        assert not metrics[(metrics["trial_id"] != chosen["trial_id"]) & (metrics["pair"] == pair)
                           & (metrics["split"] == "test")].shape[0]

    confusions = json.loads((results / "confusion.json").read_text())
    assert len(confusions) == 2 * 3 and all(set(CONFUSION_KEYS) <= set(c) for c in confusions)
    for c in confusions:
        assert c["labels"] == ["anger", "happiness", "sadness"]
        n_test = trials[trials["trial_id"] == c["trial_id"]]["n_test"].item()
        assert sum(map(sum, c["matrix"])) == n_test

    resolved = yaml.safe_load((results / "config.resolved.yaml").read_text())
    assert resolved["name"] == "e2e" and resolved["train"]["epochs"] == 2
    assert "| pair |" in re.sub(" +", " ", (results / "leaderboard.md").read_text())
    assert (results / "report.html").is_file() and (results / "per_class.csv").is_file()


def test_tune_writes_tensorboard_events_per_trial(resumed_sweep):
    """README "Experiment tracking": `tensorboard --logdir <results>/ray` shows every trial's per-epoch metrics."""
    pytest.importorskip("tensorboard", reason="the TensorBoard viewer is in requirements.lock")
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    events = sorted((resumed_sweep["results"] / "ray").rglob("events.out.tfevents.*"))
    assert events
    acc = EventAccumulator(str(events[0].parent)).Reload()
    assert "ray/tune/val_fused_uar" in acc.Tags()["scalars"]
    assert len(acc.Scalars("ray/tune/val_fused_uar")) >= 1


def test_mlflow_has_a_run_for_every_trial(resumed_sweep):
    """tracking.mlflow: Ray Tune's MLflowLoggerCallback on every unit's Tuner, read back with MLflow's client
    (a trial that was interrupted and resumed may have a second run: the resumed Tuner's callback starts one)."""
    from mlflow.tracking import MlflowClient

    results = resumed_sweep["results"]
    client = MlflowClient(tracking_uri=f"sqlite:///{results / 'mlruns' / 'mlflow.db'}")
    runs = client.search_runs([client.get_experiment_by_name("e2e").experiment_id])
    trials = pd.read_parquet(results / "trials.parquet")
    names = " ".join(r.data.tags["trial_name"] for r in runs)
    assert all(tid in names for tid in trials["trial_id"])
    assert {r.data.tags["pair"] for r in runs} == {"synth-studio", CROSS}
    assert {r.data.tags["unit"] for r in runs} == {"synth-studio__fold0", CROSS_DIR.removeprefix("e2e__")}
    for run in runs:
        assert set(run.data.params) >= {"attn_heads", "lmmd_weight"}  # the trial config: searched leaf names
    finished = [r for r in runs if r.info.status == "FINISHED"]
    assert finished and all(client.get_metric_history(r.info.run_id, "val_fused_uar") for r in finished)


def test_second_sweep_without_resume_is_refused(resumed_sweep):
    from typer.testing import CliRunner

    from harness.cli import app

    result = CliRunner().invoke(app, ["sweep", str(resumed_sweep["config"])])
    assert result.exit_code == 2 and "--resume" in result.stderr
