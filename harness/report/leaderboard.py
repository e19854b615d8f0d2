"""The leaderboard: held-out test metrics of the selected trials, per pair and overall, with the paper's numbers.

Numbers: trial metrics are fractions in [0, 1] (as ``fdan.evaluation.metrics`` returns them); the leaderboard shows
percent. Per pair, each fold's selected trial contributes one value; the cell is the mean ± sample standard
deviation (ddof=1) over folds, and "± –" where there is one fold (no spread to report). Each (pair x fold)
unit has exactly one selected trial (checked, never averaged). The overall rows, one per protocol and kind
(``overall (within)``, ``overall (cross)``: within- and cross-corpus results are never pooled), are the
mean over pairs of the pair means, ± the standard deviation of those pair means. ``n_classes`` is the
label-space size of a row ("3–7" where its pairs differ): a 3-class UAR and a 7-class UAR are not alike.
"""
from __future__ import annotations

import pandas as pd

from harness.report.paper_figures import DASH, PAPER_TRAIN_SPEAKERS, paper_cell
from harness.results.columns import HEADS, METRICS, pair_kind

from harness.results.errors import ResultsError

METRIC_LABELS: dict[str, str] = {"war": "WAR", "uar": "UAR", "macro_f1": "macro-F1"}
OVERALL = "overall"

PROTOCOL_NOTE = (
    "Test-set percentages of the model selected per pair × fold (with several cross-corpus rules, per rule: "
    "the protocol column names it): mean ± sample std (ddof=1) over folds "
    "(over folds × seeds when the chosen configuration was re-run with search.seeds); "
    "\"± –\" means a single fold (in an overall row: a single pair); [lo, hi] is the 95 % speaker-bootstrap interval "
    "(test speakers resampled, seeds averaged). Overall rows: mean over pairs ± std of the pair means. "
    "Protocol difference: the paper column is the FDAN paper's reported within-corpus WAR / UAR "
    "(arXiv 2410.22023), which is the best test epoch of its public code — model selection on test data, "
    "with a single modality at test time. Our rows select the model on validation data and report the fused, "
    "audio-only and face-only heads, unless the protocol column says \"paper\" (best test epoch, for "
    "comparison only). The paper column is therefore not a like-for-like comparison."
)


def value_columns() -> list[str]:
    """Numeric column names of the board: ``<head>_<metric>_mean`` and ``_std`` for every head and metric."""
    return [f"{h}_{m}_{s}" for h in HEADS for m in METRICS for s in ("mean", "std")]


def _mean_std(frame: pd.DataFrame, by: str | list[str], prefix: str) -> pd.DataFrame:
    """``<head>_<metric>_mean`` / ``_std`` (ddof=1) of the ``<prefix><head>_<metric>`` columns per ``by`` group."""
    cols = [f"{prefix}{h}_{m}" for h in HEADS for m in METRICS]
    out = frame.groupby(by, sort=True)[cols].agg(["mean", "std"])
    out.columns = [f"{col[len(prefix):]}_{stat}" for col, stat in out.columns]
    return out


def _settings(selected: pd.DataFrame, config: dict | None) -> pd.DataFrame:
    """``variant`` ("" without variants), ``method``, ``modalities``, ``backbone`` on every selected row; results
    written before these columns existed take the configured values (method ``fdan``, both modalities)."""
    config = config or {}
    defaults = {"variant": "", "method": (config.get("train") or {}).get("method", "fdan"),
                "modalities": "+".join((config.get("model") or {}).get("modalities", ["audio", "face"])),
                "backbone": (config.get("model") or {}).get("backbone")}
    out = selected.copy()
    for col, default in defaults.items():
        values = out[col] if col in out else pd.Series(default, index=out.index, dtype=object)
        out[col] = values.where(values.notna(), default).astype(str)
    return out


def build_leaderboard(trials: pd.DataFrame, config: dict | None = None,
                      selections: pd.DataFrame | None = None) -> pd.DataFrame:
    """Numeric leaderboard from the trials table (and the other cross-corpus rules' picks).

    Rows: one per (protocol, variant, pair) over the selected trials — within-corpus pairs first, then
    cross-corpus, by name — followed by one ``overall (<kind>)`` row per (protocol, variant, kind). Variants keep their
    order of first appearance (the config's). Columns: pair, kind (within/cross), protocol, selection (the
    cross-corpus rule that picked the row's models, "" for units selected by ``protocol.selection_key`` alone),
    variant ("" without variants), method, modalities, n_classes (label-space size), folds,
    :func:`value_columns` in percent, paper (:func:`paper_cell`). ``config`` (the resolved experiment
    config) supplies method / modalities for results that predate those trial columns. ``selections``
    (harness.results.selections): its non-primary rows are each rule's own picks, which become rows of
    their own under the rule's protocol (``speaker-independent/iwv``).
    """
    columns = ["pair", "kind", "protocol", "selection", "variant", "method", "modalities", "n_classes", "folds",
               *value_columns(), "paper"]
    tests = [f"test_{h}_{m}" for h in HEADS for m in METRICS]
    selected = trials[trials["selected"].astype(bool)]
    if selections is not None and len(selections):  # each other rule's pick: one selected model per unit and rule
        selected = pd.concat([selected, selections[~selections["primary"].astype(bool)].assign(selected=True)],
                             ignore_index=True)
    selected = selected.reindex(columns=[*selected.columns, *(c for c in [*tests, "selection"] if c not in selected)])
    if selected.empty:
        return pd.DataFrame(columns=columns)
    selected = _settings(selected, config)
    selected["selection"] = selected["selection"].map(lambda v: "" if pd.isna(v) else str(v))
    selected = selected.assign(protocol=selected["protocol"].astype(str), pair=selected["pair"].astype(str),
                               **{c: pd.to_numeric(selected[c], errors="coerce").astype(float) * 100.0 for c in tests})
    order = {v: i for i, v in enumerate(dict.fromkeys(selected["variant"]))}
    group = ["protocol", "variant", "pair"]
    # search.seeds: one selected trial per (unit, seed); each fold x seed is one run of the mean ± std
    selected["seed"] = pd.to_numeric(selected["seed"], errors="coerce").fillna(-1) if "seed" in selected else -1
    _one_selected_per_unit(selected, [*group, "fold", "seed"])  # asserted, never averaged away
    selected = selected.assign(n_classes=_label_count(selected))
    per_fold = selected.sort_values([*group, "fold"])[[*group, "fold", "n_classes", *tests]].reset_index(drop=True)
    pairs = _mean_std(per_fold, group, "test_")
    pairs["n_classes"] = per_fold.groupby(group, sort=True)["n_classes"].agg(_span)
    ends = selected.groupby(group, sort=True)[["source", "target", "method", "modalities", "backbone", "selection"]].first()
    pairs["folds"] = per_fold.groupby(group, sort=True)["fold"].nunique()
    pairs["kind"] = [pair_kind(p, s, t)
                     for p, s, t in zip(ends.index.get_level_values("pair"), ends["source"], ends["target"])]
    pairs["method"], pairs["modalities"], pairs["selection"] = ends["method"], ends["modalities"], ends["selection"]
    pairs["paper"] = [paper_cell(*row) for row in ends[["source", "target", "method", "modalities", "backbone"]]
                      .itertuples(index=False)]
    if "n_train_speakers" in selected:  # say so where our folds train on fewer speakers than the paper's
        ours = selected.groupby(group, sort=True)["n_train_speakers"].agg(lambda v: pd.to_numeric(v, errors="coerce").min())
        pairs["paper"] = [_with_train_speakers(cell, src, n) for cell, src, n in zip(pairs["paper"], ends["source"], ours)]
    pairs = pairs.reset_index()
    pairs = pairs.assign(_order=pairs["kind"].map({"within": 0, "cross": 1, "oracle": 1}), _variant=pairs["variant"].map(order))
    pairs = pairs.sort_values(["protocol", "_variant", "_order", "pair"])
    by = ["protocol", "variant", "kind"]  # overall rows per kind: within- and cross-corpus never mixed
    overall = _mean_std(pairs.rename(columns=lambda c: f"pair_{c[:-5]}" if c.endswith("_mean") else c), by, "pair_")
    overall["folds"] = pairs.groupby(by)["folds"].sum()
    overall["n_classes"] = pairs.groupby(by)["n_classes"].agg(_span)
    overall["method"] = pairs.groupby(by)["method"].first()
    overall["modalities"] = pairs.groupby(by)["modalities"].first()
    overall["selection"] = pairs.groupby(by)["selection"].first()
    overall = overall.reset_index()
    overall = overall.assign(pair=[f"{OVERALL} ({k})" for k in overall["kind"]], paper=DASH,
                             _order=overall["kind"].map({"within": 2, "cross": 3, "oracle": 4}))
    overall["_variant"] = overall["variant"].map(order)
    rows = pd.concat([pairs, overall], ignore_index=True).sort_values(["protocol", "_variant", "_order"], kind="stable")
    return rows[columns].astype({"folds": int}).reset_index(drop=True)


def _with_train_speakers(cell: str, source: str, ours: float) -> str:
    paper = PAPER_TRAIN_SPEAKERS.get(str(source).strip().lower())
    if cell == DASH or paper is None or pd.isna(ours) or int(ours) == paper:
        return cell
    return f"{cell} (paper: {paper} training speakers, ours {int(ours)})"


def _one_selected_per_unit(selected: pd.DataFrame, unit: list[str]) -> None:
    """Each (pair x fold) unit contributes exactly one selected trial; anything else is a broken table."""
    counts = selected.groupby(unit, sort=True).size()
    if (counts > 1).any():
        where = ", ".join(f"{dict(zip(unit, key))} ({n})" for key, n in counts[counts > 1].items())
        raise ResultsError(f"trials table: more than one selected trial for {where}; each (pair x fold) unit "
                           "has exactly one (the run selects one per unit): the table is corrupt or hand-edited")


def _label_count(selected: pd.DataFrame) -> pd.Series:
    """Label-space size of each selected trial, from its ``labels`` column ("anger|happiness|..."); NaN if absent."""
    if "labels" not in selected:
        return pd.Series(float("nan"), index=selected.index)
    return selected["labels"].map(lambda v: len(str(v).split("|")) if isinstance(v, str) and v else float("nan"))


def _span(values: pd.Series) -> object:
    """One label-space size (an int) when every value agrees, "lo–hi" when they differ, "–" when unknown."""
    known = sorted({int(part) for v in values if pd.notna(v) for part in str(v).split(DASH) if part.strip().isdigit()}
                   | {int(v) for v in values if isinstance(v, float) and v == v})
    if not known:
        return DASH
    return known[0] if len(known) == 1 else f"{known[0]}{DASH}{known[-1]}"


def mean_std_cell(mean: float, std: float) -> str:
    """``"72.50 ± 1.25"``; ``"72.50 ± –"`` without a std (one fold); ``"–"`` without a mean."""
    if mean is None or pd.isna(mean):
        return DASH
    return f"{mean:.2f} ± {DASH if std is None or pd.isna(std) else f'{std:.2f}'}"


def format_leaderboard(board: pd.DataFrame) -> pd.DataFrame:
    """Display form of :func:`build_leaderboard`: strings, one "mean ± std" column per head and metric."""
    out = pd.DataFrame({
        "pair": board["pair"].astype(str),
        "kind": board["kind"].astype(str),
        "protocol": board["protocol"].astype(str),
    })
    if "variant" in board and (board["variant"].astype(str) != "").any():
        out["variant"] = board["variant"].astype(str)
    for col in ("method", "modalities"):
        if col in board:
            out[col] = board[col].astype(str)
    if "n_classes" in board:
        out["classes"] = board["n_classes"].astype(str)
    out["folds"] = board["folds"].astype(str)
    for h in HEADS:
        for m in METRICS:
            cells = [mean_std_cell(mu, sd) for mu, sd in zip(board[f"{h}_{m}_mean"], board[f"{h}_{m}_std"])]
            if f"{h}_{m}_ci_low" in board:  # harness.report.speaker_interval: 95 % speaker-bootstrap interval
                cells = [c if pd.isna(lo) else f"{c} [{lo:.1f}, {hi:.1f}]"
                         for c, lo, hi in zip(cells, board[f"{h}_{m}_ci_low"], board[f"{h}_{m}_ci_high"])]
            out[f"{h} {METRIC_LABELS[m]}"] = cells
    out["paper (WAR/UAR)"] = board["paper"].astype(str)
    return out.reset_index(drop=True)


def markdown_table(df: pd.DataFrame) -> str:
    """A GitHub-flavoured markdown table of ``df`` (pandas ``to_markdown``; every cell as text, "|" escaped)."""
    # str() per cell, not astype(str): pandas 3 keeps a missing value a float NaN under astype(str)
    text = df.map(lambda v: str(v).replace("|", "\\|").replace("\n", " "))
    text.columns = [str(c).replace("|", "\\|").replace("\n", " ") for c in df.columns]
    return text.to_markdown(index=False, tablefmt="github", disable_numparse=True)


def _protocol_name(config: dict) -> str:
    protocol = config.get("protocol")
    if isinstance(protocol, dict):
        protocol = protocol.get("name")
    return str(protocol or "unspecified")


def render_leaderboard_md(
    board: pd.DataFrame,
    config: dict | None = None,
    *,
    experiment: str | None = None,
    selection: str | None = None,
    plots: list[tuple[str, str]] | None = None,
    notes: list[str] | None = None,
    sections: list[str] | None = None,
) -> str:
    """The ``leaderboard.md`` text: title, selection metric, the formatted board, the protocol note, plots.

    ``selection`` names the selection metric (as the trials table stores it); ``plots`` are
    (title, relative path) pairs linked under the table; ``notes`` are extra lines (for example why a plot
    could not be drawn); ``sections`` are markdown blocks placed after the protocol note (per-class tables,
    label distributions). The output is deterministic: no timestamps.
    """
    config = config or {}
    name = experiment or config.get("experiment") or config.get("name") or "experiment"
    lines = [f"# Leaderboard — {name}", ""]
    if config.get("label"):
        lines += [f"_{config['label']}_", ""]
    selection = selection or "unspecified"
    lines += [f"Selection metric: `{selection}`; configured protocol: `{_protocol_name(config)}`.", ""]
    if board.empty:
        lines.append("_No selected trials: nothing to rank._")
    else:
        lines.append(markdown_table(format_leaderboard(board)))
    lines += ["", f"> {PROTOCOL_NOTE}", ""]
    for block in sections or []:
        lines += [block, ""]
    if plots:
        lines += ["## Plots", ""]
        lines += [f"- [{title}]({path})" for title, path in plots]
        lines.append("")
    if notes:
        lines += ["## Notes", ""]
        lines += [f"- {n}" for n in notes]
        lines.append("")
    return "\n".join(lines)
