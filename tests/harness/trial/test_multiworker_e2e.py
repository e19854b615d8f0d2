"""Two Ray Train workers per trial (gloo DDP on CPU) through `fdan-bench train`, trunks trained: within- and
cross-corpus units, DANN (its discriminators; within a corpus it used to crash DDP) and an audio-only baseline,
every trial finishing. Equivalence with one worker is tested without Ray (tests/harness/trial/test_loop_ddp.py,
tests/fdan/training/test_distributed.py)."""
from __future__ import annotations

from pathlib import Path

import pytest

from harness.results.io import load_results

from ..experiment_data import run_cli

REPO = Path(__file__).resolve().parents[3]
SYNTH = "{corpus: %s, seed: %d, speakers: 3, clips_per_emotion: 1, conditions: {duration_s: [1.0, 1.2]}}"


@pytest.mark.slow
def test_two_workers_per_trial_finish_every_unit_with_trained_trunks(tmp_path: Path) -> None:
    out = tmp_path / "results"
    res = run_cli(
        "train", str(REPO / "experiments" / "baselines.yaml"), "--smoke-test",
        "--set", f"output_dir={out}", "--set", f"cache_dir={tmp_path / 'cache'}",
        "--set", f"corpora.synth-studio.root={tmp_path / 'studio'}", "--set", f"corpora.synth-street.root={tmp_path / 'street'}",
        "--set", "corpora.synth-studio.synth=" + SYNTH % ("synth-studio", 0),
        "--set", "corpora.synth-street.synth=" + SYNTH % ("synth-street", 1),
        "--set", "model.freeze_backbone=false", "--set", "train.epochs=1", "--set", "train.batch_size=4",
        "--set", "variants=[{train.method: dann}, {train.method: source_only, model.modalities: [audio]}]",
        "--set", "resources.num_cpus=2", "--set", "resources.workers_per_trial=2", "--set", "resources.max_failures=0",
    )
    assert res.exit_code == 0, res.output
    trials = load_results(out / "baselines-train").trials
    assert len(trials) == 4 and (trials["status"] == "completed").all(), trials[["pair", "variant", "status"]]
    assert set(trials["executor"]) == {"train"}  # Ray Train workers, DDP across the two
    assert {"synth-studio", "synth-studio→synth-street"} == set(trials["pair"])
    assert {"dann", "source_only-audio"} == set(trials["variant"])
