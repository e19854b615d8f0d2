"""search.seeds: the chosen configuration re-run with other seeds (fixed hyper-parameters, no search),
its rows labelled with the unit's variant and seed; leaderboard cells over folds x seeds."""
from __future__ import annotations

import pandas as pd

from harness.config import validate_config
from harness.report.leaderboard import build_leaderboard
from harness.tuning.seeds import rerun_seeds, seed_config
from harness.tuning.work_unit import WorkUnit

CFG = {"name": "s", "corpora": {"a": {"importer": "synth", "root": "/x"}}, "pairs": {"within": ["a"]},
       "train": {"seed": 3},
       "search": {"seeds": [3, 7, 7, 11], "num_samples": 4, "space": {
           "train.lr": {"type": "loguniform", "low": 1e-4, "high": 1e-2},
           "model.attn_heads": {"type": "choice", "values": [2, 4]}}}}
UNIT = WorkUnit("a", "a", 0, ("anger", "sadness"), (1, 2), (3,), (4,), variant="dann")


def test_seed_config_fixes_the_chosen_values_and_drops_the_search():
    cfg = seed_config(validate_config(CFG), {"lr": 0.003, "attn_heads": 2}, 7)
    assert (cfg.train.seed, cfg.train.lr, cfg.model.attn_heads) == (7, 0.003, 2)
    assert cfg.search.space == {} and cfg.search.seeds == [] and cfg.search.num_samples == 1


def test_rerun_seeds_runs_each_other_seed_once_and_relabels_rows():
    calls = []

    def fake_run_unit(cfg, unit, dirs, plan, search, resume):
        calls.append((cfg.train.seed, unit.key, search))
        return {"key": unit.key, "trials": [{"variant": unit.variant, "selected": True}], "metrics": [],
                "confusions": [], "predictions": [{"variant": unit.variant}], "failed": None}

    out = rerun_seeds(fake_run_unit, validate_config(CFG), UNIT, {}, None, {"lr": 0.001, "attn_heads": 4}, False)
    assert calls == [(7, "a__fold0__dann~seed7", False), (11, "a__fold0__dann~seed11", False)]
    assert [s["trials"][0] for s in out] == [{"variant": "dann", "selected": True, "seed": 7},
                                           {"variant": "dann", "selected": True, "seed": 11}]
    assert out[0]["predictions"] == [{"variant": "dann", "seed": 7}]


def test_leaderboard_is_over_folds_and_seeds():
    rows = []
    for fold in (0, 1):
        for seed, value in ((0, 0.5 + 0.1 * fold), (1, 0.7 + 0.1 * fold)):
            rows.append({"experiment": "e", "pair": "a", "source": "a", "target": "a", "fold": fold, "trial_id": f"{fold}{seed}",
                         "protocol": "speaker-independent", "status": "completed", "selected": True, "seed": seed,
                         "test_fused_uar": value})
    board = build_leaderboard(pd.DataFrame(rows), {})
    first = board.iloc[0]
    assert first["folds"] == 2
    assert abs(first["fused_uar_mean"] - 65.0) < 1e-9  # (50 + 70 + 60 + 80) / 4
    assert abs(first["fused_uar_std"] - pd.Series([50, 70, 60, 80]).std()) < 1e-9


def test_a_unit_record_with_seed_reruns_resumes(tmp_path):
    import pytest

    from harness.errors import SweepError
    from harness.experiment.state import UNITS_DIR, read_unit, write_unit

    (tmp_path / UNITS_DIR).mkdir()
    trials = [{"trial_id": "t0", "selected": True, "seed": 3}, {"trial_id": "t1", "selected": False, "seed": 3},
              {"trial_id": "t2", "selected": True, "seed": 7}]
    write_unit(tmp_path, {"key": "k", "trials": trials, "metrics": [], "confusions": [], "failed": None})
    assert len(read_unit(tmp_path, "k")["trials"]) == 3
    write_unit(tmp_path, {"key": "k", "trials": [{**t, "seed": None} for t in trials], "metrics": [], "confusions": [],
                          "failed": None})
    with pytest.raises(SweepError, match="exactly one selected"):
        read_unit(tmp_path, "k")
