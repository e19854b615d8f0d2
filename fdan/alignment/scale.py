"""One normalisation rule for every divergence (``train.lmmd_scale_invariant``, default on), and the gains that put
the methods' feature gradients on the same footing.

Under the rule, no method can lower its divergence by shrinking the features, and every method's feature
gradient at its default weight is of the same order:

- kernel methods (``fdan``, ``dsan``, ``mmd``): features divided by their RMS pairwise distance
  (:func:`fdan.alignment.lmmd.spread_normalise`, differentiated); with the data-driven bandwidth the kernel values
  are invariant to any global factor, so this equals dividing by the per-dimension RMS below.
- ``coral``, ``dann``: features centred on their pooled mean and divided by their pooled per-dimension RMS
  deviation ``c = sqrt(mean_j Var_j([S; T]))`` (differentiated), :func:`unit_rms`: standardised features
  (centred so that DANN's adversarial ascent cannot blow them up by contracting the rows: see there).
- gain ``g_m`` on the scheduled term (``total = CE + α · g_m · λ(p) · D_m``): 1 for every method but CORAL
  (:data:`GRADIENT_GAIN`). Measured (LayerNorm features, target shifted along a random direction, weight 1,
  ramp off; tests/fdan/alignment/test_scale.py) the norm of ∂term/∂features: LMMD 0.0064, MMD 0.005, CORAL
  0.009 (gain 40; 1/60–1/35 of LMMD without), DANN 0.014 — DANN measured where training runs it, at a
  discriminator trained 50 steps: at its initial discriminator the figure is 17× smaller, and a gain of 10 set
  there (the first version of this rule) made the reversed gradient swamp the cross-entropies once the
  discriminator learned (cross-corpus DANN at chance, one predicted class, at every weight of the grid).

With the option off every method sees the raw features with gain 1: the published forms, at whatever
scale their losses happen to have. Either way ``experiments/baselines.yaml`` searches each method's
weight on the same log grid with the same number of trials.
"""
from __future__ import annotations

import torch
from torch import Tensor

from fdan.alignment.lmmd import spread_normalise

KERNEL_METHODS = ("fdan", "dsan", "mmd")
GRADIENT_GAIN: dict[str, float] = {"coral": 40.0}


def unit_rms(source: Tensor, target: Tensor) -> tuple[Tensor, Tensor]:
    """``((S − μ) / c, (T − μ) / c)``: the pair standardised together, with the pooled mean ``μ = mean_i [S; T]_i``
    ``(d,)`` and ``c = sqrt(mean_j Var_j([S; T]))`` (float32 or wider, both differentiated).

    Centring matters for DANN, whose features *ascend* the discriminator's loss: with ``S / c`` alone the
    rows could pull together around a common nonzero point (LayerNorm features keep their norm), ``c → 0``,
    and the discriminator's inputs ``≈ μ / c`` would grow without bound, which raises its loss without end;
    the features then collapse to one point (one predicted class). Standardised, the pair always has unit
    mean variance and zero pooled mean, whatever the features do. CORAL (covariances) is unchanged by it.
    """
    z = torch.cat([source, target], dim=0)
    dtype = torch.promote_types(z.dtype, torch.float32)
    z = z.to(dtype)
    mu = z.mean(dim=0)
    c = z.var(dim=0, unbiased=False).mean().clamp_min(torch.finfo(dtype).tiny).sqrt()
    return (source.to(dtype) - mu) / c, (target.to(dtype) - mu) / c


def normalised_pair(method: str, source: Tensor, target: Tensor, scale_invariant: bool) -> tuple[Tensor, Tensor]:
    """The features method ``method`` sees (module docstring); unchanged when ``scale_invariant`` is off."""
    if not scale_invariant:
        return source, target
    return spread_normalise(source, target) if method in KERNEL_METHODS else unit_rms(source, target)


def term_gain(method: str, scale_invariant: bool) -> float:
    """``g_m``: the factor on method ``method``'s scheduled term (1 with the option off)."""
    return GRADIENT_GAIN.get(method, 1.0) if scale_invariant else 1.0
