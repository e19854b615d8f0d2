"""The interface every alignment method implements (:class:`AlignmentMethod`).

An alignment method is the extra loss term that pulls two feature distributions together:

    L_total = CE terms + α · method(source_feat, target_feat, source_label, target_prob, progress=p)

``source_feat`` ``(B, d)`` and ``target_feat`` ``(B', d)`` are features of one batch each (``B' ≠ B``
allowed unless a method says otherwise), ``source_label`` ``(B,)`` the integer source labels,
``target_prob`` ``(B', C)`` target class probabilities (only for methods with
``needs_target_prob``), and ``p ∈ [0, 1]`` the training progress. The caller supplies only the weight α;
the method owns its schedule: discrepancy methods return ``λ(p) · D`` with the DANN/DSAN ramp
``λ(p) = 2/(1+exp(−γp)) − 1`` (:func:`fdan.training.schedule.lambda_ramp`, ``ramp_gamma=γ``, ``None`` = no ramp),
and DANN returns its domain loss with the gradient reversal scaled by ``λ(p)`` (so its discriminator
trains at full strength from step 0). This is the DeepDA convention the public FDAN code inherits.
:meth:`AlignmentMethod.divergence` gives the raw, unscheduled value.

Methods are ``nn.Module``s so that one with parameters (DANN's discriminator) is moved with
``.to(device)``, switched by ``.train()/.eval()``, saved in ``state_dict()`` and found by an optimizer
through ``.parameters()``; ``has_parameters`` says whether there is anything to optimise.

Where a method applies (``scopes``):

- ``"modalities"``: audio = source, face = target, on the *same* utterances (row i of both is one
  utterance, so both sides carry the true label ``source_label``);
- ``"corpora"``: labelled source corpus vs unlabelled target corpus; target labels are never read,
  so class-conditional methods must weight the target by predictions (DSAN).

All computation runs in float32 (float64 stays float64) with autocast disabled: kernels, covariances
and log-sigmoids lose too much in 16 bits. Gradients flow back to the (possibly half-precision)
features through the casts.
"""
from __future__ import annotations

import abc
from typing import ClassVar, Literal, Sequence

import torch
from torch import Tensor, nn

from fdan.alignment.kernels import KernelSpec
from fdan.training.schedule import lambda_ramp

__all__ = ["Scope", "SCOPES", "AlignmentMethod", "KernelMethod"]

Scope = Literal["modalities", "corpora"]
SCOPES: tuple[Scope, ...] = ("modalities", "corpora")


class AlignmentMethod(nn.Module, abc.ABC):
    """Base class: validates and casts inputs, applies the ramp, delegates to :meth:`divergence`.

    Args:
        feature_dim: ``d``, the width of the aligned features (needed by methods with parameters).
        num_classes: ``C`` (needed by methods that build label weights themselves).
        ramp_gamma: γ of the ramp ``λ(p)``; ``None`` applies the full weight from the first step.
    """

    name: ClassVar[str] = ""
    needs_target_prob: ClassVar[bool] = False
    scopes: ClassVar[frozenset[str]] = frozenset(SCOPES)
    reference: ClassVar[str] = ""
    has_term: ClassVar[bool] = True  # False: no loss term at all (source_only, adabn)
    target_statistics: ClassVar[bool] = False  # True: BatchNorm statistics re-estimated on the target (adabn)

    def __init__(self, *, feature_dim: int | None = None, num_classes: int | None = None, ramp_gamma: float | None = 10.0) -> None:
        super().__init__()
        if feature_dim is not None and feature_dim < 1:
            raise ValueError(f"feature_dim must be >= 1, got {feature_dim}")
        if num_classes is not None and num_classes < 1:
            raise ValueError(f"num_classes must be >= 1, got {num_classes}")
        if ramp_gamma is not None and not ramp_gamma > 0:
            raise ValueError(f"ramp_gamma must be > 0 or None, got {ramp_gamma}")
        self.feature_dim = feature_dim
        self.num_classes = num_classes
        self.ramp_gamma = ramp_gamma

    @property
    def has_parameters(self) -> bool:
        """Whether the method has trainable parameters that an optimizer must receive."""
        return any(p.requires_grad for p in self.parameters())

    def ramp(self, progress: float) -> float:
        """``λ(p)``, the factor on the divergence at training progress ``p``."""
        return 1.0 if self.ramp_gamma is None else lambda_ramp(progress, self.ramp_gamma)

    @abc.abstractmethod
    def divergence(self, source: Tensor, target: Tensor, source_label: Tensor, target_prob: Tensor | None) -> Tensor:
        """The raw (unscheduled) loss for float32/64 inputs, a 0-d tensor. Every method defines it."""

    def scheduled(self, source: Tensor, target: Tensor, source_label: Tensor, target_prob: Tensor | None, progress: float) -> Tensor:
        """What :meth:`forward` returns once inputs are checked and cast: ``λ(p) · divergence``."""
        return self.ramp(progress) * self.divergence(source, target, source_label, target_prob)

    def forward(
        self,
        source_feat: Tensor,
        target_feat: Tensor,
        source_label: Tensor,
        target_prob: Tensor | None = None,
        *,
        progress: float,
    ) -> Tensor:
        """The loss term (before α), a 0-d float32 (or float64) tensor on the features' device."""
        self._check(source_feat, target_feat, source_label, target_prob, progress)
        dtype = torch.promote_types(source_feat.dtype, torch.float32)
        with torch.autocast(device_type=source_feat.device.type, enabled=False):
            prob = None if target_prob is None else target_prob.detach().to(dtype)
            return self.scheduled(source_feat.to(dtype), target_feat.to(dtype), source_label, prob, float(progress))

    def loss(
        self,
        source_feat: Tensor,
        target_feat: Tensor,
        source_label: Tensor,
        target_prob: Tensor | None = None,
        *,
        progress: float,
    ) -> Tensor:
        """Alias of calling the module (hooks included)."""
        return self(source_feat, target_feat, source_label, target_prob, progress=progress)

    def _check(self, source: Tensor, target: Tensor, label: Tensor, prob: Tensor | None, progress: float) -> None:
        if source.ndim != 2 or target.ndim != 2 or source.shape[1] != target.shape[1] or 0 in (len(source), len(target)):
            raise ValueError(
                f"{self.name}: features must be non-empty (B, d) and (B', d); got {tuple(source.shape)} and {tuple(target.shape)}"
            )
        if self.feature_dim is not None and source.shape[1] != self.feature_dim:
            raise ValueError(f"{self.name}: built for feature_dim={self.feature_dim}, got features of width {source.shape[1]}")
        if label.shape != (source.shape[0],) or label.is_floating_point() or label.is_complex():
            raise ValueError(f"{self.name}: source_label must be an integer ({source.shape[0]},) tensor, got {label.dtype} {tuple(label.shape)}")
        if prob is None and self.needs_target_prob:
            raise ValueError(f"{self.name} weights target rows by class probabilities: pass target_prob ({target.shape[0]}, C)")
        if prob is not None and (prob.ndim != 2 or prob.shape[0] != target.shape[0]):
            raise ValueError(f"{self.name}: target_prob must be ({target.shape[0]}, C), got {tuple(prob.shape)}")
        if not 0.0 <= float(progress) <= 1.0:
            raise ValueError(f"{self.name}: progress must lie in [0, 1], got {progress}")

    def extra_repr(self) -> str:
        return f"name={self.name!r}, ramp_gamma={self.ramp_gamma}"


class KernelMethod(AlignmentMethod):
    """A method built on the multi-kernel Gaussian kernel of :mod:`fdan.alignment.kernels` (MMD, DSAN, FDAN).

    Its options are the fields of :class:`fdan.alignment.kernels.KernelSpec` (``self.kernel``):
    ``σ_k = σ̄ · m^(k − ⌊K/2⌋)`` with ``m = kernel_mul``, ``K = kernel_num``, ``σ̄ = fix_sigma`` or the mean
    pairwise distance, or explicit multipliers ``bandwidths``.
    """

    def __init__(
        self,
        *,
        kernel_mul: float = 2.0,
        kernel_num: int = 5,
        fix_sigma: float | None = None,
        bandwidths: Sequence[float] | None = None,
        **common: object,
    ) -> None:
        super().__init__(**common)  # type: ignore[arg-type]
        self.kernel = KernelSpec(kernel_mul, kernel_num, fix_sigma, None if bandwidths is None else tuple(bandwidths))
