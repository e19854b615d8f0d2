"""fdan.alignment.scopes: the run's method terms per scope, their schedule, parameters and state handling."""
from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

from fdan.alignment.lmmd import lmmd
from fdan.alignment.scopes import Alignment, alignment_of, attach_alignment, without_alignment
from fdan.config import TrainConfig
from fdan.training.schedule import lambda_ramp

D, C = 16, 4


def feats(seed: int = 0) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    g = torch.Generator().manual_seed(seed)
    y = torch.arange(8) % C
    return torch.randn(8, D, generator=g, requires_grad=True), torch.randn(8, D, generator=g, requires_grad=True), y


@pytest.mark.parametrize("p", [0.0, 0.05, 0.3, 1.0])
def test_fdan_term_is_the_ramped_true_label_lmmd(p):
    cfg = TrainConfig(lmmd_gamma=10.0, lmmd_warmup=0.1)
    s, t, y = feats()
    scheduled, name, raw = Alignment(cfg, D, C).term("modal", s, t, y, None, p)
    expected = lmmd(s, t, y, F.one_hot(y, C).float())
    assert name == "lmmd_modal"
    torch.testing.assert_close(raw, expected.detach())
    torch.testing.assert_close(scheduled, lambda_ramp(p, 10.0, 0.1) * expected)  # one ramp, warm-up included


def test_corpus_scope_of_fdan_is_dsan_with_target_probabilities():
    cfg = TrainConfig()
    align = Alignment(cfg, D, C)
    assert align.modal.name == "fdan" and align.corpus.name == "dsan"
    s, t, y = feats(1)
    prob = torch.softmax(torch.randn(8, C, generator=torch.Generator().manual_seed(2)), dim=1)
    _, name, raw = align.term("corpus", s, t, y, prob, 1.0)
    assert name == "lmmd_corpus"
    torch.testing.assert_close(raw, lmmd(s, t, y, prob).detach())
    assert Alignment(TrainConfig(lmmd_target_weights="predictions"), D, C).modal.name == "dsan"


@pytest.mark.parametrize("method", ["dsan", "mmd", "coral", "dann"])
def test_each_method_gives_a_finite_term_with_gradients_to_both_sides(method):
    align = Alignment(TrainConfig(method=method, lmmd_warmup=0.0), D, C)
    s, t, y = feats(3)
    prob = torch.softmax(torch.randn(8, C), dim=1)
    for scope in ("modal", "corpus"):
        scheduled, name, raw = align.term(scope, s, t, y, prob, 0.7)
        assert torch.isfinite(scheduled) and torch.isfinite(raw) and name.endswith(scope)
        s.grad = t.grad = None
        scheduled.backward()
        assert s.grad.abs().sum() > 0 and t.grad.abs().sum() > 0
    assert align.has_parameters() == (method == "dann")


def test_source_only_has_no_term():
    align = Alignment(TrainConfig(method="source_only"), D, C)
    s, t, y = feats()
    assert align.term("modal", s, t, y, None, 1.0) is None and align.term("corpus", s, t, y, None, 1.0) is None


class Net(torch.nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.cfg = type("Cfg", (), {"adapt_dim": D, "num_classes": C})()
        self.head = torch.nn.Linear(D, C)


def test_dann_is_attached_as_parameters_and_dropped_for_evaluation():
    net, cfg = Net(), TrainConfig(method="dann")
    with pytest.raises(ValueError, match="attach_alignment"):
        alignment_of(net, cfg)
    align = attach_alignment(net, cfg)
    assert alignment_of(net, cfg) is align
    names = [n for n, _ in net.named_parameters()]
    assert any(n.startswith("alignment.modal.") for n in names) and any(n.startswith("alignment.corpus.") for n in names)
    assert sorted(without_alignment(net.state_dict())) == ["head.bias", "head.weight"]
    assert not alignment_of(Net(), TrainConfig(method="mmd")).has_parameters()
