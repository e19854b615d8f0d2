"""fdan: LMMD with true-label target weights (public FDAN code), paired modalities."""
from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

from fdan.alignment.lmmd import lmmd
from fdan.alignment.methods import create_method
from tests.fdan.alignment.methods.helpers import C, features, grad_of, labels


def test_fdan_on_paired_rows_equals_lmmd_with_one_hot_source_labels() -> None:
    method = create_method("fdan", num_classes=C, ramp_gamma=None)
    s, t, y = features(12), features(12, seed=1), labels(12)
    ref = lmmd(s, t, y, F.one_hot(y, C).double())
    torch.testing.assert_close(method(s, t, y, progress=0.5), ref, rtol=1e-12, atol=1e-12)
    # unpaired batches (the public code's independent loaders): the target's own one-hot labels
    y_t = torch.tensor([2, 0, 1, 1, 0, 2, 2])
    t7 = features(7, seed=2)
    torch.testing.assert_close(method(s, t7, y, F.one_hot(y_t, C).double(), progress=0.5), lmmd(s, t7, y, F.one_hot(y_t, C).double()))


def test_fdan_aligns_classes_where_mmd_sees_no_difference() -> None:
    """Target = the source rows with the classes swapped: same marginal (MMD 0), different class-conditionals."""
    y = labels(12)
    s = features(12) * 0.3 + F.one_hot(y, C).double() @ torch.randn(C, 6, dtype=torch.float64, generator=torch.Generator().manual_seed(5)) * 3
    t = s[torch.tensor([i for c in (1, 2, 0) for i in range(12) if y[i] == c])]  # rows of class c+1 where y = c
    y_sorted = torch.tensor([c for c in range(C) for _ in range(4)])
    s_sorted = s[torch.argsort(y, stable=True)]
    assert create_method("mmd", ramp_gamma=None)(s_sorted, t, y_sorted, progress=1.0).abs().item() < 1e-12
    method = create_method("fdan", num_classes=C, ramp_gamma=None)
    assert method(s_sorted, t, y_sorted, progress=1.0).item() > 0.5
    assert abs(method(s_sorted, s_sorted.clone(), y_sorted, progress=1.0).item()) < 1e-12


def test_fdan_grows_with_a_shift_and_its_gradients_reach_both_modalities() -> None:
    method = create_method("fdan", num_classes=C, ramp_gamma=None, fix_sigma=6.0)
    s, y = features(12), labels(12)
    values = [method(s, s + k, y, progress=1.0).item() for k in (0.25, 0.5, 1.0, 2.0)]
    assert all(a < b for a, b in zip(values, values[1:])) and values[0] > 0
    gs, gt = grad_of(method, s, s + 1.0, y)
    assert gs.abs().sum() > 0 and gt.abs().sum() > 0


def test_fdan_refuses_what_it_cannot_do() -> None:
    method = create_method("fdan", num_classes=C)
    with pytest.raises(ValueError, match="paired rows"):
        method(features(12), features(8), labels(12), progress=1.0)
    with pytest.raises(ValueError, match="needs num_classes"):
        create_method("fdan")(features(12), features(12), labels(12), progress=1.0)
    with pytest.raises(ValueError, match="does not apply between corpora"):
        create_method("fdan", scope="corpora")
