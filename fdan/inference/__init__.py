"""Using a trained model outside the sweep: the self-contained model file and prediction on media files.

Imports torch and torchvision: the CLI imports this package only when `export` / `predict` run.
"""
from fdan.inference.export import export_checkpoint
from fdan.inference.media import MediaItem, MediaSkip, find_media
from fdan.inference.model_file import LoadedModel, ModelFileError, load_model
from fdan.inference.predict import predict_media

__all__ = ["LoadedModel", "MediaItem", "MediaSkip", "ModelFileError", "export_checkpoint", "find_media", "load_model",
           "predict_media"]
