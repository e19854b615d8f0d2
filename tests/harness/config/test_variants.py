"""Variants: validated at load, expanded into per-variant configs with file-safe, unique names."""
from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from harness.config import ConfigError, load_config
from harness.config.variants import expand_variants

BASE = {
    "name": "t",
    "corpora": {"a": {"importer": "synth", "root": "data/a", "synth": {"corpus": "synth-studio"}}},
    "pairs": {"within": ["a"]},
    "variants": [{"train.method": "fdan"}, {"train.method": "dann", "train.lmmd_weight": 0.3},
                 {"name": "audio", "train.method": "source_only", "model.backbone": "resnet18"}],
}


def load(tmp_path: Path, overrides: list[str] | None = None, data: dict | None = None):
    path = tmp_path / "exp.yaml"
    path.write_text(yaml.safe_dump(data or BASE, sort_keys=False))
    return load_config(path, overrides)


def test_variants_expand_to_configs_with_their_fields(tmp_path):
    cfg = load(tmp_path)
    out = expand_variants(cfg)
    assert [v.name for v, _ in out] == ["fdan", "dann-0.3", "audio"]
    assert [c.train.method for _, c in out] == ["fdan", "dann", "source_only"]
    assert out[1][1].train.lmmd_weight == 0.3 and out[2][1].model.backbone == "resnet18"
    assert out[0][1].model.backbone == cfg.model.backbone and cfg.train.method == "fdan"
    assert [(v.name, c) for v, c in expand_variants(load(tmp_path, data={**BASE, "variants": []}))][0][0] == ""


@pytest.mark.parametrize("variants, field, words", [
    ([{"train.method": "magic"}], "variants.0", ["method"]),
    ([{"train.nope": 1}], "variants.0.train.nope", ["model or train"]),
    ([{"train.method": "fdan"}, {"train.method": "fdan"}], "variants.1", ["same name"]),
    ([{"name": "a b", "train.method": "fdan"}], "variants.0.name", ["file-safe"]),
    ([{"name": "x"}], "variants.0", ["at least one"]),
    ([{"train.lr": 0.1}], "variants.0.train.lr", ["searched"]),
])
def test_bad_variants_name_the_field(tmp_path, variants, field, words):
    data = {**BASE, "variants": variants, "search": {"space": {"train.lr": {"type": "choice", "values": [0.1, 0.01]}}}}
    with pytest.raises(ConfigError) as info:
        load(tmp_path, data=data)
    assert f"{field}:" in str(info.value) and all(w in str(info.value) for w in words), str(info.value)


def test_single_modality_variants_are_selected_on_their_head(tmp_path):
    data = {**BASE, "variants": [{"train.method": "fdan"},
                                 {"train.method": "source_only", "model.modalities": ["audio"]}]}
    (_, both), (single, audio) = expand_variants(load(tmp_path, data=data))
    assert single.name == "source_only-audio" and audio.model.modalities == ["audio"]
    assert (both.protocol.selection_key, audio.protocol.selection_key) == ("val_fused_uar", "val_audio_uar")


@pytest.mark.parametrize("changes, field, words", [
    ({"variants": [{"train.method": "adabn"}], "model": {"freeze_backbone": True, "token_standardise": "off"}},
     "variants.0", ["token_standardise"]),
    ({"variants": [], "train": {"method": "adabn"}, "protocol": {"name": "paper"}}, "train.method", ["paper"]),
])
def test_adabn_that_could_not_re_estimate_statistics_is_refused(tmp_path, changes, field, words):
    """Frozen trunks without token standardisation leave no BatchNorm: adabn would silently be source_only."""
    with pytest.raises(ConfigError) as info:
        load(tmp_path, data={**BASE, **changes})
    assert f"{field}:" in str(info.value) and all(w in str(info.value) for w in words), str(info.value)
    assert load(tmp_path, data={**BASE, "variants": [{"train.method": "adabn"}]})  # trunk BatchNorm / token standardisation


@pytest.mark.parametrize("changes, field, words", [
    ({"pairs": {"within": ["a"], "oracle": ["fdan", "nope"]}}, "pairs.oracle.1", ["'nope'", "dann-0.3"]),
    ({"pairs": {"within": ["a"], "oracle": ["fdan"]}, "variants": []}, "pairs.oracle", ["has none", "true"]),
    ({"pairs": {"within": ["a"], "oracle": []}}, "pairs.oracle", ["empty", "false"]),
])
def test_oracle_list_must_name_variants(tmp_path, changes, field, words):
    """`pairs.oracle: [names]` runs the oracle units under those variants only: an unknown name is a config error."""
    with pytest.raises(ConfigError) as info:
        load(tmp_path, data={**BASE, **changes})
    assert f"{field}:" in str(info.value) and all(w in str(info.value) for w in words), str(info.value)
    assert load(tmp_path, data={**BASE, "pairs": {"within": ["a"], "oracle": ["audio", "fdan"]}}).pairs.oracle == ["audio", "fdan"]
    assert load(tmp_path, data={**BASE, "pairs": {"within": ["a"], "oracle": True}}).pairs.oracle is True
