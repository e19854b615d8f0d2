"""Media -> model inputs: decoding, log-Mel, face crops, and the on-disk feature cache.

README.md ("Features and the feature cache") documents the defaults and the cache layout.
Names are imported lazily: reading a cache (`fdan.features.featureset`, e.g. in a training worker)
must not load PyAV, OpenCV, scipy or the synthetic-corpus generator.
"""
from __future__ import annotations

import importlib
from typing import Any

_LAZY = {
    "PrepareResult": "fdan.features.cache", "cache_key": "fdan.features.cache",
    "default_cache_dir": "fdan.features.cache", "prepare_corpus": "fdan.features.cache",
    "cache_dir_for": "fdan.features.cache_name", "FEATURE_VERSION": "fdan.features.cache_name",
    "MediaError": "fdan.features.mediafile", "decode_audio": "fdan.features.decode",
    "decode_video_frames": "fdan.features.video",
    "Extracted": "fdan.features.extract", "extract_utterance": "fdan.features.extract",
    "face_crops": "fdan.features.faces", "crop_faces": "fdan.features.faces",
    "FaceDetector": "fdan.features.face_detector", "register_detector": "fdan.features.face_detector",
    "FeatureDataset": "fdan.features.featureset", "FeatureSet": "fdan.features.featureset",
    "audio_to_logmel": "fdan.features.mel",
}

__all__ = sorted(_LAZY)


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'fdan.features' has no attribute {name!r}")
