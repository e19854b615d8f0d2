"""Two Ray Train workers per trial (gloo DDP on CPU) through `fdan-bench train`, trunks trained: within- and
cross-corpus units, DANN (its discriminators) and an audio-only baseline, every trial finishing; then the
same run with one worker: the two follow each other (fdan.distributed: global batch, one-worker order)."""
from __future__ import annotations

from pathlib import Path

import pytest

from harness.results.io import load_results

from ..experiment_data import run_cli

REPO = Path(__file__).resolve().parents[3]
SYNTH = "{corpus: %s, seed: %d, speakers: 3, clips_per_emotion: 1, conditions: {duration_s: [1.0, 1.2]}}"


def _train(tmp: Path, workers: int) -> Path:
    out = tmp / f"results-{workers}"
    res = run_cli(
        "train", str(REPO / "experiments" / "baselines.yaml"), "--smoke-test",
        "--set", f"output_dir={out}", "--set", f"cache_dir={tmp / 'cache'}",
        "--set", f"corpora.synth-studio.root={tmp / 'studio'}", "--set", f"corpora.synth-street.root={tmp / 'street'}",
        "--set", "corpora.synth-studio.synth=" + SYNTH % ("synth-studio", 0),
        "--set", "corpora.synth-street.synth=" + SYNTH % ("synth-street", 1),
        "--set", "model.freeze_backbone=false", "--set", "train.epochs=1", "--set", "train.batch_size=4",
        "--set", "variants=[{train.method: dann}, {train.method: source_only, model.modalities: [audio]}]",
        "--set", "resources.num_cpus=2", "--set", f"resources.workers_per_trial={workers}",
        "--set", "resources.max_failures=0",
    )
    assert res.exit_code == 0, res.output
    return out / "baselines-train"


@pytest.mark.slow
def test_two_workers_per_trial_finish_every_unit_and_follow_one_worker(tmp_path: Path) -> None:
    two = load_results(_train(tmp_path, 2))
    trials = two.trials
    assert len(trials) == 4 and (trials["status"] == "completed").all(), trials[["pair", "variant", "status"]]
    assert {"synth-studio", "synth-studio→synth-street"} == set(trials["pair"])
    one = load_results(_train(tmp_path, 1))

    def losses(results) -> dict:
        m = results.metrics
        rows = m[(m["split"] == "train") & (m["metric"] == "loss")]
        return {(r.pair, r.variant): float(r.value) for r in rows.itertuples()}

    a, b = losses(one), losses(two)
    assert a.keys() == b.keys() and len(a) == 4
    # same global batches; BatchNorm statistics per worker (B/2 rows) with trained trunks: README's tolerance
    assert all(abs(a[k] - b[k]) / abs(a[k]) < 0.1 for k in a), (a, b)
