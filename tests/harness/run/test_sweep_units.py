"""Sweep plumbing without Ray: resource planning, per-trial tables, selection, resume guards."""
from __future__ import annotations

import math

import pandas as pd
import pytest
import yaml

from harness.run.collect import TrialRecord, best_epoch, clean_history, select, tidy_rows, trial_row
from harness.config import dump_config, validate_config
from harness.cluster.auth import choose_auth_mode
from harness.cluster.resources import ResourceError, plan_resources
from harness.run.errors import SweepError
from harness.run.state import STATE_FILE, check_results_dir


def cfg(tmp_path=None, **sections):
    data = {"name": "u", "corpora": {"a": {"importer": "synth", "root": "/x"}}, "pairs": {"within": ["a"]}}
    if tmp_path is not None:
        data["output_dir"] = str(tmp_path)
    data.update(sections)
    return validate_config(data)


def test_two_cores_run_two_fractional_trials_without_deadlock():
    plan = plan_resources(cfg(), {"CPU": 2.0})
    assert not plan.use_gpu and plan.max_concurrent_trials == 2 and plan.torch_threads == 1
    assert plan.resources_per_worker() == {"CPU": 0.5}
    assert plan_resources(cfg(search={"max_concurrent_trials": 5}), {"CPU": 2.0}).max_concurrent_trials == 2
    with pytest.raises(ResourceError, match="resources: one trial needs"):
        plan_resources(cfg(resources={"cpus_per_worker": 4}), {"CPU": 2.0})


def test_gpu_workers_when_the_cluster_has_gpus():
    plan = plan_resources(cfg(resources={"workers_per_trial": 2, "cpus_per_worker": 4}), {"CPU": 32.0, "GPU": 4.0})
    assert plan.use_gpu and plan.max_concurrent_trials == 2 and plan.resources_per_worker() == {"CPU": 4, "GPU": 1.0}
    assert plan.torch_threads == 4
    assert not plan_resources(cfg(resources={"use_gpu": "never"}), {"CPU": 8.0, "GPU": 1.0}).use_gpu


def test_auth_mode_is_chosen_but_an_explicit_env_wins(monkeypatch):
    monkeypatch.delenv("RAY_AUTH_MODE", raising=False)
    assert choose_auth_mode("disabled") == "disabled"
    monkeypatch.setenv("RAY_AUTH_MODE", "token")
    assert choose_auth_mode("disabled") == "token"


HISTORY = pd.DataFrame([
    {"epoch": 1, "train_loss": 2.0, "train_ce_fused": 1.0, "val_loss": 1.5, "val_fused_uar": 0.4, "val_face_war": 0.3,
     "checkpoint_path": "/s/c1", "trial_id": "t1", "done": False},
    {"epoch": 2, "train_loss": 1.0, "train_ce_fused": 0.5, "val_loss": 1.2, "val_fused_uar": 0.6, "val_face_war": 0.5,
     "checkpoint_path": "/s/c2", "trial_id": "t1", "done": False},
    {"epoch": 2, "train_loss": 1.0, "train_ce_fused": 0.5, "val_loss": 1.2, "val_fused_uar": 0.6, "val_face_war": 0.5,
     "checkpoint_path": "/s/c2b", "trial_id": "t1", "done": True},  # a resumed trial re-reporting epoch 2
])


def test_history_rows_become_tidy_long_rows():
    hist = clean_history(HISTORY)
    assert hist["epoch"].tolist() == [1, 2] and hist["checkpoint_path"].tolist() == ["/s/c1", "/s/c2b"]
    rows = pd.DataFrame(tidy_rows(hist, {"pair": "p", "trial_id": "t1"}))
    assert set(rows["split"]) == {"train", "val"}
    assert rows[(rows["split"] == "val") & (rows["metric"] == "loss")]["head"].unique().tolist() == ["all"]
    assert rows[(rows["metric"] == "uar")]["head"].unique().tolist() == ["fused"]
    assert rows[(rows["split"] == "train")]["metric"].unique().tolist() == ["loss", "ce_fused"]
    assert len(rows) == 2 * 5


def test_trial_rows_selection_and_ties():
    tied = pd.DataFrame({"epoch": [1, 2, 3], "val_fused_uar": [0.5, 0.7, 0.7]})
    assert best_epoch(tied, "val_fused_uar") == 3  # Ray keeps the later of equally scored checkpoints
    ids = {"experiment": "e", "pair": "p", "source": "a", "target": "a", "fold": 0}
    full = trial_row(TrialRecord("t1", "completed", {"lmmd_weight": 1.0, "bandwidths": [0.5, 1]}, clean_history(HISTORY)),
                     ids, "val_fused_uar", "speaker-independent", max_epochs=2)
    short = trial_row(TrialRecord("t2", "completed", {"lmmd_weight": 3.0, "bandwidths": None}, clean_history(HISTORY[:1])),
                      ids, "val_fused_uar", "speaker-independent", max_epochs=2)
    failed = trial_row(TrialRecord("t3", "error", {}, clean_history(pd.DataFrame())), ids, "val_fused_uar",
                       "speaker-independent", max_epochs=2)
    assert (full["status"], short["status"], failed["status"]) == ("completed", "early_stopped", "error")
    assert full["best_epoch"] == 2 and full["best_val_fused_uar"] == 0.6 and full["checkpoint_path"] == "/s/c2b"
    assert full["param_bandwidths"] == "[0.5, 1]" and short["param_bandwidths"] is None
    assert failed["epochs_run"] == 0 and math.isnan(failed["best_score"])
    assert select([short, full, failed]) == 1


def test_resume_guards(tmp_path):
    c = cfg(tmp_path)
    assert check_results_dir(c, resume=False) is False  # nothing there yet
    (c.results_dir).mkdir(parents=True)
    (c.results_dir / STATE_FILE).write_text(yaml.safe_dump(dump_config(c)))
    with pytest.raises(SweepError, match="--resume"):
        check_results_dir(c, resume=False)
    assert check_results_dir(c, resume=True) is True
    assert check_results_dir(cfg(tmp_path, resources={"num_cpus": 4}), resume=True) is True
    with pytest.raises(SweepError, match="train.epochs"):
        check_results_dir(cfg(tmp_path, train={"epochs": 3}), resume=True)


def test_corpora_used_once_each_in_order():
    from harness.run.experiment import corpora_used

    c = validate_config({"name": "u", "corpora": {n: {"importer": "synth", "root": "/x"} for n in "abc"},
                         "pairs": {"within": ["b"], "cross": [{"source": "b", "target": "a"}]}})
    assert corpora_used(c) == ["b", "a"]
