"""λ(p) ramp and the paper learning-rate factor."""
from __future__ import annotations

import math

import pytest

from fdan.training.schedule import lambda_ramp, paper_lr_factor


def test_lambda_ramp_endpoints_and_formula() -> None:
    assert lambda_ramp(0.0) == 0.0
    for p, gamma in [(0.1, 10.0), (0.5, 10.0), (1.0, 10.0), (1.0, 1.0), (0.3, 4.0)]:
        assert lambda_ramp(p, gamma) == pytest.approx(2.0 / (1.0 + math.exp(-gamma * p)) - 1.0, rel=1e-12)
    # The public FDAN code: γ = 1, p = iteration / 2000 → λ tops out at ≈ 0.462.
    assert lambda_ramp(2000 / 2000, gamma=1.0) == pytest.approx(0.4621, abs=1e-4)


def test_lambda_ramp_monotone_and_tends_to_one() -> None:
    values = [lambda_ramp(i / 100) for i in range(101)]
    assert all(b > a for a, b in zip(values, values[1:]))
    assert 0.999 < lambda_ramp(1.0) < 1.0
    assert lambda_ramp(1e6) == 1.0  # no overflow for huge γp


def test_paper_lr_factor() -> None:
    assert paper_lr_factor(0) == 1.0
    assert paper_lr_factor(1000) == pytest.approx((1 + 0.3) ** -0.75, rel=1e-12)
    assert paper_lr_factor(10, gamma=0.1, power=1.0) == pytest.approx(0.5, rel=1e-12)
    steps = [paper_lr_factor(s) for s in range(0, 5000, 500)]
    assert all(b < a for a, b in zip(steps, steps[1:]))
    with pytest.raises(ValueError):
        paper_lr_factor(-1)


def test_lambda_ramp_warmup() -> None:
    assert lambda_ramp(0.05, 10.0, warmup=0.1) == 0.0 and lambda_ramp(0.1, 10.0, warmup=0.1) == 0.0
    assert lambda_ramp(0.55, 10.0, warmup=0.1) == pytest.approx(lambda_ramp(0.5, 10.0))
    assert lambda_ramp(1.0, 10.0, warmup=0.1) == pytest.approx(lambda_ramp(1.0, 10.0))
    with pytest.raises(ValueError):
        lambda_ramp(0.5, 10.0, warmup=1.0)
