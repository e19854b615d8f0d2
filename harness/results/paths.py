"""Paths in the results tables are relative to the results directory, so the directory can be moved.

A trial's ``checkpoint_path`` lies under the run's storage: by default ``<results dir>/ray/...`` (stored
as ``ray/...``), or a storage URI (``s3://...``, stored as is). Paths written by older versions are
absolute; :func:`resolve_in_results` reads both, and finds an absolute path of a moved directory again
by its part below the directory's name.
"""
from __future__ import annotations

from pathlib import Path, PurePosixPath
from typing import Any


def is_uri(value: str) -> bool:
    return "://" in value


def relative_to_results(value: Any, results_dir: str | Path) -> Any:
    """``value`` relative to ``results_dir`` when it is an absolute path inside it; anything else unchanged
    (None, NaN, a URI, a path elsewhere)."""
    if not isinstance(value, str) or not value or is_uri(value) or not Path(value).is_absolute():
        return value
    try:
        return Path(value).resolve().relative_to(Path(results_dir).resolve()).as_posix()
    except ValueError:
        return value


def resolve_in_results(value: str, results_dir: str | Path) -> str:
    """The path a table's ``value`` names, for the results directory where it is now.

    Relative: joined to ``results_dir``. A URI: as is. Absolute (older tables): as is if it exists; else,
    when it passes through a directory named like ``results_dir``, the rest of it under ``results_dir``
    (the directory was moved after the run)."""
    if is_uri(value):
        return value
    path = Path(value)
    if not path.is_absolute():
        return str(Path(results_dir) / path)
    if path.exists():
        return value
    parts = PurePosixPath(path.as_posix()).parts
    name = Path(results_dir).resolve().name
    if name in parts:
        tail = parts[len(parts) - 1 - parts[::-1].index(name) + 1:]
        moved = Path(results_dir).joinpath(*tail)
        if moved.exists():
            return str(moved)
    return value
