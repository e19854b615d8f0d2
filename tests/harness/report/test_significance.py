"""Paired bootstrap, McNemar and mean ± std against direct computations (scipy.stats, by hand)."""
from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from fdan.evaluation.metrics import classification_metrics
from harness.report.significance import EXACT_BELOW, format_mean_std, mcnemar, mean_std, paired_bootstrap


def _pair(n01: int, n10: int, both_right: int = 10, both_wrong: int = 5) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Rows (2 classes) where a is right and b wrong n01 times, the reverse n10 times."""
    y = np.zeros(n01 + n10 + both_right + both_wrong, dtype=int)
    a = np.concatenate([np.zeros(n01), np.ones(n10), np.zeros(both_right), np.ones(both_wrong)]).astype(int)
    b = np.concatenate([np.ones(n01), np.zeros(n10), np.zeros(both_right), np.ones(both_wrong)]).astype(int)
    return y, a, b


def test_mcnemar_exact_matches_scipy_binomtest() -> None:
    y, a, b = _pair(2, 9)
    res = mcnemar(y, a, b)
    assert res["method"] == "exact" and (res["n01"], res["n10"]) == (2, 9)
    assert res["p"] == pytest.approx(stats.binomtest(2, 11, 0.5).pvalue, rel=1e-12)
    # by hand: 2 · (C(11,0) + C(11,1) + C(11,2)) / 2^11 = 2 · 67 / 2048
    assert res["p"] == pytest.approx(134 / 2048, rel=1e-12)
    assert mcnemar(y, a, a)["p"] == 1.0 and mcnemar(*_pair(3, 3))["p"] == 1.0


def test_mcnemar_chi2_with_continuity_correction_for_many_discordant_pairs() -> None:
    y, a, b = _pair(10, 30)
    res = mcnemar(y, a, b)
    assert res["method"] == "chi2_cc" and 10 + 30 >= EXACT_BELOW
    assert res["statistic"] == pytest.approx((abs(10 - 30) - 1) ** 2 / 40)  # 9.025
    assert res["p"] == pytest.approx(stats.chi2.sf(9.025, df=1), rel=1e-10)
    forced = mcnemar(y, a, b, exact=True)
    assert forced["method"] == "exact" and forced["p"] == pytest.approx(stats.binomtest(10, 40, 0.5).pvalue, rel=1e-10)
    assert mcnemar(*_pair(2, 9), exact=False)["method"] == "chi2_cc"


def _noisy(y: np.ndarray, acc: float, rng: np.random.Generator, c: int) -> np.ndarray:
    wrong = rng.random(len(y)) > acc
    return np.where(wrong, (y + rng.integers(1, c, len(y))) % c, y)


def test_bootstrap_diff_is_the_direct_metric_difference_and_deterministic() -> None:
    rng = np.random.default_rng(1)
    y = rng.integers(0, 4, 300)
    a, b = _noisy(y, 0.6, rng, 4), _noisy(y, 0.7, rng, 4)
    res = paired_bootstrap(y, a, b, n_boot=500, seed=3)
    ma, mb = classification_metrics(y, a, 4), classification_metrics(y, b, 4)
    for metric in ("war", "uar"):
        assert res[metric]["diff"] == pytest.approx(mb[metric] - ma[metric], abs=1e-12)
        assert res[metric]["lo"] < res[metric]["diff"] < res[metric]["hi"]
    assert res == paired_bootstrap(y, a, b, n_boot=500, seed=3)
    assert res != paired_bootstrap(y, a, b, n_boot=500, seed=4)
    # string labels are classes too
    names = np.array(["ang", "hap", "neu", "sad"])
    assert paired_bootstrap(names[y], names[a], names[b], n_boot=500, seed=3) == res


def test_bootstrap_interval_covers_the_true_difference_and_shrinks_with_n() -> None:
    """Populations with a known WAR gap of 0.10: the interval holds it and narrows like 1/√n."""
    widths = []
    for n in (200, 3200):
        rng = np.random.default_rng(n)
        y = rng.integers(0, 3, n)
        ok_a = rng.random(n) < 0.6
        ok_b = ok_a | (rng.random(n) < 0.25)  # P(b right) = 0.6 + 0.4 · 0.25 = 0.70
        a, b = np.where(ok_a, y, (y + 1) % 3), np.where(ok_b, y, (y + 1) % 3)
        res = paired_bootstrap(y, a, b, n_boot=1000, seed=0)["war"]
        assert res["lo"] - 1e-12 <= 0.10 <= res["hi"] + 1e-12 and res["p"] < 0.01  # (quantiles are multiples of 1/n)
        widths.append(res["hi"] - res["lo"])
    assert widths[1] < widths[0] / 3  # √16 = 4 in theory


def test_bootstrap_p_is_large_for_identical_predictions_and_inputs_are_checked() -> None:
    rng = np.random.default_rng(0)
    y = rng.integers(0, 3, 50)
    a = _noisy(y, 0.5, rng, 3)
    res = paired_bootstrap(y, a, a.copy(), n_boot=200)
    assert res["war"]["diff"] == 0 and res["war"]["p"] == 1.0 and res["uar"]["lo"] == res["uar"]["hi"] == 0
    with pytest.raises(ValueError, match="same length"):
        paired_bootstrap(y, a, a[:-1])
    with pytest.raises(ValueError, match="NaN"):
        mcnemar(y.astype(float), np.where(a == 0, np.nan, a), a)


def test_mean_std_over_folds_and_seeds() -> None:
    runs = pd.DataFrame(
        {"method": ["fdan"] * 4 + ["mmd"], "fold": [0, 0, 1, 1, 0], "seed": [0, 1, 0, 1, 0],
         "war": [0.5, 0.7, 0.6, 0.8, 0.4], "uar": [0.4, 0.6, 0.5, 0.7, 0.3]}
    )
    table = mean_std(runs, "method").set_index("method")
    assert table.loc["fdan", "war_mean"] == pytest.approx(0.65)
    assert table.loc["fdan", "war_std"] == pytest.approx(np.std([0.5, 0.7, 0.6, 0.8], ddof=1))
    assert table.loc["fdan", "n_runs"] == 4 and math.isnan(table.loc["mmd", "war_std"])
    assert format_mean_std(0.65, 0.129099) == "65.00 ± 12.91" and format_mean_std(0.4, float("nan")) == "40.00"
    with pytest.raises(ValueError, match="lack column"):
        mean_std(runs, "corpus")
