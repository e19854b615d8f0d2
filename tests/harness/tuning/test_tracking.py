"""The `tracking:` section's Tune callbacks; MLflow for real against a local file store, read back with MLflow's client."""
from __future__ import annotations

import importlib.util

import pytest

from harness.config.schema import validate_config
from harness.tuning.work_unit import WorkUnit
from harness.tuning.tracking import mlflow_uri, tracking_callbacks

from ..experiment_data import base_config, deep_set
from .wandb_records import run_summary

UNIT = WorkUnit("studio", "studio", 1, ("anger", "sadness"), (0,), (1,), (2,))


def config(tmp_path, **sets):
    data = base_config(tmp_path)
    for dotted, value in sets.items():
        data = deep_set(data, dotted.replace("__", "."), value)
    return validate_config(data)


def test_no_tracking_by_default(tmp_path):
    cfg = config(tmp_path)
    assert tracking_callbacks(cfg, UNIT) == []
    assert mlflow_uri(cfg) == f"sqlite:///{(tmp_path / 'results' / 'hostile' / 'mlruns' / 'mlflow.db').resolve()}"


def test_unknown_tracking_field_is_refused(tmp_path):
    from harness.config.errors import ConfigError

    with pytest.raises(ConfigError, match="tracking.mlflow.uri"):
        config(tmp_path, tracking__mlflow__uri="x")


def test_wandb_without_the_package_says_how_to_install(tmp_path, monkeypatch):
    from harness.config.errors import ConfigError

    real_find_spec = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "wandb" else real_find_spec(name, *a))
    with pytest.raises(ConfigError, match=r"tracking.wandb.enabled.*pip install wandb"):
        config(tmp_path, tracking__wandb__enabled=True)


def test_mlflow_logs_params_metrics_and_unit_to_a_local_store(tmp_path):
    """Ray Tune's MLflowLoggerCallback, as the sweep builds it, driven through a trial's life cycle the way
    Tune's controller calls it (start, one result per epoch, end); the store is then read with MlflowClient."""
    pytest.importorskip("mlflow", reason="mlflow is a test requirement (requirements-test.txt)")
    from mlflow.tracking import MlflowClient
    from ray.tune.experiment import Trial

    cfg = config(tmp_path, tracking__mlflow__enabled=True)
    (callback,) = tracking_callbacks(cfg, UNIT)
    callback.setup()
    trials = [Trial("run_trial", config={"train.lr": lr, "model.attn_heads": 2}, trial_id=f"t{i}", stub=True) for i, lr in enumerate((1e-3, 1e-2))]
    for trial in trials:
        callback.log_trial_start(trial)
        for epoch in range(3):
            callback.log_trial_result(epoch + 1, trial, {"training_iteration": epoch + 1, "epoch": epoch,
                                                         "val_fused_uar": 0.2 + 0.1 * epoch, "train_loss": 2.0 - epoch})
        callback.log_trial_end(trial)

    client = MlflowClient(tracking_uri=mlflow_uri(cfg))
    experiment = client.get_experiment_by_name("hostile")
    assert experiment is not None and (tmp_path / "results" / "hostile" / "mlruns" / "mlflow.db").is_file()
    assert experiment.artifact_location.startswith((tmp_path / "results" / "hostile" / "mlruns").as_uri())
    runs = client.search_runs([experiment.experiment_id])
    assert len(runs) == 2
    by_lr = {float(r.data.params["train.lr"]): r for r in runs}
    assert set(by_lr) == {1e-3, 1e-2}
    for run in runs:
        assert run.data.params["model.attn_heads"] == "2"
        assert run.data.tags["unit"] == UNIT.key and run.data.tags["fold"] == "1"
        assert run.data.tags["pair"] == "studio" and run.data.tags["experiment"] == "hostile"
        assert run.info.status == "FINISHED"
        history = client.get_metric_history(run.info.run_id, "val_fused_uar")
        assert [(m.step, round(m.value, 6)) for m in history] == [(1, 0.2), (2, 0.3), (3, 0.4)]
        assert [m.value for m in client.get_metric_history(run.info.run_id, "train_loss")] == [2.0, 1.0, 0.0]


@pytest.mark.slow
def test_wandb_offline_logs_every_trial_without_a_network(tmp_path, monkeypatch):
    """A real Tune run with the callback the sweep builds, in W&B's default offline mode, with no API key and
    W&B's server pointed at a closed local port: one offline run per trial under <results>/wandb/, carrying the
    trial's parameters, the unit's group and tags and every epoch's metrics, read back from W&B's run files."""
    pytest.importorskip("wandb", reason="wandb is a test requirement (requirements-test.txt)")
    from ray import tune

    from harness.cluster.local import local_ray

    monkeypatch.delenv("WANDB_API_KEY", raising=False)
    monkeypatch.setenv("WANDB_BASE_URL", "http://127.0.0.1:9")  # any network use would fail loudly
    monkeypatch.setenv("WANDB_CONFIG_DIR", str(tmp_path / "wandb-config"))
    cfg = config(tmp_path, tracking__wandb__enabled=True)
    (callback,) = tracking_callbacks(cfg, UNIT)

    def trainable(params):
        for epoch in range(3):
            tune.report({"epoch": epoch, "val_fused_uar": 0.2 + 0.1 * epoch, "train_loss": 2.0 - epoch})

    with local_ray(1):
        tuner = tune.Tuner(trainable, param_space={"train.lr": tune.grid_search([1e-3, 1e-2]), "model.attn_heads": 2},
                           run_config=tune.RunConfig(name="wandb", storage_path=str(tmp_path / "ray"), callbacks=[callback]))
        assert not tuner.fit().errors

    files = sorted((tmp_path / "results" / "hostile" / "wandb").glob("offline-run-*/run-*.wandb"))
    assert len(files) == 2, files
    runs = {float(r["config"]["train.lr"]): r for r in map(run_summary, files)}
    assert set(runs) == {1e-3, 1e-2}
    for run in runs.values():
        assert run["project"] == "hostile" and run["group"] == UNIT.key
        assert {"unit=studio__fold1", "fold=1", "pair=studio", "experiment=hostile"} <= set(run["tags"])
        assert run["config"]["model.attn_heads"] == "2"
        assert [(h["_step"], round(float(h["val_fused_uar"]), 6), float(h["train_loss"])) for h in run["history"]] == \
            [("1", 0.2, 2.0), ("2", 0.3, 1.0), ("3", 0.4, 0.0)]
        assert run["exit_code"] == 0
