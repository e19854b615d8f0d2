"""DANN: domain-adversarial training with a gradient reversal layer (Ganin et al., "Domain-Adversarial
Training of Neural Networks", JMLR 2016).

A discriminator ``D_θ: ℝ^d → ℝ`` (logit of "source") is trained to tell source ``S`` ``(B, d)`` from
target ``T`` ``(B', d)`` with the balanced binary cross-entropy

    L_d = ½ [ mean_i softplus(−D_θ(s_i)) + mean_j softplus(D_θ(t_j)) ]     (= BCE, labels 1 / 0)

while the features see it through the gradient reversal layer ``R_λ`` (identity forward,
``∂R_λ(x)/∂x = −λ I`` backward). Minimising ``L_d(R_λ(S), R_λ(T))`` over everything therefore
descends ``L_d`` in θ and ascends it in the features: the min-max ``min_f max_θ −L_d``. The reversal
coefficient follows Ganin's schedule ``λ(p) = 2/(1+exp(−γp)) − 1`` (γ = 10), so the returned value is
``L_d`` itself (not multiplied by λ); at equilibrium ``L_d → ln 2``, the chance level.

Scopes: both. Between source and target corpus this is the original DANN. Between modalities the
discriminator tells audio from face features of the same utterances; that is a legitimate
modality-adversarial objective (a modality-invariant space) but, unlike LMMD, it aligns only the
marginal distributions and ignores that rows are paired and labelled. Each use needs its own instance
(its own discriminator), whose parameters must be given to the optimizer.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor, nn
from torch.autograd.function import FunctionCtx

from fdan.alignment.methods.base import AlignmentMethod

__all__ = ["gradient_reversal", "DomainDiscriminator", "DANN"]


class _GradientReversal(torch.autograd.Function):
    @staticmethod
    def forward(ctx: FunctionCtx, x: Tensor, coeff: float) -> Tensor:
        ctx.coeff = coeff
        return x.view_as(x)

    @staticmethod
    def backward(ctx: FunctionCtx, grad: Tensor) -> tuple[Tensor, None]:
        return grad * -ctx.coeff, None


def gradient_reversal(x: Tensor, coeff: float = 1.0) -> Tensor:
    """``R_λ(x)``: returns ``x``; the gradient passing back is multiplied by ``−coeff``."""
    return _GradientReversal.apply(x, float(coeff))


class DomainDiscriminator(nn.Module):
    """MLP ``d → hidden → hidden → 1`` with ReLU (and optional dropout): the logit that a row is source."""

    def __init__(self, feature_dim: int, hidden_dim: int = 256, dropout: float = 0.0) -> None:
        super().__init__()
        if hidden_dim < 1 or not 0.0 <= dropout < 1.0:
            raise ValueError(f"need hidden_dim >= 1 and 0 <= dropout < 1, got {hidden_dim}, {dropout}")
        self.net = nn.Sequential(
            nn.Linear(feature_dim, hidden_dim), nn.ReLU(inplace=True), nn.Dropout(dropout),
            nn.Linear(hidden_dim, hidden_dim), nn.ReLU(inplace=True), nn.Dropout(dropout),
            nn.Linear(hidden_dim, 1),
        )

    def forward(self, x: Tensor) -> Tensor:
        """``(N, d)`` → ``(N,)`` logits."""
        return self.net(x).squeeze(1)


class DANN(AlignmentMethod):
    """Domain loss ``L_d`` through ``R_λ(p)``; has parameters (the discriminator). Needs ``feature_dim``."""

    name = "dann"
    reference = "Ganin et al. 2016 (DANN), gradient reversal + domain discriminator"

    def __init__(self, *, hidden_dim: int = 256, dropout: float = 0.0, **common: object) -> None:
        super().__init__(**common)  # type: ignore[arg-type]
        if self.feature_dim is None:
            raise ValueError("dann needs feature_dim (the width of the aligned features) to build its discriminator")
        self.discriminator = DomainDiscriminator(self.feature_dim, hidden_dim, dropout)

    def domain_loss(self, source: Tensor, target: Tensor) -> Tensor:
        """Balanced BCE ``L_d`` of the discriminator on (already reversed or plain) features."""
        logits_s = self.discriminator(source.to(self.discriminator.net[0].weight.dtype))
        logits_t = self.discriminator(target.to(self.discriminator.net[0].weight.dtype))
        return 0.5 * (F.softplus(-logits_s).mean() + F.softplus(logits_t).mean())

    def divergence(self, source: Tensor, target: Tensor, source_label: Tensor, target_prob: Tensor | None) -> Tensor:
        """``L_d`` without reversal (the discriminator's own loss)."""
        return self.domain_loss(source, target)

    def scheduled(self, source: Tensor, target: Tensor, source_label: Tensor, target_prob: Tensor | None, progress: float) -> Tensor:
        coeff = self.ramp(progress)
        return self.domain_loss(gradient_reversal(source, coeff), gradient_reversal(target, coeff))
