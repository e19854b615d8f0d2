"""Every cross-corpus rule's own pick of a unit (trial + epoch by its own score), tested once per distinct model."""
from __future__ import annotations

import math

import pandas as pd
import pytest

from harness.tuning.collect import TrialRecord, select, trial_row
from harness.tuning.rule_picks import evaluate_rules, latest_checkpoint, pick

IDS = {"experiment": "e", "pair": "a→b", "source": "a", "target": "b", "fold": 0, "variant": ""}
RULES = ["dev", "snd", "entropy", "iwv", "target_oracle"]


def _history(trial: str, scores: dict[str, list[float]], checkpoints: list[int]) -> pd.DataFrame:
    epochs = range(1, len(next(iter(scores.values()))) + 1)
    rows = [{"epoch": e, **{f"sel_{r}": v[e - 1] for r, v in scores.items()},
             "checkpoint_path": f"/ckpt/{trial}/e{e}" if e in checkpoints else None} for e in epochs]
    return pd.DataFrame(rows)


def _unit() -> tuple[list[TrialRecord], list[dict]]:
    nan = math.nan
    records = [
        # t0: the primary rule (dev) picks its epoch 2; entropy picks the same model
        TrialRecord("t0", "completed", {}, _history("t0", {"dev": [-2, -1, -3], "snd": [0.1, 0.2, 0.1],
                                                            "entropy": [-5, -1, -2], "iwv": [-9, -9, -9],
                                                            "target_oracle": [0.3, 0.3, 0.2]}, [1, 2, 3])),
        # t1: snd and iwv both pick its epoch 1 (one evaluation); its latest checkpoint (epoch 3) holds it
        TrialRecord("t1", "completed", {}, _history("t1", {"dev": [-4, -4, -5], "snd": [0.9, 0.5, 0.5],
                                                            "entropy": [-3, -3, -3], "iwv": [-1, -2, -3],
                                                            "target_oracle": [0.6, 0.7, 0.7]}, [1, 3])),
        # t2 errored: never picked, though it scores best on every rule
        TrialRecord("t2", "error", {}, _history("t2", {r: [99.0] for r in RULES}, [1])),
        # t3 replays t1 (no checkpoint of its own): never picked, though it ties t1
        TrialRecord("t3", "completed", {}, _history("t3", {"dev": [-4, -4, -5], "snd": [0.9, 0.5, 0.5],
                                                            "entropy": [-3, -3, -3], "iwv": [-1, -2, -3],
                                                            "target_oracle": [0.6, 0.7, nan]}, [])),
    ]
    rows = [{**trial_row(r, IDS, "sel_dev", "si/dev", 3), "method": "dsan", "labels": "x|y", "n_test": 2} for r in records]
    return records, rows


def _test_result(tag: str) -> dict:
    return {"metrics": {"fused": {"war": 0.5, "uar": 0.25 if tag.startswith(("primary", "/ckpt/t0")) else 0.75}},
            "predictions": [{"utterance_id": f"u{i}", "head": "fused", "tag": tag} for i in range(2)]}


def test_each_rule_picks_from_its_own_score_and_each_model_is_tested_once():
    records, rows = _unit()
    statuses = [r["status"] for r in rows]
    assert latest_checkpoint(records[1].history) == (3, "/ckpt/t1/e3") and latest_checkpoint(records[3].history) is None
    assert (pick("snd", records, statuses).trial, pick("snd", records, statuses).epoch) == (1, 1)
    oracle = pick("target_oracle", records, statuses)  # ties within a trial: the later epoch
    assert (oracle.trial, oracle.epoch, oracle.score, oracle.checkpoint) == (1, 3, 0.7, "/ckpt/t1/e3")
    chosen = select(rows)
    assert chosen == 0 and rows[0]["best_epoch"] == 2
    calls: list[list] = []

    def evaluate(picks, missing_ok):
        calls.append(picks)
        return [_test_result(f"{path}@{epoch}") for path, epoch in picks]

    primary, out = evaluate_rules(RULES, records, rows, chosen, evaluate, lambda r: f"si/{r}")
    # one call, each distinct (trial, epoch) once: the primary's t0@2 (entropy too; its best checkpoint),
    # t1@1 (snd, iwv) and t1@3 (target_oracle), both from t1's latest checkpoint
    assert calls == [[("/ckpt/t0/e2", 2), ("/ckpt/t1/e3", 1), ("/ckpt/t1/e3", 3)]]
    assert primary == _test_result("/ckpt/t0/e2@2")
    sel = pd.DataFrame(out["selections"]).set_index("selection")
    assert list(sel.index) == RULES and sel["primary"].tolist() == [True, False, False, False, False]
    assert sel.loc[["dev", "entropy"], "trial_id"].tolist() == ["t0", "t0"] and set(sel.loc[["dev", "entropy"], "epoch"]) == {2}
    assert sel.loc[["snd", "iwv"], "trial_id"].tolist() == ["t1", "t1"] and set(sel.loc[["snd", "iwv"], "epoch"]) == {1}
    assert sel.at["iwv", "score"] == -1 and sel.at["target_oracle", "protocol"] == "si/target_oracle"
    assert sel.at["dev", "test_fused_uar"] == sel.at["entropy", "test_fused_uar"] == 0.25
    assert sel.at["snd", "test_fused_uar"] == 0.75
    assert sel.at["snd", "method"] == "dsan" and sel.at["snd", "labels"] == "x|y"
    preds = pd.DataFrame(out["predictions"])
    assert preds.groupby("selection").size().to_dict() == {r: 2 for r in RULES}  # every rule's test rows
    tags = preds.groupby("selection")["tag"].first()
    assert tags["entropy"] == tags["dev"] == "/ckpt/t0/e2@2" and tags["snd"] == tags["iwv"] == "/ckpt/t1/e3@1"
    assert set(preds.loc[preds["selection"] == "snd", "trial_id"]) == {"t1"}


def test_a_pick_that_coincides_with_the_primarys_is_not_evaluated_again():
    records, rows = _unit()
    for record in records[1:]:
        record.history["checkpoint_path"] = None  # only t0 has checkpoints
    calls: list = []

    def evaluate(picks, missing_ok):
        calls.append(picks)
        return [_test_result("primary") for _ in picks]

    _, out = evaluate_rules(["dev", "entropy"], records, rows, 0, evaluate, str)
    assert calls == [[("/ckpt/t0/e2", 2)]] and [s["selection"] for s in out["selections"]] == ["dev", "entropy"]
    records[0].history["sel_snd"] = math.nan
    assert pick("snd", records, [r["status"] for r in rows]) is None


def test_a_pick_whose_weights_are_missing_is_reported_not_fatal(capsys):
    """A sweep begun before rule picks were kept and then resumed: a rule's epoch may be in no checkpoint. That rule
    loses its rows in the unit with a warning naming it; the primary's own checkpoint missing stays an error."""
    from harness.trial.checkpoint import CheckpointError

    records, rows = _unit()

    def evaluate(picks, missing_ok):
        assert missing_ok
        return [{"error": "no weights of epoch 1"} if epoch == 1 else _test_result(f"{path}@{epoch}") for path, epoch in picks]

    _, out = evaluate_rules(RULES, records, rows, select(rows), evaluate, str)
    assert "snd" not in {s["selection"] for s in out["selections"]} and "dev" in {s["selection"] for s in out["selections"]}
    err = capsys.readouterr().err
    assert "rule snd's pick" in err and "rule iwv's pick" in err and "no weights of epoch 1" in err
    with pytest.raises(CheckpointError, match="epoch 2"):
        evaluate_rules(RULES, records, rows, select(rows), lambda picks, ok: [{"error": "no weights of epoch 2"}] * len(picks), str)
