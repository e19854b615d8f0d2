"""Local MMD (LMMD) with DSAN semantics — class-conditional multi-kernel MMD.

Inputs: source features ``S`` ``(B, d)``, target features ``T`` ``(B', d)`` (``B' ≠ B`` allowed),
source labels ``y`` ``(B,)`` int, target class probabilities ``P`` ``(B', C)`` (rows sum to 1; one-hot
true labels in the public FDAN code, softmax predictions in DSAN). ``C = P.shape[1]``.

Class weights (no gradient):

- ``Ŝ = onehot(y) / count_c`` ``(B, C)``, ``T̂ = P / Σ_i P_ic`` ``(B', C)`` (empty columns stay 0);
- kept classes ``𝒦 = {c : c ∈ y} ∩ {c : c ∈ argmax P}``, other columns of ``Ŝ`` and ``T̂`` zeroed;
- ``W_ss = Σ_c Ŝ_c Ŝ_cᵀ / |𝒦|``, ``W_tt = Σ_c T̂_c T̂_cᵀ / |𝒦|``, ``W_st = Σ_c Ŝ_c T̂_cᵀ / |𝒦|``.

Loss ``= Σ W_ss ⊙ K_SS + Σ W_tt ⊙ K_TT − 2 Σ W_st ⊙ K_ST`` with ``K`` the multi-kernel Gaussian Gram
matrix of ``[S; T]`` (:func:`fdan.alignment.kernels.gaussian_kernel`). Stacking ``U = [Ŝ; −T̂]`` ``(n, C)`` gives the
same loss as ``Σ_c u_cᵀ K u_c / |𝒦|`` (:func:`fdan.alignment.kernels.kernel_quadratic_form`), so all classes are
handled by one ``(n, n) × (n, C)`` product. With no kept class ``U = 0`` and the loss is an exact 0 that is still
part of the graph.
"""
from __future__ import annotations

from typing import Any

import torch
from torch import Tensor

from fdan.alignment.kernels import KernelSpec, autocast_disabled, kernel_quadratic_form, pairwise_sq_distances

__all__ = ["lmmd_class_weights", "lmmd_weight_matrices", "lmmd", "spread_normalise"]


def _check_inputs(source: Tensor, target: Tensor, source_label: Tensor, target_prob: Tensor) -> None:
    if source.ndim != 2 or target.ndim != 2 or source.shape[1] != target.shape[1]:
        raise ValueError(f"source and target must be (B, d) and (B', d); got {tuple(source.shape)} and {tuple(target.shape)}")
    if source_label.shape != (source.shape[0],):
        raise ValueError(f"source_label must be ({source.shape[0]},), got {tuple(source_label.shape)}")
    if source_label.is_floating_point() or source_label.is_complex():
        raise TypeError(f"source_label must be an integer tensor, got {source_label.dtype}")
    if target_prob.ndim != 2 or target_prob.shape[0] != target.shape[0] or target_prob.shape[1] < 1:
        raise ValueError(f"target_prob must be ({target.shape[0]}, C), got {tuple(target_prob.shape)}")


def lmmd_class_weights(source_label: Tensor, target_prob: Tensor, dtype: torch.dtype | None = None) -> tuple[Tensor, Tensor, Tensor]:
    """Normalised, masked class-weight vectors (detached).

    Args:
        source_label: ``(B,)`` integer labels in ``[0, C)``; a label outside that range matches no
            class and is ignored (checking it would need a device→host sync).
        target_prob: ``(B', C)`` class probabilities (not differentiated).
        dtype: floating dtype of the result (default ``target_prob``'s dtype).

    Returns:
        ``(Ŝ, T̂, n_kept)``: ``Ŝ`` ``(B, C)`` and ``T̂`` ``(B', C)`` with the columns of non-kept classes
        zeroed, and ``n_kept`` a 0-d tensor holding ``|𝒦|`` (in ``dtype``).
    """
    prob = target_prob.detach()
    dtype = dtype or prob.dtype
    prob = prob.to(dtype)
    c = prob.shape[1]
    classes = torch.arange(c, device=prob.device)
    s_onehot = (source_label.detach().unsqueeze(1) == classes).to(dtype)  # (B, C)
    s_count = s_onehot.sum(dim=0)
    t_sum = prob.sum(dim=0)
    t_present = (prob.argmax(dim=1).unsqueeze(1) == classes).any(dim=0)  # (C,)
    keep = ((s_count > 0) & t_present).to(dtype)
    # Mask and normalisation folded into one (C,) scale per side; empty columns are all zero anyway.
    s_hat = s_onehot * (keep / s_count.clamp_min(1.0))
    t_hat = prob * (keep / torch.where(t_sum > 0, t_sum, 1.0))
    return s_hat, t_hat, keep.sum()


def lmmd_weight_matrices(source_label: Tensor, target_prob: Tensor, dtype: torch.dtype | None = None) -> tuple[Tensor, Tensor, Tensor]:
    """DSAN's weight matrices ``(W_ss (B,B), W_tt (B',B'), W_st (B,B'))``, already divided by ``|𝒦|``.

    All zero when no class is kept. :func:`lmmd` does not build them (it uses the factored form);
    they are here for inspection and tests.
    """
    s_hat, t_hat, n_kept = lmmd_class_weights(source_label, target_prob, dtype)
    scale = 1.0 / n_kept.clamp_min(1.0)
    return s_hat @ s_hat.t() * scale, t_hat @ t_hat.t() * scale, s_hat @ t_hat.t() * scale


def lmmd(
    source: Tensor,
    target: Tensor,
    source_label: Tensor,
    target_prob: Tensor,
    *,
    kernel: KernelSpec | None = None,
    **kernel_options: Any,
) -> Tensor:
    """LMMD loss between ``source`` ``(B, d)`` and ``target`` ``(B', d)``, a 0-d tensor.

    Args:
        source_label: ``(B,)`` integer class labels of the source rows.
        target_prob: ``(B', C)`` target class probabilities; ``C`` is the class count. Never
            receives a gradient.
        kernel: the bandwidths (:class:`fdan.alignment.kernels.KernelSpec`); or its fields as keywords
            (``kernel_mul``, ``kernel_num``, ``fix_sigma``, ``bandwidths``), DSAN's spelling.

    Returns:
        The raw loss (no λ ramp) in the features' dtype and on their device; gradients reach
        ``source`` and ``target`` only.
    """
    _check_inputs(source, target, source_label, target_prob)
    # Weights in at least float32 (kernel_quadratic_form computes half-precision features in float32).
    s_hat, t_hat, n_kept = lmmd_class_weights(source_label, target_prob, torch.promote_types(source.dtype, torch.float32))
    u = torch.cat([s_hat, -t_hat], dim=0)  # (n, C)
    loss = kernel_quadratic_form(source, target, u, kernel or KernelSpec(**kernel_options))
    return loss / n_kept.clamp_min(1.0).to(loss.dtype)


def spread_normalise(source: Tensor, target: Tensor) -> tuple[Tensor, Tensor]:
    """``(S / c, T / c)`` with ``c = sqrt(ΣD / (n² − n))`` over ``Z = [S; T]`` — differentiated, unlike σ̄.

    LMMD's base bandwidth σ̄ is the *detached* mean pairwise distance, so every gradient step sees
    "shrink the whole cloud" as a descent direction (at a fixed bandwidth all kernel values rise to
    their maximum and the class-weighted difference to 0); the next step's σ̄ shrinks with the cloud,
    and a large LMMD weight contracts the features until no head can separate the classes. On the
    rescaled features σ̄ = 1 and ``lmmd(S/c, T/c)`` is invariant to the scale of ``Z``: contraction no
    longer lowers it, only aligning the class-conditional distributions does. Computed in float32.
    """
    if source.ndim != 2 or target.ndim != 2 or source.shape[1] != target.shape[1]:
        raise ValueError(f"source and target must be (B, d) and (B', d); got {tuple(source.shape)} and {tuple(target.shape)}")
    z = torch.cat([source, target], dim=0)
    dtype = torch.promote_types(z.dtype, torch.float32)
    n = z.shape[0]
    with autocast_disabled(z.device.type):
        d = pairwise_sq_distances(z.to(dtype))
        c = (d.sum() / max(n * n - n, 1)).clamp_min(torch.finfo(dtype).tiny).sqrt()
        return source.to(dtype) / c, target.to(dtype) / c
