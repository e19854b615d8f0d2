"""Driver loss: `fdan-bench sweep` killed mid-trial (SIGINT, and separately SIGKILL), then `--resume`.

Each run is a grid of 2 frozen-trunk trials (the in-trial executor) over 3 epochs on a tiny synthetic
corpus, on the local cluster the sweep starts itself. Every trial is held at the start of a chosen
epoch (`FDAN_BENCH_HOLD`: epoch 2 for SIGINT, epoch 3 for SIGKILL), i.e. mid-run with the epochs before
it reported and checkpointed; then the driver gets the signal. (SIGKILL takes only the driver; the
local cluster it started is gone with it or is cleaned up here, as after a crashed job.)
`--resume` then completes: the trials are exactly the config's grid, each once, every epoch once,
the tables complete, and the interrupted trials resumed from a checkpoint, not from scratch.
The trials are deterministic (seeded, CPU, one thread), so the two runs, interrupted at different
epochs, report identical numbers: a resumed epoch equals the other run's uninterrupted one.
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
from tests.harness.cluster.sessions import kill_session
from tests.harness.cluster.tiny_experiment import cli, reported, tiny_experiment

pytestmark = pytest.mark.slow

GRID = [0.1, 0.3]  # model.dropout: a grid of 2 configurations
EPOCHS = 3
UNIT = "synth-studio__fold0"
HOLD_AT = {"sigint": 2, "sigkill": 3}


def experiment(tmp: Path, name: str) -> dict:
    exp = tiny_experiment(tmp, name)
    exp["model"]["freeze_backbone"] = True  # cached trunk outputs: the in-trial executor, seconds per trial
    exp["train"]["epochs"] = EPOCHS
    exp["search"].update(num_samples=2, max_concurrent_trials=2,
                         space={"model.dropout": {"type": "choice", "values": GRID}})
    exp["resources"].update(num_cpus=2, progress_timeout_s=300)
    return exp


def trial_dirs(results: Path) -> list[Path]:
    return [d for d in results.glob(f"ray/*__{UNIT}/run_trial_*") if d.is_dir()]


def wait_for_snapshot(results: Path, timeout: float = 60) -> None:
    """Until Tune's saved experiment state is newer than every trial's last report: the checkpoints a
    resume can know of are those in that state (Tune saves it after each checkpoint, within a step)."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        states = [p.stat().st_mtime for p in results.glob(f"ray/*__{UNIT}/experiment_state-*.json")]
        reports = [(d / "result.json").stat().st_mtime for d in trial_dirs(results)]
        if states and max(states) > max(reports):
            return
        time.sleep(0.2)


def interrupt_and_resume(tmp: Path, mode: str) -> dict:
    config = tmp / f"{mode}.yaml"
    config.write_text(yaml.safe_dump(experiment(tmp, mode), sort_keys=False))
    results = tmp / "results" / mode
    hold = tmp / f"hold-{mode}"
    hold.write_text(str(HOLD_AT[mode]))
    env = {**os.environ, HOLD_ENV: str(hold), "RAY_AUTH_MODE": "disabled"}
    log_path = tmp / f"{mode}.log"
    with log_path.open("w") as log:
        proc = subprocess.Popen(cli("sweep", str(config)), cwd=tmp, env=env, stdout=log, stderr=subprocess.STDOUT,
                                start_new_session=True)
        try:
            deadline, held = time.time() + 400, 0
            while time.time() < deadline and proc.poll() is None:  # both trials held: the epochs before reported
                held = sum(len(reported(d)) >= HOLD_AT[mode] - 1 for d in trial_dirs(results))
                if held == 2:
                    break
                time.sleep(0.5)
            assert held == 2, f"trials never reached the hold:\n{log_path.read_text()[-4000:]}"
            wait_for_snapshot(results)
            before = {d.name: reported(d) for d in trial_dirs(results)}
            proc.send_signal(signal.SIGINT if mode == "sigint" else signal.SIGKILL)
            first_rc = proc.wait(timeout=180)
        finally:
            if proc.poll() is None:
                proc.kill()
            proc.wait()
            time.sleep(2)
            leftover = kill_session(proc.pid)  # what outlived the driver (none after SIGINT)
    hold.unlink()
    start = time.time()
    resumed = subprocess.run(cli("sweep", str(config), "--resume"), cwd=tmp, env=env, capture_output=True, text=True,
                             timeout=600, start_new_session=True)
    print(f"{mode}: resume took {time.time() - start:.0f} s; {leftover} process(es) outlived the killed driver")
    return {"results": results, "first_rc": first_rc, "first_log": log_path.read_text(), "before": before,
            "resumed": resumed, "leftover": leftover}


@pytest.fixture(scope="module")
def runs(tmp_path_factory) -> dict[str, dict]:
    tmp = tmp_path_factory.mktemp("driverkill")
    return {mode: interrupt_and_resume(tmp, mode) for mode in HOLD_AT}


@pytest.mark.parametrize("mode", list(HOLD_AT))
def test_resume_after_driver_loss_completes_the_grid(runs, mode):
    run = runs[mode]
    if mode == "sigint":
        assert run["first_rc"] == 130 and "--resume" in run["first_log"], run["first_log"][-4000:]
    else:
        assert run["first_rc"] == -signal.SIGKILL
    res = run["resumed"]
    assert res.returncode == 0, res.stdout[-4000:] + res.stderr[-4000:]
    results = run["results"]
    trials = pd.read_parquet(results / "trials.parquet")
    # the set of (unit, configuration) is the grid's, each once
    assert sorted(zip(trials["pair"], trials["fold"], trials["param_dropout"])) == [("synth-studio", 0, v) for v in GRID]
    assert trials["trial_id"].is_unique and set(run["before"]) == {d.name for d in trial_dirs(results)}
    assert (trials["status"] == "completed").all() and trials["selected"].sum() == 1
    assert trials.loc[trials["selected"], "test_fused_uar"].notna().all()  # the chosen model was tested
    metrics = pd.read_parquet(results / "metrics.parquet")
    for split in ("train", "val"):  # every epoch of every trial once
        rows = metrics[(metrics["split"] == split) & (metrics["head"] == "all") & (metrics["metric"] == "loss")]
        assert sorted(rows.groupby("trial_id")["epoch"].apply(sorted).tolist()) == [list(range(1, EPOCHS + 1))] * 2
    assert len(metrics[metrics["split"] == "test"]) and (results / "leaderboard.md").is_file()
    assert sorted(p.name for p in (results / "units").iterdir()) == [f"{UNIT}.json"]
    for name, rows in run["before"].items():  # interrupted mid-run; resumed from its last checkpoint
        assert max(r["epoch"] for r in rows) == HOLD_AT[mode] - 1
        last_checkpoint = max(r["epoch"] for r in rows if r.get("checkpoint_dir_name"))
        final = {r["epoch"]: r for r in reported(results / "ray" / f"{mode}__{UNIT}" / name)}
        assert sorted(final) == list(range(1, EPOCHS + 1))
        assert final[EPOCHS]["attempt_start_epoch"] == last_checkpoint + 1 > 1, name


def test_resumed_trials_train_what_uninterrupted_ones_do(runs):
    """Epoch 2 is resumed (from the epoch-1 checkpoint) in the SIGINT run and uninterrupted in the SIGKILL
    run; epoch 3 resumed in both, from different checkpoints. Every number must agree."""
    def histories(mode: str) -> dict[float, dict[int, dict]]:
        out = {}
        for d in trial_dirs(runs[mode]["results"]):
            rows = reported(d)
            out[rows[0]["config"]["dropout"]] = {r["epoch"]: r for r in rows}  # the last report of an epoch wins
        return out

    sigint, sigkill = histories("sigint"), histories("sigkill")
    numbers = [k for k in sigint[GRID[0]][1] if k.startswith(("train_", "val_"))]
    assert "train_loss" in numbers and "val_fused_uar" in numbers
    for dropout in GRID:
        assert sigint[dropout][2]["attempt_start_epoch"] == 2 and sigkill[dropout][2]["attempt_start_epoch"] == 1
        for epoch in range(1, EPOCHS + 1):
            assert {k: sigint[dropout][epoch][k] for k in numbers} == \
                   {k: sigkill[dropout][epoch][k] for k in numbers}, (dropout, epoch)
