"""The data order of N data-parallel workers: the one-worker order, dealt out by rank.

One worker shuffles an epoch with ``torch.randperm(n, generator)`` (``RandomSampler``), its generator
seeded from (seed, epoch) by :func:`epoch_seed`. :class:`RankSampler` draws the same permutation
``π`` and gives rank r the positions ``r, r + N, r + 2N, ...`` of its first ``m`` entries, where
``m = ⌊n / B⌋ · B`` when the last short global batch is dropped, else ``n − (n mod N)``. With
``B / N`` rows per rank, the union of the ranks' i-th batches is ``π[iB : (i+1)B]``: the i-th batch
one worker with ``B`` rows draws, whatever N is.
"""
from __future__ import annotations

from typing import Iterator

import torch
from torch.utils.data import DataLoader, RandomSampler, Sampler

from fdan.training.distributed import per_worker_batch
from fdan.training.resume import epoch_seed

__all__ = ["RankSampler", "rank_loader"]


class RankSampler(Sampler[int]):
    """Rank ``rank``'s share of a one-worker shuffle of ``n`` rows into global batches of ``global_batch``."""

    def __init__(self, n: int, rank: int, workers: int, global_batch: int, drop_last: bool, seed: int) -> None:
        if not 0 <= rank < workers or global_batch % workers:
            raise ValueError(f"need 0 <= rank < workers and workers | global_batch, got {rank}, {workers}, {global_batch}")
        self.n, self.rank, self.workers, self.seed = n, rank, workers, seed
        self.used = (n // global_batch) * global_batch if drop_last else n - n % workers
        self.generator = torch.Generator().manual_seed(epoch_seed(seed, 0))

    def set_epoch(self, epoch: int) -> None:
        self.generator.manual_seed(epoch_seed(self.seed, epoch))

    def __len__(self) -> int:
        return self.used // self.workers

    def __iter__(self) -> Iterator[int]:
        perm = torch.randperm(self.n, generator=self.generator)  # as RandomSampler: one draw per pass
        return iter(perm[: self.used][self.rank:: self.workers].tolist())


def rank_loader(loader: DataLoader, rank: int, workers: int, seed: int) -> DataLoader:
    """A shuffled ``loader`` (``RandomSampler``) as rank ``rank`` of ``workers``: ``batch_size / workers`` rows
    per batch from a :class:`RankSampler`; everything else kept. One worker, or an unshuffled loader: as is."""
    if workers == 1 or not isinstance(loader.sampler, RandomSampler):
        return loader
    global_batch = int(loader.batch_size)
    per_worker_batch(global_batch, workers)  # a clear error unless workers divides the batch
    sampler = RankSampler(len(loader.dataset), rank, workers, global_batch, loader.drop_last, seed)
    return DataLoader(loader.dataset, batch_size=global_batch // workers, sampler=sampler, drop_last=loader.drop_last,
                      num_workers=loader.num_workers, collate_fn=loader.collate_fn, pin_memory=loader.pin_memory,
                      worker_init_fn=loader.worker_init_fn, generator=loader.generator,
                      persistent_workers=loader.persistent_workers)
