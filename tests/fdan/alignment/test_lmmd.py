"""LMMD against the DSAN oracle vectors and an independent brute-force definition."""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch

from fdan.alignment.lmmd import lmmd, lmmd_class_weights, lmmd_weight_matrices

ORACLE = Path(__file__).resolve().parents[2] / "data" / "lmmd_reference.npz"
_Z = np.load(ORACLE, allow_pickle=False)
CASES = list(range(int(_Z["n_cases"])))
RTOL = {torch.float64: 1e-6, torch.float32: 1e-5}


def _case(i: int, dtype: torch.dtype) -> tuple[dict, tuple[torch.Tensor, ...]]:
    params = json.loads(str(_Z[f"case{i}_params"]))
    s = torch.tensor(_Z[f"case{i}_source"], dtype=dtype)
    t = torch.tensor(_Z[f"case{i}_target"], dtype=dtype)
    y = torch.tensor(_Z[f"case{i}_source_label"], dtype=torch.int64)
    p = torch.tensor(_Z[f"case{i}_target_prob"], dtype=dtype)
    return params, (s, t, y, p)


def _kw(params: dict) -> dict:
    return dict(kernel_mul=params["kernel_mul"], kernel_num=params["kernel_num"], fix_sigma=params["fix_sigma"])


def brute_lmmd(s, t, y, p, kernel_mul=2.0, kernel_num=5, fix_sigma=None, bandwidths=None) -> float:
    """Literal float64 definition from FDAN.md with Python loops (any B, B')."""
    s, t, p = (np.asarray(a, dtype=np.float64) for a in (s, t, p))
    y = np.asarray(y)
    z = np.concatenate([s, t])
    n, b, c = len(z), len(s), p.shape[1]
    dist = np.array([[np.sum((z[i] - z[j]) ** 2) for j in range(n)] for i in range(n)])
    base = fix_sigma if fix_sigma else dist.sum() / (n * n - n)
    if bandwidths is None:
        bandwidths = [kernel_mul ** (k - kernel_num // 2) for k in range(kernel_num)]
    kern = sum(np.exp(-dist / (base * r)) for r in bandwidths)
    kept = [k for k in range(c) if k in set(y.tolist()) and k in set(p.argmax(1).tolist())]
    if not kept:
        return 0.0
    total = 0.0
    for k in kept:
        sv = (y == k) / np.sum(y == k)
        tv = p[:, k] / p[:, k].sum()
        u = np.concatenate([sv, -tv])
        total += u @ kern @ u
    return total / len(kept)


@pytest.mark.parametrize("dtype", [torch.float64, torch.float32], ids=["f64", "f32"])
@pytest.mark.parametrize("i", CASES)
def test_oracle_cases(i: int, dtype: torch.dtype) -> None:
    params, (s, t, y, p) = _case(i, dtype)
    out = lmmd(s, t, y, p, **_kw(params))
    assert out.shape == () and out.dtype == dtype
    np.testing.assert_allclose(out.item(), float(_Z[f"case{i}_expected"]), rtol=RTOL[dtype], atol=1e-12)
    _, _, n_kept = lmmd_class_weights(y, p)
    assert int(n_kept) == int(_Z[f"case{i}_n_common"])


def _dsan_loop_weights(y: np.ndarray, p: np.ndarray) -> tuple[np.ndarray, ...]:
    """DSAN's Weight.cal_weight (loop over classes), generalised to B != B'."""
    c = p.shape[1]
    s_vec = np.eye(c)[y]
    s_sum = s_vec.sum(0)
    s_sum[s_sum == 0] = 100
    s_vec = s_vec / s_sum
    t_sum = p.sum(0)
    t_sum[t_sum == 0] = 100
    t_vec = p / t_sum
    w_ss, w_tt, w_st = np.zeros((len(y), len(y))), np.zeros((len(p), len(p))), np.zeros((len(y), len(p)))
    count = 0
    for k in range(c):
        if k in set(y.tolist()) and k in set(p.argmax(1).tolist()):
            w_ss += np.outer(s_vec[:, k], s_vec[:, k])
            w_tt += np.outer(t_vec[:, k], t_vec[:, k])
            w_st += np.outer(s_vec[:, k], t_vec[:, k])
            count += 1
    return tuple(w / max(count, 1) for w in (w_ss, w_tt, w_st))


@pytest.mark.parametrize("i", [0, 6, 8, 9, 10])
def test_weight_matrices_match_dsan_loop(i: int) -> None:
    _, (_, _, y, p) = _case(i, torch.float64)
    ours = lmmd_weight_matrices(y, p)
    for a, b in zip(ours, _dsan_loop_weights(y.numpy(), p.numpy())):
        np.testing.assert_allclose(a.numpy(), b, rtol=1e-12, atol=1e-15)


def _random_inputs(b: int, b2: int, c: int, d: int = 6, seed: int = 0, dtype=torch.float64):
    g = torch.Generator().manual_seed(seed)
    s = torch.randn(b, d, generator=g, dtype=dtype)
    t = torch.randn(b2, d, generator=g, dtype=dtype) + 0.5
    y = torch.randint(0, c, (b,), generator=g)
    p = torch.softmax(2.0 * torch.randn(b2, c, generator=g, dtype=dtype), dim=1)
    return s, t, y, p


@pytest.mark.parametrize(
    "b,b2,kw",
    [
        (5, 9, {}),
        (11, 3, {"kernel_mul": 1.5, "kernel_num": 3}),
        (7, 12, {"fix_sigma": 2.0}),
        (9, 4, {"bandwidths": [0.3, 1.0, 7.0]}),
    ],
)
def test_unequal_batch_sizes_match_brute_force(b: int, b2: int, kw: dict) -> None:
    s, t, y, p = _random_inputs(b, b2, c=3, seed=b * 31 + b2)
    out = lmmd(s, t, y, p, **kw)
    np.testing.assert_allclose(out.item(), brute_lmmd(s, t, y, p, **kw), rtol=1e-10)


def test_gradients_reach_features_not_probabilities() -> None:
    s, t, y, p = _random_inputs(6, 8, c=3)
    s.requires_grad_(True)
    t.requires_grad_(True)
    p.requires_grad_(True)
    lmmd(s, t, y, p).backward()
    assert p.grad is None or torch.count_nonzero(p.grad) == 0
    assert s.grad is not None and torch.count_nonzero(s.grad) > 0
    assert t.grad is not None and torch.count_nonzero(t.grad) > 0


def test_gradient_is_correct_and_ignores_bandwidth() -> None:
    s, t, y, p = _random_inputs(4, 5, c=2)
    s.requires_grad_(True)
    t.requires_grad_(True)
    # With a fixed bandwidth the loss is a smooth function of the features: check against finite differences.
    assert torch.autograd.gradcheck(lambda a, b: lmmd(a, b, y, p, fix_sigma=3.0), (s, t))
    # Data-driven bandwidth: same gradient as if that bandwidth had been fixed (no gradient through σ̄).
    z = torch.cat([s, t]).detach()
    n = z.shape[0]
    sigma = float(torch.cdist(z, z).pow(2).sum() / (n * n - n))
    g_auto = torch.autograd.grad(lmmd(s, t, y, p), (s, t))
    g_fixed = torch.autograd.grad(lmmd(s, t, y, p, fix_sigma=sigma), (s, t))
    for a, b in zip(g_auto, g_fixed):
        torch.testing.assert_close(a, b, rtol=1e-9, atol=1e-12)


def test_no_kept_class_is_a_connected_zero() -> None:
    s, t, _, _ = _random_inputs(4, 6, c=4, dtype=torch.float32)
    s.requires_grad_(True)
    y = torch.tensor([0, 1, 0, 1])
    p = torch.nn.functional.one_hot(torch.tensor([2, 3, 2, 3, 3, 2]), 4).float()
    out = lmmd(s, t, y, p)
    assert out.shape == () and out.dtype == torch.float32 and out.item() == 0.0
    assert out.requires_grad
    out.backward()
    assert s.grad is not None and torch.count_nonzero(s.grad) == 0


def test_explicit_bandwidths_equal_kernel_mul_form() -> None:
    s, t, y, p = _random_inputs(8, 8, c=3)
    ref = lmmd(s, t, y, p, kernel_mul=2.0, kernel_num=5)
    torch.testing.assert_close(lmmd(s, t, y, p, bandwidths=[0.25, 0.5, 1.0, 2.0, 4.0]), ref, rtol=1e-12, atol=0)
    other = lmmd(s, t, y, p, bandwidths=[1.0, 2.0, 4.0, 8.0, 16.0])
    assert not torch.isclose(other, ref)


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_dtype_preserved_and_float32_robust_to_offset(dtype: torch.dtype) -> None:
    # A large common offset is the case where the plain ‖a‖²+‖b‖²−2ab trick loses float32 accuracy.
    s, t, y, p = _random_inputs(16, 12, c=4, d=32, dtype=dtype)
    s, t = s + 100.0, t + 100.0
    out = lmmd(s, t, y, p)
    assert out.dtype == dtype and out.device == s.device
    ref = lmmd(s.double(), t.double(), y, p.double())
    torch.testing.assert_close(out.double(), ref, rtol=1e-5, atol=0)


@pytest.mark.parametrize("dtype", [torch.float16, torch.bfloat16])
def test_half_precision_inputs_keep_dtype_and_accuracy(dtype: torch.dtype) -> None:
    s, t, y, p = _random_inputs(16, 12, c=4, d=32, dtype=dtype)
    s.requires_grad_(True)
    out = lmmd(s, t, y, p)
    assert out.dtype == dtype
    out.backward()
    assert s.grad.dtype == dtype and torch.isfinite(s.grad).all()
    ref = lmmd(s.detach().double(), t.double(), y, p.double())
    torch.testing.assert_close(out.double(), ref, rtol=1e-2, atol=0)


def test_meta_device_runs_without_reading_values() -> None:
    # Meta tensors have no data: any .item()/.cpu()/numpy round trip inside lmmd would raise.
    s, t = torch.empty(6, 5, device="meta"), torch.empty(4, 5, device="meta")
    y = torch.empty(6, dtype=torch.int64, device="meta")
    p = torch.empty(4, 3, device="meta")
    out = lmmd(s, t, y, p)
    assert out.shape == () and out.device.type == "meta" and out.dtype == torch.float32


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
def test_cuda_no_host_sync() -> None:
    s, t, y, p = (a.cuda() for a in _random_inputs(8, 10, c=3, dtype=torch.float32))
    s.requires_grad_(True)
    torch.cuda.set_sync_debug_mode("error")
    try:
        out = lmmd(s, t, y, p)
        out.backward()
    finally:
        torch.cuda.set_sync_debug_mode("default")
    assert out.device == s.device and s.grad is not None
    np.testing.assert_allclose(out.item(), brute_lmmd(*(a.cpu() for a in (s.detach(), t, y, p))), rtol=1e-5)


@pytest.mark.parametrize(
    "args",
    [
        ((4, 5), (4, 6), (4,), (4, 3)),  # feature dims differ
        ((4, 5), (4, 5), (3,), (4, 3)),  # label count != B
        ((4, 5), (4, 5), (4,), (5, 3)),  # prob rows != B'
        ((4, 5), (4, 5), (4,), (4,)),  # prob not 2-d
    ],
)
def test_shape_errors(args) -> None:
    s, t, y, p = torch.randn(*args[0]), torch.randn(*args[1]), torch.zeros(args[2], dtype=torch.int64), torch.rand(*args[3])
    with pytest.raises(ValueError):
        lmmd(s, t, y, p)


def test_float_labels_rejected() -> None:
    with pytest.raises(TypeError):
        lmmd(torch.randn(3, 2), torch.randn(3, 2), torch.zeros(3), torch.rand(3, 2))


@pytest.mark.parametrize("fn", ["lmmd", "mmd", "kernel"])
def test_float32_under_bf16_autocast(fn) -> None:
    """Nearly aligned features: bf16 matmuls inside the kernel lose ~10 %; autocast must not reach it."""
    from fdan.alignment.kernels import gaussian_kernel
    from fdan.alignment.mmd import mmd

    g = torch.Generator().manual_seed(3)
    s = torch.randn(32, 64, generator=g)
    t = s + 0.05 * torch.randn(32, 64, generator=g)
    y = torch.arange(32) % 4
    p = torch.eye(4)[y]

    def run(autocast: bool) -> tuple[torch.Tensor, torch.Tensor]:
        src = s.clone().requires_grad_(True)
        with torch.autocast("cpu", dtype=torch.bfloat16, enabled=autocast):
            if fn == "lmmd":
                out = lmmd(src, t, y, p)
            elif fn == "mmd":
                out = mmd(src, t)
            else:
                out = (gaussian_kernel(src, t) * torch.linspace(-1, 1, 64)).sum()
        out.backward()  # outside autocast, as PyTorch recommends
        return out.detach(), src.grad

    ref, ref_grad = run(False)
    got, got_grad = run(True)
    assert got.dtype == torch.float32
    torch.testing.assert_close(got, ref, rtol=1e-5, atol=1e-7)
    torch.testing.assert_close(got_grad, ref_grad, rtol=1e-4, atol=1e-7)


def test_spread_normalised_lmmd_is_scale_invariant() -> None:
    """Plain LMMD (detached bandwidth) drops when the features contract; the spread-normalised one cannot."""
    from fdan.alignment.lmmd import spread_normalise

    s, t, y, p = _random_inputs(12, 10, c=3, dtype=torch.float64)
    values = [lmmd(*spread_normalise(c * s, c * t), y, p) for c in (1e-3, 1.0, 1e3)]
    torch.testing.assert_close(values[0], values[1])
    torch.testing.assert_close(values[2], values[1])

    def radial_derivative(fn) -> float:  # d/dc L(c·S, c·T) at c = 1 = Σ ∇L · z
        src, tgt = s.clone().requires_grad_(True), t.clone().requires_grad_(True)
        fn(src, tgt).backward()
        return float((src.grad * s).sum() + (tgt.grad * t).sum())

    # > 0: the loss grows with the scale, so a gradient step (−∇L, radial part −Σ∇L·z < 0) contracts
    assert radial_derivative(lambda a, b: lmmd(a, b, y, p)) > 1e-3
    assert abs(radial_derivative(lambda a, b: lmmd(*spread_normalise(a, b), y, p))) < 1e-9


def test_kernel_spec_equals_its_fields_as_keywords_and_the_published_path_works() -> None:
    from fdan.alignment.kernels import KernelSpec
    from fdan.lmmd import lmmd as published

    g = torch.Generator().manual_seed(5)
    s, t = torch.randn(6, 4, generator=g, dtype=torch.float64), torch.randn(7, 4, generator=g, dtype=torch.float64)
    y, p = torch.tensor([0, 1, 2, 0, 1, 2]), torch.softmax(torch.randn(7, 3, generator=g, dtype=torch.float64), 1)
    spec = KernelSpec(kernel_mul=1.5, kernel_num=3, fix_sigma=2.0)
    assert published is lmmd
    torch.testing.assert_close(lmmd(s, t, y, p, kernel=spec), lmmd(s, t, y, p, kernel_mul=1.5, kernel_num=3, fix_sigma=2.0))
    assert not torch.equal(lmmd(s, t, y, p, kernel=spec), lmmd(s, t, y, p))
