"""AdaBN's re-estimated statistics (fdan.training.target_statistics): a per-channel affine shift of the trunk
features is undone exactly, the model it is given stays as it was, and adabn trains exactly as source_only."""
from __future__ import annotations

import pytest
import torch
from torch.utils.data import DataLoader

from fdan.config import TrainConfig
from fdan.model import create_model
from fdan.model.frozen import FromTrunkOutputs, freeze_trunks
from fdan.training.fit import fit, seed_everything
from fdan.training.target_statistics import with_target_statistics
from fdan.training.target_use import reads_target, uses_target_statistics
from tests.fdan.model_helpers import TINY
from tests.fdan.training.test_target_use import PoisonedTargetLoader
from tests.fdan.training.test_train_cross_corpus import _Rows


def _rows(scale: float = 1.0, offset: float = 0.0) -> dict[str, torch.Tensor]:
    g = torch.Generator().manual_seed(3)
    audio, face = torch.randn(12, 5, 512, generator=g), torch.randn(12, 2, 512, generator=g)
    return {"audio_feat": audio * scale + offset, "audio_mask": torch.ones(12, 5, dtype=torch.bool),
            "face_feat": face * scale + offset, "face_mask": torch.ones(12, 2, dtype=torch.bool)}


def _model() -> torch.nn.Module:
    torch.manual_seed(0)
    return FromTrunkOutputs(freeze_trunks(create_model(**TINY, freeze_backbone=True))).eval()  # token standardisation on


def test_target_statistics_undo_a_per_channel_affine_shift_of_the_trunk_features():
    model = _model()
    before = {k: v.clone() for k, v in model.state_dict().items()}
    source, shifted = _rows(), _rows(scale=2.0, offset=3.0)
    with torch.no_grad():
        on_source = with_target_statistics(model, [source])(**source).fused_logits
        on_shifted = with_target_statistics(model, [shifted])(**shifted).fused_logits
        unadapted = model(**shifted).fused_logits
    assert torch.allclose(on_source, on_shifted, atol=1e-4)  # the target standardised by its own moments
    assert not torch.allclose(unadapted, on_shifted, atol=1e-2)  # the source statistics do not undo it
    assert all(torch.equal(before[k], v) for k, v in model.state_dict().items())  # the given model is untouched
    with pytest.raises(ValueError, match="no target rows"):
        with_target_statistics(model, [])


def _fit(method: str, target_loader) -> dict[str, torch.Tensor]:
    seed_everything(0)
    model = create_model(**TINY)
    fit(model, DataLoader(_Rows(8), batch_size=4), None, TrainConfig(method=method, epochs=2, lr=1e-2),
        num_classes=4, target_loader=target_loader)
    return {k: v.clone() for k, v in model.state_dict().items()}


def test_adabn_trains_as_source_only_and_reads_no_target_batch():
    cfg = TrainConfig(method="adabn")
    assert uses_target_statistics(cfg) and not reads_target(cfg)
    assert not uses_target_statistics(TrainConfig(method="source_only"))
    adabn, source_only = _fit("adabn", PoisonedTargetLoader()), _fit("source_only", None)
    assert adabn.keys() == source_only.keys() and all(torch.equal(adabn[k], source_only[k]) for k in adabn)


def test_statistics_are_the_pooled_moments_whatever_the_batches():
    """Rows sorted by group (as a manifest sorted by speaker is) in small batches give the pooled moments, not
    an average of per-batch ones (which would miss the variance between the groups)."""
    model = _model()
    rows = _rows()
    rows["audio_feat"] = rows["audio_feat"] + torch.arange(12).repeat_interleave(1).view(12, 1, 1) // 4 * 5.0  # 3 groups
    rows["audio_mask"][:, 3:] = torch.arange(12).view(12, 1) % 2 == 0  # some padded tokens: they enter no moment
    batches = [{k: v[i:i + 4] for k, v in rows.items()} for i in (0, 4, 8)]
    by_batch = with_target_statistics(model, batches).net.audio_tokens.embed.standardise
    pooled = with_target_statistics(model, [rows]).net.audio_tokens.embed.standardise
    valid = rows["audio_feat"][rows["audio_mask"]].double()
    torch.testing.assert_close(by_batch.running_mean, pooled.running_mean)
    torch.testing.assert_close(by_batch.running_var, pooled.running_var)
    torch.testing.assert_close(pooled.running_mean.double(), valid.mean(0), atol=1e-5, rtol=1e-5)
    torch.testing.assert_close(pooled.running_var.double(), valid.var(0), atol=1e-4, rtol=1e-5)


class _TwoCalls(torch.nn.Module):
    """One BatchNorm applied to both inputs of a forward (a trunk shared by two modalities), after a frozen one."""

    def __init__(self) -> None:
        super().__init__()
        from fdan.model.frozen import FrozenTrunk

        self.frozen = FrozenTrunk(torch.nn.BatchNorm1d(3))
        self.bn = torch.nn.BatchNorm1d(3)

    def forward(self, audio_feat, audio_mask=None, face_feat=None, face_mask=None):
        return self.bn(self.frozen(audio_feat)), self.bn(face_feat)


def test_a_layer_called_twice_per_forward_sees_both_calls_and_frozen_trunks_keep_theirs():
    torch.manual_seed(0)
    model = _TwoCalls()
    a, f = torch.randn(8, 3) + 2.0, torch.randn(8, 3) * 3 - 4.0
    adapted = with_target_statistics(model, [{"audio_feat": a, "audio_mask": None, "face_feat": f, "face_mask": None}])
    with torch.no_grad():
        both = torch.cat([model.frozen(a), f])  # what the shared layer receives from each call
    torch.testing.assert_close(adapted.bn.running_mean, both.mean(0))
    torch.testing.assert_close(adapted.bn.running_var, both.var(0))
    assert torch.equal(adapted.frozen.trunk.running_mean, model.frozen.trunk.running_mean)  # untouched: frozen
    assert not adapted.training and adapted.bn.momentum == model.bn.momentum
