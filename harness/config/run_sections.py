"""The run sections of the experiment schema: search, resources, protocol (model selection) and the Ray
cluster (harness.config.schema composes them)."""
from __future__ import annotations

from typing import Any, Literal

from pydantic import Field, field_validator, model_validator

from fdan.selection import RULES
from harness.config.search_space import SearchSpace
from harness.config.section import Section


class AshaConfig(Section):
    enabled: bool = True
    grace_period: int = Field(1, ge=1, description="epochs before a trial can be stopped")
    reduction_factor: float = Field(2.0, gt=1)


class SearchConfig(Section):
    """Hyper-parameter search: Optuna TPE (seeded) + ASHA, metric on validation data only."""

    space: SearchSpace = Field(default_factory=dict, description="dotted config field -> distribution")
    num_samples: int = Field(8, ge=1, description="trials per (pair x fold) unit")
    max_concurrent_trials: int | None = Field(None, ge=1, description="None = sized from the cluster's CPUs/GPUs")
    seed: int = 0
    seeds: list[int] = Field(
        default_factory=list, description="train the configuration chosen per unit again with each of these train.seed "
        "values and test it (harness.tuning.seeds): leaderboard cells become mean ± std over folds x seeds",
    )
    asha: AshaConfig = Field(default_factory=AshaConfig)


class ResourcesConfig(Section):
    """Per-trial resources. Fractional CPUs let a 2-core machine run a trial driver and its worker."""

    workers_per_trial: int = Field(1, ge=1, description="Ray Train workers (DDP ranks) per trial")
    use_gpu: Literal["auto", "never", "always"] = Field("auto", description="auto: GPU workers when the cluster has GPUs")
    gpus_per_worker: float = Field(1.0, gt=0)
    cpus_per_worker: float = Field(0.5, gt=0, description="fractional CPUs avoid deadlock on small machines")
    cpus_per_trial_driver: float = Field(0.5, gt=0, description="the Tune function trial that drives TorchTrainer")
    torch_threads: int | None = Field(None, ge=1, description="intra-op threads per worker; None = max(1, cpus_per_worker)")
    num_cpus: int | None = Field(None, ge=1, description="CPUs of a locally started cluster (None = all)")
    max_failures: int = Field(
        2, ge=0, description="retries of a failed trial (a worker or node lost), each resuming from its latest "
        "checkpoint: Ray Train restarts the workers, Ray Tune the trial itself")
    progress_timeout_s: float | None = Field(
        3600.0, gt=0, description="a trial pending or running this long without a new epoch report stops the sweep "
        "with a clear message (resources that died); None waits forever")
    concurrent_units: Literal["auto"] | int = Field(
        "auto", description="(pair x fold) units run side by side, their trial slots shared "
        "(harness.experiment.lanes): auto = as many as the cluster has trial slots (at most the units); 1 = one "
        "unit after another")

    @field_validator("concurrent_units", mode="before")
    @classmethod
    def _no_bool_units(cls, v: Any) -> Any:
        if isinstance(v, bool):
            raise ValueError("must be 'auto' or a whole number of units, at least 1")
        return v

    @field_validator("concurrent_units", mode="after")
    @classmethod
    def _positive_units(cls, v: Any) -> Any:
        if isinstance(v, int) and v < 1:  # after coercion: "0" from YAML or --set is an int here
            raise ValueError("must be 'auto' or a whole number of units, at least 1")
        return v

    @model_validator(mode="after")
    def _one_trial_fits(self) -> "ResourcesConfig":
        need = self.cpus_per_trial_driver + self.workers_per_trial * self.cpus_per_worker
        if self.num_cpus is not None and need > self.num_cpus + 1e-9:
            raise ValueError(f"one trial needs {need:g} CPU (cpus_per_trial_driver + workers_per_trial x "
                             f"cpus_per_worker) but num_cpus is {self.num_cpus}: no trial could ever start")
        return self


class ProtocolConfig(Section):
    """How models are selected and evaluated."""

    name: Literal["speaker-independent", "paper"] = Field(
        "speaker-independent",
        description="speaker-independent: select on validation speakers, test the chosen checkpoint once; "
        "paper: best test epoch (model selection on the test set, only for comparison with the paper)",
    )
    val_speakers: int = Field(2, ge=1, description="training speakers carved out as validation speakers: at most n - 2 "
                              "of n (two keep training), whole sessions for IEMOCAP (harness.experiment.validation_split)")
    cross_selection: list[str] = Field(
        default_factory=lambda: ["source_val"], min_length=1,
        description="cross-corpus model-selection rules, the first one primary (fdan.selection.RULES): source_val, iwv, "
        "dev, snd, entropy, im, target_oracle (labelled target speakers: an upper bound, never a method)")

    @field_validator("cross_selection")
    @classmethod
    def _known_rules(cls, rules: list[str]) -> list[str]:
        unknown = [r for r in rules if r not in RULES]
        if unknown or len(set(rules)) != len(rules):
            raise ValueError(f"cross_selection: unknown or repeated rule(s) {unknown or rules}; known: {', '.join(RULES)}")
        return rules
    selection_head: Literal["fused", "audio", "face"] = "fused"
    selection_metric: Literal["uar", "war", "macro_f1"] = "uar"

    @property
    def selection_key(self) -> str:
        split = "test" if self.name == "paper" else "val"
        return f"{split}_{self.selection_head}_{self.selection_metric}"


class RayConfig(Section):
    address: str | None = Field(None, description="None starts a local cluster; 'auto' joins the running one")
    auth_mode: Literal["disabled", "token"] = Field(
        "disabled", description="RAY_AUTH_MODE for a locally started cluster (an explicit env var wins)"
    )
    dashboard: bool = Field(True, description="keep on: Train placement groups of stopped trials are reclaimed through it")


