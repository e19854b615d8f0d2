"""Nodes that leave or join a sweep on a real loopback cluster (`ray start --head` + `ray start --address`).

`fdan-bench sweep --address` runs a grid of 2 frozen-trunk trials (the in-trial `tune` executor: the
whole trial runs in one Tune actor, so one trial runs on each 1-CPU node). Every trial is held at the
start of epoch 2 (`FDAN_BENCH_HOLD`), i.e. with epoch 1 reported and checkpointed; then the worker node
is killed (every process of its session: raylet, workers, the trial) and the hold released.
- With retries (`resources.max_failures: 2`) the sweep finishes on the head alone: the lost trial
  fails, Tune's FailureConfig retries it from its epoch-1 checkpoint, every trial appears once.
- Without (`max_failures: 0`) the lost trial errors: the unit is recorded as failed, never as finished,
  the sweep exits 1, and `--resume` retries that trial from the same checkpoint and finishes.
- A node that joins a sweep started with `--address` and no `--cluster` gets units: the sweep planned one
  trial at once for the 1-CPU head; when a 2-CPU node joins, the other two units start beside the first
  (`harness.experiment.elastic`); all are held at epoch 2 until the three are seen at once.
The head is shared by the tests; each joins its own worker node (the join test, last, leaves its node up).
"""
from __future__ import annotations

import os
import signal
import subprocess
import time
from pathlib import Path

import pandas as pd
import pytest
import yaml

from harness.trial.faults import HOLD_ENV
from tests.harness.cluster.loopback import LoopbackCluster, NodeStartTimeout
from tests.harness.cluster.sessions import kill_session
from tests.harness.cluster.tiny_experiment import cli, reported, tiny_experiment

pytestmark = pytest.mark.slow

GRID = [0.1, 0.3]  # model.dropout: a grid of 2 configurations, one trial each
UNIT = "synth-studio__fold0"


def experiment(tmp: Path, name: str, max_failures: int) -> dict:
    exp = tiny_experiment(tmp, name)
    exp["model"]["freeze_backbone"] = True  # cached trunk outputs: the in-trial executor, seconds per trial
    exp["train"]["epochs"] = 3
    exp["search"].update(num_samples=2, max_concurrent_trials=None,  # sized by the cluster: 2 at once
                         space={"model.dropout": {"type": "choice", "values": GRID}})
    exp["resources"].update(max_failures=max_failures, progress_timeout_s=300)
    return exp


@pytest.fixture(scope="module")
def head(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("nodeloss")
    cluster = LoopbackCluster(tmp, num_cpus=1, **{HOLD_ENV: str(tmp / "hold")})
    try:
        yield cluster
    finally:  # every process of every node at once (stop()'s graceful SIGTERM waits ~30 s here for nothing)
        for node in cluster.nodes:
            kill_session(node.pid)


def lose_worker_mid_sweep(cluster: LoopbackCluster, tmp: Path, name: str, max_failures: int) -> dict:
    """Join a 1-CPU worker node, start the sweep, kill the node while a trial runs there; wait for the sweep."""
    hold = Path(cluster.env[HOLD_ENV])
    hold.write_text("2")
    # The worker node an earlier test killed may still be listed alive: the sweep would plan for it.
    head_ids = {n["id"] for n in cluster.wait_settled()}
    try:
        worker_id = cluster.join_node(num_cpus=1)["id"]
    except NodeStartTimeout as exc:
        pytest.skip(str(exc))
    worker = cluster.nodes[-1]
    config = tmp / f"{name}.yaml"
    config.write_text(yaml.safe_dump(experiment(tmp, name, max_failures), sort_keys=False))
    results = tmp / "results" / name
    log_path = tmp / f"{name}.log"
    with log_path.open("w") as log:
        sweep = subprocess.Popen(cli("sweep", str(config), "--address", cluster.address), cwd=tmp,
                                 env=cluster.env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        try:
            # Both trials held at epoch 2 start: epoch 1 reported (with its node) and checkpointed.
            deadline, on_node = time.time() + 400, {}
            while time.time() < deadline and sweep.poll() is None:
                firsts = {d.name: reported(d)[:1] for d in results.glob("ray/*/run_trial_*") if d.is_dir()}
                on_node = {name: rows[0]["node_id"] for name, rows in firsts.items() if rows}
                if len(on_node) == 2:
                    break
                time.sleep(0.5)
            assert len(on_node) == 2, f"trials never reached epoch 2:\n{log_path.read_text()[-4000:]}"
            lost = [trial for trial, node in on_node.items() if node == worker_id]
            assert len(lost) == 1, (on_node, worker_id)  # one trial per 1-CPU node
            killed_at = time.time()
            kill_session(worker.pid)  # the node and everything running on it (its trial too)
            worker.wait(timeout=30)
            cluster.nodes.remove(worker)  # gone for good (LoopbackCluster.wait_nodes fails on an exited node)
            hold.unlink()
            rc = sweep.wait(timeout=600)
            print(f"{name}: the sweep ended {time.time() - killed_at:.0f} s after the worker node was killed")
        finally:
            if sweep.poll() is None:
                os.killpg(sweep.pid, signal.SIGKILL)
    return {"rc": rc, "log": log_path.read_text(), "config": config, "results": results, "lost": lost[0],
            "worker_id": worker_id, "head_ids": head_ids}


def check_complete(run: dict) -> None:
    """Every trial of the grid once, every epoch once, the unit recorded finished; the lost trial resumed
    on the head from its epoch-1 checkpoint."""
    results = run["results"]
    [lost_dir] = list(results.glob(f"ray/*/{run['lost']}"))
    by_epoch = {r["epoch"]: r for r in reported(lost_dir)}  # the last report of an epoch wins, as in the tables
    assert sorted(by_epoch) == [1, 2, 3]
    assert by_epoch[1]["node_id"] == run["worker_id"] and by_epoch[1]["attempt_start_epoch"] == 1
    for epoch in (2, 3):
        assert by_epoch[epoch]["node_id"] in run["head_ids"] and by_epoch[epoch]["attempt_start_epoch"] == 2
    trials = pd.read_parquet(results / "trials.parquet")
    assert len(trials) == 2 and trials["trial_id"].is_unique
    assert sorted(trials["param_dropout"]) == GRID  # every configuration of the grid exactly once
    assert (trials["status"] == "completed").all() and trials["selected"].sum() == 1
    metrics = pd.read_parquet(results / "metrics.parquet")
    train = metrics[(metrics["split"] == "train") & (metrics["metric"] == "loss")]
    assert train.groupby("trial_id")["epoch"].apply(sorted).tolist() == [[1, 2, 3]] * 2  # each epoch once
    assert sorted(p.name for p in (results / "units").iterdir()) == [f"{UNIT}.json"]  # finished, no failed record


def test_sweep_survives_the_loss_of_a_worker_node(head: LoopbackCluster):
    run = lose_worker_mid_sweep(head, head.tmp, "retried", max_failures=2)
    assert run["rc"] == 0, run["log"][-4000:]
    check_complete(run)


def test_unit_with_a_trial_lost_for_good_is_not_finished_until_resumed(head: LoopbackCluster):
    run = lose_worker_mid_sweep(head, head.tmp, "noretry", max_failures=0)
    assert run["rc"] == 1 and "--resume" in run["log"], run["log"][-4000:]
    results = run["results"]
    assert sorted(p.name for p in (results / "units").iterdir()) == [f"{UNIT}.failed.json"]  # never "finished"
    trials = pd.read_parquet(results / "trials.parquet")  # the tables show what failed
    assert sorted(trials["status"]) == ["completed", "error"] and not trials["selected"].any()
    head.wait_settled()  # the killed worker node is no longer listed: the resumed sweep plans for the head only
    resumed = subprocess.run(cli("sweep", str(run["config"]), "--address", head.address, "--resume"),
                             cwd=head.tmp, env=head.env, capture_output=True, text=True, timeout=600)
    assert resumed.returncode == 0, resumed.stdout[-4000:] + resumed.stderr[-4000:]
    check_complete(run)  # the errored trial was retried from its checkpoint, on the head


def held_trials(results: Path) -> dict[str, str]:
    """Trial directory -> unit key of every trial that reported epoch 1 (so, under the hold, waits at epoch 2)."""
    firsts = {d.name: reported(d)[:1] for d in results.glob("ray/*/run_trial_*") if d.is_dir()}
    return {name: rows[0]["unit_key"] for name, rows in firsts.items() if rows}


def test_units_spread_to_a_node_that_joins_a_sweep_without_a_launcher_config(head: LoopbackCluster):
    tmp, name = head.tmp, "grow"
    hold = Path(head.env[HOLD_ENV])
    hold.write_text("2")
    head.wait_settled()  # a worker node killed by an earlier test is gone: the sweep starts on the 1-CPU head
    exp = experiment(tmp, name, max_failures=0)
    exp["pairs"]["max_folds"] = 3  # 3 units (one per speaker left out), one trial each
    exp["train"]["epochs"] = 2
    exp["search"].update(num_samples=1, space={"model.dropout": {"type": "choice", "values": [0.1]}})
    config = tmp / f"{name}.yaml"
    config.write_text(yaml.safe_dump(exp, sort_keys=False))
    results = tmp / "results" / name
    log_path = tmp / f"{name}.log"
    with log_path.open("w") as log:
        sweep = subprocess.Popen(cli("sweep", str(config), "--address", head.address), cwd=tmp,
                                 env=head.env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        try:
            deadline, held = time.time() + 400, {}
            while time.time() < deadline and sweep.poll() is None and not held:
                held = held_trials(results)
                time.sleep(0.5)
            assert len(held) == 1, f"no unit reached epoch 2:\n{log_path.read_text()[-4000:]}"
            try:
                late = head.join_node(num_cpus=2)["id"]
            except NodeStartTimeout as exc:
                pytest.skip(str(exc))
            deadline = time.time() + 240  # the new lanes' trials start on the new node (a fresh torch import)
            while time.time() < deadline and sweep.poll() is None and len(held) < 3:
                held = held_trials(results)
                time.sleep(0.5)
            at_once = sorted(held.values())
            hold.unlink()
            rc = sweep.wait(timeout=600)
        finally:
            if sweep.poll() is None:
                os.killpg(sweep.pid, signal.SIGKILL)
    text = log_path.read_text()
    assert "up to 1 at once" in text and "3 unit(s) to run, 1 at once" in text, text[-4000:]  # planned for the head
    assert len(at_once) == 3 and len(set(at_once)) == 3, (at_once, text[-4000:])  # three units side by side
    assert "Ray cluster grew to 3 CPU" in text
    assert rc == 0, text[-4000:]
    trials = pd.read_parquet(results / "trials.parquet")
    assert len(trials) == 3 and (trials["status"] == "completed").all() and trials["selected"].all()
    assert late in set(trials["node_id"]), (set(trials["node_id"]), late)
    assert sorted(p.name for p in (results / "units").iterdir()) == [f"synth-studio__fold{f}.json" for f in range(3)]
