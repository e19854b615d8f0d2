"""The one experiment schema (`ExperimentConfig`) behind `fdan-bench train` and `fdan-bench sweep`.

It composes the library sections (`FeatureConfig`, `ModelConfig`, `TrainConfig`) with the harness
sections: corpora, pairs, search, resources, protocol, storage. Every section refuses unknown fields.
`load_config(path, overrides)` reads YAML, applies dotted `--set key=value` overrides, validates, and
raises `ConfigError` whose message names the dotted field path; the CLI turns it into exit code 2.
"""
from __future__ import annotations

import math
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from fdan.config import FeatureConfig, ModelConfig, TrainConfig
from fdan.corpora.synth.shift import check_clip_counts, check_shift
from fdan.selection import RULES
from harness.config.corpus_checks import importer_problem, label_problem
from harness.config.errors import ConfigError, did_you_mean, format_validation_error
from harness.config.overrides import apply_overrides
from harness.config.search_space import SearchSpace, param_name
from harness.config.tracking import TrackingConfig
from harness.config.variants import variant_problem

__all__ = ["ConfigError", "ExperimentConfig", "load_config", "dump_config"]


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ShiftSpec(_Section):
    """A planted cue shift (fdan.corpora.synth.shift.CueShift): `dose` x `offsets` added to the cues."""

    dose: float = Field(..., ge=0.0, le=2.0)
    offsets: dict[str, float] | None = Field(None, description="cue -> offset at dose 1; None = shift.DEFAULT_OFFSETS")

    @model_validator(mode="after")
    def _known_cues(self) -> "ShiftSpec":
        check_shift(self.model_dump(exclude_none=True))
        return self


class SynthSpec(_Section):
    """Generate-if-missing parameters for a synthetic corpus (fdan.corpora.synth.generate); an existing
    root made from other parameters is refused (harness.experiment.corpora.ensure_root)."""

    corpus: Literal["synth-studio", "synth-street"] = Field("synth-studio", description="the named conditions drawn from")
    name: str | None = Field(None, description="the generated corpus' name (default: corpus); same corpus + seed = same draws")
    seed: int = 0
    speakers: int = Field(4, ge=2)
    clips_per_emotion: int = Field(3, ge=1)
    emotion_clips: dict[str, int] = Field(default_factory=dict, description="label shift: clips of these emotions, e.g. {neutral: 2}")
    shift: ShiftSpec | None = Field(None, description="planted cue shift, e.g. {dose: 1.0}")
    conditions: dict[str, Any] = Field(
        default_factory=dict, description="overrides of the corpus' recording conditions, e.g. {duration_s: [1.0, 1.5]}"
    )

    @model_validator(mode="after")
    def _counts(self) -> "SynthSpec":
        if self.emotion_clips:
            check_clip_counts(self.clips_per_emotion, self.emotion_clips)
        return self


class CorpusSpec(_Section):
    """One corpus: where its release lives and which importer reads it."""

    importer: str = Field(..., description="importer name (fdan.corpora), e.g. savee, meld, synth")
    root: Path = Field(..., description="the corpus as released; relative paths are relative to the working directory")
    synth: SynthSpec | None = Field(None, description="synthetic corpora only: generated under root when root is missing")
    prepare_hint: str | None = Field(None, description="shown when root is missing: how to obtain / lay out the corpus")
    options: dict[str, Any] = Field(
        default_factory=dict, description="importer options, e.g. {calm: merge} for ravdess (fdan.corpora.importer_options)"
    )


class PairSpec(_Section):
    source: str
    target: str


class PairsConfig(_Section):
    """Which (source, target) pairs run. Within-corpus pairs use speaker-independent folds."""

    within: list[str] | Literal["all"] = Field(default_factory=list, description="corpora trained and tested on themselves")
    cross: list[PairSpec] | Literal["all"] = Field(default_factory=list, description="source->target pairs; 'all' = every ordered pair")
    folds: list[int] | None = Field(None, description="only these fold numbers (None = every fold of the corpus)")
    max_folds: int | None = Field(None, ge=1, description="at most this many folds per pair (first ones)")
    cross_folds: Literal["target", "none"] = Field(
        "target",
        description="target: target-corpus folds, unlabelled adaptation on the other target speakers, test on the fold; "
        "none: one transductive unit (adapt and test on all target rows)",
    )
    labels: list[str] | None = Field(None, description="restrict every pair's label space to these canonical labels")
    oracle: bool = Field(False, description="also an `oracle` unit per cross-corpus unit: trained on the labelled target "
                         "speakers of the other folds, tested on the same held-out fold (the ceiling row)")


class AshaConfig(_Section):
    enabled: bool = True
    grace_period: int = Field(1, ge=1, description="epochs before a trial can be stopped")
    reduction_factor: float = Field(2.0, gt=1)


class SearchConfig(_Section):
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


class ResourcesConfig(_Section):
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


class ProtocolConfig(_Section):
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


class RayConfig(_Section):
    address: str | None = Field(None, description="None starts a local cluster; 'auto' joins the running one")
    auth_mode: Literal["disabled", "token"] = Field(
        "disabled", description="RAY_AUTH_MODE for a locally started cluster (an explicit env var wins)"
    )
    dashboard: bool = Field(True, description="keep on: Train placement groups of stopped trials are reclaimed through it")


class ExperimentConfig(_Section):
    """A complete experiment: data, model, training, search, resources, protocol and outputs."""

    name: str = Field(..., pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]*$", description="names the results and Ray experiment dirs")
    description: str = ""
    label: str | None = Field(None, description="free-text label shown in reports, e.g. 'paper settings (test-set selection)'")
    output_dir: Path = Field(Path("results"), description="results land in <output_dir>/<name>")
    storage: str | None = Field(
        None, description="Ray storage: a shared path or URI (s3://, gs://) for multi-node runs; None = <results>/ray"
    )
    storage_options: dict[str, Any] = Field(
        default_factory=dict, description="keyword arguments of the URI's pyarrow filesystem, e.g. "
        "{endpoint_override: 'http://127.0.0.1:9000', region: us-east-1} for s3:// (credentials: use the environment)"
    )
    cache_dir: Path = Field(Path("data/cache"), description="feature caches (one per corpus x feature config)")
    smoke_test: bool = Field(False, description="shrink epochs, samples, folds and inputs for CI")
    corpora: dict[str, CorpusSpec]
    pairs: PairsConfig = Field(default_factory=PairsConfig)
    features: FeatureConfig = Field(default_factory=FeatureConfig)
    model: ModelConfig = Field(default_factory=ModelConfig)
    train: TrainConfig = Field(default_factory=TrainConfig)
    search: SearchConfig = Field(default_factory=SearchConfig)
    resources: ResourcesConfig = Field(default_factory=ResourcesConfig)
    protocol: ProtocolConfig = Field(default_factory=ProtocolConfig)
    ray: RayConfig = Field(default_factory=RayConfig)
    tracking: TrackingConfig = Field(default_factory=TrackingConfig, description="MLflow / W&B logging of every trial (harness.config.tracking)")
    variants: list[dict[str, Any]] = Field(
        default_factory=list, description="settings compared side by side (harness.config.variants), e.g. "
        "[{train.method: fdan}, {train.method: dann}]: each runs every unit with its own search and selected model",
    )

    @field_validator("corpora")
    @classmethod
    def _some_corpora(cls, v: dict[str, CorpusSpec]) -> dict[str, CorpusSpec]:
        if not v:
            raise ValueError("at least one corpus is needed")
        return v

    @model_validator(mode="after")
    def _cross_check(self) -> "ExperimentConfig":
        known = set(self.corpora)
        problems = [importer_problem(n, spec.importer, spec.options) for n, spec in self.corpora.items()]
        for problem in [*problems, label_problem(self.pairs.labels), variant_problem(self)]:
            if problem is not None:
                raise _field_error(*problem)
        if self.pairs.within != "all":
            for i, name in enumerate(self.pairs.within):
                if name not in known:
                    raise _field_error(f"pairs.within.{i}", f"unknown corpus {name!r}; corpora: {sorted(known)}"
                                       + did_you_mean(name, known))
        if self.pairs.cross != "all":
            for i, pair in enumerate(self.pairs.cross):
                for side in ("source", "target"):
                    if getattr(pair, side) not in known:
                        raise _field_error(f"pairs.cross.{i}.{side}", f"unknown corpus {getattr(pair, side)!r}; corpora: {sorted(known)}"
                                           + did_you_mean(getattr(pair, side), known))
                if pair.source == pair.target:
                    raise _field_error(f"pairs.cross.{i}", "source and target are the same corpus; use pairs.within")
        if not self.pairs.within and not self.pairs.cross:
            raise _field_error("pairs", "no pairs: set pairs.within and/or pairs.cross")
        leaves: dict[str, str] = {}
        for key in self.search.space:
            _check_target(self, key)
            leaf = param_name(key)
            if leaf in leaves:
                raise _field_error(f"search.space.{key}", f"same field name as {leaves[leaf]}")
            leaves[leaf] = key
        return self

    @model_validator(mode="after")
    def _batch_splits_over_workers(self) -> "ExperimentConfig":
        workers = self.resources.workers_per_trial  # train.batch_size is the global batch (fdan.training.distributed)
        if self.train.batch_size % workers or self.train.batch_size // workers < 2:
            raise _field_error("train.batch_size", f"the global batch must be a multiple of resources.workers_per_trial "
                                                   f"({workers}) with at least 2 rows per worker")
        return self

    @model_validator(mode="after")
    def _storage_options_need_uri(self) -> "ExperimentConfig":
        if self.storage_options and not (self.storage and "://" in self.storage and not self.storage.startswith("file://")):
            raise _field_error("storage_options", "only for an object-store URI in storage (s3://bucket/prefix, gs://...)")
        return self

    @property
    def results_dir(self) -> Path:
        return self.output_dir / self.name

    @property
    def storage_path(self) -> str:
        return self.storage if self.storage else str((self.results_dir / "ray").resolve())

    def with_smoke_test(self) -> "ExperimentConfig":
        """A copy shrunk for CI (Ray Tune examples' --smoke-test): tiny inputs, 1-2 epochs, 2 samples, 1 fold."""
        data = self.model_dump(mode="python")
        data["smoke_test"] = True
        data["train"].update(epochs=min(self.train.epochs, 2), batch_size=min(self.train.batch_size, 8))
        data["search"]["num_samples"] = min(self.search.num_samples, 2)
        data["search"]["asha"]["grace_period"] = 1
        data["pairs"]["max_folds"] = 1
        data["features"].update(
            sample_rate=8000, n_mels=16, n_fft=256, win_length=200, hop_length=160, f_max=None,
            clip_seconds=min(self.features.clip_seconds, 1.0), n_frames=2, face_size=32, face_detector="center",
        )
        heads = [self.model.attn_heads]
        space = self.search.space.get("model.attn_heads")
        if space is not None and space.values:
            heads += [int(v) for v in space.values]
        attn_dim = 4 * math.lcm(*heads)  # divisible by every searched head count
        data["model"].update(backbone="resnet18", attn_dim=attn_dim, adapt_dim=32, weights="none")
        return ExperimentConfig.model_validate(data)


def _field_error(path: str, msg: str) -> ValueError:
    return ValueError(f"[{path}] {msg}")


def _check_target(cfg: ExperimentConfig, dotted: str) -> None:
    """The searched field exists and each candidate value is valid for it (types, bounds, cross-field checks)."""
    section, _, field = dotted.partition(".")
    allowed = {"model": ModelConfig, "train": TrainConfig}
    if section not in allowed or field not in allowed[section].model_fields:
        raise _field_error(f"search.space.{dotted}", "must name a field of the model or train section (e.g. train.lmmd_weight)")
    base = getattr(cfg, section).model_dump()
    for value in cfg.search.space[dotted].candidates():
        try:
            allowed[section].model_validate({**base, field: value})
        except ValidationError as exc:
            reason = "; ".join(e["msg"].removeprefix("Value error, ") for e in exc.errors())
            raise _field_error(f"search.space.{dotted}", f"value {value!r} is invalid: {reason}") from None


def validate_config(data: dict[str, Any], source: str = "config") -> ExperimentConfig:
    """Validate a plain mapping into an `ExperimentConfig` (smoke_test applied), or raise ConfigError."""
    try:
        cfg = ExperimentConfig.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(f"{source}: {format_validation_error(exc, ExperimentConfig)}") from None
    if cfg.smoke_test:
        try:
            cfg = cfg.with_smoke_test()
        except ValidationError as exc:
            raise ConfigError(f"{source} (smoke_test): {format_validation_error(exc, ExperimentConfig)}") from None
    return cfg


def load_config(path: str | Path, overrides: list[str] | None = None) -> ExperimentConfig:
    """Read a YAML experiment file, apply `key.path=value` overrides, validate. Raises ConfigError."""
    path = Path(path)
    if not path.is_file():
        raise ConfigError(f"{path}: no such config file")
    try:
        data = yaml.safe_load(path.read_text())
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        raise ConfigError(f"{path}:{where} invalid YAML: {getattr(exc, 'problem', None) or exc}") from None
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: the top level must be a mapping of sections, got {type(data).__name__}")
    data = apply_overrides(data, overrides or [])
    return validate_config(data, source=str(path))


def dump_config(cfg: ExperimentConfig) -> dict[str, Any]:
    """The resolved config as plain YAML-safe data (saved with the results)."""
    return cfg.model_dump(mode="json")
