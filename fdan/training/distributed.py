"""Data-parallel training of one run on N workers (``torch.distributed``, DDP): the semantics and their helpers.

Semantics (README, "Several workers per trial"), for N ranks of one process group:

- **Batch.** ``train.batch_size`` is the *global* batch B: each rank draws ``B / N`` rows
  (:func:`per_worker_batch`; B must be divisible by N), DDP averages the gradients, so one optimiser
  step sees B rows whatever N is. Steps per epoch, the learning rate and its schedule therefore do not
  depend on N (no linear-scaling rule is needed: N is a throughput knob, not a hyper-parameter).
- **Data order.** Each shuffled loader gets a :class:`fdan.training.rank_sampler.RankSampler`: the epoch's
  permutation is the one a single worker draws (seeded by ``train.seed`` (+ 1 for the target corpus)
  and the epoch), and rank r takes positions r, r + N, ... of it, so the union of the ranks' i-th
  batches is exactly the one-worker i-th batch.
- **Divergences.** With ``train.gather_alignment`` (default) every alignment term (LMMD, MMD, CORAL,
  DANN) sees the rows of all ranks: :func:`gather_rows` concatenates them with a differentiable
  all-gather whose backward sums each rank's gradient for its own rows, so with DDP's averaging the
  gradient equals the one-worker gradient of the term on the global batch exactly. Without it, each
  rank's term is estimated on its B / N rows (a different, noisier estimator for kernel methods).
- **BatchNorm.** Buffers are not broadcast at each forward (``broadcast_buffers=False``): the
  broadcast before the target forward overwrote statistics the source forward had saved for
  backward. Batch statistics are per rank (B / N rows) unless ``train.sync_batchnorm`` converts the
  BatchNorm layers to ``SyncBatchNorm`` (CUDA only); running statistics are averaged over the ranks
  after every epoch (:func:`average_buffers`), so every rank validates and checkpoints the same model.
- **Unused parameters.** A method's term that a run never computes is not built
  (``fdan.alignment.attach_alignment(scopes=...)``): DDP requires every trainable parameter to get a
  gradient each step.
"""
from __future__ import annotations

from typing import Iterable

import torch
import torch.distributed as dist
from torch import Tensor, nn

__all__ = ["world", "per_worker_batch", "gather_rows", "ddp_options", "average_buffers", "mean_across_ranks",
           "sync_batchnorm", "buffers_equal_across_ranks"]


def world() -> tuple[int, int]:
    """``(rank, world size)`` of the default process group; ``(0, 1)`` outside one."""
    if dist.is_available() and dist.is_initialized():
        return dist.get_rank(), dist.get_world_size()
    return 0, 1


def per_worker_batch(global_batch: int, workers: int) -> int:
    """``B / N`` rows per rank; ValueError unless ``N`` divides ``B`` and leaves at least 2 rows (BatchNorm)."""
    if workers < 1 or global_batch % workers or global_batch // workers < 2:
        raise ValueError(f"train.batch_size ({global_batch}) is the global batch: it must be a multiple of "
                         f"resources.workers_per_trial ({workers}) with at least 2 rows per worker")
    return global_batch // workers


def gather_rows(x: Tensor) -> Tensor:
    """``(b, ...)`` on each of N ranks -> ``(N·b, ...)``, rank 0's rows first; the identity outside a group.

    Floating tensors go through ``torch.distributed.nn.functional.all_gather``: its backward sums
    the gradients all ranks computed for this rank's rows (each rank holds the same gathered loss),
    which DDP's 1/N average turns into the one-process gradient. Other tensors (labels) are gathered
    without autograd. Every rank must pass the same shape.
    """
    _, size = world()
    if size == 1:
        return x
    if x.is_floating_point() and x.requires_grad:
        from torch.distributed.nn.functional import all_gather

        return torch.cat(all_gather(x.contiguous()), dim=0)
    parts = [torch.empty_like(x) for _ in range(size)]
    dist.all_gather(parts, x.contiguous())
    return torch.cat(parts, dim=0)


def ddp_options() -> dict[str, bool]:
    """``DistributedDataParallel`` keyword arguments (module docstring: BatchNorm, unused parameters)."""
    return {"broadcast_buffers": False, "find_unused_parameters": False}


@torch.no_grad()
def average_buffers(model: nn.Module) -> None:
    """Average every floating buffer (BatchNorm running statistics) over the ranks, in place.

    The running mean is linear in the batch means, so the average equals the one-worker running mean of
    the global batches exactly (equal rows per rank); the running variance misses the spread of the
    rank means (a bias of order 1/b). Integer buffers (``num_batches_tracked``) are equal on all ranks."""
    _, size = world()
    if size == 1:
        return
    for buf in model.buffers():
        if buf.is_floating_point():
            dist.all_reduce(buf, op=dist.ReduceOp.SUM)
            buf.div_(size)


def mean_across_ranks(values: dict[str, float], device: torch.device | str = "cpu") -> dict[str, float]:
    """The mean over ranks of each value (the epoch's training-loss parts of the global batches).

    Every rank must pass the same keys; one all-reduce of the sorted values."""
    _, size = world()
    if size == 1 or not values:
        return dict(values)
    keys = sorted(values)
    t = torch.tensor([float(values[k]) for k in keys], dtype=torch.float64, device=device)
    dist.all_reduce(t, op=dist.ReduceOp.SUM)
    return {k: float(v) / size for k, v in zip(keys, t.tolist())}


def sync_batchnorm(model: nn.Module, enabled: bool, device: torch.device | str) -> nn.Module:
    """``model`` with its BatchNorm layers as ``SyncBatchNorm`` when ``enabled`` and N > 1 (batch statistics of
    the global batch: the one-worker numerics); ValueError on CPU, where PyTorch has no SyncBatchNorm kernel.
    Frozen (eval-mode) trunks are unaffected: SyncBatchNorm synchronises only in training mode."""
    if not enabled or world()[1] == 1:
        return model
    if torch.device(device).type != "cuda":
        raise ValueError("train.sync_batchnorm needs CUDA workers (PyTorch's SyncBatchNorm has no CPU kernel); "
                         "set it false for CPU runs")
    return nn.SyncBatchNorm.convert_sync_batchnorm(model)


def buffers_equal_across_ranks(tensors: Iterable[Tensor]) -> bool:
    """Whether every rank holds the same values as rank 0 (the same answer on every rank; for tests and debugging)."""
    same = True
    for t in tensors:
        ref = t.detach().clone()
        dist.broadcast(ref, src=0)
        same = same and bool(torch.equal(ref, t.detach()))
    verdict = torch.tensor([int(same)])
    dist.all_reduce(verdict, op=dist.ReduceOp.MIN)
    return bool(verdict.item())
