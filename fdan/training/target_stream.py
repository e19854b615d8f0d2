"""An endless stream of target-corpus batches that survives epochs (cross-corpus training).

The source loader defines an epoch; the target loader (unlabelled, any length) is drawn from in
lock-step. :class:`TargetStream` keeps ONE iterator and starts the next pass only when the current
one is exhausted, so a target loader longer than the source one is still seen whole over epochs, and a
``DataLoader(persistent_workers=True)`` keeps its worker processes (``iter()`` on such a loader
reuses them). Each new pass is reshuffled: a ``RandomSampler`` draws a new permutation per pass, and
a sampler with ``set_epoch`` (``DistributedSampler``) is told the pass number first.
"""
from __future__ import annotations

from typing import Any, Iterable, Iterator


class EmptyTargetLoaderError(ValueError):
    """The target loader yields no batch (too few rows for one batch, or an empty dataset)."""


class TargetStream:
    """``next(stream)`` -> the next target batch; passes over ``loader`` follow one another forever."""

    def __init__(self, loader: Iterable[dict]) -> None:
        if hasattr(loader, "__len__") and len(loader) == 0:  # type: ignore[arg-type]
            raise EmptyTargetLoaderError(_empty_message(loader))
        self.loader = loader
        self.passes = 0
        self._it: Iterator[dict] | None = None

    def _new_pass(self) -> Iterator[dict]:
        sampler = getattr(self.loader, "sampler", None)
        if hasattr(sampler, "set_epoch"):
            sampler.set_epoch(self.passes)
        self.passes += 1
        return iter(self.loader)

    def __iter__(self) -> "TargetStream":
        return self

    def __next__(self) -> dict:
        if self._it is None:
            self._it = self._new_pass()
        try:
            return next(self._it)
        except StopIteration:
            self._it = self._new_pass()
            try:
                return next(self._it)
            except StopIteration:
                raise EmptyTargetLoaderError(_empty_message(self.loader)) from None


def _empty_message(loader: Any) -> str:
    ds = getattr(loader, "dataset", None)
    rows = f"{len(ds)} rows, " if hasattr(ds, "__len__") else ""
    bs = getattr(loader, "batch_size", None)
    return (f"the target loader yields no batch ({rows}batch_size {bs}, drop_last {getattr(loader, 'drop_last', None)}); "
            "a cross-corpus run needs unlabelled target rows: check the target corpus split or lower the batch size")
