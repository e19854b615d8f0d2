"""Cost estimate for `--plan`: wall time, worker-hours and (with a launcher config) node-hours of a run,
from the trial times a previous results directory recorded (`started_at`, `ended_at` per trial).

With, from the previous run, ``d`` = mean trial duration (s) and ``e`` its configured epochs, ``c`` = the
most trials that overlapped in time, ``W`` = its wall time (first trial start to last trial end) and
``n`` trials, the run's overhead factor is ``o = W / (n d / c)`` (≥ 1: unit start-up, held-out
evaluation, lanes waiting on their last unit). For the planned run (``N`` trials, ``E`` epochs, ``C``
at once, ``w`` workers per trial, ``k`` nodes at most):

    trial time  t = d E / e
    wall        T = s + o N t / C     (s: the previous run's start-up before its first trial, as measured)
    worker-hours  N t w / 3600         node-hours  k T / 3600 (the cluster at its maximum size)

``s`` (Ray start-up, corpus generation, feature and token caches: `run_started_at` in env.json) is taken
as it was: preparing is much faster on a cache hit, much slower on a larger corpus.
Replayed trials (`reused_from`, a repeated configuration) are left out of ``d``; ASHA's early stops
are in it, as they will be in the planned run with the same scheduler.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from harness.experiment.progress import duration
from harness.results.errors import ResultsError
from harness.results.io import load_results


class EstimateError(ValueError):
    """A previous results directory without usable trial times."""


@dataclass(frozen=True)
class TrialTimes:
    mean_s: float  # d
    epochs: int  # e
    concurrency: int  # c
    wall_s: float  # W
    trials: int  # n
    startup_s: float = 0.0  # s: run start to its first trial (Ray, corpora, caches; 0 when not recorded)

    @property
    def overhead(self) -> float:
        return max(1.0, self.wall_s / (self.trials * self.mean_s / self.concurrency)) if self.mean_s > 0 else 1.0


def max_overlap(starts: np.ndarray, ends: np.ndarray) -> int:
    """Most intervals [start, end) open at one time."""
    events = sorted([(float(s), 1) for s in starts] + [(float(e), -1) for e in ends])
    live = most = 0
    for _, step in events:
        live += step
        most = max(most, live)
    return max(1, most)


def trial_times(results_dir: str | Path) -> TrialTimes:
    """What a finished (or partial) results directory says about its trials' durations."""
    try:
        results = load_results(results_dir)
    except ResultsError as exc:
        raise EstimateError(str(exc)) from None
    trials = results.trials
    if "started_at" not in trials or "ended_at" not in trials:
        raise EstimateError(f"{results_dir}: the trials table has no started_at / ended_at (an older run)")
    ran = trials if "reused_from" not in trials else trials[trials["reused_from"].isna() | (trials["reused_from"] == "")]
    ran = ran.dropna(subset=["started_at", "ended_at"])
    if ran.empty:
        raise EstimateError(f"{results_dir}: no trial with recorded times")
    start, end = ran["started_at"].astype(float).to_numpy(), ran["ended_at"].astype(float).to_numpy()
    epochs = int((results.config.get("train") or {}).get("epochs") or pd.to_numeric(ran.get("epochs_run")).max() or 1)
    run_start = (results.env.get("ray_cluster_resources") or {}).get("run_started_at")
    startup = max(0.0, float(start.min()) - float(run_start)) if run_start is not None else 0.0
    return TrialTimes(mean_s=float(np.mean(end - start)), epochs=epochs, concurrency=max_overlap(start, end),
                      wall_s=float(end.max() - start.min()), trials=len(ran), startup_s=startup)


@dataclass(frozen=True)
class Estimate:
    wall_s: float
    worker_hours: float
    node_hours: float | None


def estimate(times: TrialTimes, trials: int, epochs: int, at_once: int, workers_per_trial: int,
             nodes: int | None = None) -> Estimate:
    """The formulas of the module docstring."""
    t = times.mean_s * epochs / max(1, times.epochs)
    wall = times.startup_s + times.overhead * trials * t / max(1, at_once)
    return Estimate(wall_s=wall, worker_hours=trials * t * workers_per_trial / 3600,
                    node_hours=None if nodes is None else nodes * wall / 3600)


def describe_estimate(times: TrialTimes, est: Estimate, source: str, low: bool) -> str:
    """Two lines for the plan: what was measured, and the estimate (marked when the counts are a lower bound)."""
    bound = "at least " if low else ""
    lines = [f"measured in {source}: {times.trials} trial(s), {times.mean_s:.1f} s each on average "
             f"({times.epochs} epoch(s)), up to {times.concurrency} at once, overhead factor {times.overhead:.2f}, "
             f"start-up {duration(times.startup_s)}"]
    text = f"estimate: wall {bound}{duration(est.wall_s)}, {bound}{est.worker_hours:.2f} worker-hour(s)"
    if est.node_hours is not None and not math.isnan(est.node_hours):
        text += f", {bound}{est.node_hours:.2f} node-hour(s) at the cluster's maximum size"
    lines.append(text + " (start-up as measured there: faster on a feature-cache hit, slower for larger corpora)")
    return "\n".join(lines)
