"""Ray Jobs: a sweep submitted to a cluster's head runs there on its own, the submitter may disconnect.

`submit_job` uploads the project (the directory holding `harness/`, without data/, results/, .git and
caches) as the job's `working_dir` and runs the entrypoint there (`python -m harness.cli ...`), so the
head runs the submitter's code. Requirements are not installed per job: the cluster's nodes already
run the project's pinned environment (requirements.lock, installed by the launcher configs' setup
commands or present in their image); a per-job `pip` runtime env would reinstall torch on every node.
The Jobs API lives in the head's dashboard (port 8265): `ray dashboard cluster.yaml` forwards it to
http://127.0.0.1:8265 on the submitting machine.
"""
from __future__ import annotations

import shlex
import time
from pathlib import Path
from typing import Any, Callable

# gitignore syntax, relative to the project: "/results" is the project's results/ only, not harness/results/
EXCLUDES = [".git", "/data", "/results", "**/__pycache__", ".pytest_cache", ".hypothesis", "*.egg-info", ".venv", ".gl"]
# A head that has just started answers this until its job agent is up: retried for AGENT_WAIT_S.
_AGENT_NOT_READY = "No available agent to submit job"
AGENT_WAIT_S = 90.0


def project_root() -> Path:
    """The project directory (it holds harness/ and pyproject.toml)."""
    return Path(__file__).resolve().parents[2]


def client(address: str):
    from ray.job_submission import JobSubmissionClient

    return JobSubmissionClient(address)


def entrypoint(args: list[str]) -> str:
    """The shell command a job runs: the project's CLI with `args` (already in the job's working dir)."""
    return shlex.join(["python", "-m", "harness.cli", *args])


def submit_job(address: str, args: list[str], env_vars: dict[str, str] | None = None,
               working_dir: Path | None = None) -> str:
    """Submit `fdan-bench ARGS` as a Ray Job with the project as working dir; returns the job id."""
    runtime_env: dict[str, Any] = {"working_dir": str(working_dir or project_root()), "excludes": EXCLUDES}
    if env_vars:
        runtime_env["env_vars"] = env_vars
    jobs = client(address)
    deadline = time.monotonic() + AGENT_WAIT_S
    while True:
        try:
            return jobs.submit_job(entrypoint=entrypoint(args), runtime_env=runtime_env)
        except RuntimeError as exc:
            if _AGENT_NOT_READY not in str(exc) or time.monotonic() > deadline:
                raise
            time.sleep(2)


def job_status(address: str, job_id: str) -> str:
    return str(client(address).get_job_status(job_id).value)


def job_logs(address: str, job_id: str) -> str:
    return client(address).get_job_logs(job_id)


def stop_job(address: str, job_id: str) -> bool:
    return bool(client(address).stop_job(job_id))


def follow_logs(address: str, job_id: str, write: Callable[[str], None]) -> None:
    """Stream the job's output to `write` as it comes, until the job ends (Ray's `tail_job_logs`).

    The stream can close before its last chunk arrives (seen on a job that ends right after printing):
    the rest of the job's full log, past what was streamed, is written afterwards."""
    import asyncio

    jobs = client(address)
    streamed: list[str] = []

    async def tail() -> None:
        async for chunk in jobs.tail_job_logs(job_id):
            streamed.append(chunk)
            write(chunk)

    asyncio.run(tail())
    seen, full = "".join(streamed), jobs.get_job_logs(job_id)
    if full.startswith(seen) and len(full) > len(seen):
        write(full[len(seen):])
