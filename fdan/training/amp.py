"""Mixed precision for training and evaluation: ``train.amp: off | bf16 | fp16 | auto``.

``auto`` = bfloat16 on a CUDA device that supports it, else off (CPU autocast is slower than float32
for these convolutions). ``fp16`` needs loss scaling: :func:`grad_scaler_for` keeps one
``torch.amp.GradScaler`` per optimizer, so callers that do not manage a scaler (``train_step``
called in a loop) still get one whose scale persists across steps and epochs. The LMMD / MMD kernels
always compute in float32 (``fdan.mmd``), whatever the autocast state.
"""
from __future__ import annotations

import contextlib
import weakref

import torch

AMP_MODES = ("off", "bf16", "fp16", "auto")
_SCALERS: "weakref.WeakKeyDictionary[torch.optim.Optimizer, torch.amp.GradScaler]" = weakref.WeakKeyDictionary()


def autocast_dtype(amp: str, device: torch.device | str) -> torch.dtype | None:
    """The autocast dtype for ``amp`` on ``device``, or None for full precision."""
    if amp not in AMP_MODES:
        raise ValueError(f"amp must be one of {AMP_MODES}, got {amp!r}")
    dev = torch.device(device)
    if amp == "auto":
        return torch.bfloat16 if dev.type == "cuda" and torch.cuda.is_bf16_supported() else None
    return {"off": None, "bf16": torch.bfloat16, "fp16": torch.float16}[amp]


def amp_autocast(amp: str, device: torch.device | str) -> contextlib.AbstractContextManager:
    """``torch.autocast`` for ``amp`` on ``device`` (a null context when off)."""
    dtype = autocast_dtype(amp, device)
    if dtype is None:
        return contextlib.nullcontext()
    return torch.autocast(torch.device(device).type, dtype=dtype)


def grad_scaler_for(optimizer: torch.optim.Optimizer, amp: str, device: torch.device | str) -> torch.amp.GradScaler | None:
    """The optimizer's persistent GradScaler under fp16 autocast, else None (bf16 needs no scaling)."""
    if autocast_dtype(amp, device) != torch.float16:
        return None
    if optimizer not in _SCALERS:
        _SCALERS[optimizer] = torch.amp.GradScaler(torch.device(device).type)
    return _SCALERS[optimizer]
