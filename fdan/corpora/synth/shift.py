"""Planted, known-size effects of a synthetic corpus variant: a per-cue shift and per-emotion clip counts.

A **cue shift** adds a fixed offset to chosen face and voice cues of every clip, before the cues are
clipped to their physical limits (`profiles.sample_cues`)::

    cue_k  <-  cue_k + dose * offset_k            (offset_k in the cue's own units)

The recording conditions stay those of the base corpus (e.g. studio: nothing is destroyed), so the shift
moves where each emotion lies, not how well emotions can be told apart: a model that knew the offset
could undo it. `DEFAULT_OFFSETS` is one cue-scale unit (the generator's noise unit, `profiles`) on five
cues: at dose 1 each moves by 3.3 standard deviations of the speakers' idiosyncratic bias; at dose 2 the
largest values of a few cues (F0 shift of surprise, brow raise) reach their limits and are clipped.

A **label shift** (`emotion_clips`) gives some emotions another number of clips than `clips_per_emotion`.
Clip `c` of (speaker, emotion) draws from the same random stream whatever the counts, so a corpus with
fewer clips of an emotion holds a subset of the clips of the corpus without the label shift.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from fdan.corpora.synth.profiles import EMOTIONS, FACE_CUES, VOICE_CUES

# One cue-scale unit (profiles._VOICE_SCALE / _FACE_SCALE) per cue: higher, faster, brighter voice;
# raised brows, a slight smile and a more open mouth.
DEFAULT_OFFSETS: dict[str, float] = {
    "f0_shift": 3.0,     # semitones
    "tempo": 1.0,        # syllables / s
    "tilt_db": 3.0,      # dB / octave (flatter spectrum)
    "brow_raise": 0.5,
    "smile": 0.5,
}
MAX_DOSE = 2.0


@dataclass(frozen=True)
class CueShift:
    """`dose` × `offsets` added to the named cues of every clip (module docstring)."""

    dose: float = 0.0
    offsets: dict[str, float] = field(default_factory=lambda: dict(DEFAULT_OFFSETS))

    def __post_init__(self) -> None:
        if not 0.0 <= float(self.dose) <= MAX_DOSE:
            raise ValueError(f"shift dose {self.dose!r} must be in [0, {MAX_DOSE:g}]")
        unknown = sorted(set(self.offsets) - set(FACE_CUES) - set(VOICE_CUES))
        if unknown:
            raise ValueError(f"unknown shift cue(s) {unknown}; face cues: {list(FACE_CUES)}, voice cues: {list(VOICE_CUES)}")

    def face(self) -> np.ndarray:
        """(len(FACE_CUES),) offsets added to the face cues."""
        return np.array([self.dose * float(self.offsets.get(c, 0.0)) for c in FACE_CUES])

    def voice(self) -> np.ndarray:
        """(len(VOICE_CUES),) offsets added to the voice cues."""
        return np.array([self.dose * float(self.offsets.get(c, 0.0)) for c in VOICE_CUES])

    def record(self) -> dict[str, object]:
        """What corpus.json stores: the dose and the offsets at dose 1."""
        return {"dose": float(self.dose), "offsets": {c: float(self.offsets[c]) for c in sorted(self.offsets)}}


def clip_counts(clips_per_emotion: int, emotion_clips: dict[str, int] | None) -> dict[str, int]:
    """Clips per emotion (EMOTIONS order): `clips_per_emotion` unless `emotion_clips` names another count."""
    given = dict(emotion_clips or {})
    unknown = sorted(set(given) - set(EMOTIONS))
    if unknown:
        raise ValueError(f"emotion_clips names unknown emotion(s) {unknown}; known: {list(EMOTIONS)}")
    bad = {e: n for e, n in given.items() if isinstance(n, bool) or not isinstance(n, int) or n < 0}
    if bad:
        raise ValueError(f"emotion_clips counts must be whole numbers >= 0, got {bad}")
    counts = {e: int(given.get(e, clips_per_emotion)) for e in EMOTIONS}
    if sum(counts.values()) == 0:
        raise ValueError("emotion_clips leaves no clip at all")
    return counts


def check_shift(fields: dict[str, object]) -> CueShift:
    """A `CueShift` from its fields (offsets None or absent = `DEFAULT_OFFSETS`), or ValueError."""
    fields = {k: v for k, v in fields.items() if v is not None}
    return CueShift(**fields)  # type: ignore[arg-type]


def check_clip_counts(clips_per_emotion: int, emotion_clips: dict[str, int] | None) -> None:
    """ValueError when `clip_counts` would refuse these counts."""
    clip_counts(clips_per_emotion, emotion_clips)
