"""Saving a matplotlib figure into the report, and file names made from pair names.

Figures are built with the object API (``matplotlib.figure.Figure``), never pyplot, so rendering needs no
display, keeps no global figure state and does not change the process-wide backend.
"""
from __future__ import annotations

import re
from pathlib import Path

from matplotlib.figure import Figure

from harness.results.atomic import atomic_write


def save_figure(fig: Figure, path: Path) -> None:
    """Write ``fig`` as a PNG (100 dpi, no software tag so the bytes do not depend on the matplotlib build)."""
    atomic_write(path, lambda tmp: fig.savefig(tmp, dpi=100, metadata={"Software": None}))


def safe_name(name: str) -> str:
    """``name`` reduced to file-name characters (``synth-studio→synth-street`` -> ``synth-studio_synth-street``)."""
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", name).strip("_") or "x"
