"""`predictions.parquet`: every test row of every unit's chosen model, per head, with its class probabilities.

Columns: experiment, pair, source, target, fold, variant ("" without variants), trial_id (the unit and
its chosen trial), method (train.method of that trial), utterance_id, speaker, label (true canonical label), head (fused / audio / face), predicted (label),
and one `prob_<label>` column per class (NaN where the class is not in that unit's label space); in cross-corpus
units with several `protocol.cross_selection` rules also `selection` (the rule whose pick the rows are: one set
of rows per rule; missing or empty elsewhere, and in files written before it, which hold the primary rule's rows).
What error analysis and the paired statistics of `fdan-bench compare` read.
"""
from __future__ import annotations

from pathlib import Path

import pandas as pd

from harness.results.atomic import atomic_write
from harness.results.columns import validate_columns
from harness.results.errors import ResultsError

PREDICTIONS_FILE = "predictions.parquet"
PREDICTION_COLUMNS: tuple[str, ...] = (
    "experiment", "pair", "source", "target", "fold", "variant", "trial_id", "method",
    "utterance_id", "speaker", "label", "head", "predicted",
)
PROB_PREFIX = "prob_"


def write_predictions(out_dir: Path | str, predictions: pd.DataFrame) -> Path:
    """Validate and atomically write `predictions.parquet` into `out_dir`; returns its path."""
    validate_columns(predictions, PREDICTION_COLUMNS, "predictions")
    if len(predictions) and not any(c.startswith(PROB_PREFIX) for c in predictions.columns):
        raise ResultsError("predictions has no prob_<label> column")
    table = predictions.reset_index(drop=True)
    return atomic_write(Path(out_dir) / PREDICTIONS_FILE, lambda tmp: table.to_parquet(tmp, index=False))


def load_predictions(results_dir: Path | str) -> pd.DataFrame:
    """The predictions table of a results directory; ResultsError when it has none or it is unreadable."""
    path = Path(results_dir) / PREDICTIONS_FILE
    if not path.is_file():
        raise ResultsError(f"{results_dir}: no {PREDICTIONS_FILE} (written by runs since per-utterance predictions "
                           "were added; re-run or --resume the experiment)")
    try:
        table = pd.read_parquet(path)
    except Exception as exc:
        raise ResultsError(f"{path}: cannot read the predictions table: {exc}") from exc
    validate_columns(table, PREDICTION_COLUMNS, str(path))
    return table
