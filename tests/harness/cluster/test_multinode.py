"""A 2-node cluster on loopback (`ray start --head` + `ray start --address`): preflight runs on every node,
and a sweep joined to a small head uses a node that joins after the sweep started (trials' `node_id`)."""
from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest
import yaml

from tests.harness.cluster.loopback import LoopbackCluster, NodeStartTimeout
from tests.harness.cluster.tiny_experiment import cli, tiny_experiment

pytestmark = pytest.mark.slow

PREFLIGHT = r"""
import json, sys
import ray
from harness.cluster.preflight import PreflightError, preflight
from harness.cluster.storage import Storage

ray.init(address=sys.argv[1], log_to_driver=False)
ok = preflight({"cache": sys.argv[2]}, Storage(sys.argv[3]))
try:
    preflight({"cache": sys.argv[2], "corpus root": sys.argv[4]}, Storage(sys.argv[3]))
    missing = None
except PreflightError as exc:
    missing = str(exc)
print("RESULT=" + json.dumps({"ok": ok, "missing": missing}))
"""


def test_preflight_checks_every_node_and_names_node_and_path(tmp_path: Path):
    cluster = LoopbackCluster(tmp_path, num_cpus=1, dashboard=False)
    try:
        try:
            cluster.join_node(num_cpus=1, resources={"node2": 1})
            nodes = cluster.wait_settled()
        except NodeStartTimeout as exc:
            pytest.skip(str(exc))
        (tmp_path / "cache").mkdir()
        out = subprocess.run([sys.executable, "-c", PREFLIGHT, cluster.address, str(tmp_path / "cache"),
                              str(tmp_path / "storage"), str(tmp_path / "no-corpus")],
                             env=cluster.env, capture_output=True, text=True, timeout=300)
    finally:
        cluster.stop()
    assert out.returncode == 0, out.stderr[-3000:]
    result = json.loads([line for line in out.stdout.splitlines() if line.startswith("RESULT=")][-1][len("RESULT="):])
    ids = {n["id"] for n in nodes}
    assert set(result["ok"]) == ids  # one check on each node
    for node_id in ids:  # the missing path is reported for every node, by node id
        assert f"node {node_id} (" in result["missing"]  # its address: Ray maps 127.0.0.1 to this host's own
    assert f"corpus root: {tmp_path / 'no-corpus'} not found" in result["missing"]
    assert not list((tmp_path / "storage").iterdir())  # probes removed


def test_sweep_uses_a_node_that_joins_after_it_started(tmp_path: Path):
    cluster = LoopbackCluster(tmp_path, num_cpus=1)
    try:
        exp = tiny_experiment(tmp_path, "late")
        exp["search"]["max_concurrent_trials"] = None  # sized by the cluster: here its launcher config
        config = tmp_path / "late.yaml"
        config.write_text(yaml.safe_dump(exp, sort_keys=False))
        # The joined cluster's launcher config: a 1-CPU head and at most one more 1-CPU node.
        capacity = tmp_path / "capacity.yaml"
        capacity.write_text(yaml.safe_dump({"max_workers": 1, "head_node_type": "head", "available_node_types": {
            "head": {"resources": {"CPU": 1}}, "worker": {"resources": {"CPU": 1}, "max_workers": 1}}}, sort_keys=False))
        log_path = tmp_path / "sweep.log"
        with log_path.open("w") as log:
            sweep = subprocess.Popen(cli("sweep", str(config), "--address", cluster.address, "--cluster", str(capacity)),
                                     cwd=tmp_path, env=cluster.env, stdout=log, stderr=subprocess.STDOUT)
            deadline = time.time() + 300
            while "Ray cluster:" not in log_path.read_text() and sweep.poll() is None and time.time() < deadline:
                time.sleep(1)
            try:
                late = {cluster.join_node(num_cpus=1, resources={"late": 1})["id"]}
            except NodeStartTimeout as exc:
                sweep.kill()
                pytest.skip(str(exc))
            rc = sweep.wait(timeout=1200)
    finally:
        cluster.stop()
    text = log_path.read_text()
    assert rc == 0, text[-4000:]
    assert "Ray cluster: 1 CPU" in text and "up to 2 at once" in text  # planned for the capacity, not the start
    trials = pd.read_parquet(tmp_path / "results" / "late" / "trials.parquet")
    assert len(trials) == 2 and trials["node_id"].notna().all()
    assert set(trials["node_id"]) & late, (set(trials["node_id"]), late)
