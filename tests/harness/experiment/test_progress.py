"""The overall progress line: units, trials, elapsed, ETA; found again in a job's log."""
from __future__ import annotations

from harness.experiment.progress import RunProgress, last_progress


def test_eta_from_units_finished_in_this_run_only(monkeypatch):
    clock = [1000.0]
    monkeypatch.setattr("harness.experiment.progress.time.monotonic", lambda: clock[0])
    progress = RunProgress(total_units=5, total_trials=20)
    progress.kept(4)  # resumed: done, but not part of the rate
    assert progress.line() == "progress: 1/5 units, 4/20 trials, elapsed 0 s, ETA unknown (no unit finished yet)"
    clock[0] += 60
    progress.finished(4)
    assert progress.line() == "progress: 2/5 units, 8/20 trials, elapsed 60 s, ETA 3 min"  # 60 s a unit, 3 left
    for _ in range(3):
        progress.finished(3)  # an ASHA-stopped unit still reports its trials
    assert progress.line().endswith("17/20 trials, elapsed 60 s, ETA 0 s")


def test_last_progress_line_of_a_log():
    log = "start\nprogress: 1/2 units, 1/2 trials, elapsed 5 s, ETA 5 s\nother\n  progress: 2/2 units, 2/2 trials, elapsed 9 s, ETA 0 s\n"
    assert last_progress(log) == "progress: 2/2 units, 2/2 trials, elapsed 9 s, ETA 0 s"
    assert last_progress("nothing yet") is None

