"""Elastic trial sizing on joined clusters, and storage URIs resolved to pyarrow filesystems (no Ray started)."""
from __future__ import annotations

import pyarrow.fs
import pytest

from harness.cluster.resources import plan_resources
from harness.cluster.storage import resolve_storage
from harness.config import ConfigError, validate_config


def cfg(**sections):
    data = {"name": "e", "corpora": {"c": {"importer": "synth", "root": "/nonexistent"}}, "pairs": {"within": ["c"]},
            "resources": {"cpus_per_worker": 4, "cpus_per_trial_driver": 0.5}}
    for key, value in sections.items():
        data[key] = {**data.get(key, {}), **value} if key in ("resources", "search") else value
    return validate_config(data)


def test_joined_cluster_is_sized_by_what_it_can_launch():
    # a CPU head with no GPU yet; its launcher config can start 4 GPU workers of 8 CPU
    plan = plan_resources(cfg(), {"CPU": 2.0}, elastic={"CPU": 32.0, "GPU": 4.0})
    assert plan.use_gpu and plan.gpus_per_worker == 1.0 and plan.max_concurrent_trials == 4


def test_joined_cluster_that_fits_nothing_yet_waits_instead_of_failing():
    plan = plan_resources(cfg(), {"CPU": 2.0}, elastic={})
    assert plan.max_concurrent_trials == 1 and not plan.use_gpu
    with pytest.raises(ValueError, match="one trial needs"):  # a local cluster cannot grow: clear error
        plan_resources(cfg(), {"CPU": 2.0})


def test_use_gpu_never_stays_on_cpus_even_when_gpus_can_be_launched():
    plan = plan_resources(cfg(resources={"use_gpu": "never"}), {"CPU": 8.0}, elastic={"CPU": 32.0, "GPU": 4.0})
    assert not plan.use_gpu and plan.max_concurrent_trials == 7  # 32 CPU / 4.5


def test_local_and_uri_storage():
    assert resolve_storage("/data/ray").filesystem is None and resolve_storage("/data/ray").path == "/data/ray"
    s3 = resolve_storage("s3://bucket/prefix/", {"endpoint_override": "http://127.0.0.1:9", "scheme": "http",
                                                  "region": "us-east-1"})
    assert isinstance(s3.filesystem, pyarrow.fs.S3FileSystem) and s3.path == "bucket/prefix"
    assert s3.join("exp") == "bucket/prefix/exp"
    with pytest.raises(ValueError, match="storage_options"):
        resolve_storage("/data/ray", {"region": "x"})


def test_storage_options_need_an_object_store_uri():
    with pytest.raises(ConfigError, match="storage_options"):
        cfg(storage_options={"region": "us-east-1"})
    assert validate_config({**cfg().model_dump(mode="json"), "storage": "s3://b/p",
                            "storage_options": {"region": "us-east-1"}}).storage_options == {"region": "us-east-1"}
