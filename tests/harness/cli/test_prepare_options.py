"""`prepare`'s feature options come from FeatureConfig (every field, defaults from the model), and
`prepare --config EXPERIMENT.yaml` fills the very cache directory that experiment's sweep reads."""
from __future__ import annotations

import inspect
import json
from pathlib import Path

import yaml

from fdan.config import FeatureConfig
from fdan.corpora.synth.generate import generate
from fdan.features.cache_name import cache_dir_for
from harness.cli.feature_options import option_name
from harness.cli.prepare import prepare
from harness.config import load_config

from ..experiment_data import run_cli

REPO = Path(__file__).resolve().parents[3]


def test_every_feature_field_is_an_option_with_the_models_default():
    params = inspect.signature(prepare).parameters
    help_text = run_cli("prepare", "--help").output
    for name, info in FeatureConfig.model_fields.items():
        assert name in params and params[name].default.param_decls == (option_name(name),)
        assert f"default {info.get_default()}" in params[name].default.help
        assert option_name(name) in help_text


def test_prepare_with_config_fills_the_sweeps_cache_dir_and_options_override(tmp_path):
    root = tmp_path / "studio"
    generate(root, corpus="synth-studio", seed=0, speakers=2, clips_per_emotion=1)
    data = yaml.safe_load((REPO / "experiments" / "quickstart.yaml").read_text())
    data["cache_dir"] = str(tmp_path / "cache")
    data["corpora"]["synth-studio"]["root"] = str(root)
    data["features"].update(f_max=3000.0, face_margin=0.3, face_detector="center")  # fields the old options lacked
    config = tmp_path / "exp.yaml"
    config.write_text(yaml.safe_dump(data))
    res = run_cli("prepare", "synth", str(root), "--config", str(config), "--workers", "0")
    assert res.exit_code == 0, res.output
    cfg = load_config(config)
    want = cache_dir_for(cfg.cache_dir, "synth-studio", cfg.features, "synth", {})
    assert json.loads((want / "meta.json").read_text())["feature_config"]["f_max"] == 3000.0
    again = run_cli("prepare", "synth", str(root), "--config", str(config), "--workers", "0", "--face-margin", "0.1")
    assert again.exit_code == 0, again.output
    other = cache_dir_for(cfg.cache_dir, "synth-studio", cfg.features.model_copy(update={"face_margin": 0.1}), "synth", {})
    assert other != want and (other / "meta.json").is_file()


def test_bad_feature_value_and_bad_config_are_clear_errors(tmp_path):
    res = run_cli("prepare", "synth", str(tmp_path), "--face-detector", "hog")
    assert res.exit_code == 2 and "face_detector" in res.output
    (tmp_path / "bad.yaml").write_text("name: x\ncorpora: {a: {importer: synth, root: r}}\npairs: {within: [a]}\n"
                                       "train: {epoch: 3}\n")
    res = run_cli("prepare", "synth", str(tmp_path), "--config", str(tmp_path / "bad.yaml"))
    assert res.exit_code == 2 and "did you mean 'epochs'" in res.output
