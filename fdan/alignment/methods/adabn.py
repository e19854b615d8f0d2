"""AdaBN (Li et al., "Revisiting Batch Normalization for practical domain adaptation", 2016/2018): the
source model with every BatchNorm statistic re-estimated on the unlabelled target corpus.

Training is source-only (``L_align ≡ 0``: no target batch is read while training). Before the model meets
target rows (held-out test, target-side selection scores) each BatchNorm layer ``ℓ`` — here the token
standardisation of the frozen-trunk features (``fdan.model.tokenizers``) and any BatchNorm of a trained
trunk — takes the target corpus' moments instead of the source's:

    x̂ = (x − μ_T^ℓ) / sqrt(σ²_T^ℓ + ε),   μ_T^ℓ, σ²_T^ℓ over the target adaptation rows (unlabelled)

(:func:`fdan.training.target_statistics.with_target_statistics`). It is first- and second-moment matching
per channel with a *domain-specific* normalisation: it can undo an offset or scaling of the features
that a shared encoder trained for invariance (MMD, CORAL, DANN, DSAN) could only remove by discarding
the shifted channels, and with them their class information.

Scopes: corpora (between modalities it is ``source_only``).
"""
from __future__ import annotations

from typing import ClassVar

from fdan.alignment.methods.base import Scope
from fdan.alignment.methods.source_only import SourceOnly

__all__ = ["AdaBN"]


class AdaBN(SourceOnly):
    """No loss term; target BatchNorm statistics at evaluation (module docstring)."""

    name = "adabn"
    reference = "Li et al. 2016/2018 (AdaBN): BatchNorm statistics re-estimated on the target corpus"
    scopes: ClassVar[frozenset[Scope]] = frozenset({"corpora"})
    target_statistics = True
