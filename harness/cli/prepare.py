"""`fdan-bench prepare CORPUS ROOT [--config EXPERIMENT.yaml] [--cache-dir D | --out DIR] [--option K=V]
[--workers N] [--<feature field> V ...]`: compute a corpus' features once, into a cache. With `--cache-dir D`
the directory is the one a sweep with `cache_dir: D` (same importer options and features) looks for, so the
sweep's prepare step is a hit; `--config` takes features, cache_dir and the corpus' importer options from an
experiment file. The feature options are generated from FeatureConfig (harness.cli.feature_options)."""
from __future__ import annotations

import os
import re
import time
from collections import Counter
from pathlib import Path
from typing import Any

import pandas as pd
import typer
import yaml
from pydantic import ValidationError
from rich.console import Console
from rich.table import Table

from fdan.config import FeatureConfig
from fdan.corpora.base import CorpusError
from fdan.features.cache import PrepareResult
from fdan.features.face_detector import FaceDetectorError
from harness.cli.feature_options import with_feature_options
from harness.config import ConfigError, load_config
from harness.config.schema import ExperimentConfig
from harness.experiment.prepare import run_prepare


# The experiment schema's default, so that `prepare` without --cache-dir fills the cache a sweep reads.
DEFAULT_CACHE_DIR: Path = ExperimentConfig.model_fields["cache_dir"].default


def prepare(
    corpus: str = typer.Argument(..., help="importer name, e.g. synth (any corpus written by `fdan-bench synth`)"),
    root: Path = typer.Argument(..., help="the corpus root, in its native release layout"),
    out: Path | None = typer.Option(None, "--out", help="feature directory (default: named by the corpus, "
                                    "features and importer options under --cache-dir)"),
    cache_dir: Path | None = typer.Option(None, "--cache-dir", help="cache root, as an experiment's cache_dir "
                                          "(default: data/cache, the experiment files' default)"),
    option: list[str] | None = typer.Option(None, "--option", help="importer option KEY=VALUE (VALUE is YAML), "
                                            "repeatable, e.g. --option calm=merge"),
    workers: int = typer.Option(os.cpu_count() or 1, "--workers", min=0,
                                help="Ray tasks in flight (0: no Ray, decode in this process)"),
    cpus_per_task: float = typer.Option(1.0, "--cpus-per-task", min=0.01, help="CPUs each Ray task reserves"),
    files_per_task: int = typer.Option(4, "--files-per-task", min=1, help="utterances per Ray task"),
    config: Path | None = typer.Option(None, "--config", help="take the features, cache_dir and this corpus' "
                                       "importer options from an experiment file (as its sweep uses them); "
                                       "options given here override it"),
    feature_overrides: dict[str, Any] | None = None,
) -> None:
    """Import a corpus and compute log-Mel + face-crop features once (a second run decodes nothing)."""
    console = Console()
    base: dict[str, Any] = {}
    if config is not None:
        try:
            experiment = load_config(config)
        except ConfigError as exc:
            _fail(console, str(exc))
        base = experiment.features.model_dump()
        if cache_dir is None and out is None:
            cache_dir = experiment.cache_dir
        if not option:
            option = [f"{k}={yaml.safe_dump(v, default_flow_style=True).strip()}"
                      for k, v in corpus_options(experiment, corpus, root).items()]
    try:
        cfg = FeatureConfig(**{**base, **(feature_overrides or {})})
    except ValidationError as exc:
        err = exc.errors()[0]
        where = ".".join(str(p) for p in err["loc"]) or "features"
        _fail(console, f"invalid feature option {where}: {err['msg']}")
    options = parse_options(console, option or [])
    if out is not None and cache_dir is not None:
        _fail(console, "--out and --cache-dir exclude each other (--out names the directory itself)")
    start = time.perf_counter()
    try:
        res = run_prepare(corpus, root, out, cfg, workers, cpus_per_task, files_per_task,
                          options=options, cache_root=cache_dir if cache_dir is not None else DEFAULT_CACHE_DIR)
    except (CorpusError, FaceDetectorError, FileExistsError) as exc:
        _fail(console, str(exc))
    console.print(summary_table(res, corpus, time.perf_counter() - start, cfg))


def corpus_options(experiment: ExperimentConfig, importer: str, root: Path) -> dict[str, Any]:
    """Importer options of the experiment's corpus read by ``importer`` from ``root`` ({} if none is)."""
    for spec in experiment.corpora.values():
        if spec.importer == importer and Path(spec.root).resolve() == Path(root).resolve():
            return dict(spec.options)
    return {}


def parse_options(console: Console, items: list[str]) -> dict[str, Any]:
    """`KEY=VALUE` strings -> {KEY: YAML-parsed VALUE}; a malformed one exits 2 naming it."""
    options: dict[str, Any] = {}
    for item in items:
        key, sep, text = item.partition("=")
        if not sep or not key.strip():
            _fail(console, f"--option {item!r}: expected KEY=VALUE, e.g. calm=merge")
        try:
            options[key.strip()] = yaml.safe_load(text) if text.strip() else ""
        except yaml.YAMLError as exc:
            _fail(console, f"--option {item!r}: the value is not valid YAML ({getattr(exc, 'problem', None) or exc})")
    return options


def _fail(console: Console, message: str) -> None:
    console.print(f"[red]error:[/red] {message}", soft_wrap=True)
    raise typer.Exit(2)


def summary_table(res: PrepareResult, corpus: str, seconds: float, cfg: FeatureConfig) -> Table:
    """usable, skipped (top reasons), face fallbacks, cache hit/miss, throughput, out dir."""
    table = Table(title=f"prepare {corpus}", show_header=False)
    table.add_row("usable", str(res.n_usable))
    skipped = str(res.n_skipped)
    rows = pd.read_csv(res.out_dir / "skipped.csv", keep_default_na=False)
    outcome = rows["outcome"] if "outcome" in rows else pd.Series("skipped", index=rows.index)
    if res.n_skipped:
        top = Counter(_reason_kind(r) for r in rows["reason"][outcome == "skipped"]).most_common(3)
        skipped += " (" + "; ".join(f"{n}× {r}" for r, n in top) + ")"
    table.add_row("skipped", skipped)
    if res.n_kept_with_note:
        top = Counter(_reason_kind(r) for r in rows["reason"][outcome == "kept"]).most_common(2)
        table.add_row("kept with a note", f"{res.n_kept_with_note} (" + "; ".join(f"{n}× {r}" for r, n in top) + ")")
    if res.face_choice:
        table.add_row("face choice", ", ".join(f"{n} {c}" for c, n in sorted(res.face_choice.items())))
    frames = res.n_usable * cfg.n_frames
    share = f" ({100 * res.n_fallback / frames:.1f} % of {frames} frames)" if frames else ""
    table.add_row("face fallbacks", f"{res.n_fallback} centre crops{share}")
    files = res.n_usable + res.n_skipped
    rate = "" if res.cache_hit or seconds <= 0 else f", {files / seconds:.1f} files/s"
    table.add_row("cache", f"{'hit (nothing decoded)' if res.cache_hit else 'miss (computed)'} in {seconds:.1f} s{rate}")
    table.add_row("out", str(res.out_dir))
    return table


prepare = with_feature_options(prepare)


def _reason_kind(reason: str) -> str:
    """Group reasons by kind: drop a "labels.csv line N:" prefix, details after ':', (...), quotes, paths."""
    reason = re.sub(r"^\S+ line \d+: ", "", reason).split(": ", 1)[0]
    for pattern in (r"\s*\(.*?\)", r"\s*'[^']*'", r"\s+\S*/\S*"):
        reason = re.sub(pattern, "", reason)
    return reason.strip() or "unknown"
