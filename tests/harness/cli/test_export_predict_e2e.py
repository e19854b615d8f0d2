"""Done-when of `export` / `predict`: a quickstart run (shrunk), its selected models exported, the results
directory and the model file moved elsewhere, then `predict` on the synthetic media from the moved copies
gives the probabilities of the sweep's own predictions.parquet for those clips.

Both pairs of the quickstart: the within-corpus unit tests synth-studio (video + separate wav: the pairing
rule of `fdan.inference.media`), the cross-corpus unit synth-street (audio inside the mp4). Frozen trunks,
so the exported file must carry the trunks the sweep rebuilt from `trunk_seed`.
"""
from __future__ import annotations

import re
import shutil
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch

from fdan.inference.model_file import load_model
from harness.results.io import load_results

from ..experiment_data import run_cli

pytestmark = pytest.mark.slow
REPO = Path(__file__).resolve().parents[3]
CROSS = "synth-studio→synth-street"
TINY = "{corpus: %s, seed: %d, speakers: 3, clips_per_emotion: 1, conditions: {duration_s: [1.0, 1.2]}}"


@pytest.fixture(scope="module")
def moved(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("quick")
    out = tmp / "results"
    args = [
        str(REPO / "experiments" / "quickstart.yaml"),
        "--set", f"output_dir={out}", "--set", f"cache_dir={tmp / 'cache'}",
        "--set", f"corpora.synth-studio.root={tmp / 'studio'}", "--set", f"corpora.synth-street.root={tmp / 'street'}",
        "--set", "corpora.synth-studio.synth=" + TINY % ("synth-studio", 0),
        "--set", "corpora.synth-street.synth=" + TINY % ("synth-street", 1),
        "--set", "pairs.max_folds=1", "--set", "pairs.labels=[anger, happiness, sadness]",
        "--set", "train.epochs=2", "--set", "search.num_samples=1", "--set", "resources.num_cpus=2",
    ]
    plan_before = run_cli("sweep", *args, "--plan")  # nothing generated or prepared yet
    started = time.monotonic()
    res = run_cli("sweep", *args)
    wall = time.monotonic() - started
    assert res.exit_code == 0, res.output
    plan_after = run_cli("sweep", *args, "--plan")  # corpora generated and prepared
    results = out / "quickstart"
    trials = load_results(results).trials
    assert not trials["checkpoint_path"].dropna().map(lambda p: Path(p).is_absolute()).any()  # movable tables
    models = {}
    for pair in (CROSS, "synth-studio"):
        exp = run_cli("export", str(results), "--pair", pair, "--fold", "0", "--out", str(tmp / f"{pair}.fdan.pt"))
        assert exp.exit_code == 0, exp.output
        models[pair] = tmp / f"{pair}.fdan.pt"
    elsewhere = tmp_path_factory.mktemp("elsewhere")
    shutil.move(str(results), elsewhere / "copied")  # the original path is gone
    for pair, path in models.items():
        models[pair] = Path(shutil.move(str(path), elsewhere / path.name))
    estimated = run_cli("sweep", *args, "--plan", "--estimate-from", str(elsewhere / "copied"))
    return {"tmp": tmp, "results": elsewhere / "copied", "models": models, "output": res.output, "wall": wall,
            "plan_before": plan_before.output, "plan_after": plan_after.output, "estimated": estimated.output}


def sweep_predictions(results: Path, pair: str) -> pd.DataFrame:
    preds = pd.read_parquet(results / "predictions.parquet")
    return preds[preds["pair"] == pair]


@pytest.mark.parametrize("pair, corpus", [(CROSS, "street"), ("synth-studio", "studio")])
def test_predict_from_moved_model_file_equals_sweep_predictions(moved, pair, corpus):
    out = moved["tmp"] / f"pred-{corpus}.parquet"
    res = run_cli("predict", str(moved["models"][pair]), str(moved["tmp"] / corpus), "--out", str(out))
    assert res.exit_code == 0, res.output
    got = pd.read_parquet(out)
    got["utterance_id"] = got["file"].map(lambda f: Path(f).stem)
    want = sweep_predictions(moved["results"], pair)
    assert len(want) and set(want["head"]) == {"fused", "audio", "face"}
    merged = want.merge(got, on=["utterance_id", "head"], suffixes=("_sweep", "_predict"))
    assert len(merged) == len(want)  # every test clip of the sweep was predicted, every head
    labels = load_model(moved["models"][pair]).labels
    for label in labels:
        np.testing.assert_allclose(merged[f"prob_{label}_predict"], merged[f"prob_{label}_sweep"], atol=1e-4)
    assert (merged["predicted_predict"] == merged["predicted_sweep"]).all()


def test_predict_from_moved_results_dir_and_provenance(moved):
    results = moved["results"]
    out = moved["tmp"] / "pred-dir.csv"
    res = run_cli("predict", str(results), str(moved["tmp"] / "street"), "--pair", CROSS, "--fold", "0", "--out", str(out))
    assert res.exit_code == 0, res.output
    from_dir = pd.read_csv(out)
    from_file = pd.read_parquet(moved["tmp"] / "pred-street.parquet") if (moved["tmp"] / "pred-street.parquet").is_file() \
        else None
    if from_file is not None:
        np.testing.assert_allclose(from_dir.filter(like="prob_").to_numpy(), from_file.filter(like="prob_").to_numpy(),
                                   atol=1e-6)
    data = torch.load(str(moved["models"][CROSS]), weights_only=True)  # plain tensors and data only
    chosen = load_results(results).trials.query("selected and pair == @CROSS").iloc[0]
    assert data["provenance"]["trial_id"] == chosen["trial_id"] and data["provenance"]["experiment"] == "quickstart"
    assert data["feature_config"]["n_mels"] == 32 and data["labels"] == ["anger", "happiness", "sadness"]
    assert any(".trunk." in key for key in data["model"])  # the frozen trunks travel with the file


def test_plan_counts_what_the_run_did_and_progress_was_shown(moved):
    trials = load_results(moved["results"]).trials
    units, n_trials = trials.groupby(["pair", "fold"]).ngroups, len(trials)
    assert (units, n_trials) == (2, 2)
    assert f"total: {units} unit(s) = {n_trials} trial(s)" in moved["plan_after"]
    assert f"total: at least {units} unit(s) = {n_trials} trial(s)" in moved["plan_before"]  # synth roots not yet written
    assert f"progress: 2/2 units, {n_trials}/{n_trials} trials" in moved["output"]


def test_estimate_from_the_finished_run_is_within_a_factor_of_its_wall_time(moved):
    """The estimate of a re-run (start-up as measured + trials) lies within a factor 1.5 of the measured wall
    time of the whole command (Ray start-up, corpus generation, preparation, trials, held-out evaluation)."""
    match = re.search(r"estimate: wall ([0-9.]+) (s|min|h)", moved["estimated"])
    assert match, moved["estimated"]
    seconds = float(match.group(1)) * {"s": 1, "min": 60, "h": 3600}[match.group(2)]
    assert moved["wall"] / 1.5 <= seconds <= 1.5 * moved["wall"], (seconds, moved["wall"], moved["estimated"])
    assert "worker-hour(s)" in moved["estimated"]
