"""Label-free selection scorers against known answers: density ratios of two Gaussians, IWV's target risk, DEV's
control variate, SND and entropy on hand-checkable predictions."""
from __future__ import annotations

import numpy as np
import pytest

from fdan.selection import RULES, density_ratio, dev_risk, information_maximisation, iwv_risk, prediction_entropy, snd


def _gaussians(rng: np.random.Generator, n: int = 2000) -> tuple[np.ndarray, np.ndarray]:
    """Source N(0, 1), target N(1, 1) in 1-D: the true ratio p_t / p_s = exp(x − ½)."""
    return rng.normal(0, 1, (n, 1)), rng.normal(1, 1, (n, 1))


def test_density_ratio_recovers_the_gaussian_ratio():
    s, t = _gaussians(np.random.default_rng(0))
    w = density_ratio(s, t, l2=1e-3)
    truth = np.exp(s[:, 0] - 0.5)
    middle = np.abs(s[:, 0]) < 1.5
    assert np.corrcoef(np.log(w[middle]), np.log(truth[middle]))[0, 1] > 0.99
    assert np.mean(w) == pytest.approx(1.0, abs=0.1)  # E_source[w] = 1


def test_iwv_estimates_the_target_risk_and_dev_lowers_its_variance():
    rng = np.random.default_rng(1)
    iwv, dev, target = [], [], []
    for _ in range(40):
        s, t = _gaussians(rng, 400)
        loss = lambda x: (x[:, 0] - 0.8) ** 2  # noqa: E731 — a loss that depends on where the row lies
        w = density_ratio(s, t, l2=1e-3, seed=int(rng.integers(1 << 30)))
        iwv.append(iwv_risk(loss(s), w))
        dev.append(dev_risk(loss(s), w))
        target.append(loss(t).mean())
    source_risk = 1.64  # E_source (x − 0.8)² = 1 + 0.64; the target's is 1.04
    assert abs(np.mean(iwv) - np.mean(target)) < 0.15 < abs(source_risk - np.mean(target))
    assert abs(np.mean(dev) - np.mean(target)) < 0.15
    assert np.var(dev) < np.var(iwv)


def test_dev_by_its_formula_and_with_equal_weights():
    ell, w = np.array([1.0, 2.0, 0.5, 3.0]), np.array([0.5, 1.5, 1.0, 1.0])
    big = w * ell
    eta = -np.cov(big, w)[0, 1] / np.var(w, ddof=1)
    assert dev_risk(ell, w) == pytest.approx(big.mean() + eta * w.mean() - eta)
    assert dev_risk(ell, np.ones(4)) == pytest.approx(iwv_risk(ell, np.ones(4))) == pytest.approx(ell.mean())
    with pytest.raises(ValueError, match="one length"):
        iwv_risk(ell, w[:3])


def test_snd_against_a_direct_loop_and_counts_close_neighbours():
    rng = np.random.default_rng(2)
    p = rng.dirichlet(np.ones(4), size=12)
    unit = p / np.linalg.norm(p, axis=1, keepdims=True)
    entropies = []
    for i in range(12):
        sims = np.array([unit[i] @ unit[j] for j in range(12) if j != i]) / 0.05
        q = np.exp(sims - sims.max())
        q /= q.sum()
        entropies.append(-(q * np.log(q)).sum())
    assert snd(p) == pytest.approx(np.mean(entropies))
    # 4 tight, well separated clusters of 3 rows: each row's soft neighbourhood is its 2 partners -> log 2;
    # one cluster of all 12 rows (a collapsed model: SND's known blind spot) -> log 11
    clustered = np.repeat(np.eye(4) * 0.9 + 0.025, 3, axis=0)
    assert snd(clustered) == pytest.approx(np.log(2), abs=1e-3)
    assert snd(np.tile([0.7, 0.1, 0.1, 0.1], (12, 1))) == pytest.approx(np.log(11))


def test_entropy_and_im_on_hand_checkable_predictions():
    uniform, onehot = np.full((4, 4), 0.25), np.eye(4)
    assert prediction_entropy(uniform) == pytest.approx(np.log(4)) and prediction_entropy(onehot) == pytest.approx(0)
    assert information_maximisation(onehot) == pytest.approx(np.log(4))  # confident and diverse
    assert information_maximisation(np.tile([1.0, 0, 0, 0], (4, 1))) == pytest.approx(0)  # collapsed
    assert information_maximisation(uniform) == pytest.approx(0)


def test_rules_name_their_direction():
    assert RULES["source_val"] and RULES["snd"] and not RULES["iwv"] and not RULES["dev"] and not RULES["entropy"]
