"""Dropout-free forwards in training mode (BatchNorm keeps using batch statistics)."""
from __future__ import annotations

import contextlib
from typing import Iterator

from torch import nn


def active_dropouts(module: nn.Module) -> list[nn.Dropout]:
    """The dropout layers of ``module`` that are in training mode with p > 0."""
    return [m for m in module.modules() if isinstance(m, nn.modules.dropout._DropoutNd) and m.training and m.p > 0]


@contextlib.contextmanager
def dropout_disabled(module: nn.Module) -> Iterator[None]:
    """Switch every dropout layer of ``module`` to eval for the block, leaving everything else as it is.

    Used for the features LMMD aligns and for pseudo-labels: ``model.eval()`` would also switch
    BatchNorm to its running statistics, which differ from the batch statistics of the source
    forward the features are compared with.
    """
    layers = active_dropouts(module)
    for m in layers:
        m.train(False)
    try:
        yield
    finally:
        for m in layers:
            m.train(True)
