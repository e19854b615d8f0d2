"""`fdan-bench sweep experiments/validation.yaml` end to end, shrunk (real Ray, local on 127.0.0.1): the
planted cue shift shows up in the direction it was planted.

Shrunk: 6 source speakers x 2 clips, 8 target speakers x 2 clips in 2 folds (112 test clips per pair;
the oracle of a fold trains on 3 of the other fold's speakers and validates on the fourth),
source-only and adabn (whose training is source-only's), the null target and the largest dose (in the full experiment source-only loses 24
points there, 47.5 -> 23.6 %). Asserted: source-only is worse on the shifted target than on the null target (the same
clips before and after the shift, so the comparison is paired by utterance). With `ORACLE` on (issue 18's
`pairs.oracle`), also: the oracle units test the same target clips as the cross units, and the oracle
(trained on labelled target speakers) beats source-only on the shifted target.
"""
from __future__ import annotations

from pathlib import Path

import pytest

from harness.results.predictions import load_predictions

from ..experiment_data import run_cli

REPO = Path(__file__).resolve().parents[3]
ORACLE = True  # pairs.oracle units (issue 18): the oracle must beat source-only on the shifted target
SHIFTED = "synth-shift-2.0"


def _accuracy(preds, target: str, variant: str, oracle: bool = False) -> float:
    """Fused WAR of one variant on one target; `oracle`: of its pairs.oracle units (pair `... (oracle)`). Cross
    units: the models source_val (validation.yaml's primary rule) selected, not the other rules' picks."""
    is_oracle = preds["pair"].astype(str).str.endswith(" (oracle)")
    primary = preds["selection"].fillna("").isin(["", "source_val"])
    rows = preds[(preds["target"] == target) & (preds["variant"] == variant) & (preds["head"] == "fused")
                 & (is_oracle if oracle else ~is_oracle) & primary]
    assert len(rows), (target, variant)
    return float((rows["predicted"] == rows["label"]).mean())


@pytest.mark.slow
def test_validation_sweep_recovers_the_planted_shift_direction(tmp_path: Path) -> None:
    out = tmp_path / "results"
    sets = [f"output_dir={out}", f"cache_dir={tmp_path / 'cache'}", "search.num_samples=1",
            "variants=[{train.method: source_only}, {train.method: adabn}]", "resources.num_cpus=2",
            "train.epochs=10", "protocol.val_speakers=1",
            f"pairs.cross=[{{source: synth-source, target: synth-null}}, {{source: synth-source, target: {SHIFTED}}}]"]
    for name, speakers, clips in (("synth-source", 6, 2), ("synth-null", 8, 2), (SHIFTED, 8, 2)):
        sets += [f"corpora.{name}.root={tmp_path / name}", f"corpora.{name}.synth.speakers={speakers}",
                 f"corpora.{name}.synth.clips_per_emotion={clips}", f"corpora.{name}.synth.conditions.duration_s=[1.6, 1.8]"]
    if ORACLE:
        sets.append("pairs.oracle=true")
    res = run_cli("sweep", str(REPO / "experiments" / "validation.yaml"), *[a for s in sets for a in ("--set", s)])
    assert res.exit_code == 0, res.output
    preds = load_predictions(out / "validation")
    # protocol.cross_selection [source_val, iwv, dev, snd, entropy, im, target_oracle]: each rule's pick tested on every cross unit
    cross = preds[~preds["pair"].astype(str).str.endswith(" (oracle)") & (preds["head"] == "fused")]
    assert (cross.groupby(["pair", "fold", "selection"]).size().unstack().nunique(axis=1) == 1).all()
    assert set(cross["selection"]) == {"source_val", "iwv", "dev", "snd", "entropy", "im", "target_oracle"}
    null, shifted = _accuracy(preds, "synth-null", "source_only"), _accuracy(preds, SHIFTED, "source_only")
    assert shifted < null, (shifted, null)
    if ORACLE:
        oracle = preds["pair"].astype(str).str.endswith(" (oracle)")
        on_shifted = preds["target"] == SHIFTED
        assert set(preds.loc[on_shifted & oracle, "utterance_id"]) == set(preds.loc[on_shifted & ~oracle, "utterance_id"])
        assert _accuracy(preds, SHIFTED, "source_only", oracle=True) > shifted
    # adabn trains exactly as source_only (same trial, same seed) and differs only in the BatchNorm statistics of its
    # test: the target's on cross units, the source's where a unit has no unlabelled target rows (oracle units)
    fused = preds[(preds["head"] == "fused") & preds["selection"].fillna("").isin(["", "source_val"])]
    probs = [c for c in fused.columns if c.startswith("prob_")]
    by = fused.set_index(["pair", "fold", "utterance_id", "variant"])[probs].unstack("variant")
    same = (by.xs("adabn", axis=1, level=1) - by.xs("source_only", axis=1, level=1)).abs().max(axis=1) < 1e-6
    is_oracle = by.index.get_level_values("pair").str.endswith(" (oracle)")
    assert same[is_oracle].all() and not same[~is_oracle].any()
