"""Mixed precision for training and evaluation: ``train.amp: off | bf16 | fp16 | auto``.

``auto`` = bfloat16 on a CUDA device that supports it, else off (CPU autocast is slower than float32
for these convolutions). ``fp16`` needs loss scaling: the caller makes one ``torch.amp.GradScaler``
(:func:`grad_scaler`) and passes it to every step of the run, so its scale persists across steps and
epochs (``fit`` does this); ``train_step`` refuses fp16 without one. The LMMD / MMD kernels always
compute in float32 (``fdan.alignment.kernels``), whatever the autocast state.
"""
from __future__ import annotations

import contextlib

import torch

AMP_MODES = ("off", "bf16", "fp16", "auto")


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


def grad_scaler(amp: str, device: torch.device | str) -> torch.amp.GradScaler | None:
    """A new GradScaler for a run under fp16 autocast, else None (bf16 and float32 need no scaling)."""
    if autocast_dtype(amp, device) != torch.float16:
        return None
    return torch.amp.GradScaler(torch.device(device).type)
