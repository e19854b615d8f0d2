"""A large LMMD weight (the paper's α = 10) must not collapse the adapted features (README: why α = 10 stalled).

Two adaptation networks (the model's own) on class-separable vectors, CE on each plus α·λ(p)·LMMD with
true-label weights, as FDAN's modality term. DSAN's ReLU outputs under plain LMMD collapse to exactly 0
(dead units, LMMD = 0, chance accuracy); the defaults (LayerNorm outputs, scale-invariant LMMD, warm-up)
keep learning.
"""
import pytest
import torch
import torch.nn.functional as F
from torch import nn

from fdan.alignment.lmmd import lmmd
from fdan.config import ModelConfig, TrainConfig
from fdan.model.adaptation import AdaptationNetwork
from fdan.training.loss import _aligned
from fdan.training.schedule import lambda_ramp


def _train(output: str, alpha: float, steps: int = 150, scale_invariant: bool = True) -> tuple[float, float]:
    torch.manual_seed(0)
    g = torch.Generator().manual_seed(1)
    mu_a, mu_f = torch.randn(4, 32, generator=g) * 0.6, torch.randn(4, 32, generator=g) * 0.6
    nets = [AdaptationNetwork(32, 16, output) for _ in range(2)]
    heads = [nn.Linear(16, 4) for _ in range(2)]
    params = [p for m in (*nets, *heads) for p in m.parameters()]
    opt = torch.optim.SGD(params, lr=1e-2, momentum=0.9, weight_decay=5e-4)
    cfg = TrainConfig(lmmd_scale_invariant=scale_invariant)

    def batch(n):
        y = torch.randint(0, 4, (n,), generator=g)
        return mu_a[y] + torch.randn(n, 32, generator=g), mu_f[y] + torch.randn(n, 32, generator=g), y

    for i in range(steps):
        xa, xf, y = batch(32)
        za, zf = nets[0](xa), nets[1](xf)
        loss = F.cross_entropy(heads[0](za), y) + F.cross_entropy(heads[1](zf), y)
        pair = _aligned(za, zf, cfg)  # what compute_loss hands to lmmd()
        loss = loss + alpha * lambda_ramp(i / steps, 10.0, cfg.lmmd_warmup) * lmmd(*pair, y, F.one_hot(y, 4).float())
        opt.zero_grad()
        loss.backward()
        nn.utils.clip_grad_norm_(params, 5.0)
        opt.step()
    xa, _, y = batch(400)
    with torch.no_grad():
        za = nets[0](xa)
        return float((heads[0](za).argmax(1) == y).float().mean()), float((za == 0).float().mean())


def test_default_adapted_features_survive_alpha_10():
    cfg = TrainConfig()
    assert ModelConfig().adapt_output == "layernorm" and cfg.lmmd_warmup > 0 and cfg.lmmd_scale_invariant
    acc, zeros = _train("layernorm", alpha=10.0)
    assert acc > 0.8 and zeros == 0.0


def test_relu_bottleneck_with_plain_lmmd_collapses_under_alpha_10():
    acc, zeros = _train("relu", alpha=10.0, scale_invariant=False)
    assert zeros == 1.0 and acc < 0.4  # the mechanism: every unit exactly 0, chance accuracy


@pytest.mark.parametrize("scale", [1e-3, 1.0, 1e3])
def test_layernorm_output_has_fixed_norm(scale):
    net = AdaptationNetwork(8, 16)
    out = net(torch.randn(5, 8) * scale)
    torch.testing.assert_close(out.norm(dim=1), torch.full((5,), 4.0), rtol=1e-3, atol=1e-3)
