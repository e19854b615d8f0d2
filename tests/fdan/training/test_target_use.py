"""No hidden adaptation: a run without a corpus term never touches the target loader (a poisoned one raises on
any use), and so its BatchNorm statistics never see target rows; a run with one does read it."""
from __future__ import annotations

import pytest
import torch
from torch.utils.data import DataLoader

from fdan.config import TrainConfig
from fdan.model import create_model
from fdan.model.modalities import restrict_modalities
from fdan.training.target_use import reads_target
from fdan.training.fit import fit, seed_everything
from tests.fdan.model_helpers import TINY
from tests.fdan.training.test_train_cross_corpus import _Rows


class PoisonedTargetLoader:
    """A target loader that raises on any use: iteration, length, its dataset or sampler."""

    def __iter__(self):
        raise AssertionError("the target corpus was read")

    def __len__(self) -> int:
        raise AssertionError("the target corpus was read")

    def __getattr__(self, name: str):
        raise AssertionError(f"the target corpus was read ({name})")


def _fit(method: str, modalities: list[str], target_loader, **train) -> dict[str, torch.Tensor]:
    seed_everything(0)
    model = restrict_modalities(create_model(**TINY), modalities)  # the ModelConfig field alone does not restrict
    cfg = TrainConfig(method=method, epochs=1, lr=1e-2, **train)
    source = DataLoader(_Rows(8), batch_size=4)
    fit(model, source, None, cfg, num_classes=4, target_loader=target_loader)
    return {k: v.clone() for k, v in model.state_dict().items()}


@pytest.mark.parametrize(("method", "modalities", "train"), [
    ("source_only", ["audio", "face"], {}),
    ("source_only", ["audio"], {}),  # single-modality baseline
    ("source_only", ["face"], {}),
    ("fdan", ["audio", "face"], {"cross_corpus_lmmd_weight": 0.0}),  # fdan without a corpus term
])
def test_runs_without_a_corpus_term_never_read_the_target(method, modalities, train):
    assert not reads_target(TrainConfig(method=method, **train))
    with_poison = _fit(method, modalities, PoisonedTargetLoader(), **train)
    without = _fit(method, modalities, None, **train)
    # BatchNorm running statistics (and everything else) as if no target corpus existed
    assert with_poison.keys() == without.keys()
    assert all(torch.equal(with_poison[k], without[k]) for k in without)


@pytest.mark.parametrize("method", ["fdan", "mmd", "coral", "dann"])
def test_runs_with_a_corpus_term_do_read_it(method):
    assert reads_target(TrainConfig(method=method))
    with pytest.raises(AssertionError, match="target corpus was read"):
        _fit(method, ["audio", "face"], PoisonedTargetLoader())
