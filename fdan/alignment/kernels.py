"""Multi-kernel Gaussian kernels of MMD and LMMD (DAN / DSAN / DeepDA conventions).

Notation: source ``S`` is ``(B, d)``, target ``T`` is ``(B', d)``, ``Z = [S; T]`` is ``(n, d)`` with
``n = B + B'`` and ``D_ij = ‖z_i − z_j‖²``.

- Base bandwidth ``σ̄ = fix_sigma`` if given and non-zero, else ``ΣD / (n² − n)`` (the mean
  off-diagonal squared distance), computed without gradient.
- Bandwidths ``σ_k = σ̄ · r_k``: by default ``r_k = m^(k − ⌊K/2⌋)``, k = 0..K−1 (``m = kernel_mul``,
  ``K = kernel_num``), or an explicit list ``bandwidths = [r_0, r_1, ...]``.
- Kernel ``K_ij = Σ_k exp(−D_ij / σ_k)`` — a *sum* over bandwidths, as in DSAN, not a mean.

Both MMD and LMMD are quadratic forms of this kernel, ``Σ_c u_cᵀ K u_c`` for constant weight columns
``U = [u_1 … u_C]`` ``(n, C)`` (MMD: one column ``[1/B; −1/B']``). :func:`kernel_quadratic_form`
evaluates that with a hand-written backward (one ``n×n×d`` matmul, no autograd graph over the
``(K, n, n)`` intermediates), which is what makes LMMD cheap. Everything stays on the inputs'
device; nothing is read back to the host. The kernel is always computed in (at least) float32 with
autocast disabled, forward and backward — under bf16 autocast the quadratic form of nearly aligned
features otherwise loses ~10 % — and the result is cast back to the features' dtype.
"""
from __future__ import annotations

import contextlib
from dataclasses import dataclass

import torch
from torch import Tensor
from torch.autograd.function import FunctionCtx, once_differentiable

__all__ = ["KernelSpec", "pairwise_sq_distances", "check_pair", "gaussian_kernel", "kernel_quadratic_form"]


def pairwise_sq_distances(z: Tensor) -> Tensor:
    """Squared Euclidean distances ``D_ij = ‖z_i − z_j‖²`` of the rows of ``z`` ``(n, d)`` → ``(n, n)``.

    Uses ``‖a‖² + ‖b‖² − 2 a·b`` on *centred* rows (distances are translation invariant): centring
    removes the cancellation that makes the plain matmul trick inaccurate in float32 when the
    features share a large common offset, and it costs one ``n×n×d`` matmul instead of the
    ``(n, n, d)`` temporary of expand-subtract. The diagonal is exactly 0 and no entry is negative.
    """
    return _centred_sq_distances(z - z.mean(dim=0, keepdim=True))


def _centred_sq_distances(zc: Tensor) -> Tensor:
    sq = zc.pow(2).sum(dim=1)
    d = (sq.unsqueeze(1) + sq.unsqueeze(0)).addmm_(zc, zc.t(), alpha=-2.0)
    # Rounding leaves tiny (possibly negative) values on the diagonal; the true value and gradient are 0.
    eye = torch.eye(zc.shape[0], dtype=torch.bool, device=zc.device)
    return d.clamp_min(0.0).masked_fill(eye, 0.0)


@dataclass(frozen=True)
class KernelSpec:
    """The bandwidths of the multi-kernel Gaussian (module doc), said once for every kernel user.

    ``kernel_mul``, ``kernel_num``: the ladder ``σ_k = σ̄ · m^(k − ⌊K/2⌋)``; ``fix_sigma``: a fixed base
    bandwidth ``σ̄`` (``None`` or 0: the mean pairwise distance); ``bandwidths``: explicit multipliers
    ``r_k`` replacing the ladder. Invalid values raise ``ValueError`` when the spec is made.
    """

    kernel_mul: float = 2.0
    kernel_num: int = 5
    fix_sigma: float | None = None
    bandwidths: tuple[float, ...] | None = None

    def __post_init__(self) -> None:
        if self.bandwidths is not None:
            if len(self.bandwidths) == 0 or any(not (float(b) > 0) for b in self.bandwidths):
                raise ValueError(f"bandwidths must be a non-empty list of positive numbers, got {list(self.bandwidths)}")
            object.__setattr__(self, "bandwidths", tuple(float(b) for b in self.bandwidths))
        elif self.kernel_num < 1:
            raise ValueError(f"kernel_num must be >= 1, got {self.kernel_num}")
        elif not self.kernel_mul > 0:
            raise ValueError(f"kernel_mul must be > 0, got {self.kernel_mul}")

    def multipliers(self, dtype: torch.dtype = torch.float32, device: torch.device | str | None = None) -> Tensor:
        """Multipliers ``r_k`` ``(K,)``: ``bandwidths`` if given, else ``kernel_mul ** (k − kernel_num // 2)``."""
        if self.bandwidths is not None:
            # Built on the host; non_blocking so that a CUDA copy does not synchronise the stream.
            return torch.tensor(self.bandwidths, dtype=dtype).to(device, non_blocking=True)
        exponents = torch.arange(self.kernel_num, dtype=dtype, device=device) - (self.kernel_num // 2)
        return torch.pow(float(self.kernel_mul), exponents)


DEFAULT_KERNEL = KernelSpec()


def _inverse_bandwidths(dist: Tensor, ratios: Tensor, fix_sigma: float | None) -> Tensor:
    """``1 / σ_k`` ``(K,)`` from the detached distances ``(n, n)`` and the multipliers ``r_k``."""
    n = dist.shape[0]
    # ΣD / (n² − n); a single row has no pairs (and its only distance is 0 anyway).
    base = float(fix_sigma) if fix_sigma else dist.detach().sum() / max(n * n - n, 1)
    # Clamped so that identical points (σ̄ = 0) give exp(−0 · 1/σ) = 1 rather than NaN.
    return 1.0 / (base * ratios).clamp_min(torch.finfo(dist.dtype).tiny)


def check_pair(source: Tensor, target: Tensor) -> None:
    if source.ndim != 2 or target.ndim != 2 or source.shape[1] != target.shape[1] or 0 in (len(source), len(target)):
        raise ValueError(
            f"source and target must be non-empty (B, d) and (B', d); got {tuple(source.shape)} and {tuple(target.shape)}"
        )


def gaussian_kernel(source: Tensor, target: Tensor, kernel: KernelSpec = DEFAULT_KERNEL) -> Tensor:
    """Multi-kernel Gaussian Gram matrix of ``Z = [source; target]`` (plain autograd).

    Args:
        source: ``(B, d)`` features. target: ``(B', d)`` features, same dtype and device.
        kernel: the bandwidths (:class:`KernelSpec`).

    Returns:
        ``(n, n)`` with ``n = B + B'``: ``K_ij = Σ_k exp(−D_ij / σ_k)``; the bandwidth is a constant.
        Computed in float32 (autocast off), returned in the features' dtype.
    """
    check_pair(source, target)
    z = torch.cat([source, target], dim=0)
    z32, no_autocast = _float32_no_autocast(z)
    with no_autocast:
        dist = pairwise_sq_distances(z32)
        inv = _inverse_bandwidths(dist, kernel.multipliers(dist.dtype, dist.device), kernel.fix_sigma)
        return torch.exp(dist.unsqueeze(0) * -inv.view(-1, 1, 1)).sum(dim=0).to(z.dtype)


def autocast_disabled(device_type: str) -> contextlib.AbstractContextManager:
    """Autocast off on ``device_type`` (a no-op on devices without autocast, such as ``meta``)."""
    if torch.amp.is_autocast_available(device_type):
        return torch.autocast(device_type, enabled=False)
    return contextlib.nullcontext()


def _float32_no_autocast(t: Tensor) -> tuple[Tensor, contextlib.AbstractContextManager]:
    """``t`` in at least float32, and a context that disables autocast on its device."""
    return t.to(torch.promote_types(t.dtype, torch.float32)), autocast_disabled(t.device.type)


class _KernelQuadraticForm(torch.autograd.Function):
    """``L = Σ_c u_cᵀ K(Z) u_c`` with ``U`` and the bandwidths constant.

    Backward: with ``W = U Uᵀ`` and ``E_k = exp(−D / σ_k)``, ``A = ∂L/∂D = −W ⊙ Σ_k E_k / σ_k``
    (symmetric), and ``∂L/∂z_i = Σ_j 2 A_ij · 2 (z_i − z_j) = 4 (rowsum(A)_i z_i − (A Z)_i)``.
    Only ``Σ_k E_k / σ_k`` ``(n, n)`` is kept for backward, not the ``(K, n, n)`` exponentials.
    """

    @staticmethod
    def forward(ctx: FunctionCtx, z: Tensor, u: Tensor, ratios: Tensor, fix_sigma: float | None) -> Tensor:
        zc = z - z.mean(dim=0, keepdim=True)
        dist = _centred_sq_distances(zc)
        inv = _inverse_bandwidths(dist, ratios, fix_sigma)
        e = torch.exp(dist.unsqueeze(0) * -inv.view(-1, 1, 1))  # (K, n, n)
        if ctx.needs_input_grad[0]:
            ctx.save_for_backward(zc, torch.einsum("kij,k->ij", e, inv), u)
        return ((e.sum(dim=0) @ u) * u).sum()

    @staticmethod
    @once_differentiable
    def backward(ctx: FunctionCtx, grad: Tensor) -> tuple[Tensor | None, None, None, None]:
        zc, e_over_sigma, u = ctx.saved_tensors
        # backward() may run inside an autocast region (on CPU it runs on the calling thread).
        with autocast_disabled(zc.device.type):
            a = (u @ u.t()).mul_(e_over_sigma).mul_(grad.to(zc.dtype) * -4.0)
            return a.sum(dim=1, keepdim=True) * zc - a @ zc, None, None, None


def kernel_quadratic_form(source: Tensor, target: Tensor, weights: Tensor, kernel: KernelSpec = DEFAULT_KERNEL) -> Tensor:
    """``Σ_c w_cᵀ K w_c = Σ (K W) ⊙ W`` for ``K`` = :func:`gaussian_kernel` of ``source``, ``target``.

    Args:
        weights: ``(B + B', C)`` columns ``w_c`` (rows of the source first); treated as constants.

    Returns:
        A 0-d tensor in the features' dtype; gradients reach ``source`` and ``target`` only (not
        the weights, not σ). Half-precision features are computed in float32 (exp(−D/σ) and the
        distances lose too much in 16 bits) and the result is cast back; autocast is disabled
        inside (forward and backward), so the result under autocast equals the float32 one.
    """
    check_pair(source, target)
    z = torch.cat([source, target], dim=0)
    if weights.ndim != 2 or weights.shape[0] != z.shape[0]:
        raise ValueError(f"weights must be ({z.shape[0]}, C), got {tuple(weights.shape)}")
    z32, no_autocast = _float32_no_autocast(z)
    with no_autocast:
        ratios = kernel.multipliers(z32.dtype, z.device)
        out = _KernelQuadraticForm.apply(z32, weights.detach().to(z32.dtype), ratios, kernel.fix_sigma)
    return out.to(z.dtype)

