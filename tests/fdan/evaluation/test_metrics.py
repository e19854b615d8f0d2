import numpy as np
import pytest

from fdan.evaluation.metrics import classification_metrics, confusion_matrix


def test_known_values():
    y = np.array([0, 0, 0, 0, 1, 1, 2, 2])
    p = np.array([0, 0, 0, 1, 1, 1, 2, 0])
    cm = confusion_matrix(y, p, 4)
    assert cm.tolist() == [[3, 1, 0, 0], [0, 2, 0, 0], [1, 0, 1, 0], [0, 0, 0, 0]]
    m = classification_metrics(y, p, 4)
    assert m["war"] == pytest.approx(6 / 8)
    assert m["uar"] == pytest.approx((3 / 4 + 1 + 1 / 2) / 3)  # class 3 absent from the truth
    f1 = [2 * (3 / 4) * (3 / 4) / 1.5, 2 * (2 / 3) * 1 / (2 / 3 + 1), 2 * 1 * 0.5 / 1.5]
    assert m["macro_f1"] == pytest.approx(np.mean(f1))


def test_agrees_with_sklearn():
    from sklearn.metrics import accuracy_score, balanced_accuracy_score, f1_score

    rng = np.random.default_rng(0)
    y, p = rng.integers(0, 5, 200), rng.integers(0, 5, 200)
    m = classification_metrics(y, p, 5)
    assert m["war"] == pytest.approx(accuracy_score(y, p))
    assert m["uar"] == pytest.approx(balanced_accuracy_score(y, p))
    assert m["macro_f1"] == pytest.approx(f1_score(y, p, average="macro"))


def test_bad_labels_are_refused():
    with pytest.raises(ValueError, match="labels must lie"):
        confusion_matrix(np.array([0, 5]), np.array([0, 1]), 3)
