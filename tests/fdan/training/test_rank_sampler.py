"""RankSampler: N workers' batches together are the one-worker batches; the order follows (seed, epoch)."""
import pytest
import torch
from torch.utils.data import DataLoader, RandomSampler

from fdan.training.rank_sampler import RankSampler, rank_loader
from fdan.training.resume import epoch_seed


def _one_worker(n: int, batch: int, seed: int, epoch: int, drop_last: bool = True) -> list[list[int]]:
    ds = list(range(n))
    dl = DataLoader(ds, batch_size=batch, sampler=RandomSampler(ds, generator=torch.Generator()), drop_last=drop_last)
    dl.sampler.generator.manual_seed(epoch_seed(seed, epoch))  # as fdan.training.resume.set_loader_epoch
    return [b.tolist() for b in dl]


@pytest.mark.parametrize("n,batch,workers,drop_last", [(23, 8, 2, True), (24, 6, 3, True), (5, 8, 2, False)])
def test_ranks_deal_out_the_one_worker_batches(n: int, batch: int, workers: int, drop_last: bool) -> None:
    for epoch in (1, 2):
        one = _one_worker(n, batch, seed=3, epoch=epoch, drop_last=drop_last)
        ranks = []
        for r in range(workers):
            dl = rank_loader(DataLoader(list(range(n)), batch_size=batch, sampler=RandomSampler(range(n)),
                                        drop_last=drop_last), r, workers, seed=3)
            dl.sampler.set_epoch(epoch)
            ranks.append([b.tolist() for b in dl])
        assert {len(b) for b in ranks} == {len(one) if drop_last else 1}
        together = [sorted(sum((ranks[r][i] for r in range(workers)), [])) for i in range(len(ranks[0]))]
        if drop_last:
            assert together == [sorted(b) for b in one]
        else:  # one short global batch: the n - n % N first rows of the one-worker order
            assert together == [sorted(one[0][: n - n % workers])]


def test_order_depends_on_seed_and_epoch_only() -> None:
    def order(seed: int, epoch: int) -> list[int]:
        s = RankSampler(16, 0, 2, 4, True, seed)
        s.set_epoch(epoch)
        return list(s)

    assert order(0, 1) == order(0, 1) and order(0, 1) != order(0, 2) and order(0, 1) != order(1, 1)


def test_batch_must_split_evenly_over_workers() -> None:
    dl = DataLoader(list(range(10)), batch_size=5, sampler=RandomSampler(range(10)))
    with pytest.raises(ValueError, match="multiple of resources.workers_per_trial"):
        rank_loader(dl, 0, 2, seed=0)
    unshuffled = DataLoader(list(range(10)), batch_size=5)
    assert rank_loader(unshuffled, 0, 2, seed=0) is unshuffled and rank_loader(dl, 0, 1, seed=0) is dl
