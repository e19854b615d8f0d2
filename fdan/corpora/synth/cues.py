"""The true cue vectors of a synthetic corpus: what the generator drew for each clip before rendering it.

A clip's face and voice cues (`profiles.FACE_CUES`, `profiles.VOICE_CUES`; a planted cue shift included) are
the first draws of its own random stream (`generate.draw_cues`), so they are recomputed exactly from the
recipe, without decoding a file. They are the ground truth of what a planted effect does: a cue shift is a
pure translation here (except where a cue is clipped at its limits), whatever the rendering, the features and
the trunks make of it (`bench/validation_proxy.py --features cues`).
"""
from __future__ import annotations

import pandas as pd

from fdan.corpora.synth import layout
from fdan.corpora.synth.generate import clip_jobs, draw_cues
from fdan.corpora.synth.profiles import FACE_CUES, VOICE_CUES
from fdan.corpora.synth.shift import CueShift

__all__ = ["CUE_COLUMNS", "corpus_cues"]

CUE_COLUMNS: tuple[str, ...] = tuple(f"face.{c}" for c in FACE_CUES) + tuple(f"voice.{c}" for c in VOICE_CUES)


def corpus_cues(corpus: str = "synth-studio", seed: int = 0, speakers: int = 4, clips_per_emotion: int = 3, *,
                name: str | None = None, shift: CueShift | dict | None = None,
                emotion_clips: dict[str, int] | None = None, **overrides: object) -> pd.DataFrame:
    """One row per clip that `generate(<dir>, <same arguments>)` writes, in labels.csv order: `utterance_id`,
    `speaker`, `emotion`, `face_intensity`, `voice_intensity` and the cue values (`CUE_COLUMNS`)."""
    _, _, _, jobs = clip_jobs(".", corpus, seed, speakers, clips_per_emotion, name=name, shift=shift,
                              emotion_clips=emotion_clips, **overrides)  # nothing is written: the folder is not read
    rows = []
    for job in jobs:
        _, cues = draw_cues(job)
        row: dict[str, object] = {
            "utterance_id": layout.utterance_id(job.speaker.speaker_id, job.emotion, job.clip),
            "speaker": job.speaker.speaker_id, "emotion": job.emotion,
            "face_intensity": cues.face_intensity, "voice_intensity": cues.voice_intensity,
        }
        row.update({f"face.{c}": cues.face[c] for c in FACE_CUES})
        row.update({f"voice.{c}": cues.voice[c] for c in VOICE_CUES})
        rows.append(row)
    return pd.DataFrame(rows).sort_values("utterance_id", kind="stable").reset_index(drop=True)
