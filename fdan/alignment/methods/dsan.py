"""DSAN: LMMD with predicted target weights (Zhu et al., "Deep Subdomain Adaptation Network for Image
Classification", IEEE TNNLS 2020).

With ``Ŝ = onehot(y)/count``, ``T̂ = P/colsum(P)`` for ``P = target_prob`` (softmax predictions of the
target rows, no gradient) and the kept classes 𝒦 (present in ``y`` and in ``argmax P``):

    D = LMMD = Σ_{c∈𝒦} ‖ Σ_i Ŝ_ic φ(s_i) − Σ_j T̂_jc φ(t_j) ‖²_ℋ / |𝒦|

(see :mod:`fdan.alignment.lmmd`), and the loss term is ``λ(p) · D``: class-conditional MMD, each target row
counted in every class by its predicted probability.

Scopes: both. Between source and target corpus it is the method that makes sense for a class-aware
alignment (the target corpus is unlabelled); its corpus-level term is what ``fdan`` uses there too.
Between modalities ``P`` is the face head's softmax (``lmmd_target_weights: predictions``).
"""
from __future__ import annotations

from torch import Tensor

from fdan.alignment.lmmd import lmmd
from fdan.alignment.methods.base import KernelMethod

__all__ = ["DSAN"]


class DSAN(KernelMethod):
    """``λ(p) · LMMD(S, T; y, P)`` with ``P`` the caller's target probabilities (``needs_target_prob``)."""

    name = "dsan"
    needs_target_prob = True
    reference = "Zhu et al. 2020 (DSAN), local MMD with pseudo-label weights"

    def divergence(self, source: Tensor, target: Tensor, source_label: Tensor, target_prob: Tensor | None) -> Tensor:
        assert target_prob is not None  # forward() has checked
        return lmmd(source, target, source_label, target_prob, kernel=self.kernel)
