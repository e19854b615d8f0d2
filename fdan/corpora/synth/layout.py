"""The native layout of a synthetic corpus (shared by the generator and the `synth` importer).

    OUT_DIR/corpus.json                 {"family": "synth", "corpus": NAME, "seed": .., "version": 2, ...}
    OUT_DIR/labels.csv                  one row per clip, columns LABEL_COLUMNS, sorted by utterance_id
    OUT_DIR/<speaker>/<utterance_id>.mp4   H.264 video (+ AAC audio when the corpus stores audio inside)
    OUT_DIR/<speaker>/<utterance_id>.wav   16-bit PCM, only when the corpus stores separate audio
"""
from __future__ import annotations

FAMILY = "synth"
VERSION = 2
CORPUS_JSON = "corpus.json"
LABELS_CSV = "labels.csv"
LABEL_COLUMNS: tuple[str, ...] = (
    "utterance_id", "speaker", "speaker_index", "emotion", "video_path", "audio_path", "duration_s",
    "n_frames", "fps", "width", "height", "sample_rate", "audio_store", "face_intensity", "voice_intensity",
)


def utterance_id(speaker: str, emotion: str, clip: int) -> str:
    """`<speaker>_<emo3>_<NN>`, e.g. `stu01_ang_00`."""
    return f"{speaker}_{emotion[:3]}_{clip:02d}"
