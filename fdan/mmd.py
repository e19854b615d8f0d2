"""Multi-kernel Gaussian MMD (DAN / DSAN / DeepDA conventions).

Notation: source ``S`` is ``(B, d)``, target ``T`` is ``(B', d)``, ``Z = [S; T]`` is ``(n, d)`` with
``n = B + B'`` and ``D_ij = ‖z_i − z_j‖²``.

- Base bandwidth ``σ̄ = fix_sigma`` if given and non-zero, else ``ΣD / (n² − n)`` (the mean
  off-diagonal squared distance), computed without gradient.
- Bandwidths ``σ_k = σ̄ · r_k``: by default ``r_k = m^(k − ⌊K/2⌋)``, k = 0..K−1 (``m = kernel_mul``,
  ``K = kernel_num``), or an explicit list ``bandwidths = [r_0, r_1, ...]``.
- Kernel ``K_ij = Σ_k exp(−D_ij / σ_k)`` — a *sum* over bandwidths, as in DSAN, not a mean.

Everything stays on the inputs' device and dtype; nothing is read back to the host.
"""
from __future__ import annotations

from typing import Sequence

import torch
from torch import Tensor

__all__ = ["pairwise_sq_distances", "bandwidth_multipliers", "gaussian_kernel", "mmd"]


def pairwise_sq_distances(z: Tensor) -> Tensor:
    """Squared Euclidean distances ``D_ij = ‖z_i − z_j‖²`` of the rows of ``z`` ``(n, d)`` → ``(n, n)``.

    Uses ``‖a‖² + ‖b‖² − 2 a·b`` on *centred* rows (distances are translation invariant): centring
    removes the cancellation that makes the plain matmul trick inaccurate in float32 when the
    features share a large common offset, and it keeps the cost at one ``n×n×d`` matmul instead of
    the ``n×n×d`` temporary of expand-subtract. The diagonal is exactly 0 and no entry is negative.
    """
    zc = z - z.mean(dim=0, keepdim=True)
    sq = zc.pow(2).sum(dim=1)
    d = (sq.unsqueeze(1) + sq.unsqueeze(0)).addmm_(zc, zc.t(), alpha=-2.0)
    # Rounding leaves tiny (possibly negative) values on the diagonal; the true value and gradient are 0.
    eye = torch.eye(z.shape[0], dtype=torch.bool, device=z.device)
    return d.clamp_min(0.0).masked_fill(eye, 0.0)


def bandwidth_multipliers(
    *,
    kernel_mul: float = 2.0,
    kernel_num: int = 5,
    bandwidths: Sequence[float] | None = None,
    dtype: torch.dtype = torch.float32,
    device: torch.device | str | None = None,
) -> Tensor:
    """Multipliers ``r_k`` ``(K,)``: ``bandwidths`` if given, else ``kernel_mul ** (k − kernel_num // 2)``."""
    if bandwidths is not None:
        if len(bandwidths) == 0 or any(not (float(b) > 0) for b in bandwidths):
            raise ValueError(f"bandwidths must be a non-empty list of positive numbers, got {list(bandwidths)}")
        return torch.tensor([float(b) for b in bandwidths], dtype=dtype, device=device)
    if kernel_num < 1:
        raise ValueError(f"kernel_num must be >= 1, got {kernel_num}")
    if not kernel_mul > 0:
        raise ValueError(f"kernel_mul must be > 0, got {kernel_mul}")
    exponents = torch.arange(kernel_num, dtype=dtype, device=device) - (kernel_num // 2)
    return torch.pow(torch.tensor(float(kernel_mul), dtype=dtype, device=device), exponents)


def gaussian_kernel(
    source: Tensor,
    target: Tensor,
    *,
    kernel_mul: float = 2.0,
    kernel_num: int = 5,
    fix_sigma: float | None = None,
    bandwidths: Sequence[float] | None = None,
) -> Tensor:
    """Multi-kernel Gaussian Gram matrix of ``Z = [source; target]``.

    Args:
        source: ``(B, d)`` features. target: ``(B', d)`` features, same dtype and device.
        kernel_mul, kernel_num: geometric bandwidth ladder ``σ̄ · m^(k − ⌊K/2⌋)``.
        fix_sigma: fixed base bandwidth ``σ̄``; ``None`` or 0 means the mean pairwise distance.
        bandwidths: explicit multipliers ``r_k`` replacing kernel_mul/kernel_num (``σ_k = σ̄ r_k``).

    Returns:
        ``(n, n)`` with ``n = B + B'``: ``K_ij = Σ_k exp(−D_ij / σ_k)``. Gradients flow to the
        features through ``D`` only; the bandwidth is a constant.
    """
    if source.ndim != 2 or target.ndim != 2 or source.shape[1] != target.shape[1]:
        raise ValueError(f"source and target must be (B, d) and (B', d); got {tuple(source.shape)} and {tuple(target.shape)}")
    z = torch.cat([source, target], dim=0)
    n = z.shape[0]
    dist = pairwise_sq_distances(z)
    ratios = bandwidth_multipliers(
        kernel_mul=kernel_mul, kernel_num=kernel_num, bandwidths=bandwidths, dtype=z.dtype, device=z.device
    )
    if fix_sigma:
        base = torch.as_tensor(float(fix_sigma), dtype=z.dtype, device=z.device)
    else:
        # ΣD / (n² − n); a single row (n = 1) has no pairs, and its only distance is 0 anyway.
        base = dist.detach().sum() / max(n * n - n, 1)
    # Clamp so that identical points (σ̄ = 0) give exp(−0/σ) = 1 rather than 0/0 = NaN.
    sigmas = (base * ratios).clamp_min(torch.finfo(z.dtype).tiny)
    return torch.exp(dist.unsqueeze(0) / -sigmas.view(-1, 1, 1)).sum(dim=0)


def mmd(
    source: Tensor,
    target: Tensor,
    *,
    kernel_mul: float = 2.0,
    kernel_num: int = 5,
    fix_sigma: float | None = None,
    bandwidths: Sequence[float] | None = None,
) -> Tensor:
    """Biased multi-kernel MMD², a 0-d tensor.

    ``MMD² = mean(K_SS) + mean(K_TT) − 2 mean(K_ST)`` with ``K`` from :func:`gaussian_kernel`
    (``K_SS`` is ``(B, B)``, ``K_TT`` ``(B', B')``, ``K_ST`` ``(B, B')``; the batch sizes may differ).
    It equals LMMD with a single class.
    """
    b = source.shape[0]
    k = gaussian_kernel(
        source, target, kernel_mul=kernel_mul, kernel_num=kernel_num, fix_sigma=fix_sigma, bandwidths=bandwidths
    )
    return k[:b, :b].mean() + k[b:, b:].mean() - 2.0 * k[:b, b:].mean()
