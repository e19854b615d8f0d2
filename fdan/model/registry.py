"""Model registry in the timm style: ``create_model("fdan", attn_heads=8, ...)``."""
from __future__ import annotations

from typing import Callable

from pydantic import ValidationError
from torch import nn

from fdan.config import ModelConfig

_MODELS: dict[str, Callable[[ModelConfig], nn.Module]] = {}


def register_model(name: str) -> Callable[[Callable[[ModelConfig], nn.Module]], Callable[[ModelConfig], nn.Module]]:
    def deco(factory: Callable[[ModelConfig], nn.Module]) -> Callable[[ModelConfig], nn.Module]:
        _MODELS[name] = factory
        return factory

    return deco


def list_models() -> list[str]:
    return sorted(_MODELS)


def create_model(name: str = "fdan", **cfg: object) -> nn.Module:
    """Build a registered model from ModelConfig fields; unknown or ill-typed fields raise ValueError."""
    if name not in _MODELS:
        raise ValueError(f"unknown model {name!r}; known: {', '.join(list_models())}")
    try:
        config = ModelConfig(name=name, **cfg)
    except ValidationError as exc:
        raise ValueError(f"invalid model config: {exc}") from None
    return _MODELS[name](config)
