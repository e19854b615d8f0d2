"""bench/validation_proxy.py and bench/validation_methods.py on a planted translation of known size: moment matching
and the distribution-matching methods must recover it (the README's argument rests on that), source-only must not."""
from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

from fdan.config import TrainConfig

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "bench"))
from validation_methods import accuracy  # noqa: E402
from validation_proxy import Corpus, accuracies  # noqa: E402

CLASSES = ["a", "b", "c", "d"]
TRAIN = TrainConfig(lr=3e-3, weight_decay=5e-4, batch_size=16, epochs=10)


def blobs(n_per_class: int, shift: float, seed: int) -> Corpus:
    """Four Gaussian classes in 6 dimensions, every row moved by `shift` along one fixed direction; two folds."""
    rng = np.random.default_rng(seed)
    means = np.random.default_rng(0).normal(0, 1.2, (len(CLASSES), 6))
    labels = np.repeat(CLASSES, n_per_class)
    x = means[[CLASSES.index(c) for c in labels]] + rng.normal(0, 0.8, (len(labels), 6))
    x += shift * np.ones(6) / np.sqrt(6)
    return Corpus({"fused": x}, labels, np.arange(len(labels)) % 2)


@pytest.fixture(scope="module")
def corpora() -> dict[str, Corpus]:
    return {"source": blobs(60, 0.0, 1), "null": blobs(60, 0.0, 2), "shifted": blobs(60, 3.0, 2)}


def test_moment_matching_with_the_other_folds_statistics_undoes_a_translation(corpora: dict[str, Corpus]) -> None:
    null = accuracies(corpora["source"], corpora["null"], "fused")
    shifted = accuracies(corpora["source"], corpora["shifted"], "fused")
    assert shifted["no adaptation"] < null["no adaptation"] - 20  # the planted effect
    assert shifted["other fold"] > null["no adaptation"] - 5  # recovered without a target label
    assert abs(shifted["oracle"] - null["oracle"]) < 1e-9  # a translation destroys nothing


def test_distribution_matching_methods_recover_a_translation_and_source_only_does_not(corpora: dict[str, Corpus]) -> None:
    def acc(method: str, alpha: float = 0.0, target: str = "shifted") -> float:
        return accuracy(method, alpha, corpora["source"], corpora[target], CLASSES, TRAIN, "fused", seed=0)

    source_only, oracle = acc("source_only"), acc("oracle")
    assert source_only < acc("source_only", target="null") - 20
    assert oracle > source_only + 20
    for method, alpha in (("adabn", 0.0), ("mmd", 3.0), ("dsan", 3.0)):
        assert acc(method, alpha) - source_only > 0.5 * (oracle - source_only), method


def test_other_fold_statistics_never_include_the_tested_rows(corpora: dict[str, Corpus]) -> None:
    """Only fold 0 shifted: standardised with fold 1's statistics it stays shifted (and fold 1 is moved the other way);
    statistics that included the tested fold would re-centre it and score as high as the unshifted target."""
    half = corpora["null"]
    x = half.feats["fused"] + np.where(half.folds[:, None] == 0, 3.0 * np.ones(6) / np.sqrt(6), 0.0)
    one_fold_shifted = Corpus({"fused": x}, half.labels, half.folds)
    acc = accuracies(corpora["source"], one_fold_shifted, "fused")
    null = accuracies(corpora["source"], half, "fused")
    assert acc["other fold"] < null["other fold"] - 20
    assert acc["other fold"] < acc["no adaptation"]
