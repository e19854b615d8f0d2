"""Classification metrics: WAR (accuracy), UAR (mean per-class recall), macro-F1, confusion matrix; the model's
heads and the metrics reported per head, said once here (numpy only: reading results never imports torch)."""
from __future__ import annotations

import numpy as np

HEADS: tuple[str, ...] = ("fused", "audio", "face")  # the FDAN model's classifier outputs
METRICS: tuple[str, ...] = ("war", "uar", "macro_f1")


def confusion_matrix(y_true: np.ndarray, y_pred: np.ndarray, num_classes: int) -> np.ndarray:
    """(C, C) int64 counts; rows are true classes, columns predictions."""
    y_true, y_pred = np.asarray(y_true, dtype=np.int64), np.asarray(y_pred, dtype=np.int64)
    if y_true.shape != y_pred.shape:
        raise ValueError(f"y_true {y_true.shape} and y_pred {y_pred.shape} differ in shape")
    if y_true.size and (y_true.min() < 0 or y_true.max() >= num_classes or y_pred.min() < 0 or y_pred.max() >= num_classes):
        raise ValueError(f"labels must lie in [0, {num_classes})")
    return np.bincount(y_true * num_classes + y_pred, minlength=num_classes**2).reshape(num_classes, num_classes)


def metrics_from_confusion(cm: np.ndarray) -> dict[str, float]:
    """WAR = trace/N. UAR = mean recall over classes present in the truth (sklearn's balanced accuracy).
    Macro-F1 = mean F1 over classes present in the truth or the predictions (sklearn's default)."""
    cm = np.asarray(cm, dtype=np.float64)
    n = cm.sum()
    if n == 0:
        return {m: float("nan") for m in METRICS}
    tp = np.diag(cm)
    support, predicted = cm.sum(axis=1), cm.sum(axis=0)
    present = support > 0
    recall = np.divide(tp, support, out=np.zeros_like(tp), where=present)
    precision = np.divide(tp, predicted, out=np.zeros_like(tp), where=predicted > 0)
    denom = precision + recall
    f1 = np.divide(2 * precision * recall, denom, out=np.zeros_like(tp), where=denom > 0)
    used = present | (predicted > 0)
    return {"war": float(tp.sum() / n), "uar": float(recall[present].mean()), "macro_f1": float(f1[used].mean())}


def classification_metrics(y_true: np.ndarray, y_pred: np.ndarray, num_classes: int) -> dict[str, float]:
    return metrics_from_confusion(confusion_matrix(y_true, y_pred, num_classes))


def parse_selection_metric(name: str, heads: tuple[str, ...] = HEADS) -> tuple[str | None, str]:
    """``"fused_uar"`` -> ("fused", "uar"); ``"uar"`` -> (None, "uar"); ``"loss"`` -> (None, "loss"). Bad names raise ValueError."""
    if name == "loss" or name in METRICS:
        return None, name
    for head in heads:
        if name.startswith(head + "_") and name[len(head) + 1:] in METRICS:
            return head, name[len(head) + 1:]
    raise ValueError(f"selection metric {name!r}: use loss, {', '.join(METRICS)} or <head>_<metric> with head in {', '.join(heads)}")
