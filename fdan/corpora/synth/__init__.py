"""Synthetic multi-modal emotion corpora: rendered faces + speech-like audio as real mp4/wav files.

Importing this package registers the `synth` corpus importer.
"""
from fdan.corpora.synth.conditions import CORPORA, Conditions, get_conditions
from fdan.corpora.synth.generate import generate, mismatches
from fdan.corpora.synth.importer import SynthImporter
from fdan.corpora.synth.profiles import EMOTIONS, Difficulty
from fdan.corpora.synth.shift import DEFAULT_OFFSETS, CueShift

__all__ = ["CORPORA", "Conditions", "CueShift", "DEFAULT_OFFSETS", "Difficulty", "EMOTIONS", "SynthImporter",
           "generate", "get_conditions", "mismatches"]
