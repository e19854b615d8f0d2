"""Every selection rule's pick side by side from per-epoch records, without retraining."""
from __future__ import annotations

import pandas as pd

from harness.report.rule_choices import rule_choices


def _rows(trial: str, epoch: int, **scores: float) -> list[dict]:
    return [{"variant": "", "pair": "a→b", "fold": 0, "trial_id": trial, "epoch": epoch, "split": "selection",
             "head": "all", "metric": rule, "value": value} for rule, value in scores.items()]


def test_each_rule_picks_its_own_trial_and_epoch():
    metrics = pd.DataFrame(
        _rows("t1", 1, source_val=0.6, dev=-1.2, target_oracle=0.40) + _rows("t1", 2, source_val=0.7, dev=-1.0, target_oracle=0.42)
        + _rows("t2", 1, source_val=0.5, dev=-0.8, target_oracle=0.55)
        + [{"variant": "", "pair": "a→b", "fold": 0, "trial_id": "t1", "epoch": 1, "split": "val", "head": "fused",
            "metric": "uar", "value": 0.9}])
    picks = rule_choices(metrics).set_index("rule")
    assert (picks.at["source_val", "trial_id"], picks.at["source_val", "epoch"]) == ("t1", 2)
    assert (picks.at["dev", "trial_id"], picks.at["dev", "target_oracle"]) == ("t2", 0.55)
    assert picks.at["target_oracle", "score"] == 0.55 and picks.at["dev", "source_val"] == 0.5
    assert rule_choices(metrics[metrics["split"] == "val"]).empty


def test_leaderboard_states_training_speakers_beside_the_paper_column():
    from harness.report.leaderboard import build_leaderboard

    row = {"pair": "savee", "source": "savee", "target": "savee", "protocol": "speaker-independent", "selected": True,
           "method": "fdan", "modalities": "audio+face", "backbone": "resnet18", "n_train_speakers": 2,
           **{f"test_{h}_{m}": 0.5 for h in ("fused", "audio", "face") for m in ("war", "uar", "macro_f1")}}
    board = build_leaderboard(pd.DataFrame([{**row, "fold": f, "trial_id": f"t{f}"} for f in range(2)]))
    assert board.loc[0, "paper"] == "86.66 / 86.19 (paper: 3 training speakers, ours 2)"
    board = build_leaderboard(pd.DataFrame([{**row, "fold": 0, "trial_id": "t", "n_train_speakers": 3}]))
    assert board.loc[0, "paper"] == "86.66 / 86.19"


def test_oracle_rows_are_their_own_kind_beside_their_pair():
    from harness.report.leaderboard import build_leaderboard

    base = {"protocol": "speaker-independent", "selected": True, "fold": 0,
            **{f"test_{h}_{m}": 0.5 for h in ("fused", "audio", "face") for m in ("war", "uar", "macro_f1")}}
    trials = pd.DataFrame([{**base, "pair": "a→b", "source": "a", "target": "b", "trial_id": "t1"},
                           {**base, "pair": "a→b (oracle)", "source": "b", "target": "b", "trial_id": "t2"}])
    board = build_leaderboard(trials)
    assert list(zip(board["pair"], board["kind"])) == [("a→b", "cross"), ("a→b (oracle)", "oracle"),
                                                       ("overall (cross)", "cross"), ("overall (oracle)", "oracle")]
