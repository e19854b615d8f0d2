"""The HTML page of ``fdan-bench compare --out FILE.html``: several experiments side by side in one self-contained
file: per head the test WAR / UAR / macro-F1 per pair, per head the per-class results, and the method-level comparison (speaker-cluster bootstrap, Holm)."""
from __future__ import annotations

import pandas as pd

from harness.report import html as h
from harness.report.compare import compare_table
from harness.report.compare_classes import per_class_side_by_side
from harness.report.leaderboard import PROTOCOL_NOTE
from harness.results.columns import HEADS


def render_compare_html(df: pd.DataFrame, per_class: pd.DataFrame, paired: pd.DataFrame | None = None,
                        paired_head: str = "fused") -> str:
    """``df``: :func:`harness.report.compare.compare`; ``per_class``: :func:`compare_per_class`; ``paired``: the
    display table of the method-level comparison (optional)."""
    experiments = list(dict.fromkeys(df["experiment"].astype(str)))
    warn = ""
    protocols = sorted(set(df["protocol"].astype(str)))
    if len(protocols) > 1:
        warn = h.note(f"Protocols differ between columns ({', '.join(protocols)}): those columns are not a "
                      "like-for-like comparison.")
    boards = "".join(f"<h3>{h.esc(head)} head</h3>" + h.table(compare_table(df, head)) for head in HEADS)
    classes = "".join(f"<h3>{h.esc(head)} head</h3>" + h.table(per_class_side_by_side(per_class, head))
                      for head in HEADS) if not per_class.empty else h.note("no confusion matrices stored")
    sections = [
        ("Leaderboards", warn + "<p>Test %, mean ± std over folds.</p>" + boards
         + f'<p class="protocol">{h.esc(PROTOCOL_NOTE)}</p>'),
        ("Per class", "<p>Recall / precision / F1 (%), confusion counts summed over each pair's folds.</p>" + classes),
    ]
    if paired is not None:
        sections.append((f"Method-level comparison ({paired_head} head)",
                         "<p>Δ = system − baseline, %; 95 % speaker-cluster bootstrap interval over folds and seeds; "
                         "p two-sided, Holm-corrected over every comparison of this call.</p>"
                         + h.table(paired)))
    return h.page(f"fdan-bench comparison — {', '.join(experiments)}", f"{len(experiments)} experiment(s)", sections)
