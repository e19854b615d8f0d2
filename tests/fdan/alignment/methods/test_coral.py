"""coral: Deep CORAL."""
from __future__ import annotations

import numpy as np
import pytest
import torch

from fdan.alignment.methods import create_method
from tests.fdan.alignment.methods.helpers import features, grad_of, labels


def _numpy_coral(s: np.ndarray, t: np.ndarray) -> float:
    d = s.shape[1]
    cs = np.cov(s, rowvar=False)  # unbiased, as the paper's formula
    ct = np.cov(t, rowvar=False)
    return float(((cs - ct) ** 2).sum() / (4 * d * d))


def test_coral_matches_a_direct_numpy_computation() -> None:
    method = create_method("coral", ramp_gamma=None)
    s, t = features(9), features(14, seed=1) * torch.linspace(0.5, 2.0, 6) + 3.0
    got = method(s, t, labels(9), progress=0.5).item()
    assert got == pytest.approx(_numpy_coral(s.numpy(), t.numpy()), rel=1e-12)
    # the formula written out with sums, as in Sun & Saenko 2016 (eq. 2)
    x = s.numpy()
    ones = np.ones((1, len(x)))
    cs = (x.T @ x - (ones @ x).T @ (ones @ x) / len(x)) / (len(x) - 1)
    np.testing.assert_allclose(cs, np.cov(x, rowvar=False), rtol=1e-10)


def test_coral_is_zero_for_equal_covariances_and_grows_with_scale() -> None:
    method = create_method("coral", ramp_gamma=None)
    s = features(20)
    assert method(s, s + 5.0, labels(20), progress=1.0).item() < 1e-20  # translation does not change covariance
    values = [method(s, s * k, labels(20), progress=1.0).item() for k in (1.1, 1.5, 2.0, 3.0)]
    assert all(a < b for a, b in zip(values, values[1:])) and values[0] > 0


def test_coral_gradients_reach_both_batches_and_it_refuses_one_row() -> None:
    method = create_method("coral")
    gs, gt = grad_of(method, features(), features(seed=1) * 2, labels())
    assert gs.abs().sum() > 0 and gt.abs().sum() > 0
    with pytest.raises(ValueError, match="at least 2 rows"):
        method(features(1), features(4), labels(1), progress=1.0)
