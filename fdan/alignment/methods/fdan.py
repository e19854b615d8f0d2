"""FDAN's alignment: LMMD with true-label target weights, as the public FDAN code
(Li et al., arXiv 2410.22023; github shaokai1209/FDAN) — audio = source, face = target.

The same LMMD as DSAN (:mod:`fdan.alignment.lmmd`), but the target weights are the one-hot *true* labels:

    D = LMMD(S, T; y, onehot(y_T))  =  Σ_{c∈𝒦} ‖ mean_{i: y_i=c} φ(s_i) − mean_{j: y_T,j=c} φ(t_j) ‖²_ℋ / |𝒦|

i.e. supervised class-wise alignment of the two modalities' features; loss term ``λ(p) · D``.
Between modalities on paired rows (row i of audio and face is one utterance) ``y_T = y``, so
``target_prob`` may be omitted and ``onehot(y)`` is used (needs ``B = B'`` and ``num_classes``). For
unpaired batches, as the public code's independent loaders, pass ``target_prob = onehot(y_T)`` of the
target rows' own labels.

Scopes: between modalities only. Between source and target corpus the target labels are unknown (and
must never be read in training), so the corpus-level term of an ``fdan`` run is DSAN's (pseudo-label
weights): :func:`fdan.alignment.methods.corpus_method_name` maps ``fdan`` → ``dsan``.
"""
from __future__ import annotations

import torch.nn.functional as F
from torch import Tensor

from fdan.alignment.lmmd import lmmd
from fdan.alignment.methods.base import KernelMethod

__all__ = ["FDANAlignment"]


class FDANAlignment(KernelMethod):
    """``λ(p) · LMMD(S, T; y, onehot(y_T))``; ``num_classes`` is needed when ``target_prob`` is omitted."""

    name = "fdan"
    scopes = frozenset({"modalities"})
    reference = "Li et al. 2024 (FDAN), LMMD with true-label weights (public code)"

    def divergence(self, source: Tensor, target: Tensor, source_label: Tensor, target_prob: Tensor | None) -> Tensor:
        if target_prob is None:
            if source.shape[0] != target.shape[0]:
                raise ValueError(
                    f"fdan without target_prob assumes paired rows (target label = source label), but B={source.shape[0]} "
                    f"!= B'={target.shape[0]}: pass target_prob = one_hot(target labels)"
                )
            if self.num_classes is None:
                raise ValueError("fdan without target_prob needs num_classes to build one_hot(source_label)")
            target_prob = F.one_hot(source_label, self.num_classes).to(source.dtype)
        return lmmd(source, target, source_label, target_prob, kernel=self.kernel)
