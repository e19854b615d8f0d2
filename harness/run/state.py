"""Resume state of a run: the saved config a `--resume` must match, and the finished-unit summaries.

`<results>/sweep.config.yaml` holds the config the run started with; `<results>/units/<key>.json` the
summary of every finished (pair x fold) unit, which a resumed run keeps instead of running it again.
"""
from __future__ import annotations

from typing import Any

import yaml

from harness.config import ExperimentConfig, dump_config
from harness.run.errors import SweepError

STATE_FILE = "sweep.config.yaml"
UNITS_DIR = "units"
# Sections that may differ on --resume (another cluster, other resources); everything else must match.
_RESUMABLE_CHANGES = {"ray", "resources", "search.max_concurrent_trials"}


def _diff(old: Any, new: Any, prefix: str = "") -> list[str]:
    if isinstance(old, dict) and isinstance(new, dict):
        out = []
        for key in sorted(set(old) | set(new)):
            out += _diff(old.get(key), new.get(key), f"{prefix}{key}.")
        return out
    return [] if old == new else [prefix.rstrip(".")]


def check_results_dir(cfg: ExperimentConfig, resume: bool) -> bool:
    """True when resuming an existing sweep; raise SweepError for a clash. Writes nothing."""
    results = cfg.results_dir
    state = results / STATE_FILE
    if not resume:
        if results.exists() and any(results.iterdir()):
            raise SweepError(f"{results} already holds results; pass --resume to continue that sweep, or choose "
                             f"another directory (--set output_dir=... or --set name=...)")
        return False
    if not state.is_file():
        return False
    old = yaml.safe_load(state.read_text())
    changed = [k for k in _diff(old, dump_config(cfg))
               if not any(k == p or k.startswith(p + ".") for p in _RESUMABLE_CHANGES)]
    if changed:
        raise SweepError(f"--resume: the config differs from the interrupted sweep's ({state}) in: {', '.join(changed)}")
    return True
