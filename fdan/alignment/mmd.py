"""Plain multi-kernel MMD² between two feature batches (the kernel: :mod:`fdan.alignment.kernels`)."""
from __future__ import annotations

from typing import Any

import torch
from torch import Tensor

from fdan.alignment.kernels import KernelSpec, check_pair, kernel_quadratic_form

__all__ = ["mmd"]


def mmd(
    source: Tensor,
    target: Tensor,
    *,
    kernel: KernelSpec | None = None,
    **kernel_options: Any,
) -> Tensor:
    """Biased multi-kernel MMD², a 0-d tensor.

    ``MMD² = mean(K_SS) + mean(K_TT) − 2 mean(K_ST) = uᵀ K u`` with ``u = [1/B · 1_B; −1/B' · 1_B']``
    (``K_SS`` is ``(B, B)``, ``K_TT`` ``(B', B')``, ``K_ST`` ``(B, B')``; the batch sizes may differ).
    It equals LMMD with a single class. ``kernel`` (or its fields as keywords): as :func:`fdan.alignment.lmmd.lmmd`.
    """
    check_pair(source, target)
    b, b2 = source.shape[0], target.shape[0]
    dtype = torch.promote_types(source.dtype, torch.float32)
    u = torch.cat([source.new_full((b, 1), 1.0 / b, dtype=dtype), source.new_full((b2, 1), -1.0 / b2, dtype=dtype)])
    return kernel_quadratic_form(source, target, u, kernel or KernelSpec(**kernel_options))
