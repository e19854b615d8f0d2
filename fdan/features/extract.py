"""One utterance's media -> model inputs (log-Mel + face crops + their masks), ready for the feature cache.

Faces and audio describe the same moment: the log-Mel is made from a window of the utterance's
audio (`mel.audio_window`: `clip_seconds` from its middle or start, or all of a shorter one), and
the K face frames are sampled uniformly over that same window of the video. Segment rule
(`Utterance` docstring): `start`/`end` cut the video file, and its audio stream when the audio comes
from it; a separate audio file is the utterance already (used whole) unless the row is audio-only.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from fdan.config import FeatureConfig
from fdan.corpora.base import Utterance
from fdan.features.decode import MediaError, decode_audio, decode_video_frames
from fdan.features.faces import face_crops
from fdan.features.mel import audio_to_logmel_with_len, audio_window


@dataclass
class Extracted:
    """mel: (1, n_mels, T) float16 log-Mel; mel_len: its valid (non-padding) frames, 1..T;
    faces: (K, 3, S, S) uint8 RGB; face_mask: (K,) bool, True for a real frame (False: zero padding,
    when the window holds fewer than K frames or the row has no video); n_fallback: frames in which
    the followed face was not detected."""

    mel: np.ndarray
    mel_len: int
    faces: np.ndarray
    face_mask: np.ndarray
    n_fallback: int


def extract_utterance(root: str | Path, utt: Utterance, cfg: FeatureConfig) -> Extracted:
    """Decode and featurise one utterance (see the module docstring for which seconds are used).

    Raises MediaError whose `.path` is the failing file relative to `root`.
    """
    root = Path(root)
    audio_rel = utt.audio_path or utt.video_path
    cut_audio = not utt.audio_path or not utt.video_path
    seg_start, seg_end = (utt.start, utt.end) if cut_audio else (None, None)
    try:
        wave, sr = decode_audio(root / audio_rel, seg_start, seg_end)
        mel, mel_len = audio_to_logmel_with_len(wave, sr, cfg)
    except MediaError as exc:
        raise MediaError(exc.reason, audio_rel) from None
    if not np.isfinite(mel).all():
        raise MediaError("non-finite log-Mel", audio_rel)

    k, s = cfg.n_frames, cfg.face_size
    faces = np.zeros((k, 3, s, s), dtype=np.uint8)
    face_mask = np.zeros(k, dtype=bool)
    n_fallback = 0
    if utt.video_path:
        offset, length = audio_window(wave.shape[0] / sr, cfg)
        begin = (utt.start or 0.0) + offset
        try:
            frames = decode_video_frames(root / utt.video_path, k, begin, begin + length)
        except MediaError as exc:
            raise MediaError(exc.reason, utt.video_path) from None
        crops, n_fallback = face_crops(frames, cfg)
        faces[:len(crops)] = crops
        face_mask[:len(crops)] = True
    return Extracted(mel=mel.astype(np.float16), faces=faces, n_fallback=n_fallback, mel_len=mel_len,
                     face_mask=face_mask)
