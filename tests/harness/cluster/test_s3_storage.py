"""`storage: s3://...` end to end against a real S3 HTTP endpoint on 127.0.0.1 (moto's server mode).

One sweep (1 unit, 2 trials, 1 epoch) keeps its Tune and Train state and checkpoints in the bucket;
the chosen checkpoint is evaluated on the held-out rows from the bucket; then the unit's record is
removed and `--resume` restores the Tune experiment from the bucket (no trial runs again).
"""
from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pandas as pd
import pytest
import yaml

from tests.harness.cluster.tiny_experiment import cli, tiny_experiment

pytestmark = pytest.mark.slow
BUCKET = "fdan-bench-test"


@pytest.fixture(scope="module")
def s3_endpoint():
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


def _fs(endpoint: str):
    import pyarrow.fs

    return pyarrow.fs.S3FileSystem(endpoint_override=endpoint, scheme="http", region="us-east-1",
                                   access_key="testing", secret_key="testing", allow_bucket_creation=True)


def test_sweep_on_s3_storage_tests_and_resumes(tmp_path: Path, s3_endpoint: str):
    import pyarrow.fs

    fs = _fs(s3_endpoint)
    fs.create_dir(BUCKET)
    exp = tiny_experiment(tmp_path, "s3")
    exp["storage"] = f"s3://{BUCKET}/runs"
    exp["storage_options"] = {"endpoint_override": s3_endpoint, "scheme": "http", "region": "us-east-1"}
    config = tmp_path / "s3.yaml"
    config.write_text(yaml.safe_dump(exp, sort_keys=False))
    env = {**os.environ, "AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing", "AWS_EC2_METADATA_DISABLED": "true"}

    first = subprocess.run(cli("sweep", str(config)), cwd=tmp_path, env=env, capture_output=True, text=True, timeout=900)
    assert first.returncode == 0, first.stdout[-3000:] + first.stderr[-3000:]
    results = tmp_path / "results" / "s3"
    trials = pd.read_parquet(results / "trials.parquet")
    assert len(trials) == 2 and trials["selected"].sum() == 1
    best = trials[trials["selected"]].iloc[0]
    assert pd.notna(best["test_fused_uar"])  # evaluated from the checkpoint in the bucket
    assert str(best["checkpoint_path"]).startswith(f"{BUCKET}/runs/")
    assert fs.get_file_info(best["checkpoint_path"]).type == pyarrow.fs.FileType.Directory
    listed = fs.get_file_info(pyarrow.fs.FileSelector(f"{BUCKET}/runs", recursive=False))
    names = {info.base_name for info in listed}
    assert {"s3__synth-studio__fold0", "train_runs"} <= names, names
    assert not (results / "ray").exists()  # nothing of Ray's state landed on the local disk

    # Forget the finished unit: --resume must restore its Tune experiment from the bucket.
    for record in (results / "units").glob("*.json"):
        record.unlink()
    second = subprocess.run(cli("sweep", str(config), "--resume"), cwd=tmp_path, env=env, capture_output=True,
                            text=True, timeout=600)
    assert second.returncode == 0, second.stdout[-3000:] + second.stderr[-3000:]
    again = pd.read_parquet(results / "trials.parquet")
    assert sorted(again["trial_id"]) == sorted(trials["trial_id"])  # restored, not re-run
