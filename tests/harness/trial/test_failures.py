"""Failure handling on a real local Ray cluster: a trial whose Train worker dies at epoch 2 is retried
(resources.max_failures: Ray Train's FailureConfig), the retry resumes from the epoch-1 checkpoint, and
the unit finishes with every epoch reported once. (That a resumed trial trains exactly what an
uninterrupted one trains is tests/harness/trial/test_resume_equivalence.py, without Ray.)
"""
from __future__ import annotations

import json
import os
import time
from pathlib import Path

import pandas as pd
import pytest

from harness.cluster.local import ray_cluster
from harness.config.schema import validate_config
from harness.experiment.run import run_experiment
from harness.trial.faults import FAIL_ONCE_ENV

pytestmark = pytest.mark.slow

TINY_SYNTH = {"speakers": 3, "clips_per_emotion": 1, "conditions": {"duration_s": [0.6, 0.8]}}


def experiment(tmp: Path, name: str) -> dict:
    return {
        "name": name, "output_dir": str(tmp / "results"), "cache_dir": str(tmp / "cache"),
        "corpora": {"studio": {"importer": "synth", "root": str(tmp / "synth"),
                               "synth": {"corpus": "synth-studio", "seed": 0, **TINY_SYNTH}}},
        "pairs": {"within": ["studio"], "max_folds": 1, "labels": ["anger", "happiness", "sadness"]},
        "features": {"sample_rate": 8000, "n_mels": 16, "n_fft": 256, "win_length": 200, "hop_length": 160,
                     "clip_seconds": 0.5, "n_frames": 2, "face_size": 32, "face_detector": "center"},
        "model": {"backbone": "resnet18", "attn_dim": 16, "attn_heads": 2, "adapt_dim": 16, "dropout": 0.3},
        "train": {"epochs": 3, "batch_size": 2, "optimizer": "adamw", "lr": 0.001, "lr_schedule": "constant"},
        "search": {"num_samples": 1},
        "resources": {"workers_per_trial": 1, "cpus_per_worker": 0.5, "cpus_per_trial_driver": 0.5,
                      "max_failures": 1, "progress_timeout_s": 600},
    }


@pytest.fixture(scope="module")
def cluster(tmp_path_factory) -> Path:
    """A local Ray cluster for the module; FDAN_BENCH_FAIL_ONCE is set before it starts (workers inherit it)."""
    tmp = tmp_path_factory.mktemp("failures")
    old = os.environ.get(FAIL_ONCE_ENV)
    os.environ[FAIL_ONCE_ENV] = str(tmp / "fail-once")
    try:
        with ray_cluster(validate_config(experiment(tmp, "faulty"))):
            yield tmp
    finally:
        os.environ.pop(FAIL_ONCE_ENV) if old is None else os.environ.__setitem__(FAIL_ONCE_ENV, old)


@pytest.fixture(scope="module")
def runs(cluster: Path) -> dict[str, Path]:
    marker = cluster / "fail-once"
    marker.write_text("2")
    out = {"faulty": run_experiment(validate_config(experiment(cluster, "faulty")), search=False, log=print)}
    assert not marker.exists(), "the injected failure never happened"
    return out


def reported(results: Path) -> pd.DataFrame:
    """Everything the unit's one trial reported to Tune, epoch by epoch (its result.json lines)."""
    [result] = list((results / "ray").glob("*__studio__fold*/*/result.json"))
    rows = [json.loads(line) for line in result.read_text().splitlines() if line.strip()]
    return pd.DataFrame(rows).drop_duplicates("epoch", keep="last").sort_values("epoch").reset_index(drop=True)


def test_failed_worker_is_retried_from_its_last_checkpoint(runs):
    history = reported(runs["faulty"])
    assert history["epoch"].tolist() == [1, 2, 3]  # every epoch once: nothing lost, nothing repeated
    assert history["attempt_start_epoch"].tolist() == [1, 2, 2]  # the retry started at epoch 2, from a checkpoint
    trials = pd.read_parquet(runs["faulty"] / "trials.parquet")
    assert trials["status"].tolist() == ["completed"] and trials["selected"].tolist() == [True]
    assert [p.name for p in (runs["faulty"] / "units").iterdir()] == ["studio__fold0.json"]  # recorded finished


def never_runs(config: dict) -> None:
    """A trial of resources no node has never gets here."""


def silent_after_one_report(config: dict) -> None:
    """Reports once (it ran), then hangs as a trial whose Train workers wait for a lost node does."""
    from ray import tune

    tune.report({"epoch": 1})
    time.sleep(600)


@pytest.mark.parametrize("resources,trainable,timeout,verdict", [
    ({"CPU": 0.5, "node_that_died": 1}, never_runs, 3, "(PENDING) never got its resources"),
    ({"CPU": 0.5}, silent_after_one_report, 20, "(RUNNING) reported nothing"),  # 20 s: trial start on a busy box
], ids=["pending", "silent"])
def test_watchdog_ends_a_trial_without_progress(cluster, tmp_path, resources, trainable, timeout, verdict):
    """No trial waits forever: pending on resources no node has, or running without a report."""
    from ray import tune

    from harness.tuning.watchdog import ProgressWatchdog, stall_verdict

    name = f"stall-{tmp_path.name}"
    dog = ProgressWatchdog(name, timeout_s=timeout)
    tuner = tune.Tuner(tune.with_resources(trainable, resources),
                       run_config=tune.RunConfig(name=name, storage_path=str(tmp_path), callbacks=[dog], stop=dog,
                                                 verbose=0))
    start = time.monotonic()
    tuner.fit()
    assert time.monotonic() - start < 120
    assert verdict in (stall_verdict(name) or ""), stall_verdict(name)
    assert f"progress_timeout_s = {timeout}" in stall_verdict(name)
