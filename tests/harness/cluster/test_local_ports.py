"""A locally started cluster listens on 127.0.0.1 only, and never joins a cluster already running.

Run in a fresh interpreter, as `fdan-bench sweep` runs: the loopback switch must be set before Ray is
first imported (harness.cluster.local.loopback_only).
"""
from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

pytestmark = pytest.mark.slow

SCRIPT = r"""
import json, os
from harness.cluster.local import ray_cluster
from harness.config import validate_config

cfg = validate_config({"name": "ports", "corpora": {"c": {"importer": "synth", "root": "/nonexistent"}},
                       "pairs": {"within": ["c"]}, "resources": {"num_cpus": 1}})
with ray_cluster(cfg) as resources:
    import psutil  # Ray ships it (ray/thirdparty_files), on sys.path after `import ray`
    import ray
    ports = []
    for proc in [psutil.Process()] + psutil.Process().children(recursive=True):
        try:
            conns, name = proc.net_connections(kind="inet"), proc.name()
        except (psutil.NoSuchProcess, psutil.AccessDenied):
            continue
        ports += [[name, c.laddr.ip, c.laddr.port] for c in conns if c.status == psutil.CONN_LISTEN]
    node_ip = ray.nodes()[0]["NodeManagerAddress"]
print("RESULT=" + json.dumps({"cpus": resources["CPU"], "ports": ports, "node_ip": node_ip}))
"""
LOOPBACK = {"127.0.0.1", "::1", "::ffff:127.0.0.1"}


def test_every_port_of_a_local_cluster_is_on_loopback():
    # RAY_ADDRESS names a (dead) `ray start` cluster: without --address it must not be joined.
    env = {**os.environ, "RAY_ADDRESS": "127.0.0.1:1"}
    env.pop("RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER", None)
    proc = subprocess.run([sys.executable, "-c", SCRIPT], env=env, capture_output=True, text=True, timeout=180)
    assert proc.returncode == 0, proc.stderr[-3000:]
    out = json.loads([ln for ln in proc.stdout.splitlines() if ln.startswith("RESULT=")][-1][7:])
    assert out["cpus"] == 1.0 and out["node_ip"] == "127.0.0.1"
    names = {name for name, _, _ in out["ports"]}
    assert {"gcs_server", "raylet"} <= names, out["ports"]  # the listing saw the cluster's processes
    public = [p for p in out["ports"] if p[1] not in LOOPBACK]
    assert not public, f"Ray processes listening beyond loopback: {public}"
