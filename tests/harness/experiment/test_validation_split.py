"""Validation sets: two speakers where two still train, whole sessions for IEMOCAP (no session partner in training)."""
from __future__ import annotations

import pandas as pd
import pytest

from harness.config import validate_config
from harness.config.schema import ProtocolConfig
from harness.experiment.units import PairError, expand_units
from harness.experiment.validation_split import carve_validation


def _manifest(corpus: str, speakers: list[str], folds: list[int]) -> pd.DataFrame:
    rows = [{"corpus": corpus, "utterance_id": f"{spk}-{label}-{c}", "speaker": spk, "corpus_label": label,
             "label": label, "split": "all", "fold": fold, "audio_path": "", "video_path": "x.mp4"}
            for spk, fold in zip(speakers, folds) for label in ("anger", "sadness") for c in range(2)]
    return pd.DataFrame(rows)


def test_default_is_two_validation_speakers_and_two_always_train():
    assert ProtocolConfig().val_speakers == 2 and ProtocolConfig().cross_selection == ["source_val"]
    eight = _manifest("crema", [f"s{i}" for i in range(8)], list(range(8)))
    train, val, spk = carve_validation(eight, 2, 0, "crema")
    assert len(spk) == 2 and train["speaker"].nunique() == 6
    three = _manifest("savee", ["DC", "JE", "JK"], [0, 1, 2])  # SAVEE leave-one-out: 3 speakers left
    train, val, spk = carve_validation(three, 2, 0, "savee")
    assert len(spk) == 1 and train["speaker"].nunique() == 2


def test_iemocap_validates_on_whole_sessions():
    speakers = [f"Ses0{s}_{g}" for s in range(1, 6) for g in "FM"]
    manifest = _manifest("iemocap", speakers, [int(s[4]) - 1 for s in speakers])
    cfg = validate_config({"name": "x", "corpora": {"iemocap": {"importer": "synth", "root": "/d"}},
                           "pairs": {"within": ["iemocap"]}})
    units = expand_units(cfg, {"iemocap": manifest})
    assert len(units) == 5
    for unit in units:
        sessions = {part: set(manifest.loc[list(idx), "speaker"].str[:5])
                    for part, idx in (("train", unit.train_idx), ("val", unit.val_idx), ("test", unit.test_idx))}
        assert len(sessions["val"]) == 1 and len(unit.val_speakers) == 2  # one session: both of its actors
        assert not sessions["val"] & sessions["train"] and not sessions["test"] & sessions["train"]


def test_one_speaker_cannot_validate_and_train():
    with pytest.raises(PairError, match="validation speaker"):
        expand_units(validate_config({"name": "x", "corpora": {"c": {"importer": "synth", "root": "/d"}},
                                      "pairs": {"within": ["c"]}}), {"c": _manifest("c", ["a", "b"], [0, 1])})


def test_cross_selection_rules_are_checked():
    assert ProtocolConfig(cross_selection=["iwv", "source_val", "target_oracle"]).cross_selection[0] == "iwv"
    with pytest.raises(ValueError, match="unknown or repeated"):
        ProtocolConfig(cross_selection=["source_val", "magic"])
    with pytest.raises(ValueError, match="unknown or repeated"):
        ProtocolConfig(cross_selection=["snd", "snd"])


def test_oracle_units_train_on_labelled_target_speakers_and_test_on_the_same_fold():
    from harness.tuning.work_unit import ORACLE_SUFFIX

    src = _manifest("crema", [f"c{i}" for i in range(6)], list(range(6)))
    tgt = _manifest("savee", [f"s{i}" for i in range(5)], list(range(5)))
    cfg = validate_config({"name": "x", "corpora": {c: {"importer": "synth", "root": f"/{c}"} for c in ("crema", "savee")},
                           "pairs": {"cross": [{"source": "crema", "target": "savee"}], "oracle": True, "max_folds": 2},
                           "protocol": {"cross_selection": ["snd", "target_oracle"]}})
    units = expand_units(cfg, {"crema": src, "savee": tgt})
    cross, oracle = [u for u in units if not u.oracle_for], [u for u in units if u.oracle_for]
    assert len(cross) == len(oracle) == 2
    for c, o in zip(cross, oracle):
        assert o.pair == f"crema→savee{ORACLE_SUFFIX}" and o.key == f"crema->savee__oracle__fold{c.fold}"
        assert o.test_idx == c.test_idx and (o.source, o.target) == ("savee", "savee") and not o.cross
        train_spk = set(tgt.loc[list(o.train_idx), "speaker"])
        assert not train_spk & set(c.test_speakers) and o.train_speakers == len(train_spk) == 2
        # target_oracle: labelled target validation speakers, among the adaptation rows, never the test fold
        assert c.target_val_idx and set(c.target_val_idx) <= set(c.adapt_idx) and not set(c.target_val_idx) & set(c.test_idx)
