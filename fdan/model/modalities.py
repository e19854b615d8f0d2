"""Single-modality models (``model.modalities: [audio]`` or ``[face]``): the paper's baseline rows.

``restrict_modalities(model, ["audio"])`` makes an FDAN (or ``fdan.model.frozen.FromTrunkOutputs``)
a model of that modality alone, in place:

- a forward pre-hook replaces every input of the other modality with None before ``forward`` runs
  (FDAN: ``faces``, ``face_mask``; from trunk outputs: ``face_feat``, ``face_mask``), so whatever a
  batch carries for it is ignored and the model returns only that modality's head
  (``audio_logits``; ``fused_logits`` and the other head are None);
- the parameters the remaining head never uses (the other tokenizer, its adaptation network and
  head, the cross-attention, the fusion and the fused head) stop requiring gradients, so the
  optimizer, weight decay and DDP leave them alone. A trunk shared by both modalities
  (``share_backbone``) is used by the audio branch and keeps training.

The state dict is unchanged (same keys as the two-modality model), so checkpoints and frozen-trunk
handling work as for any FDAN. Both modalities (the default) leave the model as it is.
"""
from __future__ import annotations

import inspect
from typing import Any, Sequence

from torch import nn

MODALITIES: tuple[str, ...] = ("audio", "face")
INPUTS = {"audio": ("mel", "mel_len", "audio_feat", "audio_mask"), "face": ("faces", "face_feat", "face_mask")}
BRANCH = {"audio": ("audio_tokens", "audio_adapt", "audio_head"), "face": ("face_tokens", "face_adapt", "face_head")}


def check_modalities(modalities: Sequence[str]) -> tuple[str, ...]:
    mods = tuple(modalities)
    if not mods or len(set(mods)) != len(mods) or any(m not in MODALITIES for m in mods):
        raise ValueError(f"modalities must be a non-empty list of distinct entries of {list(MODALITIES)}, got {list(mods)}")
    return mods


def restrict_modalities(model: nn.Module, modalities: Sequence[str]) -> nn.Module:
    """Make ``model`` use only ``modalities`` (module docstring); returns the same object."""
    mods = check_modalities(modalities)
    if set(mods) == set(MODALITIES):
        return model
    (keep,) = mods
    other = next(m for m in MODALITIES if m != keep)
    net = getattr(model, "net", model)  # FromTrunkOutputs holds the FDAN as `net`
    used = {id(p) for name in BRANCH[keep] for p in getattr(net, name).parameters()}
    for p in net.parameters():
        if id(p) not in used:
            p.requires_grad_(False)
    signature = inspect.signature(model.forward)
    dropped = INPUTS[other]

    def drop_other(_module: nn.Module, args: tuple[Any, ...], kwargs: dict[str, Any]) -> tuple[tuple, dict]:
        bound = signature.bind_partial(*args, **kwargs)
        for name in dropped:
            if name in bound.arguments:
                bound.arguments[name] = None
        return bound.args, bound.kwargs

    model.register_forward_pre_hook(drop_other, with_kwargs=True)
    model.modalities = mods  # type: ignore[assignment]
    return model
