"""A real multi-node Ray cluster on this machine: `ray start --head` plus extra `ray start` nodes, all
addressed on 127.0.0.1 (`--node-ip-address`).

Each node is a `ray start --block` process in its own session; stopping kills exactly the processes
this helper started (the process group of each node, by id), never other clusters on the machine.
"""
from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

from harness.cluster.private_api import LOOPBACK_ONLY_ENV

BIN = Path(sys.executable).parent


class NodeStartTimeout(RuntimeError):
    """A `ray start --address` node never registered in time: an overloaded machine, not a product failure."""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def node_env(**extra: str) -> dict[str, str]:
    env = {**os.environ, "RAY_AUTH_MODE": "disabled", "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}", **extra}
    env.pop("RAY_ADDRESS", None)
    # Ray refuses extra nodes with its single-machine switch on: these nodes keep Ray's default binding,
    # and are addressed on 127.0.0.1 only (--node-ip-address).
    env.pop(LOOPBACK_ONLY_ENV, None)
    return env


class LoopbackCluster:
    def __init__(self, tmp: Path, num_cpus: float = 1, dashboard: bool = True, **env: str) -> None:
        self.tmp = tmp
        self.port, self.dashboard_port = free_port(), free_port()
        self.address = f"127.0.0.1:{self.port}"
        self.dashboard_url = f"http://127.0.0.1:{self.dashboard_port}"
        self.env = node_env(RAY_API_SERVER_ADDRESS=self.dashboard_url, **env)
        self.nodes: list[subprocess.Popen] = []
        head = ["--head", f"--port={self.port}", f"--num-cpus={num_cpus}", "--node-ip-address=127.0.0.1",
                f"--include-dashboard={str(dashboard).lower()}", "--dashboard-host=127.0.0.1",
                f"--dashboard-port={self.dashboard_port}",
                # its own agent port: the default (52365) may be taken by another cluster on this machine
                f"--dashboard-agent-listen-port={free_port()}"]
        self._start(head, "head")
        self.wait_nodes(1)

    def _start(self, args: list[str], name: str) -> subprocess.Popen:
        log = (self.tmp / f"{name}.log").open("w")
        proc = subprocess.Popen([str(BIN / "ray"), "start", *args, "--block", "--disable-usage-stats"],
                                env=self.env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        self.nodes.append(proc)
        return proc

    def add_node(self, num_cpus: float = 1, resources: dict[str, float] | None = None, **env: str) -> subprocess.Popen:
        args = [f"--address={self.address}", f"--num-cpus={num_cpus}", "--node-ip-address=127.0.0.1",
                f"--dashboard-agent-listen-port={free_port()}"]
        if resources:
            args.append(f"--resources={json.dumps(resources)}")
        if env:
            self.env = {**self.env, **env}
        proc = self._start(args, f"node{len(self.nodes)}")
        return proc

    def _gcs_listening(self) -> bool:
        with socket.socket() as sock:
            sock.settimeout(1)
            return sock.connect_ex(("127.0.0.1", self.port)) == 0

    def join_node(self, attempts: int = 3, **kwargs) -> dict:
        """`add_node` and wait until Ray lists a node it did not list before; returns that node.

        Waits for the new node's id, not for a node count: a node killed earlier may still be listed alive
        for a while (until the GCS health check gives up on it). On a loaded machine a joining raylet can
        miss Ray's fixed 30 s registration window ("timed out during startup"); that node is started again."""
        known = {n["id"] for n in self.alive_nodes()}
        for attempt in range(attempts):
            proc = self.add_node(**kwargs)
            try:
                nodes = self.wait_for(lambda nodes: any(n["id"] not in known for n in nodes),
                                      "a newly joined node")
                return next(n for n in nodes if n["id"] not in known)
            except RuntimeError as exc:
                if proc.poll() is None:
                    raise
                self.nodes.remove(proc)
                if "timed out during startup" not in str(exc):
                    raise
        raise NodeStartTimeout(f"a joining Ray node missed Ray's fixed 30 s registration window {attempts} times "
                               "(the machine is overloaded)")

    def wait_settled(self, timeout: float = 240) -> list[dict]:
        """Wait until Ray lists exactly the nodes whose `ray start` processes still run: a node killed
        earlier stays listed alive until the GCS health check marks it dead (tens of seconds)."""
        live = sum(p.poll() is None for p in self.nodes)
        return self.wait_for(lambda nodes: len(nodes) == live, f"exactly {live} alive node(s)", timeout)

    def alive_nodes(self) -> list[dict]:
        if not self._gcs_listening():
            return []
        try:
            out = subprocess.run([sys.executable, "-c", _NODES], env={**self.env, "RAY_ADDRESS": self.address},
                                 capture_output=True, text=True, timeout=90)
        except subprocess.TimeoutExpired:
            return []
        if out.returncode != 0:
            return []
        lines = [line for line in out.stdout.splitlines() if line.startswith("NODES=")]
        return json.loads(lines[-1].removeprefix("NODES=")) if lines else []

    def wait_nodes(self, n: int, timeout: float = 240) -> list[dict]:
        return self.wait_for(lambda nodes: len(nodes) >= n, f"{n} Ray node(s) up", timeout)

    def wait_for(self, ready, what: str, timeout: float = 240) -> list[dict]:
        """Poll Ray's alive nodes until `ready(nodes)`; fail at once if a `ray start` process exited."""
        deadline = time.time() + timeout
        nodes: list[dict] = []
        while time.time() < deadline:
            if any(p.poll() is not None for p in self.nodes):
                logs = "\n".join(f"--- {f.name}\n{f.read_text()[-1500:]}" for f in sorted(self.tmp.glob("*.log")))
                raise RuntimeError(f"a ray start process exited:\n{logs}")
            nodes = self.alive_nodes()
            if ready(nodes):
                return nodes
            time.sleep(1)
        raise TimeoutError(f"not reached after {timeout} s: {what} (Ray lists {len(nodes)} alive)")

    def stop(self) -> None:
        for proc in reversed(self.nodes):
            if proc.poll() is None:
                try:
                    os.killpg(proc.pid, signal.SIGTERM)
                except ProcessLookupError:
                    pass
        for proc in self.nodes:
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
        time.sleep(1)
        for proc in self.nodes:  # raylet & co. may outlive `ray start`: same process group
            try:
                os.killpg(proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass


_NODES = """
import json, ray
ray.init(address="auto", log_to_driver=False)
print("NODES=" + json.dumps([{"id": n["NodeID"], "resources": n["Resources"]} for n in ray.nodes() if n["Alive"]]))
"""
