"""fdan-bench harness: the CLI, Ray Train/Tune sweeps, configs and results."""
