"""Deep CORAL (Sun & Saenko, "Deep CORAL: Correlation Alignment for Deep Domain Adaptation",
ECCV 2016 workshops).

Covariances of source ``S`` ``(B, d)`` and target ``T`` ``(B', d)`` (unbiased, ``B, B' ≥ 2``):

    C_S = (Sᵀ S − (1ᵀ S)ᵀ (1ᵀ S) / B) / (B − 1),     C_T likewise,
    D = ‖C_S − C_T‖_F² / (4 d²)

and the loss term is ``λ(p) · D``. It matches second-order statistics only: 0 for any two batches
with equal covariance (for instance a translated copy), and it ignores labels.

Scopes: both, like MMD; between modalities it aligns audio and face feature covariances of the same
utterances, without classes.
"""
from __future__ import annotations

from torch import Tensor

from fdan.alignment.methods.base import AlignmentMethod

__all__ = ["CORAL", "covariance"]


def covariance(x: Tensor) -> Tensor:
    """Unbiased covariance ``(d, d)`` of the rows of ``x`` ``(n, d)``, ``n ≥ 2``."""
    if x.shape[0] < 2:
        raise ValueError(f"CORAL needs at least 2 rows per batch for a covariance, got {x.shape[0]}")
    xc = x - x.mean(dim=0, keepdim=True)  # centring first is the numerically stable form of the formula above
    return xc.t() @ xc / (x.shape[0] - 1)


class CORAL(AlignmentMethod):
    """``λ(p) · ‖C_S − C_T‖_F² / (4d²)`` (no parameters, labels ignored)."""

    name = "coral"
    reference = "Sun & Saenko 2016 (Deep CORAL)"

    def divergence(self, source: Tensor, target: Tensor, source_label: Tensor, target_prob: Tensor | None) -> Tensor:
        d = source.shape[1]
        return (covariance(source) - covariance(target)).pow(2).sum() / (4.0 * d * d)
