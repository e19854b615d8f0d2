"""``report.html``: one experiment's results as a single self-contained page.

Sections: the leaderboard (every head, with the protocol note), one section per pair (label distributions,
per-class recall / precision / F1 per head, confusion matrices pooled over folds, learning curves), the
search figures, notes, and the run's configuration and environment.
"""
from __future__ import annotations

import json
import pandas as pd
import yaml

from harness.report import html as h
from harness.report.label_shift import LabelDistribution
from harness.report.leaderboard import PROTOCOL_NOTE, format_leaderboard
from harness.report.per_class import per_class_display
from harness.report.plots import Figures, pair_title
from harness.results.io import Results

REPORT_FILE = "report.html"


def distribution_html(dist: LabelDistribution) -> str:
    """The pair's label counts with a bar per share; source and target side by side (target only across corpora)."""
    shares = dist.shares.fillna(0.0)
    sides = ["source"] if dist.source == dist.target else ["source", "target"]
    head = "".join(f"<th>{h.esc(side)}: {h.esc(getattr(dist, side))}</th>" for side in sides)
    rows = []
    for label in dist.counts.index:
        cells = "".join(
            f'<td><span class="bar {side}" style="width:{200 * shares.at[label, side]:.0f}px"></span>'
            f"{int(dist.counts.at[label, side])} ({100 * shares.at[label, side]:.1f} %)</td>" for side in sides)
        rows.append(f"<tr><td>{h.esc(label)}</td>{cells}</tr>")
    caption = "" if len(sides) == 1 else (f"<p>Label-prior shift: total variation distance "
                                          f"<b>{dist.total_variation:.3f}</b> (0 = same priors, 1 = disjoint).</p>")
    return (f'{caption}<div class="scroll"><table class="data"><thead><tr><th>label</th>{head}</tr></thead>'
            f"<tbody>{''.join(rows)}</tbody></table></div>")


def pair_sections(results: Results, per_class: pd.DataFrame, dists: list[LabelDistribution], figures: Figures) -> str:
    """One sub-section per (protocol, variant, pair) that has figures or per-class rows."""
    by_pair = {d.pair: d for d in dists}
    rows_of: dict[tuple[str, str, str], pd.DataFrame] = {}
    if not per_class.empty:
        for key, rows in per_class.groupby(["protocol", "variant", "pair"], sort=False):
            rows_of[tuple(str(k) for k in key)] = rows
    out = []
    for key in dict.fromkeys([*figures.pairs, *rows_of]):
        pair, rows, body = key[2], rows_of.get(key), []
        if pair in by_pair:
            body.append("<h4>Label distribution</h4>" + distribution_html(by_pair[pair]))
        if rows is not None:
            folds = int(rows["folds"].max())
            body.append(f"<h4>Per-class test results ({folds} fold(s) pooled)</h4>"
                        "<p>Recall / precision / F1 (%) from the confusion counts summed over folds.</p>"
                        + h.table(per_class_display(rows)))
        body += [h.figure(results.path / rel, caption) for caption, rel in figures.pairs.get(key, [])]
        out.append(h.section(pair_title(*key), "".join(body), level=3))
    return "".join(out) or h.note("no selected trials: no per-pair results")


def render_report_html(results: Results, board: pd.DataFrame, per_class: pd.DataFrame,
                       dists: list[LabelDistribution], figures: Figures, notes: list[str],
                       selection: str | None) -> str:
    """The whole page of one results directory (deterministic for the same files: no timestamps)."""
    config = results.config or {}
    protocol = (config.get("protocol") or {}).get("name", "unspecified") if isinstance(config.get("protocol"), dict) \
        else str(config.get("protocol") or "unspecified")
    subtitle = " · ".join(x for x in (config.get("label") or "", config.get("description") or "",
                                      f"selection metric {selection or 'unspecified'}",
                                      f"configured protocol {protocol}") if x)
    if board.empty:
        leaderboard = h.note("No selected trials: nothing to rank.")
    else:
        leaderboard = h.table(format_leaderboard(board))
    leaderboard += f'<p class="protocol">{h.esc(PROTOCOL_NOTE)}</p>'
    search = "".join(h.figure(results.path / rel, caption) for caption, rel in figures.search)
    sections = [
        ("Leaderboard", "<p>Test %, mean ± std over folds, per pair and overall.</p>" + leaderboard),
        ("Pairs", pair_sections(results, per_class, dists, figures)),
        ("Search", search or h.note("no search figures")),
        ("Notes", "".join(h.note(n) for n in notes) or "<p>None.</p>"),
        ("Run", h.details("configuration (config.resolved.yaml)", h.pre(yaml.safe_dump(config, sort_keys=False)))
         + h.details("environment (env.json)", h.pre(json.dumps(results.env, indent=2, sort_keys=True)))),
    ]
    return h.page(f"fdan-bench report — {results.experiment}", subtitle, sections)
