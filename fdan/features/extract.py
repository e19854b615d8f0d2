"""One utterance's media -> model inputs (log-Mel + face crops), ready for the feature cache."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from fdan.config import FeatureConfig
from fdan.corpora.base import Utterance
from fdan.features.decode import MediaError, decode_audio, decode_video_frames
from fdan.features.faces import face_crops
from fdan.features.mel import audio_to_logmel


@dataclass
class Extracted:
    """mel: (1, n_mels, T) float16 log-Mel; faces: (K, 3, S, S) uint8 RGB; n_fallback: centre crops used."""

    mel: np.ndarray
    faces: np.ndarray
    n_fallback: int


def extract_utterance(root: str | Path, utt: Utterance, cfg: FeatureConfig) -> Extracted:
    """Decode and featurise one utterance.

    Audio comes from `utt.audio_path` when set, else from the video file's audio stream; K =
    `cfg.n_frames` frames are sampled uniformly over the video. Raises MediaError whose `.path` is the
    failing file relative to `root`.
    """
    root = Path(root)
    audio_rel = utt.audio_path or utt.video_path
    try:
        wave, sr = decode_audio(root / audio_rel)
        mel = audio_to_logmel(wave, sr, cfg)
    except MediaError as exc:
        raise MediaError(exc.reason, audio_rel) from None
    if not np.isfinite(mel).all():
        raise MediaError("non-finite log-Mel", audio_rel)
    try:
        frames = decode_video_frames(root / utt.video_path, cfg.n_frames)
    except MediaError as exc:
        raise MediaError(exc.reason, utt.video_path) from None
    faces, n_fallback = face_crops(frames, cfg)
    return Extracted(mel=mel.astype(np.float16), faces=faces, n_fallback=n_fallback)
