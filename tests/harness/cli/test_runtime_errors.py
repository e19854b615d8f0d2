"""Errors found only at run time are one clear message (exit 2) too: a dead cluster address, a trial that
does not fit the cluster, a damaged feature cache."""
from __future__ import annotations

import contextlib
import time
from pathlib import Path

import pytest

from harness.cluster.reach import ClusterUnreachable, check_reachable, host_port
from harness.errors import SweepError
from harness.experiment.run import open_feature_set as open_features

from ..experiment_data import base_config, deep_set, run_cli, write_config


def test_dead_cluster_address_is_a_clear_message_within_seconds(tmp_path: Path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    config = write_config(tmp_path, base_config(tmp_path))
    start = time.monotonic()
    result = run_cli("sweep", str(config), "--address", "127.0.0.1:1")  # a closed port on loopback
    assert time.monotonic() - start < 30  # ray.init alone retries such an address for minutes
    assert result.exit_code == 2, result.output
    assert "no Ray cluster answers at 127.0.0.1:1" in result.output and "Traceback" not in result.output
    assert [p.name for p in tmp_path.iterdir()] == [config.name]


def test_address_forms():
    assert host_port("127.0.0.1:6379") == ("127.0.0.1", 6379)
    assert host_port("[::1]:6379") == ("::1", 6379)
    assert host_port("auto") is None and host_port("ray://127.0.0.1:10001") is None
    check_reachable("auto")  # resolved by Ray itself
    with pytest.raises(ClusterUnreachable, match="Connection refused"):
        check_reachable("127.0.0.1:1", timeout=2)


def test_damaged_feature_cache_names_corpus_and_directory(tmp_path: Path):
    from fdan.features.featureset import FeatureSet

    with pytest.raises(SweepError, match=r"corpus 'studio': the feature cache .* is unusable.*no manifest.csv"):
        open_features(FeatureSet, "studio", tmp_path)
    for name in ("manifest.csv", "mel.npy", "faces.npy", "meta.json"):
        (tmp_path / name).write_bytes(b"\x93NUMPY garbage")
    with pytest.raises(SweepError, match="Delete that directory"):
        open_features(FeatureSet, "studio", tmp_path)


def test_trial_that_cannot_fit_the_cluster_is_exit_2(tmp_path: Path, monkeypatch):
    """GPU workers demanded of a CPU-only cluster: found once the cluster is up, before anything is written.

    The cluster is a stand-in yielding a 2-CPU cluster's resources (a real local Ray start costs a minute on
    2 busy cores); plan_resources and the CLI's handling are the real ones."""
    import harness.experiment.run as experiment

    @contextlib.contextmanager
    def cpu_cluster(cfg, address):
        yield {"CPU": 2.0, "memory": 1e9}

    monkeypatch.setattr(experiment, "ray_cluster", cpu_cluster)
    monkeypatch.chdir(tmp_path)
    config = write_config(tmp_path, deep_set(base_config(tmp_path), "resources", {"use_gpu": "always"}))
    result = run_cli("sweep", str(config))
    assert result.exit_code == 2, result.output
    assert "resources: one trial needs 1 CPU and 1 GPU; the cluster has 2 CPU / 0 GPU" in result.output
    assert "Traceback" not in result.output
    assert [p.name for p in tmp_path.iterdir()] == [config.name]
