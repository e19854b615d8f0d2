"""`unread_fields` is exact on what it claims: changing a field it names leaves a run bit-identical, and
changing a term's weight that it does not name changes the run (so the check can fail)."""
from __future__ import annotations

import pytest
import torch
from torch.utils.data import DataLoader, Subset

from fdan.alignment.scopes import ALIGNMENT_FIELDS, unread_fields
from fdan.config import TrainConfig
from fdan.model import create_model
from fdan.model.modalities import restrict_modalities
from fdan.training.fit import fit, seed_everything
from tests.fdan.model_helpers import TINY
from tests.fdan.training.test_train_cross_corpus import _Rows

CHANGED = {"lmmd_weight": 5.0, "cross_corpus_lmmd_weight": 5.0, "lmmd_target_weights": "predictions", "lmmd_gamma": 1.0,
           "lmmd_warmup": 0.5, "lmmd_scale_invariant": False, "gather_alignment": False, "kernel_mul": 3.0,
           "kernel_num": 3, "fix_sigma": 1.0, "bandwidths": [1.0]}


def _fit(method: str, modalities: list[str], with_target: bool, **train) -> dict[str, torch.Tensor]:
    seed_everything(0)
    model = restrict_modalities(create_model(**TINY), modalities)  # the ModelConfig field alone does not restrict
    cfg = TrainConfig(method=method, epochs=2, lr=1e-2, **train)
    # other rows than the source's (_Rows(n)[i] depends on i only): identical corpora would have no corpus divergence
    target = DataLoader(Subset(_Rows(108, labelled=False), range(100, 108)), batch_size=4) if with_target else None
    fit(model, DataLoader(_Rows(8), batch_size=4), None, cfg, num_classes=4, target_loader=target)
    return {k: v.clone() for k, v in model.state_dict().items()}


def _same(a: dict[str, torch.Tensor], b: dict[str, torch.Tensor]) -> bool:
    return a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)


CASES = [  # (method, modalities, cross-corpus, fields expected unread)
    ("source_only", ["audio", "face"], True, set(ALIGNMENT_FIELDS)),
    ("mmd", ["audio", "face"], False, {"cross_corpus_lmmd_weight", "lmmd_target_weights"}),
    ("mmd", ["audio", "face"], True, {"lmmd_target_weights"}),
    ("coral", ["audio"], True, {"lmmd_weight", "lmmd_target_weights", "kernel_mul", "kernel_num", "fix_sigma", "bandwidths"}),
    ("fdan", ["audio", "face"], False, {"cross_corpus_lmmd_weight"}),
    ("dann", ["face"], False, set(ALIGNMENT_FIELDS)),
    ("adabn", ["audio", "face"], True, set(ALIGNMENT_FIELDS)),  # no loss term: statistics after training only
]


@pytest.mark.parametrize(("method", "modalities", "cross", "expected"), CASES)
def test_unread_fields_names_exactly_the_fields_that_cannot_change_the_run(method, modalities, cross, expected):
    unread = unread_fields(TrainConfig(method=method), two_modalities=len(modalities) == 2, reads_target_rows=cross)
    assert unread == expected
    base = _fit(method, modalities, cross)
    for field in sorted(unread):
        assert _same(base, _fit(method, modalities, cross, **{field: CHANGED[field]})), f"{field} changed the run"
    for weight in sorted({"lmmd_weight", "cross_corpus_lmmd_weight"} - unread):
        assert not _same(base, _fit(method, modalities, cross, **{weight: CHANGED[weight]})), f"{weight} changed nothing"
