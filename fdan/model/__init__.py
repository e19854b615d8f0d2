"""The FDAN model: ``create_model("fdan", **ModelConfig fields)``."""
from fdan.model.encoders import ResNetTrunk, WeightsError, imagenet_weights_path
from fdan.model.fdan import FDAN, FDANOutput
from fdan.model.registry import create_model, list_models, register_model

register_model("fdan")(FDAN)

__all__ = [
    "FDAN", "FDANOutput", "ResNetTrunk", "WeightsError", "create_model", "imagenet_weights_path",
    "list_models", "register_model",
]
