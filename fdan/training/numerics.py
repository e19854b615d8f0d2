"""The numeric policy of a run: one autocast for training, validation and the held-out test; determinism.

- **Autocast.** ``train.amp`` (fdan.training.amp) applies to the training step *and* to every evaluation of the
  run's model: validation inside the trial and the held-out test of the chosen checkpoint (the
  checkpoint records ``amp``), so the score that selected a checkpoint and its test score come from
  the same arithmetic. Alignment kernels always compute in float32 (fdan.alignment.methods.base).
- **Speed (default).** On CUDA ``cudnn.benchmark`` autotunes convolutions once per input shape: the
  fastest kernels, but the choice can differ between runs, and so can the last bits of the results.
- **Deterministic** (``train.deterministic: true``). ``cudnn.benchmark`` off, ``cudnn.deterministic``
  on, ``torch.use_deterministic_algorithms(True)`` (an op without a deterministic kernel raises and
  names itself rather than silently varying) and ``CUBLAS_WORKSPACE_CONFIG=:4096:8`` (cuBLAS needs it
  for reproducible GEMMs). Two runs with the same config and seed then give the same losses bit for
  bit on one machine. Cost: no autotuned convolutions and deterministic reductions (on GPUs typically
  10-30 % slower steps; ``bench/gpu_check.py`` measures it on the card at hand); nothing on CPU.
- **Loader workers** are seeded either way: PyTorch seeds torch, NumPy and ``random`` in each DataLoader
  worker from the loader's generator, which ``harness.trial.loop.make_loader`` seeds from ``train.seed``.
"""
from __future__ import annotations

import os

import torch

__all__ = ["apply_numeric_policy", "CUBLAS_WORKSPACE"]

CUBLAS_WORKSPACE = ":4096:8"


def apply_numeric_policy(deterministic: bool, device: torch.device | str) -> None:
    """Set this process's cuDNN / algorithm flags for a run on ``device`` (module docstring).

    Both branches set every flag, so a reused worker process never keeps a previous run's policy."""
    on_cuda = torch.device(device).type == "cuda"
    if deterministic:
        os.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", CUBLAS_WORKSPACE)  # read when cuBLAS makes its handle
    torch.use_deterministic_algorithms(bool(deterministic))
    torch.backends.cudnn.deterministic = bool(deterministic)
    torch.backends.cudnn.benchmark = on_cuda and not deterministic  # fixed shapes per length bucket: autotune once
