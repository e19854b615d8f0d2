"""Experiment config: schema, dotted overrides, clear errors (exit 2, nothing written)."""
from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from harness.config import ConfigError, load_config
from harness.config.overrides import apply_overrides
from harness.config.search_space import decode, tune_space

REPO = Path(__file__).resolve().parents[3]
EXPERIMENTS = sorted((REPO / "experiments").glob("*.yaml"))

BASE = {
    "name": "t",
    "output_dir": "out",
    "corpora": {
        "a": {"importer": "synth", "root": "data/a", "synth": {"corpus": "synth-studio"}},
        "b": {"importer": "synth", "root": "data/b", "synth": {"corpus": "synth-street"}},
    },
    "pairs": {"within": ["a"], "cross": [{"source": "a", "target": "b"}]},
    "search": {"space": {
        "model.attn_heads": {"type": "choice", "values": [2, 4]},
        "train.lmmd_weight": {"type": "loguniform", "low": 0.1, "high": 10},
        "train.bandwidths": {"type": "choice", "values": [None, [0.5, 1.0, 2.0]]},
    }},
}


def write(tmp_path: Path, data: dict | str) -> Path:
    path = tmp_path / "exp.yaml"
    path.write_text(data if isinstance(data, str) else yaml.safe_dump(data))
    return path


def error_of(tmp_path: Path, data: dict | str, overrides: list[str] | None = None) -> str:
    with pytest.raises(ConfigError) as info:
        load_config(write(tmp_path, data), overrides)
    return str(info.value)


def test_valid_config_composes_library_sections(tmp_path):
    cfg = load_config(write(tmp_path, BASE), ["train.epochs=3", "model.attn_dim=128", "features.n_mels=64"])
    assert (cfg.train.epochs, cfg.model.attn_dim, cfg.features.n_mels) == (3, 128, 64)
    assert cfg.model.backbone == "resnet34" and cfg.protocol.name == "speaker-independent"
    assert cfg.protocol.selection_key == "val_fused_uar"
    assert cfg.results_dir == Path("out/t")


@pytest.mark.parametrize("overrides, field", [
    (["train.epochs=three"], "train.epochs"),
    (["train.epoch=3"], "train.epoch"),
    (["model.attn_heads=3"], "model"),  # 256 not divisible by 3: the section's cross-field check
    (["resources.cpus_per_worker=0"], "resources.cpus_per_worker"),
    (["pairs.within=[nope]"], "pairs.within.0"),
    (["pairs.cross.0.target=zzz"], "pairs.cross.0.target"),
    (["search.space.model.attn_heads.values=[3]"], "search.space.model.attn_heads"),
    (["search.space.train.lr={type: uniform, low: 1, high: 0.1}"], "search.space.train.lr"),
    (["search.space.train.nope={type: choice, values: [1]}"], "search.space.train.nope"),
    (["protocol.name=best-ever"], "protocol.name"),
    (["resources.workers_per_trial=3", "train.batch_size=32", "resources.num_cpus=null"], "train.batch_size"),
    (["corpora.a.importer=null"], "corpora.a.importer"),
])
def test_errors_name_the_dotted_field(tmp_path, overrides, field):
    msg = error_of(tmp_path, BASE, overrides)
    assert f"{field}:" in msg or f"{field} " in msg, msg


def test_bad_yaml_names_the_line(tmp_path):
    msg = error_of(tmp_path, "name: t\ncorpora: {a: [\n")
    assert "invalid YAML" in msg and "line" in msg


def test_bad_override_syntax(tmp_path):
    assert "KEY.PATH=VALUE" in error_of(tmp_path, BASE, ["train.epochs"])
    assert "is a value, not a section" in error_of(tmp_path, BASE, ["name.x=1"])


def test_overrides_reach_dotted_search_keys_and_lists():
    out = apply_overrides(BASE, ["search.space.model.attn_heads.values=[1,8]", "pairs.cross.0.target=a",
                                 "search.space.train.lr={type: loguniform, low: 0.001, high: 0.1}"])
    assert out["search"]["space"]["model.attn_heads"]["values"] == [1, 8]
    assert out["search"]["space"]["train.lr"]["type"] == "loguniform"
    assert out["pairs"]["cross"][0]["target"] == "a"
    assert BASE["pairs"]["cross"][0]["target"] == "b"  # the input is not modified


def test_list_valued_choices_are_searched_by_index(tmp_path):
    cfg = load_config(write(tmp_path, BASE))
    space = tune_space(cfg.search.space)
    assert set(space) == {"attn_heads", "lmmd_weight", "bandwidths"}
    assert space["bandwidths"].categories == [0, 1]
    assert decode(cfg.search.space, {"attn_heads": 4, "lmmd_weight": 1.0, "bandwidths": 1})["train.bandwidths"] == [0.5, 1.0, 2.0]


def test_smoke_test_shrinks_and_keeps_heads_valid(tmp_path):
    cfg = load_config(write(tmp_path, BASE), ["smoke_test=true", "search.space.model.attn_heads.values=[2, 8]"])
    assert cfg.smoke_test and cfg.train.epochs <= 2 and cfg.search.num_samples <= 2 and cfg.pairs.max_folds == 1
    assert cfg.model.attn_dim % 8 == 0 and cfg.model.attn_dim < 256 and cfg.model.backbone == "resnet18" and cfg.features.n_mels <= 32


@pytest.mark.parametrize("path", EXPERIMENTS, ids=lambda p: p.name)
def test_shipped_experiments_validate(path):
    cfg = load_config(path)
    assert cfg.name


def test_cli_bad_config_exits_2_and_writes_nothing(tmp_path, monkeypatch):
    from typer.testing import CliRunner

    from harness.cli import app

    monkeypatch.chdir(tmp_path)
    out = tmp_path / "results"
    data = {**BASE, "output_dir": str(out), "train": {"epochs": "many"}}
    result = CliRunner().invoke(app, ["sweep", str(write(tmp_path, data)), "--set", "search.num_samples=2"])
    assert result.exit_code == 2, result.output
    assert "train.epochs" in result.stderr and "Traceback" not in result.output
    result = CliRunner().invoke(app, ["train", str(tmp_path / "missing.yaml")])
    assert result.exit_code == 2 and "no such config file" in result.stderr
    result = CliRunner().invoke(app, ["sweep", str(write(tmp_path, BASE)), "--set", "search.asha.grace_period=0"])
    assert result.exit_code == 2 and "search.asha.grace_period" in result.stderr
    assert not out.exists() and sorted(p.name for p in tmp_path.iterdir()) == ["exp.yaml"]


def test_missing_real_corpus_names_root_and_hint(tmp_path):
    from harness.experiment.corpora import CorpusMissing, check_roots

    data = {**BASE, "corpora": {**BASE["corpora"], "savee": {
        "importer": "savee", "root": str(tmp_path / "SAVEE"), "prepare_hint": "unpack AudioData/ and AudioVisualClip/ there"}},
        "pairs": {"within": ["savee"]}}
    cfg = load_config(write(tmp_path, data))
    with pytest.raises(CorpusMissing) as info:
        check_roots(cfg, ["savee"])
    assert str(tmp_path / "SAVEE") in str(info.value) and "AudioVisualClip" in str(info.value)


def test_unknown_names_get_did_you_mean_suggestions():
    """Misspelt fields (any section, inside dict entries too), corpus names and importer names."""
    from harness.config import ConfigError, load_config

    cases = {"train.epoch=3": "train.epoch: unknown field; did you mean 'epochs'?",
             "corpora.synth-studio.synth.seeds=1": "did you mean 'seed'?",
             "pairs.within=[synth-studoi]": "did you mean 'synth-studio'?",
             "corpora.synth-studio.importer=synht": "did you mean 'synth'?",
             "train.zzz=1": "train.zzz: unknown field"}
    for override, expected in cases.items():
        with pytest.raises(ConfigError) as info:
            load_config(Path(__file__).resolve().parents[3] / "experiments" / "quickstart.yaml", [override])
        assert expected in str(info.value)
    assert "did you mean" not in str(info.value)  # nothing close: no guess


def test_validation_power_is_validation_with_more_target_speakers():
    """experiments/validation_power.yaml repeats validation.yaml's middle dose with 48 target speakers: every other
    setting must stay the same as validation.yaml's, or its figures stop being a power check of that table."""
    base, power = (load_config(REPO / "experiments" / f"{name}.yaml") for name in ("validation", "validation_power"))
    for section in ("features", "model", "train", "search", "resources", "protocol"):
        assert getattr(power, section) == getattr(base, section), section
    assert power.pairs.model_copy(update={"cross": base.pairs.cross}) == base.pairs
    methods = ("source_only", "adabn", "mmd")
    assert sorted(power.variants, key=str) == sorted([v for v in base.variants if v["train.method"] in methods], key=str)
    assert power.corpora["synth-source"] == base.corpora["synth-source"]
    for name in ("synth-null", "synth-shift-1.0"):
        spec, same = power.corpora[name], base.corpora[name]
        assert spec.synth.speakers == 48 and spec.synth.model_copy(update={"speakers": same.synth.speakers}) == same.synth


def test_validation_cues_is_validations_middle_dose_split_by_cue():
    """experiments/validation_cues.yaml plants validation.yaml's dose-1 shift one cue at a time: every other setting
    stays validation.yaml's, and the five targets' offsets add up to the default shift."""
    from fdan.corpora.synth.shift import DEFAULT_OFFSETS

    base, cues = (load_config(REPO / "experiments" / f"{name}.yaml") for name in ("validation", "validation_cues"))
    for section in ("features", "model", "train", "search", "resources", "protocol"):
        assert getattr(cues, section) == getattr(base, section), section
    assert cues.pairs.model_copy(update={"cross": base.pairs.cross}) == base.pairs
    assert sorted(cues.variants, key=str) == sorted([v for v in base.variants if v["train.method"] in ("source_only", "adabn")], key=str)
    for name in ("synth-source", "synth-null"):
        assert cues.corpora[name] == base.corpora[name]
    planted: dict[str, float] = {}
    shifted = base.corpora["synth-shift-1.0"].synth
    for name, spec in cues.corpora.items():
        if name.startswith("synth-cue-"):
            assert spec.synth.shift.dose == 1.0 and len(spec.synth.shift.offsets) == 1
            assert spec.synth.model_copy(update={"shift": shifted.shift, "name": shifted.name}) == shifted
            planted.update(spec.synth.shift.offsets)
    assert planted == DEFAULT_OFFSETS
    assert [p.target for p in cues.pairs.cross] == ["synth-null"] + [n for n in cues.corpora if n.startswith("synth-cue-")]
