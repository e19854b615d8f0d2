"""No alignment: the source-only / no-adaptation baseline.

``L_align = 0`` for every input. Training is then cross-entropy only, which is the "no adaptation"
row of domain-adaptation tables (e.g. Long et al. 2015, Ganin et al. 2016) and, between modalities,
two heads trained side by side with nothing pulling their features together.

Scopes: both (it is the reference point for either). The returned zero is a float32 constant without
a graph: adding it to a loss changes neither value nor gradients.
"""
from __future__ import annotations

from torch import Tensor

from fdan.alignment.methods.base import AlignmentMethod

__all__ = ["SourceOnly"]


class SourceOnly(AlignmentMethod):
    """``L_align ≡ 0`` (no parameters, no target probabilities)."""

    name = "source_only"
    reference = "no adaptation (cross-entropy only)"
    has_term = False

    def divergence(self, source: Tensor, target: Tensor, source_label: Tensor, target_prob: Tensor | None) -> Tensor:
        return source.new_zeros(())

    def scheduled(self, source: Tensor, target: Tensor, source_label: Tensor, target_prob: Tensor | None, progress: float) -> Tensor:
        return source.new_zeros(())
