"""One normalisation rule for every divergence (``train.lmmd_scale_invariant``, default on), and the gains that put
the methods' feature gradients on the same footing.

Under the rule, no method can lower its divergence by shrinking the features, and every method's feature
gradient at its default weight is of the same order:

- kernel methods (``fdan``, ``dsan``, ``mmd``): features divided by their RMS pairwise distance
  (:func:`fdan.alignment.lmmd.spread_normalise`, differentiated); with the data-driven bandwidth the kernel values
  are invariant to any global factor, so this equals dividing by the per-dimension RMS below.
- ``coral``, ``dann``: features divided by their pooled per-dimension RMS deviation
  ``c = sqrt(mean_j Var_j([S; T]))`` (differentiated), :func:`unit_rms`: unit-variance features.
- gain ``g_m`` on the scheduled term (``total = CE + α · g_m · λ(p) · D_m``): 1 for the kernel methods,
  :data:`GRADIENT_GAIN` for the others. Measured (LayerNorm features, source and target shifted by
  0.3, weight 1, ramp off; mean over 10 draws) the norm of ∂term/∂features relative to FDAN's LMMD:
  MMD 0.27–0.37, DSAN 0.6, CORAL 1/60–1/35, DANN 1/16–1/8 for (d, B) = (64, 16), (32, 32), (128, 16);
  with the gains CORAL and DANN land within 2–3× of LMMD (tests/fdan/alignment/test_scale.py checks
  one order of magnitude at d = 64, B = 16). DANN's figure holds at its initial discriminator.

With the option off every method sees the raw features with gain 1: the published forms, at whatever
scale their losses happen to have. Either way ``experiments/baselines.yaml`` searches each method's
weight on the same log grid with the same number of trials.
"""
from __future__ import annotations

import torch
from torch import Tensor

from fdan.alignment.lmmd import spread_normalise

KERNEL_METHODS = ("fdan", "dsan", "mmd")
GRADIENT_GAIN: dict[str, float] = {"coral": 40.0, "dann": 10.0}


def unit_rms(source: Tensor, target: Tensor) -> tuple[Tensor, Tensor]:
    """``(S / c, T / c)`` with ``c = sqrt(mean_j Var_j([S; T]))`` (float32 or wider, differentiated)."""
    z = torch.cat([source, target], dim=0)
    dtype = torch.promote_types(z.dtype, torch.float32)
    c = z.to(dtype).var(dim=0, unbiased=False).mean().clamp_min(torch.finfo(dtype).tiny).sqrt()
    return source.to(dtype) / c, target.to(dtype) / c


def normalised_pair(method: str, source: Tensor, target: Tensor, scale_invariant: bool) -> tuple[Tensor, Tensor]:
    """The features method ``method`` sees (module docstring); unchanged when ``scale_invariant`` is off."""
    if not scale_invariant:
        return source, target
    return spread_normalise(source, target) if method in KERNEL_METHODS else unit_rms(source, target)


def term_gain(method: str, scale_invariant: bool) -> float:
    """``g_m``: the factor on method ``method``'s scheduled term (1 with the option off)."""
    return GRADIENT_GAIN.get(method, 1.0) if scale_invariant else 1.0
