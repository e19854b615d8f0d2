"""Resume state of a run: the saved config a `--resume` must match, and the finished-unit summaries.

`<results>/sweep.config.yaml` holds the config the run started with; `<results>/units/<key>.json` the
summary of every finished (pair x fold) unit, which a resumed run keeps instead of running it again.
A unit with errored trials is never recorded as finished: its summary goes to `units/<key>.failed.json`
(so the tables show what failed) and `--resume` runs it again (Tune retries its errored trials).
Every file is written atomically (`harness.results.atomic`); a file that is unreadable anyway (a disk
fault, a hand edit) is a `SweepError` naming it, never a traceback.
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import yaml

from harness.config import ExperimentConfig, dump_config
from harness.errors import SweepError
from harness.results.atomic import write_json, write_yaml
from harness.results.jsonable import to_jsonable

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
    old = read_state(state)
    changed = [k for k in _diff(old, dump_config(cfg))
               if not any(k == p or k.startswith(p + ".") for p in _RESUMABLE_CHANGES)]
    if changed:
        raise SweepError(f"--resume: the config differs from the interrupted sweep's ({state}) in: {', '.join(changed)}")
    for path in sorted((results / UNITS_DIR).glob("*.json")):  # every record is checked before Ray starts
        if not path.name.endswith(".failed.json"):
            read_unit(results, path.name.removesuffix(".json"))
    return True


def read_state(state: Path) -> dict[str, Any]:
    """The saved config of an interrupted sweep; SweepError when the file is unreadable or not a mapping."""
    try:
        old = yaml.safe_load(state.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        raise SweepError(f"--resume: the saved sweep state {state} is unreadable ({_short(exc)}); restore it, or "
                         f"delete the results directory to start over") from None
    if not isinstance(old, dict) or "name" not in old:
        raise SweepError(f"--resume: the saved sweep state {state} is not a saved experiment config "
                         f"(truncated or edited?); restore it, or delete the results directory to start over")
    return old


def write_state(results: Path, cfg: ExperimentConfig) -> None:
    write_yaml(results / STATE_FILE, dump_config(cfg))


_SUMMARY_KEYS = {"key": str, "trials": list, "metrics": list, "confusions": list}


def unit_file(results: Path, key: str, failed: bool = False) -> Path:
    return results / UNITS_DIR / f"{key}{'.failed' if failed else ''}.json"


def read_unit(results: Path, key: str) -> dict[str, Any] | None:
    """The summary of a finished unit, None when it has not finished; SweepError for an unusable record."""
    path = unit_file(results, key)
    if not path.is_file():
        return None
    try:
        summary = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        summary, problem = None, f"unreadable ({_short(exc)})"
    else:
        problem = _summary_problem(summary, key)
    if problem:
        raise SweepError(f"--resume: the record of finished unit {key}, {path}, is {problem}. Delete that file to "
                         f"run the unit again (its finished Tune trials are kept and not re-trained).")
    return summary


def _summary_problem(summary: Any, key: str) -> str | None:
    if not isinstance(summary, dict):
        return f"not a unit summary (a JSON {type(summary).__name__})"
    for name, kind in _SUMMARY_KEYS.items():
        if not isinstance(summary.get(name), kind):
            return f"missing its {name!r} entry"
    if summary["key"] != key:
        return f"the record of another unit ({summary['key']!r})"
    trials = [t for t in summary["trials"] if isinstance(t, dict)]
    seeds = {t.get("seed") for t in trials}  # search.seeds: one selected trial per seed
    if sum(bool(t.get("selected")) for t in trials) != len(seeds):
        return "without exactly one selected trial" + (" per seed" if len(seeds) > 1 else "")
    return None


def write_unit(results: Path, summary: dict[str, Any]) -> None:
    """Record a unit: finished (`units/<key>.json`), or failed (`units/<key>.failed.json`, run again on resume)."""
    failed = bool(summary.get("failed"))
    write_json(unit_file(results, summary["key"], failed), to_jsonable(summary, keep_nan=True))
    if not failed:
        unit_file(results, summary["key"], failed=True).unlink(missing_ok=True)


def _short(exc: BaseException) -> str:
    text = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    return text[:200]
