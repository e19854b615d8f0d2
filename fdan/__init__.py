"""fdan: the FDAN model library (plain PyTorch; importable without Ray).

    from fdan import create_model, lmmd
    model = create_model("fdan", attn_heads=4, num_classes=7)
"""
from fdan.config import FeatureConfig, ModelConfig, TrainConfig
from fdan.lmmd import lmmd
from fdan.mmd import mmd
from fdan.model import FDAN, create_model, list_models
from fdan.schedule import lambda_ramp

__version__ = "0.1.0"

__all__ = [
    "FDAN", "FeatureConfig", "ModelConfig", "TrainConfig", "create_model", "lambda_ramp", "list_models",
    "lmmd", "mmd", "__version__",
]
