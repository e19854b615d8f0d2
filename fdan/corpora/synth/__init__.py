"""Synthetic multi-modal emotion corpora: rendered faces + speech-like audio as real mp4/wav files.

The package itself is light (numpy only): the recipe pieces a config check needs (`profiles`, `shift`).
The generator (`generate`: scipy, OpenCV, PyAV), the named conditions (`conditions`) and the `synth`
importer (`importer`) are imported from their modules; `fdan.corpora` registers "synth" lazily.
"""
from fdan.corpora.synth.profiles import EMOTIONS, Difficulty
from fdan.corpora.synth.shift import DEFAULT_OFFSETS, CueShift, check_clip_counts, check_shift

__all__ = ["CueShift", "DEFAULT_OFFSETS", "Difficulty", "EMOTIONS", "check_clip_counts", "check_shift"]
