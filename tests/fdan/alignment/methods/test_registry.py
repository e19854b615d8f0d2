"""The registry and the behaviour every method shares (casts, checks, ramp)."""
from __future__ import annotations

import math

import pytest
import torch

from fdan.alignment.methods import AlignmentMethod, corpus_method_name, create_method, list_methods, method_options
from fdan.training.schedule import lambda_ramp
from tests.fdan.alignment.methods.helpers import C, D, features, labels

ALL = ["fdan", "source_only", "dsan", "mmd", "coral", "dann"]


def _make(name: str, **kw) -> AlignmentMethod:
    return create_method(name, feature_dim=D, num_classes=C, **kw)


def _prob(n: int, dtype=torch.float32) -> torch.Tensor:
    return torch.nn.functional.one_hot(labels(n), C).to(dtype) * 0.7 + 0.1


def test_list_methods_is_the_issue_list_with_fdan_first() -> None:
    assert list_methods()[0] == "fdan"
    assert sorted(list_methods()) == sorted([*ALL, "adabn"])  # adabn: no loss term (tests/fdan/training/test_target_statistics.py)


def test_adabn_is_corpus_level_without_a_term() -> None:
    method = create_method("adabn", scope="corpora")
    assert not method.has_term and method.target_statistics and corpus_method_name("adabn") == "adabn"
    assert method(features(), features(seed=1) + 1, labels(), progress=1.0) == 0
    with pytest.raises(ValueError, match="'adabn' does not apply between modalities"):
        create_method("adabn", scope="modalities")


def test_unknown_method_and_option_are_clear_errors() -> None:
    with pytest.raises(ValueError, match="unknown alignment method 'dan'.*known: fdan"):
        create_method("dan")
    with pytest.raises(ValueError, match=r"no option\(s\) \['hidden_dim'\]"):
        create_method("mmd", hidden_dim=3)
    assert "hidden_dim" in method_options("dann") and "kernel_mul" in method_options("dsan")
    assert "kernel_mul" not in method_options("coral")


def test_scopes_and_corpus_counterpart() -> None:
    with pytest.raises(ValueError, match="'fdan' does not apply between corpora; use 'dsan'"):
        create_method("fdan", scope="corpora", num_classes=C)
    assert corpus_method_name("fdan") == "dsan"
    for name in ALL[1:]:
        assert corpus_method_name(name) == name
        create_method(name, scope="corpora", feature_dim=D)
        create_method(name, scope="modalities", feature_dim=D)
    with pytest.raises(ValueError, match="scope must be"):
        create_method("mmd", scope="rows")


@pytest.mark.parametrize("name", ALL)
def test_half_precision_features_under_autocast_give_a_finite_float32_loss(name: str) -> None:
    method = _make(name)
    s = features(8, dtype=torch.bfloat16).requires_grad_(True)
    t = (features(8, seed=1) + 1).to(torch.bfloat16).requires_grad_(True)
    with torch.autocast("cpu", dtype=torch.bfloat16):
        loss = method(s, t, labels(8), _prob(8, torch.bfloat16), progress=0.5)
    assert loss.dtype == torch.float32 and loss.ndim == 0 and torch.isfinite(loss)
    if name != "source_only":
        loss.backward()
        assert s.grad is not None and s.grad.dtype == torch.bfloat16 and torch.isfinite(s.grad.float()).all()
        assert s.grad.abs().sum() > 0 and t.grad.abs().sum() > 0


@pytest.mark.parametrize("name", ["fdan", "dsan", "mmd", "coral"])
def test_discrepancy_methods_are_ramped_divergences(name: str) -> None:
    method = _make(name, ramp_gamma=4.0)
    s, t, y, p = features(), features(seed=1) + 0.5, labels(), _prob(12, torch.float64)
    raw = method.divergence(s, t, y, p)
    for progress in (0.0, 0.3, 1.0):
        torch.testing.assert_close(method(s, t, y, p, progress=progress), lambda_ramp(progress, 4.0) * raw)
    assert method(s, t, y, p, progress=0.0) == 0
    unramped = _make(name, ramp_gamma=None)
    torch.testing.assert_close(unramped(s, t, y, p, progress=0.0), raw)


def test_bad_inputs_are_clear_errors() -> None:
    method = _make("dsan")
    s, t = features(), features(seed=1)
    with pytest.raises(ValueError, match="pass target_prob"):
        method(s, t, labels(), progress=0.5)
    with pytest.raises(ValueError, match="integer"):
        method(s, t, labels().double(), _prob(12), progress=0.5)
    with pytest.raises(ValueError, match=r"\(B, d\) and \(B', d\)"):
        method(s, t[:, :3], labels(), _prob(12), progress=0.5)
    with pytest.raises(ValueError, match="progress must lie in"):
        method(s, t, labels(), _prob(12), progress=1.5)
    with pytest.raises(ValueError, match="kernel_num"):
        create_method("mmd", kernel_num=0)
    with pytest.raises(ValueError, match="feature_dim=6"):
        _make("coral")(features(d=4), features(d=4), labels(), progress=0.5)


def test_only_dann_has_parameters() -> None:
    assert [n for n in ALL if _make(n).has_parameters] == ["dann"]
    assert math.isclose(_make("mmd").ramp(1.0), lambda_ramp(1.0, 10.0))
