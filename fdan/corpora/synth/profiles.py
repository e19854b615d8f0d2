"""Emotion prototypes, speaker identities and the per-clip cue sampling of the synthetic corpora.

Every clip is described by two cue vectors, one per modality:

- face cues (`FACE_CUES`): mouth curvature, mouth opening, mouth width, brow height, inner-brow raise,
  eye opening, mouth asymmetry, head-motion amplitude and rate, head pitch (looking down);
- voice cues (`VOICE_CUES`): F0 shift (semitones), F0 range (semitones), tempo (syllables/s),
  energy (dB), spectral tilt (dB/octave), breathiness, tremor (semitones), final contour (semitones).

A clip's cue vector is ``neutral + intensity * expressiveness * (prototype - neutral) + speaker_bias + noise``.
Intensity is drawn per clip and per modality (correlated), some clips are nearly neutral, speaker
biases overlap the gaps between emotions: the cues are learnable but noisy, never a lookup table.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

EMOTIONS: tuple[str, ...] = ("anger", "disgust", "fear", "happiness", "neutral", "sadness", "surprise")
EMOTION_CODES: dict[str, str] = {e: e[:3] for e in EMOTIONS}  # ang, dis, fea, hap, neu, sad, sur

FACE_CUES: tuple[str, ...] = (
    "smile", "mouth_open", "mouth_width", "brow_raise", "brow_inner", "eye_open", "mouth_asym",
    "head_amp", "head_rate", "head_down",
)
VOICE_CUES: tuple[str, ...] = (
    "f0_shift", "f0_range", "tempo", "energy_db", "tilt_db", "breath", "tremor", "final_st",
)

# Rows follow FACE_CUES; neutral is the origin the intensity scales from.
_FACE_PROTO: dict[str, tuple[float, ...]] = {
    "anger":     (-0.5, 0.25, 0.95, -0.8, -1.0, 0.75, 0.0, 0.55, 2.0, 0.0),
    "disgust":   (-0.4, 0.10, 0.90, -0.4, -0.4, 0.65, 0.8, 0.30, 0.8, 0.1),
    "fear":      (-0.2, 0.50, 1.15, 0.7, 0.8, 1.45, 0.0, 0.45, 3.0, 0.0),
    "happiness": (1.0, 0.35, 1.20, 0.2, 0.0, 0.80, 0.0, 0.45, 1.2, -0.1),
    "neutral":   (0.0, 0.05, 1.00, 0.0, 0.0, 1.00, 0.0, 0.20, 0.6, 0.0),
    "sadness":   (-0.7, 0.05, 0.90, -0.1, 0.9, 0.70, 0.0, 0.15, 0.4, 0.6),
    "surprise":  (0.0, 1.00, 0.85, 1.0, 0.3, 1.50, 0.0, 0.35, 1.0, -0.3),
}
# Rows follow VOICE_CUES.
_VOICE_PROTO: dict[str, tuple[float, ...]] = {
    "anger":     (3.0, 4.0, 5.5, 8.0, -6.0, 0.05, 0.0, -2.0),
    "disgust":   (-1.0, 2.0, 3.5, -1.0, -10.0, 0.20, 0.0, -1.0),
    "fear":      (5.0, 3.0, 6.0, 2.0, -9.0, 0.40, 0.8, 2.0),
    "happiness": (4.0, 5.0, 5.0, 4.0, -8.0, 0.10, 0.0, 1.0),
    "neutral":   (0.0, 1.5, 4.5, 0.0, -12.0, 0.10, 0.0, -1.5),
    "sadness":   (-2.0, 1.0, 3.0, -5.0, -15.0, 0.30, 0.0, -3.0),
    "surprise":  (6.0, 6.0, 4.5, 5.0, -8.0, 0.10, 0.0, 5.0),
}
# Scale of one "unit" of noise per cue (speaker bias and clip noise are multiples of these).
_FACE_SCALE = np.array([0.5, 0.3, 0.12, 0.5, 0.5, 0.3, 0.4, 0.2, 0.8, 0.3])
_VOICE_SCALE = np.array([3.0, 2.0, 1.0, 4.0, 3.0, 0.15, 0.3, 2.5])
# Physical limits each cue is clipped to.
_FACE_LO = np.array([-1.3, 0.0, 0.7, -1.3, -1.3, 0.35, -1.0, 0.0, 0.2, -0.6])
_FACE_HI = np.array([1.3, 1.2, 1.35, 1.3, 1.3, 1.7, 1.0, 1.0, 4.0, 1.0])
_VOICE_LO = np.array([-8.0, 0.3, 2.0, -12.0, -20.0, 0.0, 0.0, -8.0])
_VOICE_HI = np.array([10.0, 9.0, 8.0, 12.0, -3.0, 0.7, 1.5, 8.0])


@dataclass(frozen=True)
class Difficulty:
    """How noisy the emotion cues are (the calibration knobs; README.md, "Synthetic corpora")."""

    intensity_lo: float = 0.6  # per-clip intensity ~ U(lo, hi)
    intensity_hi: float = 1.0
    ambiguous_rate: float = 0.1  # share of clips whose intensity is squashed towards neutral
    ambiguous_intensity: float = 0.15
    modality_decouple: float = 0.25  # std of the audio/face intensity difference
    speaker_bias: float = 0.3  # speaker idiosyncrasy, in cue-scale units
    clip_noise: float = 0.2  # per-clip cue noise, in cue-scale units
    expressiveness: float = 1.0  # corpus-wide multiplier (acted vs spontaneous)


@dataclass(frozen=True)
class Speaker:
    """Identity of one synthetic speaker: face appearance, voice, expression style."""

    speaker_id: str
    index: int
    female: bool
    skin_bgr: tuple[int, int, int]
    hair_bgr: tuple[int, int, int]
    shirt_bgr: tuple[int, int, int]
    face_aspect: float  # head height / width
    face_scale: float  # relative head size
    eye_spacing: float
    mouth_y: float
    brow_thick: float
    base_f0: float  # Hz
    formant_scale: float  # vocal-tract length factor (higher = shorter tract = higher formants)
    rate_scale: float  # habitual speaking rate factor
    expressiveness: float
    face_bias: tuple[float, ...]  # per FACE_CUES, in cue-scale units
    voice_bias: tuple[float, ...]  # per VOICE_CUES


def make_speaker(speaker_id: str, index: int, rng: np.random.Generator, *, female_rate: float = 0.5,
                 skin_tones: tuple[tuple[int, int, int], ...], f0_scale: float = 1.0,
                 bias: float = 0.3) -> Speaker:
    """Draw one speaker; `skin_tones` (BGR) and `f0_scale` are the corpus' population parameters."""
    female = bool(rng.random() < female_rate)
    base = skin_tones[int(rng.integers(len(skin_tones)))]
    skin = tuple(int(np.clip(c + rng.normal(0, 10), 40, 250)) for c in base)
    hair_v = float(rng.uniform(15, 90))
    hair = (int(hair_v * rng.uniform(0.6, 1.0)), int(hair_v * rng.uniform(0.7, 1.0)), int(hair_v))
    shirt = tuple(int(v) for v in rng.integers(30, 220, 3))
    f0 = (rng.uniform(175, 245) if female else rng.uniform(95, 145)) * f0_scale
    return Speaker(
        speaker_id=speaker_id, index=index, female=female, skin_bgr=skin, hair_bgr=hair, shirt_bgr=shirt,
        face_aspect=float(rng.uniform(1.2, 1.42)), face_scale=float(rng.uniform(0.92, 1.08)),
        eye_spacing=float(rng.uniform(0.34, 0.42)), mouth_y=float(rng.uniform(0.42, 0.52)),
        brow_thick=float(rng.uniform(0.8, 1.3)), base_f0=float(f0),
        formant_scale=float(rng.uniform(1.05, 1.18) if female else rng.uniform(0.88, 1.0)),
        rate_scale=float(rng.uniform(0.85, 1.15)), expressiveness=float(rng.uniform(0.7, 1.25)),
        face_bias=tuple(float(v) for v in rng.normal(0, bias, len(FACE_CUES))),
        voice_bias=tuple(float(v) for v in rng.normal(0, bias, len(VOICE_CUES))),
    )


@dataclass(frozen=True)
class ClipCues:
    """The sampled cues of one clip (dicts keyed by FACE_CUES / VOICE_CUES) and its intensities."""

    face: dict[str, float]
    voice: dict[str, float]
    face_intensity: float
    voice_intensity: float


def sample_cues(emotion: str, speaker: Speaker, rng: np.random.Generator, difficulty: Difficulty, *,
                face_offset: np.ndarray | None = None, voice_offset: np.ndarray | None = None) -> ClipCues:
    """Draw one clip's face and voice cues for `emotion` spoken by `speaker`.

    `face_offset` (len(FACE_CUES),) / `voice_offset` (len(VOICE_CUES),) are added before the cues are
    clipped to their limits (a planted cue shift, `shift.CueShift`); None adds nothing.
    """
    if emotion not in _FACE_PROTO:
        raise ValueError(f"unknown emotion {emotion!r}; expected one of {EMOTIONS}")
    d = difficulty
    base = rng.uniform(d.intensity_lo, d.intensity_hi)
    if rng.random() < d.ambiguous_rate:
        base = d.ambiguous_intensity * rng.random()
    scale = speaker.expressiveness * d.expressiveness
    fi = float(np.clip(base + rng.normal(0, d.modality_decouple), 0.0, 1.2)) * scale
    vi = float(np.clip(base + rng.normal(0, d.modality_decouple), 0.0, 1.2)) * scale

    def mix(proto: dict[str, tuple[float, ...]], inten: float, cue_scale: np.ndarray, bias: tuple[float, ...],
            lo: np.ndarray, hi: np.ndarray, offset: np.ndarray | None) -> np.ndarray:
        neutral, target = np.array(proto["neutral"]), np.array(proto[emotion])
        v = neutral + inten * (target - neutral)
        v = v + cue_scale * (np.array(bias) + rng.normal(0, d.clip_noise, len(cue_scale)))
        return np.clip(v if offset is None else v + offset, lo, hi)

    f = mix(_FACE_PROTO, fi, _FACE_SCALE, speaker.face_bias, _FACE_LO, _FACE_HI, face_offset)
    v = mix(_VOICE_PROTO, vi, _VOICE_SCALE, speaker.voice_bias, _VOICE_LO, _VOICE_HI, voice_offset)
    return ClipCues(face=dict(zip(FACE_CUES, map(float, f))), voice=dict(zip(VOICE_CUES, map(float, v))),
                    face_intensity=fi, voice_intensity=vi)
