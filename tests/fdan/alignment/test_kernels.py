"""Multi-kernel Gaussian kernel and plain MMD."""
from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest
import torch

from fdan.alignment.kernels import KernelSpec, gaussian_kernel, kernel_quadratic_form, pairwise_sq_distances
from fdan.alignment.mmd import mmd

ORACLE = Path(__file__).resolve().parents[2] / "data" / "lmmd_reference.npz"
_Z = np.load(ORACLE, allow_pickle=False)


def _brute_kernel(s: np.ndarray, t: np.ndarray, ratios: list[float], fix_sigma=None) -> np.ndarray:
    z = np.concatenate([s, t]).astype(np.float64)
    dist = ((z[:, None, :] - z[None, :, :]) ** 2).sum(-1)
    n = len(z)
    base = fix_sigma if fix_sigma else dist.sum() / (n * n - n)
    return sum(np.exp(-dist / (base * r)) for r in ratios)


def test_pairwise_sq_distances_match_direct_definition() -> None:
    z = torch.randn(9, 5, dtype=torch.float64) * 3 + 50
    d = pairwise_sq_distances(z)
    ref = ((z[:, None] - z[None]) ** 2).sum(-1)
    torch.testing.assert_close(d, ref, rtol=1e-10, atol=1e-9)
    assert torch.all(d.diagonal() == 0) and torch.all(d >= 0)


def test_kernel_spec_multipliers_and_validation() -> None:
    torch.testing.assert_close(
        KernelSpec(kernel_mul=2.0, kernel_num=5).multipliers(torch.float64),
        torch.tensor([0.25, 0.5, 1.0, 2.0, 4.0], dtype=torch.float64),
    )
    torch.testing.assert_close(
        KernelSpec(kernel_mul=1.5, kernel_num=4).multipliers(torch.float64),
        torch.tensor([1.5**-2, 1.5**-1, 1.0, 1.5], dtype=torch.float64),
    )
    torch.testing.assert_close(
        KernelSpec(kernel_mul=9.0, kernel_num=9, bandwidths=[0.5, 3.0]).multipliers(torch.float64),
        torch.tensor([0.5, 3.0], dtype=torch.float64),
    )
    for bad in ({"kernel_num": 0}, {"kernel_mul": 0.0}, {"bandwidths": []}, {"bandwidths": [1.0, -1.0]}):
        with pytest.raises(ValueError):
            KernelSpec(**bad)


@pytest.mark.parametrize("kw,ratios", [({}, [0.25, 0.5, 1, 2, 4]), ({"kernel_mul": 1.5, "kernel_num": 3}, [1 / 1.5, 1, 1.5]),
                                       ({"bandwidths": [0.1, 10.0]}, [0.1, 10.0]), ({"fix_sigma": 2.5}, [0.25, 0.5, 1, 2, 4])])
def test_gaussian_kernel_matches_brute_force_unequal_sizes(kw: dict, ratios: list[float]) -> None:
    s, t = torch.randn(5, 4, dtype=torch.float64), torch.randn(8, 4, dtype=torch.float64) + 1
    k = gaussian_kernel(s, t, KernelSpec(**kw))
    assert k.shape == (13, 13)
    np.testing.assert_allclose(k.numpy(), _brute_kernel(s.numpy(), t.numpy(), ratios, kw.get("fix_sigma")), rtol=1e-10)
    # A sum over bandwidths, not a mean: the diagonal is the number of kernels.
    np.testing.assert_allclose(k.diagonal().numpy(), len(ratios))


@pytest.mark.parametrize("i", range(int(_Z["n_cases"])))
def test_base_bandwidth_matches_oracle(i: int) -> None:
    # With one kernel of multiplier 1, K_ij = exp(−D_ij / σ̄), so σ̄ = −D_ij / log K_ij.
    params = json.loads(str(_Z[f"case{i}_params"]))
    s, t = torch.tensor(_Z[f"case{i}_source"]), torch.tensor(_Z[f"case{i}_target"])
    k = gaussian_kernel(s, t, KernelSpec(bandwidths=[1.0], fix_sigma=params["fix_sigma"]))
    d = pairwise_sq_distances(torch.cat([s, t]))
    sigma = -d[0, 1] / torch.log(k[0, 1])
    np.testing.assert_allclose(sigma.item(), float(_Z[f"case{i}_bandwidth"]), rtol=1e-8)


def test_fix_sigma_zero_means_data_driven() -> None:
    s, t = torch.randn(4, 3, dtype=torch.float64), torch.randn(6, 3, dtype=torch.float64)
    torch.testing.assert_close(gaussian_kernel(s, t, KernelSpec(fix_sigma=0.0)), gaussian_kernel(s, t))


def test_identical_points_give_finite_kernel() -> None:
    z = torch.ones(3, 4)
    k = gaussian_kernel(z, z)
    torch.testing.assert_close(k, torch.full((6, 6), 5.0))
    assert mmd(z, z).item() == pytest.approx(0.0, abs=1e-6)


def test_mmd_identical_samples_near_zero_and_shift_positive() -> None:
    g = torch.Generator().manual_seed(0)
    x = torch.randn(64, 8, generator=g)
    assert abs(mmd(x, x.clone()).item()) < 1e-5
    shifts = [mmd(x, torch.randn(64, 8, generator=g) + shift).item() for shift in (0.0, 1.0, 3.0)]
    assert shifts[1] > 0.05 and shifts[2] > shifts[1]
    assert shifts[0] < shifts[1]


def test_mmd_unequal_sizes_matches_block_means() -> None:
    s, t = torch.randn(3, 5, dtype=torch.float64), torch.randn(7, 5, dtype=torch.float64)
    k = _brute_kernel(s.numpy(), t.numpy(), [0.25, 0.5, 1, 2, 4])
    ref = k[:3, :3].mean() + k[3:, 3:].mean() - 2 * k[:3, 3:].mean()
    assert mmd(s, t).item() == pytest.approx(ref, rel=1e-10)


def test_mmd_equals_one_class_lmmd_oracle() -> None:
    i = next(i for i in range(int(_Z["n_cases"])) if json.loads(str(_Z[f"case{i}_params"]))["num_class"] == 1)
    p = json.loads(str(_Z[f"case{i}_params"]))
    out = mmd(torch.tensor(_Z[f"case{i}_source"]), torch.tensor(_Z[f"case{i}_target"]),
              kernel_mul=p["kernel_mul"], kernel_num=p["kernel_num"], fix_sigma=p["fix_sigma"])
    assert out.shape == ()
    assert out.item() == pytest.approx(float(_Z[f"case{i}_expected"]), rel=1e-6)


def test_mmd_gradient_flows_and_dtype_kept() -> None:
    s = torch.randn(5, 3, requires_grad=True)
    t = (torch.randn(4, 3) + 2).requires_grad_(True)
    out = mmd(s, t)
    assert out.dtype == torch.float32
    out.backward()
    assert torch.count_nonzero(s.grad) > 0 and torch.count_nonzero(t.grad) > 0
    assert math.isfinite(out.item())


@pytest.mark.parametrize("kw", [{}, {"fix_sigma": 1.5}, {"bandwidths": [0.2, 5.0]}, {"kernel_mul": 1.5, "kernel_num": 4}])
def test_quadratic_form_value_and_gradient_match_autograd_on_gram_matrix(kw: dict) -> None:
    # The fused form has a hand-written backward; compare it with plain autograd through the Gram matrix.
    g = torch.Generator().manual_seed(3)
    s = torch.randn(6, 4, generator=g, dtype=torch.float64, requires_grad=True)
    t = (torch.randn(9, 4, generator=g, dtype=torch.float64) + 0.7).requires_grad_(True)
    w = torch.randn(15, 3, generator=g, dtype=torch.float64)
    ours = kernel_quadratic_form(s, t, w, KernelSpec(**kw))
    k = gaussian_kernel(s, t, KernelSpec(**kw))
    ref = ((k @ w) * w).sum()
    torch.testing.assert_close(ours, ref, rtol=1e-12, atol=0)
    g_ours = torch.autograd.grad(ours * 0.7, (s, t))
    g_ref = torch.autograd.grad(ref * 0.7, (s, t))
    for a, b in zip(g_ours, g_ref):
        torch.testing.assert_close(a, b, rtol=1e-9, atol=1e-12)


def test_quadratic_form_gradcheck_and_constant_weights() -> None:
    g = torch.Generator().manual_seed(4)
    s = torch.randn(3, 2, generator=g, dtype=torch.float64, requires_grad=True)
    t = torch.randn(4, 2, generator=g, dtype=torch.float64, requires_grad=True)
    w = torch.randn(7, 2, generator=g, dtype=torch.float64, requires_grad=True)
    assert torch.autograd.gradcheck(lambda a, b: kernel_quadratic_form(a, b, w, KernelSpec(fix_sigma=2.0)), (s, t))
    kernel_quadratic_form(s, t, w).backward()
    assert w.grad is None


def test_shape_mismatch_rejected() -> None:
    with pytest.raises(ValueError):
        gaussian_kernel(torch.randn(3, 4), torch.randn(3, 5))
    with pytest.raises(ValueError):
        kernel_quadratic_form(torch.randn(3, 4), torch.randn(2, 4), torch.randn(4, 1))
    with pytest.raises(ValueError):
        mmd(torch.randn(3, 4), torch.randn(0, 4))


def test_no_gradient_needed_runs_under_no_grad() -> None:
    s, t = torch.randn(4, 3, requires_grad=True), torch.randn(5, 3)
    with torch.no_grad():
        out = mmd(s, t)
    assert not out.requires_grad
    torch.testing.assert_close(out, mmd(s, t).detach())
