"""`fdan-bench sweep experiments/baselines.yaml` end to end, shrunk: two methods as variants on the
cross-corpus unit (both alignment scopes; real Ray, local on 127.0.0.1), then the leaderboard rows per
method, predictions.parquet and `compare --stats` on them."""
from __future__ import annotations

import re
from pathlib import Path

import pandas as pd
import pytest

from harness.results.io import load_results
from harness.results.predictions import load_predictions
from harness.results.selections import load_selections

from ..experiment_data import run_cli

REPO = Path(__file__).resolve().parents[3]


@pytest.mark.slow
def test_baselines_sweep_writes_rows_per_method_and_paired_tests(tmp_path: Path):
    out = tmp_path / "results"
    synth = "{corpus: %s, seed: %d, speakers: 3, clips_per_emotion: 1, conditions: {duration_s: [1.0, 1.2]}}"
    args = [
        str(REPO / "experiments" / "baselines.yaml"), "--smoke-test",
        "--set", f"output_dir={out}", "--set", f"cache_dir={tmp_path / 'cache'}",
        "--set", f"corpora.synth-studio.root={tmp_path / 'studio'}",
        "--set", f"corpora.synth-street.root={tmp_path / 'street'}",
        "--set", "corpora.synth-studio.synth=" + synth % ("synth-studio", 0),
        "--set", "corpora.synth-street.synth=" + synth % ("synth-street", 1),
        "--set", "train.epochs=2", "--set", "train.batch_size=4",  # 2 epochs: rules may pick different ones
        "--set", "variants=[{train.method: fdan}, {train.method: dann}, "
                 "{train.method: source_only, model.modalities: [audio]}]",
        "--set", "resources.num_cpus=2", "--set", "search.num_samples=1", "--set", "pairs.within=[]",
    ]
    res = run_cli("sweep", *args)
    assert res.exit_code == 0, res.output
    results = out / "baselines"
    trials = load_results(results).trials
    chosen = trials[trials["selected"]]
    plan = run_cli("sweep", *args, "--plan")  # --plan counts what the run did (corpora now prepared)
    units = trials.groupby(["pair", "fold", "variant"]).ngroups
    assert f"total: {units} unit(s) = {len(trials)} trial(s)" in plan.output, plan.output
    cross = "synth-studio→synth-street"
    assert sorted(zip(chosen["pair"], chosen["variant"], chosen["method"], chosen["modalities"])) == sorted([
        (cross, "fdan", "fdan", "audio+face"), (cross, "dann", "dann", "audio+face"),
        (cross, "source_only-audio", "source_only", "audio")])
    preds = load_predictions(results)
    assert set(preds["variant"]) == {"fdan", "dann", "source_only-audio"}
    rules = ["dev", "source_val", "snd", "entropy", "target_oracle"]  # baselines.yaml's protocol.cross_selection
    assert set(preds["selection"]) == set(rules)  # every rule's own pick tested on the held-out rows
    for (pair, variant, rule), rows in preds.groupby(["pair", "variant", "selection"]):
        n_test = int(chosen[(chosen["pair"] == pair) & (chosen["variant"] == variant)]["n_test"].iloc[0])
        heads = {"audio"} if variant == "source_only-audio" else {"fused", "audio", "face"}
        assert set(rows["head"]) == heads and len(rows) == len(heads) * n_test and rows["utterance_id"].nunique() == n_test
        probs = rows[[c for c in rows.columns if c.startswith("prob_")]].dropna(axis=1)
        assert ((probs.sum(axis=1) - 1).abs() < 1e-4).all()
    # 2 trial slots (num_cpus 2, 1 CPU a trial), resources.concurrent_units: auto -> two units side by side. Whether
    # their one-epoch trials overlap in time depends on the machine's load (seen not to under a parallel suite);
    # the lanes themselves are tested in tests/harness/experiment/test_sweep_units.py.
    assert "3 unit(s) to run, 2 at once" in " ".join(res.output.split()), res.output
    board = re.sub(" +", " ", (results / "leaderboard.md").read_text())  # to_markdown pads cells
    assert "| dann |" in board and "| fdan |" in board
    # protocol.cross_selection [dev, source_val, snd, entropy, target_oracle]: DEV selects, every rule is recorded
    assert set(chosen["protocol"]) == {"speaker-independent/dev"}
    recorded = load_results(results).metrics
    recorded = recorded[recorded["split"] == "selection"]
    assert set(recorded["metric"]) == {"dev", "source_val", "snd", "entropy", "target_oracle"}
    assert "## Cross-corpus selection rules" in board
    # each rule picks by its own per-epoch score (the later epoch on ties), and is a leaderboard row of its own
    picks = load_selections(results)
    assert sorted(picks.groupby("variant")["selection"].apply(sorted).tolist()) == [sorted(rules)] * 3
    assert set(picks.loc[picks["primary"], "selection"]) == {"dev"}
    for row in picks.itertuples():
        scores = recorded[(recorded["variant"] == row.variant) & (recorded["metric"] == row.selection)]
        scores = scores.sort_values("epoch")
        assert scores["trial_id"].nunique() == 1 and row.trial_id == scores["trial_id"].iloc[0]
        best = scores["value"].max()
        assert row.epoch == int(scores.loc[scores["value"] == best, "epoch"].iloc[-1])
    labels = {"dev": "speaker-independent/dev", "source_val": "speaker-independent", "snd": "speaker-independent/snd",
              "entropy": "speaker-independent/entropy", "target_oracle": "speaker-independent/target_oracle (upper bound)"}
    for rule in rules:
        for variant in ("fdan", "dann"):
            assert f"| {cross} | cross | {labels[rule]} | {variant} |" in board, (rule, variant)
    cmp = run_cli("compare", str(results), "--selection", "snd", "--stats", "--n-boot", "200",
                  "--out", str(tmp_path / "snd.csv"))
    assert cmp.exit_code == 0, cmp.output
    paired = pd.read_csv(tmp_path / "snd.paired.csv")
    assert set(paired["system"]) == {"baselines/dann@snd"} and set(paired["baseline"]) == {"baselines/fdan@snd"}
    cmp = run_cli("compare", str(results), "--stats", "--n-boot", "200", "--out", str(tmp_path / "cmp.csv"))
    assert cmp.exit_code == 0, cmp.output
    paired = pd.read_csv(tmp_path / "cmp.paired.csv")
    assert set(paired["system"]) == {"baselines/dann"} and set(paired["baseline"]) == {"baselines/fdan"}
    # the audio-only baseline against FDAN's audio head, on the same test utterances
    cmp = run_cli("compare", str(results), "--stats", "--head", "audio", "--n-boot", "200", "--out", str(tmp_path / "a.csv"))
    assert cmp.exit_code == 0, cmp.output
    assert "baselines/source_only-audio" in set(pd.read_csv(tmp_path / "a.paired.csv")["system"])
    train_losses = load_results(results).metrics
    dann = train_losses[(train_losses["variant"] == "dann") & (train_losses["split"] == "train")]
    assert {"dann_modal", "dann_corpus"} <= set(dann["metric"])
