"""Atomic file writes: every file the harness writes goes through :func:`atomic_write`.

The content is written to a temporary file in the target's own directory (same filesystem), flushed to
disk, then renamed over the target with ``os.replace``. A reader, or a run resumed after a kill at any
moment, therefore finds either the old file or the new one, never a truncated one. The temporary name
keeps the target's suffix (``.x.png.<random>.png``) so writers that infer the format from it
(``Figure.savefig``) still work; a leftover one from a hard kill starts with ``.`` and is ignored.
"""
from __future__ import annotations

import json
import os
import secrets
from pathlib import Path
from typing import Any, Callable

import yaml


def atomic_write(path: Path | str, write: Callable[[Path], object]) -> Path:
    """``write(tmp)`` writes the content to ``tmp``; then it becomes ``path`` in one rename. Returns ``path``.

    The parent directory is created when missing. On any error the target is left untouched and the
    temporary file is removed.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    # not mkstemp: its 0600 mode would make shared results unreadable to the group; the writer creates tmp
    tmp = path.with_name(f".{path.name}.{secrets.token_hex(4)}{path.suffix}")
    try:
        write(tmp)
        with open(tmp, "rb+") as fh:  # the bytes reach the disk before the rename makes them visible
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
    return path


def write_text(path: Path | str, text: str) -> Path:
    """Atomically write ``text`` (UTF-8) to ``path``."""
    return atomic_write(path, lambda tmp: tmp.write_text(text, encoding="utf-8"))


def write_json(path: Path | str, data: Any, indent: int | None = None) -> Path:
    """Atomically write ``data`` (already JSON-safe) as JSON; NaN is written as ``NaN`` (Python's json reads it)."""
    return write_text(path, json.dumps(data, indent=indent) + "\n")


def write_yaml(path: Path | str, data: Any) -> Path:
    """Atomically write plain ``data`` as YAML (``safe_dump``: no Python object tags)."""
    return write_text(path, yaml.safe_dump(data, sort_keys=False, allow_unicode=True))
