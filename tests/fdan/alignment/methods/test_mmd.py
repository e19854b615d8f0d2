"""mmd: multi-kernel MMD (DAN)."""
from __future__ import annotations

import torch

from fdan.alignment.methods import create_method
from fdan.alignment.mmd import mmd
from tests.fdan.alignment.methods.helpers import features, grad_of, labels


def test_mmd_method_equals_fdan_mmd_with_its_kernel_options() -> None:
    s, t = features(10), features(7, seed=1) + 0.3
    for opts in ({}, {"kernel_mul": 1.5, "kernel_num": 3}, {"fix_sigma": 2.0}, {"bandwidths": [0.5, 1, 4]}):
        method = create_method("mmd", ramp_gamma=None, **opts)
        torch.testing.assert_close(method(s, t, labels(10), progress=0.2), mmd(s, t, **opts), rtol=1e-12, atol=1e-12)


def test_mmd_is_zero_for_identical_batches_and_grows_with_the_shift() -> None:
    method = create_method("mmd", ramp_gamma=None, fix_sigma=6.0)  # fixed bandwidth: comparable across shifts
    s = features(16)
    assert abs(method(s, s.clone(), labels(16), progress=1.0).item()) < 1e-12
    # a permutation of the same rows is the same empirical distribution
    assert abs(method(s, s[torch.randperm(16)], labels(16), progress=1.0).item()) < 1e-12
    values = [method(s, s + shift, labels(16), progress=1.0).item() for shift in (0.25, 0.5, 1.0, 2.0)]
    assert all(a < b for a, b in zip(values, values[1:])) and values[0] > 0


def test_mmd_gradients_reach_both_feature_batches_and_pull_them_together() -> None:
    method = create_method("mmd")
    s, t = features(), features(seed=1) + 1.0
    gs, gt = grad_of(method, s, t, labels())
    assert gs.abs().sum() > 0 and gt.abs().sum() > 0
    # descending moves the source mean towards the target mean (+1 in every coordinate)
    assert (-gs.sum(0) > 0).all() and (-gt.sum(0) < 0).all()
