"""Confusion-matrix figures per pair: the selected models' matrices summed over folds (``per_class``), every head,
as counts and row-normalised (recall on the diagonal)."""
from __future__ import annotations

from pathlib import Path

import numpy as np
from matplotlib.figure import Figure

from harness.report.figures import save_figure
from harness.report.per_class import PooledConfusion


def plot_pair_confusions(pooled: list[PooledConfusion], path: Path, title: str) -> None:
    """Two rows of heat maps for one pair, a column per head: counts (top) and row-normalised (bottom)."""
    n = len(pooled)
    size = max(3.2, 0.45 * max(len(c.labels) for c in pooled) + 1.6)
    fig = Figure(figsize=(size * n, 2 * size))
    for i, c in enumerate(pooled):
        counts, norm = c.counts.astype(float), c.row_normalised
        for row, (values, fmt, vmax, what) in enumerate(((counts, "{:g}", max(1.0, counts.max()), "counts"),
                                                         (norm, "{:.2f}", 1.0, "row-normalised"))):
            ax = fig.add_subplot(2, n, row * n + i + 1)
            ax.imshow(values, cmap="Blues", vmin=0.0, vmax=vmax)
            for (r, k), v in np.ndenumerate(values):
                ax.text(k, r, fmt.format(v), ha="center", va="center", fontsize=7,
                        color="white" if v > 0.5 * vmax else "black")
            ax.set_xticks(range(len(c.labels)), c.labels, rotation=45, ha="right", fontsize=7)
            ax.set_yticks(range(len(c.labels)), c.labels, fontsize=7)
            ax.set_xlabel("predicted", fontsize=8)
            ax.set_ylabel("true", fontsize=8)
            ax.set_title(f"{c.head} head, {what}", fontsize=9)
    fig.suptitle(title, fontsize=9)
    fig.tight_layout()
    save_figure(fig, path)
