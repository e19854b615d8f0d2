"""`fdan-bench export` (a results directory's model -> one self-contained file) and `fdan-bench predict`
(class probabilities on media files, from a results directory or an exported model file)."""
from __future__ import annotations

import contextlib
import sys
import tempfile
from pathlib import Path
from types import ModuleType
from typing import Iterator, NoReturn

import pandas as pd
import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from harness.cluster.storage import filesystem_for
from harness.results.errors import ResultsError
from harness.results.io import load_results
from harness.results.selected import ChosenTrial, choose_trial

SHOWN_ROWS = 20  # the terminal table shows this many files; the output file has them all


def _inference() -> ModuleType:
    """fdan.inference, imported when a command uses it: torch and torchvision stay out of `fdan-bench --help`."""
    import fdan.inference  # torch/torchvision only when export or predict runs

    return fdan.inference


def _fail(message: str) -> NoReturn:
    Console(stderr=True).print(f"[bold red]error:[/] {escape(message)}", highlight=False, soft_wrap=True)
    raise typer.Exit(2)


@contextlib.contextmanager
def checkpoint_file(chosen: ChosenTrial) -> Iterator[Path]:
    """The chosen trial's `model.pt` as a local file (copied from the bucket for object-store storage)."""
    if chosen.storage is None:
        path = Path(chosen.checkpoint) / "model.pt"
        if not path.is_file():
            _fail(f"checkpoint {path} not found: was the results directory copied without its ray/ folder?")
        yield path
        return
    filesystem, _ = filesystem_for(chosen.storage, chosen.storage_options)
    with tempfile.TemporaryDirectory() as tmp:
        local = Path(tmp) / "model.pt"
        try:
            with filesystem.open_input_stream(f"{chosen.checkpoint.rstrip('/')}/model.pt") as src:
                local.write_bytes(src.read())
        except OSError as exc:
            _fail(f"cannot read checkpoint {chosen.checkpoint} from {chosen.storage}: {exc}")
        yield local


def export_model_file(results_dir: Path, out: Path | None, pair: str | None, fold: int | None,
                      trial: str | None, variant: str | None) -> tuple[Path, ChosenTrial]:
    """Export the chosen trial of `results_dir` to `out` (default `<results_dir>/models/<trial>.fdan.pt`)."""
    inference = _inference()
    try:
        results = load_results(results_dir)
        chosen = choose_trial(results, pair=pair, fold=fold, trial_id=trial, variant=variant)
    except ResultsError as exc:
        _fail(str(exc))
    target = out or results_dir / "models" / f"{chosen.row['trial_id']}.fdan.pt"
    features = (results.config or {}).get("features")  # for checkpoints written before they carried it
    with checkpoint_file(chosen) as ckpt:
        try:
            path = inference.export_checkpoint(ckpt, target, provenance=chosen.provenance, feature_config=features)
        except inference.ModelFileError as exc:
            _fail(str(exc))
    return path, chosen


def export(
    results_dir: Path = typer.Argument(..., help="a results directory (results/<experiment>)"),
    out: Path | None = typer.Option(None, "--out", "-o", help="model file to write (default: "
                                    "RESULTS_DIR/models/<trial id>.fdan.pt)"),
    pair: str | None = typer.Option(None, "--pair", help="the pair whose selected model to export, e.g. "
                                    "'synth-studio→synth-street' (needed when several are selected)"),
    fold: int | None = typer.Option(None, "--fold", help="its fold"),
    trial: str | None = typer.Option(None, "--trial", help="export this trial instead (any trial with a checkpoint)"),
    variant: str | None = typer.Option(None, "--variant", help="the variant, for experiments with variants"),
) -> None:
    """Write one self-contained model file (weights incl. frozen trunks, model + feature config, labels, provenance)."""
    path, chosen = export_model_file(results_dir, out, pair, fold, trial, variant)
    row = chosen.row
    Console().print(f"exported trial {row['trial_id']} ({row.get('pair')} fold {row.get('fold')}) to {path}",
                    highlight=False, soft_wrap=True)


def predict(
    source: Path = typer.Argument(..., help="a model file from `fdan-bench export`, or a results directory"),
    media: list[Path] = typer.Argument(..., help="media files or folders (mp4, avi, flv, wav; folders recursively)"),
    out: Path | None = typer.Option(None, "--out", "-o", help="write every row here: .csv or .parquet"),
    pair: str | None = typer.Option(None, "--pair", help="results directory: the pair whose selected model to use"),
    fold: int | None = typer.Option(None, "--fold", help="results directory: its fold"),
    trial: str | None = typer.Option(None, "--trial", help="results directory: use this trial's checkpoint"),
    variant: str | None = typer.Option(None, "--variant", help="results directory: the variant"),
) -> None:
    """Class probabilities per head for each media file; undecodable files are reported and skipped."""
    inference = _inference()
    if out is not None and out.suffix.lower() not in (".csv", ".parquet"):
        _fail(f"--out {out}: expected a .csv or .parquet file")
    try:
        if source.is_dir():
            with tempfile.TemporaryDirectory() as tmp:
                path, _ = export_model_file(source, Path(tmp) / "model.fdan.pt", pair, fold, trial, variant)
                loaded = inference.load_model(path)
        else:
            loaded = inference.load_model(source)
    except inference.ModelFileError as exc:
        _fail(str(exc))
    items, skips = inference.find_media(media)
    if not items and not skips:
        _fail(f"no media files ({', '.join(('.mp4', '.avi', '.flv', '.wav'))}) in {', '.join(map(str, media))}")
    console = Console(width=None if sys.stdout.isatty() else 200)
    if loaded.provenance.get("method") == "adabn":  # its test used the target corpus' BatchNorm statistics
        console.print("[yellow]note[/] this is an adabn model: predict applies it with the source corpus' BatchNorm "
                      "statistics; its sweep tested it with statistics re-estimated on the target corpus' rows, "
                      "which predict does not do", highlight=False, soft_wrap=True)
    rows, bad = inference.predict_media(loaded, items)
    skips = [*skips, *bad]
    if out is not None:
        out.parent.mkdir(parents=True, exist_ok=True)
        rows.to_parquet(out, index=False) if out.suffix.lower() == ".parquet" else rows.to_csv(out, index=False)
    console.print(summary_table(rows))
    for skip in skips:
        console.print(f"[yellow]skipped[/] {escape(skip.path)}: {escape(skip.reason)}", highlight=False, soft_wrap=True)
    done = rows["file"].nunique() if len(rows) else 0
    console.print(f"{done} file(s) predicted, {len(skips)} skipped" + (f"; all rows in {out}" if out else ""),
                  highlight=False)


def summary_table(rows: pd.DataFrame) -> Table:
    """One line per file: the predicted class and its probability for each head (the first SHOWN_ROWS files)."""
    table = Table(header_style="bold")
    heads = [h for h in ("fused", "audio", "face") if h in set(rows["head"])] if len(rows) else []
    table.add_column("file")
    for head in heads:
        table.add_column(head)
    files = list(dict.fromkeys(rows["file"])) if len(rows) else []
    prob_cols = [c for c in rows.columns if c.startswith("prob_")]
    for name in files[:SHOWN_ROWS]:
        cells = []
        for head in heads:
            hit = rows[(rows["file"] == name) & (rows["head"] == head)]
            cells.append("-" if hit.empty else f"{hit['predicted'].iloc[0]} {hit[prob_cols].iloc[0].max():.2f}")
        table.add_row(escape(Path(name).name), *cells)
    if len(files) > SHOWN_ROWS:
        table.caption = f"first {SHOWN_ROWS} of {len(files)} files"
    return table
