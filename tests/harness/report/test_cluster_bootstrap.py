"""Speaker-cluster bootstrap: hand-checkable values, a planted speaker-clustered effect the i.i.d. bootstrap
over-rates, a null whose false-positive rate stays near 5 %, seeds combined."""
from __future__ import annotations

import numpy as np
import pytest

from harness.report.cluster_bootstrap import (
    bootstrap_difference, bootstrap_interval, cluster_rows, rows_as_clusters,
)


def test_observed_difference_averages_seeds_and_strata():
    y = np.array([0, 1, 0, 1, 0, 1, 0, 1])
    rows = cluster_rows(y, ["s1", "s1", "s2", "s2", "s1", "s1", "s3", "s3"], ["p", "p", "p", "p", "q", "q", "q", "q"])
    assert rows.n_speakers == 4  # s1 of pair p and s1 of pair q are different people
    a = np.zeros((1, 8), dtype=bool)
    b = np.array([[1, 1, 1, 1, 0, 0, 0, 0], [1, 1, 0, 0, 0, 0, 0, 0]], dtype=bool)  # two seeds of b
    out = bootstrap_difference(rows, a, b, n_boot=200)
    # pair p: seed means of WAR (1.0 + 0.5) / 2 = 0.75; pair q: 0 -> mean over strata 0.375
    assert out["war"]["delta"] == pytest.approx(0.375) and out["uar"]["delta"] == pytest.approx(0.375)
    assert out["war"]["ci_low"] <= out["war"]["ci_high"]


def _planted(n_speakers: int = 12, per_speaker: int = 40) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Two systems equal on every speaker except two, where b is right on every row and a on none."""
    rng = np.random.default_rng(3)
    speaker = np.repeat(np.arange(n_speakers), per_speaker)
    y = rng.integers(0, 2, size=len(speaker))
    a = rng.random(len(y)) < 0.6
    b = a.copy()
    lucky = speaker < 2
    a[lucky], b[lucky] = False, True
    return y, speaker, a, b


def test_planted_speaker_effect_is_over_rated_by_the_iid_bootstrap_only():
    y, speaker, a, b = _planted()
    rows = cluster_rows(y, speaker)
    clustered = bootstrap_difference(rows, a, b, n_boot=2000)
    iid = bootstrap_difference(rows_as_clusters(rows), a, b, n_boot=2000)
    assert clustered["war"]["delta"] == pytest.approx(iid["war"]["delta"]) == pytest.approx(2 / 12)
    assert iid["war"]["p"] < 0.001 and iid["war"]["ci_low"] > 0.1
    # the effect rests on 2 of 12 speakers: a draw without both has probability (10/12)^12 ≈ 0.11
    assert clustered["war"]["p"] > 0.1 and clustered["war"]["ci_low"] <= 0.0
    assert clustered["war"]["ci_high"] - clustered["war"]["ci_low"] > 2 * (iid["war"]["ci_high"] - iid["war"]["ci_low"])


def _null_case(rng: np.random.Generator, n_speakers: int = 16, per_speaker: int = 30) -> tuple:
    """Both systems from the same population: per-speaker ability plus an independent per-speaker shift each."""
    speaker = np.repeat(np.arange(n_speakers), per_speaker)
    y = rng.integers(0, 4, size=len(speaker))
    base = rng.uniform(0.3, 0.8, n_speakers)
    pa = np.clip(base + rng.normal(0, 0.12, n_speakers), 0, 1)[speaker]
    pb = np.clip(base + rng.normal(0, 0.12, n_speakers), 0, 1)[speaker]
    return y, speaker, rng.random(len(y)) < pa, rng.random(len(y)) < pb


@pytest.mark.parametrize("n_speakers", [6, 16])
def test_null_false_positive_rate_stays_near_five_percent(n_speakers):
    rng = np.random.default_rng(11)
    reps, hits_cluster, hits_iid = 300, 0, 0
    for rep in range(reps):
        y, speaker, a, b = _null_case(rng, n_speakers)
        rows = cluster_rows(y, speaker)
        hits_cluster += bootstrap_difference(rows, a, b, n_boot=400, seed=rep)["war"]["p"] < 0.05
        hits_iid += bootstrap_difference(rows_as_clusters(rows), a, b, n_boot=400, seed=rep)["war"]["p"] < 0.05
    # binomial sd at 5 % over 300 repetitions: 1.3 points
    assert 0.015 <= hits_cluster / reps <= 0.08, hits_cluster / reps
    assert hits_iid / reps > 0.15, hits_iid / reps  # speaker shifts read as a method effect


def test_one_speaker_per_stratum_has_no_interval():
    rows = cluster_rows(np.array([0, 1, 0, 1]), ["a", "a", "b", "b"], ["p", "p", "q", "q"])
    out = bootstrap_difference(rows, np.array([1, 0, 1, 0], bool), np.ones(4, bool), n_boot=100)["war"]
    assert out["delta"] == pytest.approx(0.5) and np.isnan(out["p"]) and np.isnan(out["ci_low"])


def test_interval_covers_the_observed_value_and_shrinks_with_more_speakers():
    rng = np.random.default_rng(0)
    widths = []
    for k in (6, 60):
        speaker = np.repeat(np.arange(k), 20)
        y = rng.integers(0, 3, size=len(speaker))
        correct = rng.random(len(y)) < rng.uniform(0.3, 0.9, k)[speaker]
        lo, hi = bootstrap_interval(cluster_rows(y, speaker), correct, n_boot=500)["war"]
        assert lo <= correct.mean() <= hi
        widths.append(hi - lo)
    assert widths[1] < widths[0] / 2


def test_bad_input_is_a_clear_error():
    with pytest.raises(ValueError, match="differ in length"):
        cluster_rows(np.zeros(3), np.zeros(2))
    rows = cluster_rows(np.zeros(3), np.arange(3))
    with pytest.raises(ValueError, match="rows per seed"):
        bootstrap_difference(rows, np.ones(3, bool), np.ones(4, bool))
