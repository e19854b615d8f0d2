"""Reading a feature cache must not import the synthetic generator or the media stacks."""
from __future__ import annotations

import subprocess
import sys

import pytest

# the synth package itself is numpy only (profiles, shift); its generator and conditions bring the media stacks
HEAVY = ["fdan.corpora.synth.generate", "fdan.corpora.synth.conditions", "scipy", "cv2", "av"]


def _run(code: str) -> list[str]:
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=180, check=True)
    return out.stdout.split("\n")


@pytest.mark.parametrize("module", ["fdan.features.featureset", "fdan.features.cache_name"])
def test_import_leaves_the_generator_and_decoders_out(module):
    """`import fdan.features.featureset` (which runs fdan.features' __init__) and the cache naming
    module load none of HEAVY; the synth importer still loads when asked for by name."""
    code = (f"import sys, {module}; from fdan.features import FeatureSet, cache_dir_for; "
            f"print(' '.join(m for m in {HEAVY!r} if m in sys.modules)); "
            "from fdan.corpora import get_importer; print(type(get_importer('synth')).__name__)")
    loaded, synth = _run(code)[:2]
    assert loaded.strip() == "", f"import {module} loaded: {loaded}"
    assert synth == "SynthImporter"
