"""The cross-corpus path of train_epoch / compute_loss: target stream, empty loader, labels, dropout."""
import os

import pytest
import torch
import torch.nn.functional as F
from torch.utils.data import DataLoader, Dataset

from fdan.alignment.lmmd import lmmd, spread_normalise
from fdan.config import TrainConfig
from fdan.model import create_model
from fdan.model.dropout import dropout_disabled
import fdan.training.epoch as train_mod
from fdan.training.epoch import train_epoch
from fdan.training.fit import seed_everything
from fdan.training.loss import compute_loss
from fdan.training.optim import build_optimizer
from fdan.training.target_stream import EmptyTargetLoaderError, TargetStream
from tests.fdan.model_helpers import TINY


class _Rows(Dataset):
    """n rows {"mel", "faces", "label", "index", "pid"}; labels are poisoned (-7) when unlabelled."""

    def __init__(self, n: int, labelled: bool = True) -> None:
        self.n, self.labelled = n, labelled

    def __len__(self) -> int:
        return self.n

    def __getitem__(self, i: int) -> dict:
        g = torch.Generator().manual_seed(i)
        return {"mel": torch.randn(1, 32, 64, generator=g), "faces": torch.randint(0, 256, (2, 3, 32, 32), generator=g, dtype=torch.uint8),
                "label": torch.tensor(i % 4 if self.labelled else -7), "index": torch.tensor(i), "pid": torch.tensor(os.getpid())}


def _recording_train_step(monkeypatch):
    seen: list[list[int]] = []

    def fake(model, batch, optimizer, scheduler, cfg, *, progress, target_batch=None, scaler=None):
        seen.append(target_batch["index"].tolist())
        return {"loss": torch.tensor(0.0), "pid": target_batch["pid"][0].float()}

    monkeypatch.setattr(train_mod, "train_step", fake)
    return seen


def test_target_stream_continues_across_epochs_and_reshuffles(monkeypatch):
    seen = _recording_train_step(monkeypatch)
    source = [{"label": torch.zeros(2)}] * 3  # 3 source batches per epoch
    target = DataLoader(_Rows(10, labelled=False), batch_size=2, shuffle=True, generator=torch.Generator().manual_seed(0))
    step, stream = 0, TargetStream(target)  # the stream, passed every epoch, continues its passes
    for _ in range(4):  # 12 target batches drawn: 2.4 passes over the 5 target batches
        _, step = train_epoch(None, source, None, None, TrainConfig(), step=step, total_steps=12, target_loader=stream)
    passes = [sum(seen[i:i + 5], []) for i in (0, 5)]
    assert all(sorted(p) == list(range(10)) for p in passes)  # every target row once per pass, across epoch ends
    assert passes[0] != passes[1]  # each pass reshuffled
    assert step == 12


def test_target_workers_persist_across_epochs(monkeypatch):
    _recording_train_step(monkeypatch)
    target = DataLoader(_Rows(6, labelled=False), batch_size=2, shuffle=True, num_workers=1, persistent_workers=True)
    stream = TargetStream(target)
    pids = set()
    for _ in range(3):  # 3 epochs of 4 source batches = 4 passes over the 3 target batches
        losses, _ = train_epoch(None, [{}] * 4, None, None, TrainConfig(), step=0, total_steps=4, target_loader=stream)
        pids.add(int(losses["pid"]))
    assert len(pids) == 1 and pids != {os.getpid()} and stream.passes == 4


def test_empty_target_loader_is_a_clear_error(monkeypatch):
    _recording_train_step(monkeypatch)
    too_small = DataLoader(_Rows(1, labelled=False), batch_size=2, drop_last=True)
    with pytest.raises(EmptyTargetLoaderError, match="yields no batch"):
        train_epoch(None, [{}], None, None, TrainConfig(), step=0, total_steps=1, target_loader=too_small)

    class NoLen:
        def __iter__(self):
            return iter(())

    with pytest.raises(EmptyTargetLoaderError, match="yields no batch"):
        train_epoch(None, [{}], None, None, TrainConfig(), step=0, total_steps=1, target_loader=NoLen())


def _batches():
    source = next(iter(DataLoader(_Rows(8), batch_size=8)))
    target = next(iter(DataLoader(_Rows(6, labelled=False), batch_size=6)))
    target = {**target, "mel": target["mel"] * 2 + 1}
    return source, target


def test_corpus_lmmd_equals_lmmd_on_dropout_free_features_and_never_reads_target_labels():
    seed_everything(0)
    model = create_model("fdan", **{**TINY, "dropout": 0.5, "attn_dropout": 0.3}).train()
    cfg = TrainConfig(lmmd_target_weights="predictions", cross_corpus_lmmd_weight=1.0, lmmd_warmup=0.0)
    source, target = _batches()

    class NoLabel(dict):
        def __getitem__(self, key):
            if key == "label":
                raise AssertionError("the target label was read")
            return super().__getitem__(key)

        def get(self, key, default=None):
            if key == "label":
                raise AssertionError("the target label was read")
            return super().get(key, default)

    poisoned = {**target, "label": torch.randint(0, 4, (6,))}
    torch.manual_seed(1)
    total, parts = compute_loss(model, source, cfg, progress=0.5, target_batch=NoLabel(target))
    torch.manual_seed(1)
    total2, parts2 = compute_loss(model, source, cfg, progress=0.5, target_batch=poisoned)
    assert {k: float(v) for k, v in parts.items()} == {k: float(v) for k, v in parts2.items()}

    with torch.no_grad(), dropout_disabled(model):  # BatchNorm stays in training mode
        src = model(source["mel"], source["faces"])
        tgt = model(target["mel"], target["faces"])
    y = source["label"]
    # lmmd_scale_invariant (default): lmmd() on the spread-normalised pair
    expected_corpus = lmmd(*spread_normalise(src.fused_feat, tgt.fused_feat), y, tgt.fused_logits.softmax(dim=1))
    expected_modal = lmmd(*spread_normalise(src.audio_feat, src.face_feat), y, src.face_logits.softmax(dim=1))
    torch.testing.assert_close(parts["lmmd_corpus"], expected_corpus, rtol=1e-5, atol=1e-6)
    torch.testing.assert_close(parts["lmmd_modal"], expected_modal, rtol=1e-5, atol=1e-6)
    # the cross-entropies do use dropout
    assert not torch.allclose(parts["ce_fused"], F.cross_entropy(src.fused_logits, y))
    total.backward()
    assert model.cross.audio_to_face[0].q.weight.grad is not None
    # DSAN's plain LMMD on the same features when the scale invariance is switched off
    plain = cfg.model_copy(update={"lmmd_scale_invariant": False})
    _, parts3 = compute_loss(model, source, plain, progress=0.5, target_batch=target)
    torch.testing.assert_close(parts3["lmmd_corpus"], lmmd(src.fused_feat, tgt.fused_feat, y, tgt.fused_logits.softmax(dim=1)),
                               rtol=1e-5, atol=1e-6)


def test_cross_corpus_training_epoch_updates_the_model():
    seed_everything(0)
    model = create_model("fdan", **TINY)
    cfg = TrainConfig(optimizer="adamw", cross_corpus_lmmd_weight=1.0, lmmd_warmup=0.0)
    opt = build_optimizer(model, cfg)
    source = DataLoader(_Rows(12), batch_size=4)
    target = DataLoader(_Rows(10, labelled=False), batch_size=4, shuffle=True)  # unequal: 3 vs 3 (last short)
    before = model.face_head.weight.detach().clone()
    losses, step = train_epoch(model, source, opt, None, cfg, step=0, total_steps=6, target_loader=target)
    assert step == 3 and losses["lmmd_corpus"] > 0 and not torch.equal(before, model.face_head.weight)
