"""The numeric policy: deterministic mode sets every flag and unsets them again; loader workers are seeded."""
import os
import random

import numpy as np
import torch
from torch.utils.data import DataLoader

from fdan.training.numerics import CUBLAS_WORKSPACE, apply_numeric_policy


def test_deterministic_mode_and_back() -> None:
    try:
        apply_numeric_policy(True, "cuda")
        assert torch.are_deterministic_algorithms_enabled() and torch.backends.cudnn.deterministic
        assert not torch.backends.cudnn.benchmark and os.environ["CUBLAS_WORKSPACE_CONFIG"] == CUBLAS_WORKSPACE
        apply_numeric_policy(False, "cuda")
        assert not torch.are_deterministic_algorithms_enabled() and torch.backends.cudnn.benchmark
        apply_numeric_policy(False, "cpu")
        assert not torch.backends.cudnn.benchmark
    finally:
        apply_numeric_policy(False, "cpu")


class _Draws(torch.utils.data.Dataset):
    def __len__(self) -> int:
        return 2

    def __getitem__(self, i: int) -> tuple[float, float]:
        return float(np.random.rand()), random.random()


def test_loader_workers_draw_seeded_numpy_and_random() -> None:
    def draws(parent_state: int, loader_seed: int) -> list:
        np.random.seed(parent_state)
        random.seed(parent_state)
        dl = DataLoader(_Draws(), batch_size=1, num_workers=1, generator=torch.Generator().manual_seed(loader_seed))
        return [tuple(float(x) for x in b) for b in dl]

    # PyTorch seeds torch, NumPy and random in each worker from the loader's generator (seeded by make_loader)
    assert draws(1, 5) == draws(2, 5) and draws(1, 5) != draws(1, 6)
