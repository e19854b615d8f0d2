"""Small synthetic inputs for the results/leaderboard/plots/report tests.

Two pairs (within-corpus ``savee`` and cross-corpus ``savee→meld``), two folds, three trials per
pair × fold, the first of each selected. These exist to test rendering; they are not results.
Test metrics of the selected trials are chosen so that means and standard deviations are easy to
check by hand (see ``TEST_VALUES``); unselected trials carry deliberately absurd test values (0.99)
so that a leaderboard that wrongly included them would show it.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from harness.results.columns import HEADS, METRICS

LABELS = ["anger", "happiness", "sadness", "neutral"]
PAIRS = [("savee", "savee", "savee"), ("savee→meld", "savee", "meld")]
# (pair, fold) -> fused UAR of the selected trial; other heads/metrics are offsets of it
TEST_VALUES = {("savee", 0): 0.60, ("savee", 1): 0.70, ("savee→meld", 0): 0.30, ("savee→meld", 1): 0.40}
OFFSETS = {"fused": 0.0, "audio": -0.10, "face": -0.20}
METRIC_OFFSETS = {"war": 0.02, "uar": 0.0, "macro_f1": -0.01}


def make_trials(experiment: str = "toy", protocol: str = "speaker-independent", shift: float = 0.0) -> pd.DataFrame:
    """The trials table: 12 rows, params lr (float, log range), batch_size (int), optimizer (categorical)."""
    rows = []
    lrs, batches, opts = [1e-4, 1e-3, 1e-2], [16, 32, 64], ["sgd", "adam", "sgd"]
    n = 0
    for pair, source, target in PAIRS:
        for fold in (0, 1):
            for k in range(3):
                selected = k == 0
                val = 0.5 + 0.05 * k + 0.01 * fold + 0.003 * n
                row = {
                    "experiment": experiment, "pair": pair, "source": source, "target": target,
                    "fold": fold, "trial_id": f"t{n:03d}", "protocol": protocol, "status": "TERMINATED",
                    "epochs_run": 3, "param_lr": lrs[k], "param_batch_size": batches[k], "param_optimizer": opts[k],
                    "best_epoch": 2, "selected": selected, "selection_metric": "val_fused_uar",
                    # the label space of the pair: 4 classes within SAVEE, 3 shared by SAVEE and MELD
                    "labels": "|".join(LABELS if source == target else LABELS[:3]),
                }
                for h in HEADS:
                    for m in METRICS:
                        row[f"best_val_{h}_{m}"] = val + OFFSETS[h] + (0.2 if selected else 0.0)
                        base = TEST_VALUES[(pair, fold)] + shift + OFFSETS[h] + METRIC_OFFSETS[m]
                        row[f"test_{h}_{m}"] = base if selected else 0.99
                row["best_score"] = row["best_val_fused_uar"]
                rows.append(row)
                n += 1
    return pd.DataFrame(rows)


def make_metrics(trials: pd.DataFrame) -> pd.DataFrame:
    """Tidy long metric rows: 2 epochs × (train loss + val metrics per head) per trial."""
    rows = []
    for t in trials.itertuples(index=False):
        for epoch in (0, 1):
            rows.append(dict(experiment=t.experiment, pair=t.pair, source=t.source, target=t.target, fold=t.fold,
                             trial_id=t.trial_id, epoch=epoch, split="train", head="all", metric="loss",
                             value=1.0 / (epoch + 1)))
            for h in HEADS:
                for m in METRICS:
                    rows.append(dict(experiment=t.experiment, pair=t.pair, source=t.source, target=t.target,
                                     fold=t.fold, trial_id=t.trial_id, epoch=epoch, split="val", head=h, metric=m,
                                     value=0.4 + 0.1 * epoch))
    return pd.DataFrame(rows)


def make_confusions(trials: pd.DataFrame, seed: int = 0) -> list[dict]:
    """Confusion matrices (4 classes) for every head of every selected trial."""
    rng = np.random.default_rng(seed)
    out = []
    for t in trials[trials["selected"]].itertuples(index=False):
        for h in HEADS:
            matrix = rng.integers(0, 5, size=(4, 4)) + np.diag([6, 5, 4, 3])
            out.append({"pair": t.pair, "fold": t.fold, "trial_id": t.trial_id, "head": h,
                        "labels": LABELS, "matrix": matrix.tolist()})
    return out


def make_config(experiment: str = "toy", protocol: str = "speaker-independent") -> dict:
    """A resolved-config-like dict with the keys the report reads (the shape of ``dump_config``)."""
    return {
        "name": experiment,
        "protocol": {"name": protocol, "selection_head": "fused", "selection_metric": "uar"},
        "search": {"space": {"train.lr": {"type": "loguniform", "low": 1e-4, "high": 1e-2},
                             "train.batch_size": {"type": "choice", "values": [16, 32, 64]},
                             "train.optimizer": {"type": "choice", "values": ["sgd", "adam"]}}},
    }


def make_inputs(experiment: str = "toy", protocol: str = "speaker-independent", shift: float = 0.0) -> dict:
    """Keyword arguments for ``write_results``."""
    trials = make_trials(experiment, protocol, shift)
    return dict(metrics=make_metrics(trials), trials=trials, confusions=make_confusions(trials),
                config=make_config(experiment, protocol), cluster_resources={"CPU": 2.0, "memory": 1e9})
