"""Joining a token-mode cluster: fdan-bench exports no RAY_AUTH_MODE of its own (the config's
`ray.auth_mode: disabled` is for clusters it starts), so the client follows the joined cluster."""
from __future__ import annotations

import json
import secrets
import subprocess
import sys

import pytest

from tests.harness.cluster.loopback import LoopbackCluster

pytestmark = pytest.mark.slow

JOIN = r"""
import json, os, sys
from harness.cluster.local import ClusterAuthError, ray_cluster
from harness.config import validate_config

cfg = validate_config({"name": "join", "corpora": {"c": {"importer": "synth", "root": "/nonexistent"}},
                       "pairs": {"within": ["c"]}, "ray": {"auth_mode": "disabled"}})
try:
    with ray_cluster(cfg, sys.argv[1]) as resources:
        mode = os.environ.get("RAY_AUTH_MODE")
    print("RESULT=" + json.dumps({"cpus": resources["CPU"], "mode": mode}))
except ClusterAuthError as exc:
    print("RESULT=" + json.dumps({"error": str(exc), "mode": os.environ.get("RAY_AUTH_MODE")}))
"""


def test_join_a_token_cluster_with_the_users_auth_mode(tmp_path):
    token = secrets.token_hex(16)
    cluster = LoopbackCluster(tmp_path, num_cpus=1, dashboard=False, RAY_AUTH_MODE="token", RAY_AUTH_TOKEN=token)
    try:
        runs = {}
        for mode in ("token", None):  # the user's shell: token mode exported, or no mode at all
            env = {**cluster.env, "RAY_AUTH_TOKEN": token}
            env.pop("RAY_AUTH_MODE")
            if mode:
                env["RAY_AUTH_MODE"] = mode
            out = subprocess.run([sys.executable, "-c", JOIN, cluster.address], env=env, capture_output=True,
                                 text=True, timeout=180)
            assert out.returncode == 0, out.stderr[-3000:]
            runs[mode] = json.loads([ln for ln in out.stdout.splitlines() if ln.startswith("RESULT=")][-1][7:])
    finally:
        cluster.stop()
    # the config's `ray.auth_mode: disabled` is not forced onto the joined token-mode cluster
    assert runs["token"] == {"cpus": 1.0, "mode": "token"}
    # without a mode Ray's client sends no token: a clear error naming the fix, and still nothing exported
    assert runs[None]["mode"] is None and "export RAY_AUTH_MODE=token" in runs[None]["error"]
