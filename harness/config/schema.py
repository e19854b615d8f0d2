"""The one experiment schema (`ExperimentConfig`) behind `fdan-bench train` and `fdan-bench sweep`.

It composes the library sections (`FeatureConfig`, `ModelConfig`, `TrainConfig`) with the harness
sections: corpora, pairs, search, resources, protocol, storage. Every section refuses unknown fields.
`load_config(path, overrides)` reads YAML, applies dotted `--set key=value` overrides, validates, and
raises `ConfigError` whose message names the dotted field path; the CLI turns it into exit code 2.
"""
from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import yaml
from pydantic import Field, ValidationError, field_validator, model_validator

from fdan.config import FeatureConfig, ModelConfig, TrainConfig
from harness.config.corpus_checks import importer_problem, label_problem
from harness.config.errors import ConfigError, did_you_mean, format_validation_error
from harness.config.overrides import apply_overrides
from harness.config.search_space import param_name
from harness.config.data_sections import CorpusSpec, PairsConfig, PairSpec, ShiftSpec, SynthSpec
from harness.config.run_sections import AshaConfig, ProtocolConfig, RayConfig, ResourcesConfig, SearchConfig
from harness.config.section import Section
from harness.config.tracking import TrackingConfig
from harness.config.variants import adabn_problem, oracle_problem, variant_problem

__all__ = ["ConfigError", "ExperimentConfig", "load_config", "dump_config", "validate_config", "AshaConfig",
           "CorpusSpec", "PairSpec", "PairsConfig", "ProtocolConfig", "RayConfig", "ResourcesConfig", "SearchConfig",
           "ShiftSpec", "SynthSpec"]


class ExperimentConfig(Section):
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
        for problem in [*problems, label_problem(self.pairs.labels), variant_problem(self),
                        oracle_problem(self)]:
            if problem is not None:
                raise _field_error(*problem)
        if (problem := adabn_problem(self)) is not None:  # after variant_problem: the variants expand
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
