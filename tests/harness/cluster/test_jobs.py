"""Ray Jobs against a real loopback head with its dashboard on 127.0.0.1: submit, status, logs, stop."""
from __future__ import annotations

import shlex
import time

import pytest
import yaml

from tests.harness.cluster.loopback import LoopbackCluster
from tests.harness.experiment_data import run_cli

pytestmark = pytest.mark.slow
TERMINAL = {"SUCCEEDED", "FAILED", "STOPPED"}


@pytest.fixture(scope="module")
def head(tmp_path_factory):
    cluster = LoopbackCluster(tmp_path_factory.mktemp("jobs"), num_cpus=1)
    try:
        yield cluster
    finally:
        cluster.stop()


def wait_status(url: str, job_id: str, wanted: set[str], timeout: float = 240) -> str:
    from harness.cluster.jobs import job_status

    deadline, status = time.time() + timeout, ""
    while time.time() < deadline:
        status = job_status(url, job_id)
        if status in wanted:
            return status
        time.sleep(1)
    raise TimeoutError(f"job {job_id} still {status} after {timeout} s")


def test_submitted_sweep_runs_on_the_head_and_reports_its_failure(head, tmp_path):
    # A real sweep, submitted through the CLI: its corpus root is missing, so on the head it exits 2 at once.
    config = tmp_path / "exp.yaml"
    config.write_text(yaml.safe_dump({"name": "job", "output_dir": str(tmp_path / "results"),
                                      "corpora": {"savee": {"importer": "savee", "root": str(tmp_path / "no-savee")}},
                                      "pairs": {"within": ["savee"]},
                                      "search": {"space": {"train.lr": {"type": "loguniform", "low": 1e-4, "high": 1e-2}}}}))
    result = run_cli("submit", str(config), "--address", head.dashboard_url, "--set", "train.epochs=1")
    assert result.exit_code == 0, result.output
    job_id = next(line for line in result.output.splitlines() if line.startswith("raysubmit_"))
    assert "is outside the project" in result.output  # the config is read at its absolute path on the head
    assert wait_status(head.dashboard_url, job_id, TERMINAL) == "FAILED"
    logs = run_cli("jobs", "logs", job_id, "--address", head.dashboard_url)
    assert logs.exit_code == 0 and "expected its root" in logs.output and str(tmp_path / "no-savee") in logs.output
    status = run_cli("jobs", "status", job_id, "--address", head.dashboard_url)
    assert status.output.strip() == "FAILED"


def test_job_runs_the_uploaded_project(head):
    from harness.cluster.jobs import job_logs, submit_job

    job_id = submit_job(head.dashboard_url, ["--help"])
    assert wait_status(head.dashboard_url, job_id, TERMINAL) == "SUCCEEDED"
    logs = job_logs(head.dashboard_url, job_id)
    assert "submit" in logs and "sweep" in logs


def test_stop_a_running_job(head):
    from harness.cluster.jobs import client

    job_id = client(head.dashboard_url).submit_job(entrypoint="python -c 'import time; print(\"sleeping\", flush=True); time.sleep(600)'")
    wait_status(head.dashboard_url, job_id, {"RUNNING"})
    result = run_cli("jobs", "stop", job_id, "--address", head.dashboard_url)
    assert result.exit_code == 0 and "stopping" in result.output
    assert wait_status(head.dashboard_url, job_id, TERMINAL, timeout=120) == "STOPPED"


def test_unreachable_address_is_a_clear_error():
    result = run_cli("jobs", "status", "raysubmit_x", "--address", "http://127.0.0.1:1")
    assert result.exit_code == 2 and "error:" in result.output


def test_logs_follow_streams_until_the_job_ends_and_status_shows_progress(head):
    from harness.cluster.jobs import client

    script = ("import time\nfor i in range(3):\n    print(f'progress: {i + 1}/3 units, 0/0 trials, elapsed 0 s, ETA 0 s', "
              "flush=True)\n    time.sleep(1)\n")
    job_id = client(head.dashboard_url).submit_job(entrypoint=f"python -c {shlex.quote(script)}")
    wait_status(head.dashboard_url, job_id, {"RUNNING", *TERMINAL})
    followed = run_cli("jobs", "logs", job_id, "--address", head.dashboard_url, "--follow")
    lines = [line for line in followed.output.splitlines() if line.startswith("progress: ")]  # not the echoed command
    assert followed.exit_code == 0 and [line.split(" units")[0] for line in lines] == [f"progress: {i}/3" for i in (1, 2, 3)]
    assert wait_status(head.dashboard_url, job_id, TERMINAL) == "SUCCEEDED"  # --follow returned: the job ended
    status = run_cli("jobs", "status", job_id, "--address", head.dashboard_url)
    assert status.output.splitlines() == ["SUCCEEDED", "progress: 3/3 units, 0/0 trials, elapsed 0 s, ETA 0 s"]
