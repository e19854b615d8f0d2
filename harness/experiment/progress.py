"""One overall progress line for a run: units done / total, trials finished, elapsed time and the ETA.

Printed after every unit (`progress: 3/8 units, 24/64 trials, elapsed 5 min, ETA 8 min`), so it is in
the terminal and in a Ray Job's log, where `fdan-bench jobs status` finds its latest one
(:func:`last_progress`). ETA = elapsed / (units finished in this run) x (units left): units kept from an
earlier run (`--resume`) count as done but not into the rate. Trials are counted when their unit ends.
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field

PREFIX = "progress: "


def duration(seconds: float) -> str:
    """A human duration: seconds under 90 s, minutes under 90 min, else hours (one decimal)."""
    if seconds < 90:
        return f"{seconds:.0f} s"
    if seconds < 5400:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.1f} h"


@dataclass
class RunProgress:
    total_units: int
    total_trials: int
    done_units: int = 0  # kept from earlier + finished now
    run_units: int = 0  # finished in this run (the ETA's rate)
    trials: int = 0
    started: float = field(default_factory=lambda: time.monotonic())

    def kept(self, trials: int) -> None:
        """A unit finished in an earlier run (`--resume`)."""
        self.done_units += 1
        self.trials += trials

    def finished(self, trials: int) -> None:
        self.done_units += 1
        self.run_units += 1
        self.trials += trials

    def eta(self) -> float | None:
        left = self.total_units - self.done_units
        if left <= 0:
            return 0.0
        if not self.run_units:
            return None
        return (time.monotonic() - self.started) / self.run_units * left

    def line(self) -> str:
        eta = self.eta()
        return (f"{PREFIX}{self.done_units}/{self.total_units} units, {self.trials}/"
                f"{self.total_trials} trials, elapsed {duration(time.monotonic() - self.started)}, "
                f"ETA {'unknown (no unit finished yet)' if eta is None else duration(eta)}")


def last_progress(log_text: str) -> str | None:
    """The latest progress line in a run's output, None when there is none yet."""
    lines = [line.strip() for line in log_text.splitlines() if line.strip().startswith(PREFIX)]
    return lines[-1] if lines else None
