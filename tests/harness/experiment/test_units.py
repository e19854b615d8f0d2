"""Pair x fold expansion: speaker independence, shared label space, cross-corpus target handling."""
from __future__ import annotations

import pandas as pd
import pytest

from harness.config import validate_config
from harness.experiment.units import PairError, expand_units, pair_list, pair_name, shared_labels


def manifest(corpus: str, speakers: int, labels: list[str], *, official_splits: bool = False) -> pd.DataFrame:
    rows = []
    for s in range(speakers):
        for label in labels:
            for c in range(2):
                split = ("train", "dev", "test")[s % 3] if official_splits else "all"
                rows.append({"corpus": corpus, "utterance_id": f"{corpus}-{s}-{label}-{c}", "speaker": f"{corpus[:3]}{s}",
                             "corpus_label": label, "label": label, "split": split,
                             "fold": -1 if official_splits else s, "audio_path": "", "video_path": "x.mp4"})
    return pd.DataFrame(rows)


def config(**pairs) -> object:
    return validate_config({
        "name": "p",
        "corpora": {n: {"importer": "synth", "root": f"/data/{n}"} for n in ("savee", "crema", "meld")},
        "pairs": pairs,
    })


MANIFESTS = {
    "savee": manifest("savee", 4, ["anger", "happiness", "sadness", "neutral", "surprise"]),
    "crema": manifest("crema", 5, ["anger", "happiness", "sadness", "neutral", "disgust"]),
    "meld": manifest("meld", 6, ["anger", "happiness", "sadness", "neutral", "surprise"], official_splits=True),
}


def rows(unit_idx, corpus) -> pd.DataFrame:
    return MANIFESTS[corpus].loc[list(unit_idx)]


def test_within_corpus_folds_are_speaker_independent():
    units = expand_units(config(within=["savee"]), MANIFESTS)
    assert [u.fold for u in units] == [0, 1, 2, 3] and all(u.pair == "savee" for u in units)
    val_speakers = set()
    for u in units:
        train, val, test = (set(rows(i, "savee")["speaker"]) for i in (u.train_idx, u.val_idx, u.test_idx))
        assert train and val and test and not (train & val) and not (train & test) and not (val & test)
        assert test == {f"sav{u.fold}"} and len(val) == 1 and u.adapt_idx == ()
        assert len(u.train_idx) + len(u.val_idx) + len(u.test_idx) == len(MANIFESTS["savee"])
        val_speakers |= val
    assert len(val_speakers) > 1  # validation speakers rotate with the fold
    assert units[0].key == "savee__fold0" and units[0].labels == ("anger", "happiness", "sadness", "neutral", "surprise")


def test_official_splits_give_one_unit_with_dev_as_validation():
    (unit,) = expand_units(config(within=["meld"]), MANIFESTS)
    assert unit.fold == -1 and unit.key == "meld__foldsplit"
    assert set(rows(unit.val_idx, "meld")["split"]) == {"dev"} and set(rows(unit.test_idx, "meld")["split"]) == {"test"}
    assert set(rows(unit.train_idx, "meld")["split"]) == {"train"}


def test_cross_corpus_label_space_and_target_folds():
    units = expand_units(config(cross=[{"source": "savee", "target": "crema"}], max_folds=2), MANIFESTS)
    assert len(units) == 2 and units[0].pair == "savee→crema" and units[0].key == "savee->crema__fold0"
    for u in units:
        assert u.labels == ("anger", "happiness", "sadness", "neutral")  # canonical order, intersection
        src = MANIFESTS["savee"].loc[list(u.train_idx) + list(u.val_idx)]
        assert set(src["label"]) <= set(u.labels) and (src["corpus"] == "savee").all()
        test, adapt = rows(u.test_idx, "crema"), rows(u.adapt_idx, "crema")
        assert set(test["fold"]) == {u.fold} and u.fold not in set(adapt["fold"])
        assert not set(test["speaker"]) & set(adapt["speaker"])
        assert set(test["label"]) <= set(u.labels) and set(adapt["label"]) <= set(u.labels)


def test_cross_corpus_transductive_and_restricted_labels():
    (unit,) = expand_units(config(cross=[{"source": "crema", "target": "savee"}], cross_folds="none",
                                  labels=["anger", "sadness", "disgust"]), MANIFESTS)
    assert unit.fold == -1 and unit.labels == ("anger", "sadness")
    assert sorted(unit.test_idx) == sorted(unit.adapt_idx)


def test_all_pairs_and_names():
    cfg = config(within="all", cross="all")
    assert len(pair_list(cfg)) == 3 + 6
    assert pair_name("a", "b") == "a→b" and pair_name("a", "b", safe=True) == "a->b" and pair_name("a", "a") == "a"


def test_too_few_shared_classes_or_speakers():
    tiny = {"savee": manifest("savee", 4, ["anger", "fear"]), "crema": manifest("crema", 2, ["anger", "disgust"])}
    with pytest.raises(PairError, match="share 1 class"):
        expand_units(config(cross=[{"source": "savee", "target": "crema"}]), tiny)
    with pytest.raises(PairError, match="validation speaker"):
        expand_units(config(within=["crema"]), {"crema": manifest("crema", 2, ["anger", "disgust"])})
    assert shared_labels(tiny["savee"], tiny["crema"]) == ("anger",)


def test_fold_filter():
    units = expand_units(config(within=["savee"], folds=[1, 3]), MANIFESTS)
    assert [u.fold for u in units] == [1, 3]


def test_dropped_rows_are_counted_and_transductive_units_are_marked():
    import pandas as pd

    from harness.config import ExperimentConfig
    from harness.experiment.units import expand_pair

    def manifest(labels, prefix):
        rows = [{"speaker": f"{prefix}{i % 3}", "label": lab, "split": "all", "fold": i % 3} for i, lab in enumerate(labels)]
        return pd.DataFrame(rows)

    src = manifest(["anger", "sadness", "fear"] * 4, "s")
    tgt = manifest(["anger", "sadness", "surprise"] * 4, "t")
    cfg = ExperimentConfig.model_validate({
        "name": "x", "corpora": {"a": {"importer": "synth", "root": "a"}, "b": {"importer": "synth", "root": "b"}},
        "pairs": {"within": [], "cross": [{"source": "a", "target": "b"}], "cross_folds": "none"},
    })
    (unit,) = expand_pair(cfg, "a", "b", {"a": src, "b": tgt})
    assert unit.labels == ("anger", "sadness")
    assert unit.n_dropped == 8  # 4 fear rows in the source, 4 surprise rows in the target
    assert unit.transductive and set(unit.adapt_idx) == set(unit.test_idx)
