"""Run the real feature pipeline on a small native-layout fixture and read back its tables."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from fdan.config import FeatureConfig
from fdan.corpora import CorpusImporter
from fdan.features import prepare_corpus

# Small but real: every clip is decoded, resampled, log-Mel'd and face-cropped.
SMALL_FEATURES = FeatureConfig(n_mels=32, n_fft=512, clip_seconds=1.0, n_frames=2, face_size=32)


def prepare_tables(importer: CorpusImporter, root: Path, out: Path) -> tuple[pd.DataFrame, pd.DataFrame]:
    """prepare_corpus(importer, root) into `out`; returns (manifest, skipped) as read from the cache
    files (skipped.csv: rows skipped and rows kept with a note, told apart by `outcome`), after checking
    that the feature arrays have one row per manifest row."""
    res = prepare_corpus(importer, root, out, SMALL_FEATURES)
    manifest = pd.read_csv(res.out_dir / "manifest.csv", dtype=str, keep_default_na=False)
    skipped = pd.read_csv(res.out_dir / "skipped.csv", dtype=str, keep_default_na=False)
    mel = np.load(res.out_dir / "mel.npy", mmap_mode="r")
    faces = np.load(res.out_dir / "faces.npy", mmap_mode="r")
    assert len(manifest) == res.n_usable == mel.shape[0] == faces.shape[0]
    assert (skipped["outcome"] == "skipped").sum() == res.n_skipped
    assert (skipped["outcome"] == "kept").sum() == res.n_kept_with_note
    assert np.isfinite(np.asarray(mel, np.float32)).all()
    return manifest, skipped
