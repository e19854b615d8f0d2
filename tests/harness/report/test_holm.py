"""Holm's step-down correction against its definition, computed by hand."""
from __future__ import annotations

import numpy as np
import pytest

from harness.report.holm import holm


def test_holm_matches_the_definition():
    p = [0.01, 0.04, 0.03, 0.005]
    # sorted 0.005, 0.01, 0.03, 0.04 -> 4*0.005, 3*0.01, 2*0.03, 1*0.04 = 0.02, 0.03, 0.06, 0.04 -> running max
    assert holm(p).tolist() == pytest.approx([0.03, 0.06, 0.06, 0.02])


def test_holm_caps_at_one_keeps_nan_and_rejects_bad_values():
    out = holm([0.5, float("nan"), 0.6])
    assert out[0] == pytest.approx(1.0) and np.isnan(out[1]) and out[2] == pytest.approx(1.0)
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        holm([0.2, 1.5])
