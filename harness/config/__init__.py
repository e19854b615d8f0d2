"""The experiment config: schema (`schema`), dotted `--set` overrides, search-space entries, errors."""
from harness.config.errors import ConfigError
from harness.config.schema import CorpusSpec, ExperimentConfig, dump_config, load_config, validate_config

__all__ = ["ConfigError", "CorpusSpec", "ExperimentConfig", "dump_config", "load_config", "validate_config"]
