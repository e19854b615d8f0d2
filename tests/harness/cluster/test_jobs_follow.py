"""`jobs logs --follow` (harness.cluster.jobs.follow_logs) against a stand-in Jobs client."""
from __future__ import annotations


def test_follow_writes_what_the_stream_missed_at_its_end(monkeypatch):
    """Ray's log stream can close before the last chunk: the rest comes from the full log, once."""
    import harness.cluster.jobs as jobs

    class Client:
        async def tail_job_logs(self, job_id):
            for chunk in ("a\n", "b\n"):
                yield chunk

        def get_job_logs(self, job_id):
            return "a\nb\nc\n"

    monkeypatch.setattr(jobs, "client", lambda address: Client())
    written: list[str] = []
    jobs.follow_logs("http://x", "job", written.append)
    assert "".join(written) == "a\nb\nc\n"
