"""`--plan` on sweep and train: units, trials, resources and concurrency, without running anything."""
from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from harness.cluster.launcher import max_resources
from harness.config import validate_config
from harness.experiment.corpora import prepare_corpora
from harness.experiment.describe import describe_plan
from tests.harness.experiment_data import run_cli

ROOT = Path(__file__).resolve().parents[3]


def test_lmmd_plan_without_the_corpora_counts_every_pair_and_says_what_is_unknown(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # the corpora roots (data/corpora/...) do not exist here
    result = run_cli("sweep", str(ROOT / "experiments" / "lmmd.yaml"), "--plan", "--cluster", str(ROOT / "cluster.yaml"))
    assert result.exit_code == 0, result.output
    out = result.output
    assert "36 pair(s), 32 trial(s) per unit" in out  # 6 within + 30 ordered cross pairs
    assert out.count("folds: unknown until prepared") == 36
    assert "savee: root data/corpora/SAVEE missing" in out
    assert "at least 36 unit(s) = 1152 trial(s)" in out
    # cluster.yaml: a {CPU: 0} head and at most 4 GPU workers of {CPU: 8, GPU: 1}; a trial = 0.5 + 4 CPU, 1 GPU
    assert "at most (" in out and "4 GPU" in out and "4 trial(s) at once on GPU workers" in out
    assert not (tmp_path / "results").exists()  # nothing ran


def test_train_plan_has_one_trial_per_unit(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    result = run_cli("train", str(ROOT / "experiments" / "lmmd.yaml"), "--plan")
    assert result.exit_code == 0, result.output
    assert "1 trial(s) per unit (train: no search)" in result.output and "concurrency now" in result.output


def test_prepared_corpus_gives_exact_units(tmp_path):
    from fdan.corpora.synth.generate import generate

    root = generate(tmp_path / "studio", speakers=3, clips_per_emotion=1, workers=1, duration_s=(0.6, 0.7))
    cfg = validate_config({
        "name": "p", "cache_dir": str(tmp_path / "cache"),
        "corpora": {"s": {"importer": "synth", "root": str(root)}, "missing": {"importer": "savee", "root": str(tmp_path / "none")}},
        "pairs": {"within": ["s"], "cross": [{"source": "s", "target": "missing"}]},
        "features": {"n_mels": 16, "n_fft": 512, "face_size": 32, "n_frames": 2, "clip_seconds": 0.5},
        "search": {"num_samples": 4, "space": {"train.lr": {"type": "loguniform", "low": 1e-4, "high": 1e-2}}},
        "resources": {"cpus_per_worker": 1, "cpus_per_trial_driver": 0.5},
    })
    prepare_corpora(cfg, ["s"], log=lambda s: None, use_ray=False)
    text = describe_plan(cfg, True, {"CPU": 7.0, "GPU": 0.0}, "test")
    assert "  s: 3 unit(s)" in text  # leave-one-speaker-out over 3 speakers
    assert "s→missing: folds: unknown until prepared" in text and f"root {tmp_path / 'none'} missing" in text
    assert "at least 4 unit(s) = 16 trial(s)" in text
    assert "7 CPU, 0 GPU -> 4 trial(s) at once on CPU workers (1.5 CPU each)" in text
    assert "; 4 unit(s) side by side, up to 1 trial(s) of each at once" in text  # 4 slots, at least 4 units
    assert "resources.concurrent_units = auto" in text


def test_launcher_capacity_is_capped_by_max_workers_and_names_undeclared_types(tmp_path):
    path = tmp_path / "c.yaml"
    path.write_text(yaml.safe_dump({"max_workers": 3, "head_node_type": "head", "available_node_types": {
        "head": {"resources": {"CPU": 0}, "max_workers": 0},
        "gpu": {"resources": {"CPU": 8, "GPU": 1}, "max_workers": 2},
        "cpu": {"resources": {"CPU": 16}, "max_workers": 5},
        "auto": {"resources": {}, "max_workers": 2}}}, sort_keys=False))
    cap = max_resources(path)
    assert cap.resources == {"CPU": 32.0, "GPU": 2.0}  # 2 gpu + 1 cpu node (3 workers at most), head 0
    assert cap.unknown_types == []  # `auto` gets no worker left of the budget


@pytest.mark.parametrize("command", ["sweep", "train"])
def test_missing_cluster_file_is_exit_2(command, tmp_path):
    result = run_cli(command, str(ROOT / "experiments" / "lmmd.yaml"), "--plan", "--cluster", str(tmp_path / "nope.yaml"))
    assert result.exit_code == 2 and "no such file" in result.output


def test_plan_counts_variants_and_enumerated_grids(tmp_path, monkeypatch):
    """baselines.yaml: 2 pairs x 9 variants = 18 units, its 2 x 2 weight grid enumerated (4 trials each until the
    corpora are prepared and the units known: then fewer where a unit's training reads a weight not at all)."""
    monkeypatch.chdir(tmp_path)
    result = run_cli("sweep", str(ROOT / "experiments" / "baselines.yaml"), "--plan",
                     "--set", "search.num_samples=5")  # 5 samples of a 4-configuration grid: still 4 trials
    assert result.exit_code == 0, result.output
    assert "2 pair(s), 4 trial(s) per unit, 9 variants" in result.output
    assert "at least 18 unit(s) = 72 trial(s)" in result.output


def test_unprepared_corpus_with_a_root_is_counted_exactly_from_its_scan(tmp_path):
    """The importer's scan gives the folds before anything is decoded; preparing does not change the count."""
    from fdan.corpora.synth.generate import generate

    root = generate(tmp_path / "studio", speakers=3, clips_per_emotion=1, workers=1, duration_s=(0.6, 0.7))
    cfg = validate_config({
        "name": "p", "cache_dir": str(tmp_path / "cache"),
        "corpora": {"s": {"importer": "synth", "root": str(root)}},
        "pairs": {"within": ["s"]},
        "features": {"n_mels": 16, "n_fft": 512, "face_size": 32, "n_frames": 2, "clip_seconds": 0.5},
        "search": {"num_samples": 4, "space": {"train.lr": {"type": "loguniform", "low": 1e-4, "high": 1e-2}}},
    })
    before = describe_plan(cfg, True, {"CPU": 2.0, "GPU": 0.0}, "test")
    assert "  s: 3 unit(s) (counted from a scan of s (not prepared yet))" in before
    assert "total: 3 unit(s) = 12 trial(s)" in before and "at least" not in before
    prepare_corpora(cfg, ["s"], log=lambda s: None, use_ray=False)
    after = describe_plan(cfg, True, {"CPU": 2.0, "GPU": 0.0}, "test")
    assert "  s: 3 unit(s)\n" in after and "total: 3 unit(s) = 12 trial(s)" in after


def test_a_unit_searches_only_the_fields_its_training_reads():
    """baselines.yaml's 2 x 2 weight grid: the corpus weight only where a unit has target rows and its method a
    corpus term, the modality weight only where the method has a modality term (two modalities, not source_only)."""
    from harness.config.schema import load_config
    from harness.config.search_space import Distribution
    from harness.config.variants import expand_variants
    from harness.experiment.plan import unit_config
    from harness.tuning.tuner import expected_trials
    from harness.tuning.work_unit import WorkUnit

    rows = dict(labels=("a", "b"), train_idx=(0,), val_idx=(1,), test_idx=(2,))
    within, cross = WorkUnit("s", "s", 0, **rows), WorkUnit("s", "t", 0, adapt_idx=(3,), **rows)
    oracle = WorkUnit("t", "t", 0, oracle_for="s", **rows)  # trained on labelled target rows: no target stream
    configs = {v.name: vcfg for v, vcfg in expand_variants(load_config(ROOT / "experiments" / "baselines.yaml"))}
    trials = {(variant, name): expected_trials(unit_config(vcfg, unit), True) for variant, vcfg in configs.items()
              for name, unit in (("within", within), ("cross", cross), ("oracle", oracle))}
    assert trials[("fdan", "cross")] == trials[("mmd", "cross")] == trials[("dann", "cross")] == 4  # the whole grid
    assert trials[("fdan", "within")] == trials[("coral", "oracle")] == 2  # the modality weight only
    assert trials[("source_only", "cross")] == trials[("source_only-audio", "cross")] == trials[("source_only", "within")] == 1
    assert list(unit_config(configs["mmd"], within).search.space) == ["train.lmmd_weight"]
    assert unit_config(configs["mmd"], cross) is configs["mmd"]  # nothing dropped: the config itself
    method_searched = configs["source_only"].model_copy(update={"search": configs["source_only"].search.model_copy(
        update={"space": {**configs["source_only"].search.space, "train.method": Distribution(type="choice", values=["source_only", "mmd"])}})})
    assert unit_config(method_searched, cross) is method_searched  # which fields are read is itself searched


def test_oracle_units_run_under_the_variants_pairs_oracle_names():
    """`pairs.oracle: [source_only]`: the ceiling once per pair and fold (under source_only); the cross units under
    every variant; `true`: the oracle units under every variant too."""
    from harness.config.variants import expand_variants
    from harness.experiment.plan import ExperimentPlan, PairUnits
    from harness.tuning.work_unit import WorkUnit

    rows = dict(labels=("a", "b"), train_idx=(0,), val_idx=(1,), test_idx=(2,))
    units = (WorkUnit("s", "t", 0, adapt_idx=(3,), **rows), WorkUnit("t", "t", 0, oracle_for="s", **rows))
    base = {"name": "p", "corpora": {n: {"importer": "synth", "root": f"data/{n}", "synth": {"corpus": "synth-studio"}}
                                     for n in ("s", "t")},
            "variants": [{"train.method": "source_only"}, {"train.method": "mmd"}, {"train.method": "adabn"}]}

    def keys(oracle):
        cfg = validate_config({**base, "pairs": {"cross": [{"source": "s", "target": "t"}], "oracle": oracle}})
        plan = ExperimentPlan(cfg, ("s", "t"), {}, (PairUnits("s", "t", units),), tuple(expand_variants(cfg)))
        return [unit.key for unit, _ in plan.runs()]

    cross = ["s->t__fold0__source_only", "s->t__fold0__mmd", "s->t__fold0__adabn"]
    assert keys(["source_only"]) == cross + ["s->t__oracle__fold0__source_only"]
    assert keys(["adabn", "source_only"]) == cross + ["s->t__oracle__fold0__source_only", "s->t__oracle__fold0__adabn"]
    assert keys(True) == cross + [k.replace("__fold0", "__oracle__fold0") for k in cross]
