"""Benchmark: fdan.alignment.lmmd against the DSAN reference algorithm as DSAN writes it.

The reference (below) follows DSAN's ``mmd.lmmd`` / ``Weight.cal_weight``: expand-subtract
distances, bandwidth from ``.data``, class weights built in numpy with a Python loop over classes,
copied back with ``torch.from_numpy``, a NaN check on the host, then the weighted kernel sum.

Both are timed for forward + backward (and forward alone) on CPU, float32, d = 256, C = 7, at
B ∈ {32, 64, 128}, with ``torch.utils.benchmark.Timer`` (warm-up, then medians over blocks of runs,
ours and the reference measured in alternating rounds). Before timing, the two losses are checked
to agree. Usage::

    python bench/bench_lmmd.py [--threads 1] [--min-run-time 1.0] [--rounds 5] [--clock wall|cpu] [--sizes 32 64 128]
"""
from __future__ import annotations

import argparse
import sys
import time

import numpy as np
import torch
import torch.utils.benchmark as benchmark

from fdan.alignment.lmmd import lmmd


def dsan_gaussian_kernel(source, target, kernel_mul=2.0, kernel_num=5, fix_sigma=None):
    n_samples = int(source.size()[0]) + int(target.size()[0])
    total = torch.cat([source, target], dim=0)
    total0 = total.unsqueeze(0).expand(int(total.size(0)), int(total.size(0)), int(total.size(1)))
    total1 = total.unsqueeze(1).expand(int(total.size(0)), int(total.size(0)), int(total.size(1)))
    l2_distance = ((total0 - total1) ** 2).sum(2)
    if fix_sigma:
        bandwidth = fix_sigma
    else:
        bandwidth = torch.sum(l2_distance.data) / (n_samples**2 - n_samples)
    bandwidth /= kernel_mul ** (kernel_num // 2)
    bandwidth_list = [bandwidth * (kernel_mul**i) for i in range(kernel_num)]
    kernel_val = [torch.exp(-l2_distance / bandwidth_temp) for bandwidth_temp in bandwidth_list]
    return sum(kernel_val)


def dsan_cal_weight(s_label, t_label, class_num):
    batch_size = s_label.size()[0]
    s_sca_label = s_label.cpu().data.numpy()
    s_vec_label = np.eye(class_num)[s_sca_label]
    s_sum = np.sum(s_vec_label, axis=0).reshape(1, class_num)
    s_sum[s_sum == 0] = 100
    s_vec_label = s_vec_label / s_sum

    t_sca_label = t_label.cpu().data.max(1)[1].numpy()
    t_vec_label = t_label.cpu().data.numpy()
    t_sum = np.sum(t_vec_label, axis=0).reshape(1, class_num)
    t_sum[t_sum == 0] = 100
    t_vec_label = t_vec_label / t_sum

    weight_ss = np.zeros((batch_size, batch_size))
    weight_tt = np.zeros((batch_size, batch_size))
    weight_st = np.zeros((batch_size, batch_size))
    set_s, set_t = set(s_sca_label), set(t_sca_label)
    count = 0
    for i in range(class_num):
        if i in set_s and i in set_t:
            s_tvec = s_vec_label[:, i].reshape(batch_size, -1)
            t_tvec = t_vec_label[:, i].reshape(batch_size, -1)
            weight_ss = weight_ss + np.dot(s_tvec, s_tvec.T)
            weight_tt = weight_tt + np.dot(t_tvec, t_tvec.T)
            weight_st = weight_st + np.dot(s_tvec, t_tvec.T)
            count += 1
    if count != 0:
        weight_ss, weight_tt, weight_st = weight_ss / count, weight_tt / count, weight_st / count
    else:
        weight_ss = weight_tt = weight_st = np.array([0])
    return weight_ss.astype("float32"), weight_tt.astype("float32"), weight_st.astype("float32")


def dsan_lmmd(source, target, s_label, t_label, kernel_mul=2.0, kernel_num=5, fix_sigma=None):
    batch_size = source.size()[0]
    weight_ss, weight_tt, weight_st = (
        torch.from_numpy(w).to(source.device) for w in dsan_cal_weight(s_label, t_label, t_label.shape[1])
    )
    kernels = dsan_gaussian_kernel(source, target, kernel_mul=kernel_mul, kernel_num=kernel_num, fix_sigma=fix_sigma)
    loss = torch.zeros(1, dtype=source.dtype, device=source.device)
    if torch.sum(torch.isnan(sum(kernels))):
        return loss
    ss = kernels[:batch_size, :batch_size]
    tt = kernels[batch_size:, batch_size:]
    st = kernels[:batch_size, batch_size:]
    loss += torch.sum(weight_ss * ss + weight_tt * tt - 2 * weight_st * st)
    return loss


def make_inputs(b: int, d: int, c: int, seed: int = 0):
    g = torch.Generator().manual_seed(seed)
    s = torch.randn(b, d, generator=g).requires_grad_(True)
    t = (torch.randn(b, d, generator=g) + 0.3).requires_grad_(True)
    y = torch.randint(0, c, (b,), generator=g)
    p = torch.softmax(3.0 * torch.randn(b, c, generator=g), dim=1)
    return s, t, y, p


def forward_backward(fn, s, t, y, p) -> None:
    s.grad = t.grad = None
    fn(s, t, y, p).sum().backward()


CLOCKS = {"wall": time.perf_counter, "cpu": time.thread_time}


def time_pair_ms(
    stmts: dict, env: dict, threads: int, min_run_time: float, rounds: int, clock: str = "wall"
) -> dict:
    """Median ms per call of each statement. The statements are measured alternately in ``rounds``
    rounds (each a median over blocks of runs) so that a change in machine load hits all of them;
    the figure reported is the median over rounds. ``clock="cpu"`` counts the calling thread's CPU
    time (valid with one thread), which a busy shared machine disturbs less than wall time."""
    timers = {
        k: benchmark.Timer(stmt=v, globals=env, num_threads=threads, timer=CLOCKS[clock]) for k, v in stmts.items()
    }
    for timer in timers.values():
        timer.timeit(5)  # warm-up
    per_round: dict[str, list[float]] = {k: [] for k in stmts}
    for _ in range(rounds):
        for k, timer in timers.items():
            per_round[k].append(timer.blocked_autorange(min_run_time=min_run_time / rounds).median * 1e3)
    return {k: float(np.median(v)) for k, v in per_round.items()}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--sizes", type=int, nargs="+", default=[32, 64, 128])
    ap.add_argument("--dim", type=int, default=256)
    ap.add_argument("--classes", type=int, default=7)
    ap.add_argument("--threads", type=int, default=1, help="torch intra-op threads for both implementations")
    ap.add_argument("--min-run-time", type=float, default=1.0, help="seconds per measurement (split over the rounds)")
    ap.add_argument("--rounds", type=int, default=5, help="alternating rounds per measurement")
    ap.add_argument("--clock", choices=sorted(CLOCKS), default="wall", help="cpu: thread CPU time (needs --threads 1)")
    args = ap.parse_args(argv)
    if args.clock == "cpu" and args.threads != 1:
        ap.error("--clock cpu measures the calling thread only; use it with --threads 1")

    print(f"torch {torch.__version__}, CPU, float32, d={args.dim}, C={args.classes}, threads={args.threads}; "
          f"median {args.clock}-clock ms per call (torch.utils.benchmark, {args.min_run_time}s per figure, "
          f"{args.rounds} alternating rounds)")
    header = f"{'B':>5} | {'ours fwd+bwd':>12} | {'ref fwd+bwd':>11} | {'ratio':>6} | {'ours fwd':>8} | {'ref fwd':>8} | {'ratio':>6}"
    print(header)
    print("-" * len(header))
    for b in args.sizes:
        s, t, y, p = make_inputs(b, args.dim, args.classes, seed=b)
        ours, ref = lmmd(s, t, y, p).item(), dsan_lmmd(s, t, y, p).item()
        if not np.isclose(ours, ref, rtol=1e-4, atol=1e-6):
            print(f"B={b}: results disagree: ours {ours} vs reference {ref}", file=sys.stderr)
            return 1
        env = {"forward_backward": forward_backward, "lmmd": lmmd, "dsan_lmmd": dsan_lmmd, "s": s, "t": t, "y": y, "p": p}
        times = time_pair_ms(
            {(name, "fb"): f"forward_backward({name}, s, t, y, p)" for name in ("lmmd", "dsan_lmmd")},
            env, args.threads, args.min_run_time, args.rounds, args.clock,
        )
        with torch.no_grad():
            times |= time_pair_ms(
                {(name, "f"): f"{name}(s, t, y, p)" for name in ("lmmd", "dsan_lmmd")},
                env, args.threads, args.min_run_time, args.rounds, args.clock,
            )
        fb = times["dsan_lmmd", "fb"] / times["lmmd", "fb"]
        f = times["dsan_lmmd", "f"] / times["lmmd", "f"]
        print(f"{b:>5} | {times['lmmd', 'fb']:>12.3f} | {times['dsan_lmmd', 'fb']:>11.3f} | {fb:>5.1f}x"
              f" | {times['lmmd', 'f']:>8.3f} | {times['dsan_lmmd', 'f']:>8.3f} | {f:>5.1f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
