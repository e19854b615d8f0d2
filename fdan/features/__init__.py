"""Media -> model inputs: decoding, log-Mel, face crops, and the on-disk feature cache.

README.md ("Features and the feature cache") documents the defaults and the cache layout.
"""
from fdan.features.cache import PrepareResult, cache_key, default_cache_dir, prepare_corpus
from fdan.features.decode import MediaError, decode_audio, decode_video_frames
from fdan.features.extract import Extracted, extract_utterance
from fdan.features.faces import face_crops
from fdan.features.featureset import FeatureDataset, FeatureSet
from fdan.features.mel import audio_to_logmel

__all__ = [
    "Extracted", "FeatureDataset", "FeatureSet", "MediaError", "PrepareResult", "audio_to_logmel",
    "cache_key", "decode_audio", "decode_video_frames", "default_cache_dir", "extract_utterance",
    "face_crops", "prepare_corpus",
]
