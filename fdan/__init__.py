"""fdan: the FDAN model library (plain PyTorch; importable without Ray).

    from fdan import create_model
    from fdan.alignment.lmmd import lmmd
    model = create_model("fdan", attn_heads=4, num_classes=7)

Names are imported lazily so that `import fdan.features` (and every Ray worker) skips torchvision.
"""
from __future__ import annotations

import importlib
from typing import Any

__version__ = "0.1.0"

_LAZY = {
    "FeatureConfig": "fdan.config", "ModelConfig": "fdan.config", "TrainConfig": "fdan.config",
    "lambda_ramp": "fdan.training.schedule",
    "FDAN": "fdan.model", "create_model": "fdan.model", "list_models": "fdan.model",
    "load_model": "fdan.inference.model_file", "LoadedModel": "fdan.inference.model_file",
}

__all__ = [*_LAZY, "__version__"]


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'fdan' has no attribute {name!r}")
