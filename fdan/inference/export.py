"""A sweep's trial checkpoint (`model.pt`, harness trial checkpoints) -> a self-contained model file.

The checkpoint is read with ``torch.load(weights_only=True)`` like every checkpoint of the harness; it
holds the trainable state, ``model_config``, ``labels`` and (since this version) ``feature_config``.
A checkpoint written before that needs the feature config from elsewhere (the results directory's
``config.resolved.yaml``): ``feature_config`` here is the fallback.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

import torch

from fdan.inference.model_file import ModelFileError, full_state_from_trainable, save_model_file


def export_checkpoint(checkpoint_file: str | Path, out: str | Path, *, provenance: dict[str, Any],
                      feature_config: dict[str, Any] | None = None) -> Path:
    """Write the model file of one trial checkpoint to ``out`` and return its path.

    ``feature_config`` is used only when the checkpoint carries none; ModelFileError when neither has one.
    """
    try:
        state = torch.load(str(checkpoint_file), map_location="cpu", weights_only=True)
    except Exception as exc:
        first = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
        raise ModelFileError(f"checkpoint {checkpoint_file} cannot be loaded safely: {first}") from None
    missing = [k for k in ("model", "labels", "model_config") if not isinstance(state, dict) or k not in state]
    if missing:
        raise ModelFileError(f"checkpoint {checkpoint_file} is not a trial checkpoint: missing {', '.join(missing)}")
    features = state.get("feature_config") or feature_config
    if not features:
        raise ModelFileError(f"checkpoint {checkpoint_file} records no feature config, and none was given")
    labels = [str(label) for label in state["labels"]]
    full = full_state_from_trainable(state["model_config"], labels, state["model"])
    return save_model_file(out, state=full, model_config=state["model_config"], feature_config=features,
                           labels=labels, provenance={**provenance, "epoch": int(state.get("epoch", 0))})
