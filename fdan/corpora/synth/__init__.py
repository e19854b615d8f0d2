"""Synthetic multi-modal emotion corpora: rendered faces + speech-like audio as real mp4/wav files.

Importing this package registers the `synth` corpus importer.
"""
from fdan.corpora.synth.conditions import CORPORA, Conditions, get_conditions
from fdan.corpora.synth.generate import generate
from fdan.corpora.synth.importer import SynthImporter
from fdan.corpora.synth.profiles import EMOTIONS, Difficulty

__all__ = ["CORPORA", "Conditions", "Difficulty", "EMOTIONS", "SynthImporter", "generate", "get_conditions"]
