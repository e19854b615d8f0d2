"""Multi-kernel MMD (DAN: Long et al., "Learning Transferable Features with Deep Adaptation
Networks", ICML 2015).

With ``K = Σ_k exp(−‖z_i − z_j‖² / σ_k)`` (see :mod:`fdan.alignment.kernels` for the bandwidths) on
``Z = [S; T]``, source ``S`` ``(B, d)`` and target ``T`` ``(B', d)``:

    D = MMD² = mean(K_SS) + mean(K_TT) − 2 mean(K_ST)      (biased estimate; ≥ 0; 0 when S = T)

and the loss term is ``λ(p) · D``. It aligns the *marginal* distributions, ignoring labels.

Scopes: between modalities (audio vs face features of the same utterances) and between source and
target corpus (needs no target labels). Between modalities it may match audio features of one emotion
to face features of another, since it sees no classes; LMMD (``fdan``/``dsan``) does not.
"""
from __future__ import annotations

from torch import Tensor

from fdan.alignment.methods.base import KernelMethod
from fdan.alignment.mmd import mmd

__all__ = ["MMD"]


class MMD(KernelMethod):
    """``λ(p) · MMD²(S, T)`` with :func:`fdan.alignment.mmd.mmd` (no parameters, labels ignored)."""

    name = "mmd"
    reference = "Long et al. 2015 (DAN), multi-kernel MMD"

    def divergence(self, source: Tensor, target: Tensor, source_label: Tensor, target_prob: Tensor | None) -> Tensor:
        return mmd(source, target, kernel=self.kernel)
