"""One cache naming for `fdan-bench prepare` and the sweep: cache_dir_for, and the mask arrays on disk."""
from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import numpy as np
import pytest
import torch
from torch.utils.data import DataLoader

from fdan.config import FeatureConfig
from fdan.corpora.base import CorpusError, ScanResult, register_importer
from fdan.features import FeatureSet, cache_dir_for, prepare_corpus
from fdan.features.cache_name import FEATURE_VERSION

CFG = FeatureConfig(n_mels=32, n_fft=512, face_size=32, n_frames=2, clip_seconds=1.0)


@dataclasses.dataclass
class _OptionImporter:
    """A registered importer with one option, like RAVDESS' calm handling."""

    calm: str = "drop"
    name: str = "fx-options"

    def __post_init__(self) -> None:
        if self.calm not in ("drop", "merge"):
            raise ValueError(f"calm must be drop or merge, not {self.calm!r}")

    def scan(self, root: Path) -> ScanResult:
        return ScanResult("fx", [], [])


register_importer("fx-options")(_OptionImporter)


def test_the_name_depends_on_options_and_features_not_on_the_root(tmp_path: Path):
    base = cache_dir_for(tmp_path, "ravdess", CFG, "fx-options")
    assert base.parent == tmp_path.resolve() and base.name.startswith("ravdess-") and base.is_absolute()
    assert cache_dir_for(tmp_path, "ravdess", CFG, "fx-options", {"calm": "drop"}) == base  # default spelled out
    assert cache_dir_for(tmp_path, "ravdess", CFG, _OptionImporter()) == base  # an instance: same settings
    assert cache_dir_for(tmp_path, "ravdess", CFG, "fx-options", {"calm": "merge"}) != base
    assert cache_dir_for(tmp_path, "ravdess", CFG.model_copy(update={"n_frames": 3}), "fx-options") != base
    assert cache_dir_for(tmp_path / "other", "ravdess", CFG, "fx-options").name == base.name
    with pytest.raises(CorpusError, match="unknown option"):
        cache_dir_for(tmp_path, "ravdess", CFG, "fx-options", {"colour": "x"})
    with pytest.raises(CorpusError, match="calm must be"):
        cache_dir_for(tmp_path, "ravdess", CFG, "fx-options", {"calm": "keep"})


def test_prepare_writes_where_cache_dir_for_says_and_stores_the_masks(synth_corpus: Path, tmp_path: Path):
    res = prepare_corpus("synth", synth_corpus, cfg=CFG, cache_root=tmp_path / "shared")
    assert res.out_dir == cache_dir_for(tmp_path / "shared", "synth-studio", CFG, "synth")
    again = prepare_corpus("synth", synth_corpus, cfg=CFG, cache_root=tmp_path / "shared")
    assert again.cache_hit and again.out_dir == res.out_dir

    meta = json.loads((res.out_dir / "meta.json").read_text())
    assert meta["feature_version"] == FEATURE_VERSION and meta["importer_options"] == {}
    mel_len, face_mask = np.load(res.out_dir / "mel_len.npy"), np.load(res.out_dir / "face_mask.npy")
    assert mel_len.dtype == np.int32 and mel_len.shape == (res.n_usable,)
    assert face_mask.dtype == np.bool_ and face_mask.shape == (res.n_usable, 2) and face_mask.all()
    assert ((mel_len > 90) & (mel_len <= CFG.n_mel_frames)).all()  # ~1 s clips in 1 s windows

    fs = FeatureSet.open(res.out_dir)
    batch = next(iter(DataLoader(fs.dataset(None, {lab: i for i, lab in enumerate(sorted(set(fs.manifest.label)))}),
                                 batch_size=4)))
    assert batch["mel_len"].dtype == torch.int64 and batch["mel_len"].shape == (4,)
    assert batch["face_mask"].dtype == torch.bool and batch["face_mask"].shape == (4, 2)
    assert batch["mel_len"].tolist() == mel_len[:4].tolist()
