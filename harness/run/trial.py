"""The Ray Tune function trial: apply the sampled hyper-parameters, build a Train V2 TorchTrainer, fit.

Train V2 does not accept a trainer inside `Tuner`; the trial is a plain function that runs
`TorchTrainer.fit()`, and `TuneReportCallback` forwards each epoch's rank-0 metrics (with the
checkpoint's storage path as `checkpoint_path`; `result.checkpoint` stays None under V2) to Tune.
The Train run is named from the unit and the Tune trial id, so a restored trial resumes the same run.
"""
from __future__ import annotations

from typing import Any

from harness.config.search_space import SearchSpace, decode

TRAIN_RUNS_DIR = "train_runs"


def apply_params(payload: dict[str, Any], space: SearchSpace, params: dict[str, Any]) -> tuple[dict, dict]:
    """(model section, train section) with the sampled values written into their dotted fields."""
    sections = {"model": dict(payload["model"]), "train": dict(payload["train"])}
    for dotted, value in decode(space, params).items():
        section, _, field = dotted.partition(".")
        sections[section][field] = value
    return sections["model"], sections["train"]


def train_run_name(unit_key: str, trial_id: str) -> str:
    return f"{unit_key}__{trial_id}"


def run_trial(config: dict[str, Any], payload: dict[str, Any]) -> None:
    """Tune trainable (wrapped with `tune.with_parameters(run_trial, payload=...)`).

    `config` holds the sampled hyper-parameters (Tune keys = field leaf names); `payload` the static
    part: model/train sections, the work unit, protocol, resource plan, space and storage.
    """
    import ray.train
    import ray.tune
    from ray.train.torch import TorchTrainer
    from ray.tune.integration.ray_train import TuneReportCallback

    from harness.run.worker import train_loop

    space = {k: _dist(v) for k, v in payload["space"].items()}
    model_cfg, train_cfg = apply_params(payload, space, config)
    plan = payload["plan"]
    trial_id = ray.tune.get_context().get_trial_id()
    resources = {"CPU": plan["cpus_per_worker"]}
    if plan["use_gpu"]:
        resources["GPU"] = plan["gpus_per_worker"]
    trainer = TorchTrainer(
        train_loop,
        train_loop_config={
            "model": model_cfg, "train": train_cfg, "unit": payload["unit"],
            "protocol": payload["protocol"], "torch_threads": plan["torch_threads"],
        },
        scaling_config=ray.train.ScalingConfig(
            num_workers=plan["num_workers"], use_gpu=plan["use_gpu"], resources_per_worker=resources,
        ),
        run_config=ray.train.RunConfig(
            name=train_run_name(payload["unit"]["key"], trial_id),
            storage_path=f"{payload['storage_path'].rstrip('/')}/{TRAIN_RUNS_DIR}",
            callbacks=[TuneReportCallback()],
            # Keeps the best checkpoint by the selection metric; Ray always keeps the latest too (resume).
            checkpoint_config=ray.train.CheckpointConfig(
                num_to_keep=1, checkpoint_score_attribute=payload["selection_key"], checkpoint_score_order="max",
            ),
            failure_config=ray.train.FailureConfig(max_failures=0),
        ),
    )
    trainer.fit()


def _dist(data: dict[str, Any]):
    from harness.config.search_space import Distribution

    return Distribution.model_validate(data)
