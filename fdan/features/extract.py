"""One utterance's media -> model inputs (log-Mel + face crops + their masks), ready for the feature cache.

Faces and audio describe the same moment: the log-Mel is made from a window of the utterance's
audio (`mel.audio_window`: `clip_seconds` from its middle or start, or all of a shorter one), and
the K face frames are sampled uniformly over that same window of the video. Segment rule
(`Utterance` docstring): `start`/`end` cut the video file, and its audio stream when the audio comes
from it; a separate audio file is the utterance already (used whole) unless the row is audio-only.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from fdan.config import FeatureConfig
from fdan.corpora.base import Utterance
from fdan.features.decode import MediaError, decode_audio, decode_video_frames
from fdan.features.faces import crop_faces
from fdan.features.speaker_face import interval_energy
from fdan.features.mel import audio_to_logmel_with_len, audio_window

LABEL_SLACK_S = 0.5  # a separate audio file may be this much (or 10 %) shorter than its label segment


@dataclass
class Extracted:
    """mel: (1, n_mels, T) float16 log-Mel; mel_len: its valid (non-padding) frames, 1..T;
    faces: (K, 3, S, S) uint8 RGB; face_mask: (K,) bool, True for a real frame (False: zero padding,
    when the window holds fewer than K frames or the row has no video); n_fallback: frames in which
    the followed face was not detected; face_choice: how the face was chosen (`faces.FACE_CHOICES`,
    "" without video); notes: (path, reason) of what was wrong but worked around (kept rows)."""

    mel: np.ndarray
    mel_len: int
    faces: np.ndarray
    face_mask: np.ndarray
    n_fallback: int
    face_choice: str = ""
    notes: list[tuple[str, str]] = field(default_factory=list)


def _audio(root: Path, utt: Utterance, notes: list[tuple[str, str]]) -> tuple[np.ndarray, int]:
    """The utterance's audio (module docstring); a broken separate audio file falls back to the
    video file's audio stream (its segment), with a note. Raises MediaError with `.path` set."""
    audio_rel = utt.audio_path or utt.video_path
    cut_audio = not utt.audio_path or not utt.video_path
    seg_start, seg_end = (utt.start, utt.end) if cut_audio else (None, None)
    try:
        wave, sr = decode_audio(root / audio_rel, seg_start, seg_end)
    except MediaError as exc:
        if cut_audio:
            raise MediaError(exc.reason, audio_rel) from None
        try:
            wave, sr = decode_audio(root / utt.video_path, utt.start, utt.end)
        except MediaError:
            raise MediaError(exc.reason, audio_rel) from None
        notes.append((audio_rel, f"{exc.reason}: kept, with the audio stream of {utt.video_path}"))
        return wave, sr
    if not cut_audio and utt.start is not None and utt.end is not None:
        have, want = wave.shape[0] / sr, utt.end - utt.start
        if want - have > max(LABEL_SLACK_S, 0.1 * want):
            notes.append((audio_rel, f"audio ({have:.2f} s) shorter than its label segment ({want:.2f} s): kept"))
    return wave, sr


def extract_utterance(root: str | Path, utt: Utterance, cfg: FeatureConfig) -> Extracted:
    """Decode and featurise one utterance (see the module docstring for which seconds are used).

    Raises MediaError whose `.path` is the failing file relative to `root`.
    """
    root = Path(root)
    notes: list[tuple[str, str]] = []
    wave, sr = _audio(root, utt, notes)
    audio_rel = utt.audio_path or utt.video_path
    try:
        mel, mel_len = audio_to_logmel_with_len(wave, sr, cfg)
    except MediaError as exc:
        raise MediaError(exc.reason, audio_rel) from None
    if not np.isfinite(mel).all():
        raise MediaError("non-finite log-Mel", audio_rel)

    k, s = cfg.n_frames, cfg.face_size
    faces = np.zeros((k, 3, s, s), dtype=np.uint8)
    face_mask = np.zeros(k, dtype=bool)
    n_fallback, choice = 0, ""
    if utt.video_path:
        offset, length = audio_window(wave.shape[0] / sr, cfg)
        begin = (utt.start or 0.0) + offset
        try:
            frames = decode_video_frames(root / utt.video_path, k, begin, begin + length, label_end=utt.end)
        except MediaError as exc:
            raise MediaError(exc.reason, utt.video_path) from None
        # the m sampled frames sit at the centres of m equal parts of the window
        times = offset + (np.arange(len(frames)) + 0.5) * length / len(frames)
        energy = interval_energy(wave, sr, times) if utt.face_rule == "speaker" else None
        res = crop_faces(frames, cfg, utt.face_rule, energy)
        faces[:len(res.crops)] = res.crops
        face_mask[:len(res.crops)] = True
        n_fallback, choice = res.n_fallback, res.choice
    return Extracted(mel=mel.astype(np.float16), faces=faces, n_fallback=n_fallback, mel_len=mel_len,
                     face_mask=face_mask, face_choice=choice, notes=notes)
