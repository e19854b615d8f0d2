"""Per-pair figures kept from the previous rendering when what they are drawn from has not changed.

A sweep renders its report while units run (`harness.experiment.run`, at most every `REPORT_EVERY_S`), and each
rendering used to draw every pair's confusion matrices and learning curves again: about a minute of one core for
a 140-unit sweep, most of it for pairs whose units had finished long before. Each per-pair figure is now stored
with a fingerprint of its inputs (title, the pooled confusion counts, the pair's trials rows and their per-epoch
metrics) and of how it is drawn (the source of the plotting modules, matplotlib's version) in
``plots/.inputs.json``; a figure whose fingerprint is unchanged and whose file exists is kept.
"""
from __future__ import annotations

import hashlib
import json
from functools import lru_cache
from pathlib import Path
from typing import Any, Callable

import matplotlib
import numpy as np
import pandas as pd

from harness.results.atomic import write_text

INPUTS_FILE = ".inputs.json"
DRAWING_MODULES = ("confusion_plots.py", "curves.py", "figures.py", "plot_inputs.py")  # under harness/report/


@lru_cache(maxsize=1)
def drawing_version() -> str:
    """What draws the figures: the plotting modules' source and matplotlib's version (a changed one redraws all)."""
    here = Path(__file__).parent
    return fingerprint(matplotlib.__version__, *[(here / name).read_bytes() for name in DRAWING_MODULES])


def fingerprint(*inputs: Any) -> str:
    """sha1 of the inputs: DataFrames by their CSV text (columns included), arrays by dtype, shape and bytes,
    dataclasses by their fields, anything else by ``repr``."""
    digest = hashlib.sha1()
    for item in inputs:
        for part in _parts(item):
            digest.update(part)
    return digest.hexdigest()


def _parts(item: Any) -> list[bytes]:
    if isinstance(item, pd.DataFrame):
        return [item.to_csv(index=False).encode()]
    if isinstance(item, np.ndarray):
        return [f"{item.dtype}{item.shape}".encode(), np.ascontiguousarray(item).tobytes()]
    if isinstance(item, (list, tuple)):
        return [b"["] + [p for x in item for p in _parts(x)] + [b"]"]
    if hasattr(item, "__dataclass_fields__"):
        return [type(item).__name__.encode()] + [p for name in item.__dataclass_fields__
                                                 for p in (name.encode(), *_parts(getattr(item, name)))]
    return [repr(item).encode()]


class PlotInputs:
    """The fingerprints of one rendering's per-pair figures (module doc), read from and written to ``plots_dir``."""

    def __init__(self, plots_dir: Path) -> None:
        self.results_dir = Path(plots_dir).parent
        self.path = Path(plots_dir) / INPUTS_FILE
        try:
            self.before: dict[str, dict[str, Any]] = json.loads(self.path.read_text())
        except (OSError, ValueError):  # none yet, or unreadable: every figure is drawn
            self.before = {}
        self.now: dict[str, dict[str, Any]] = {}

    def draw(self, rel: str, inputs: tuple, draw: Callable[[], bool | None]) -> bool:
        """``draw()`` (False: nothing to draw) unless the figure at ``rel`` was drawn from the same ``inputs``;
        returns whether the figure exists."""
        key = fingerprint(drawing_version(), *inputs)
        old = self.before.get(rel)
        if old is not None and old.get("inputs") == key and (not old.get("drawn") or (self.results_dir / rel).is_file()):
            drawn = bool(old.get("drawn"))
        else:
            drawn = draw() is not False
        self.now[rel] = {"inputs": key, "drawn": drawn}
        return drawn

    def save(self) -> None:
        write_text(self.path, json.dumps(self.now, indent=0, sort_keys=True))
