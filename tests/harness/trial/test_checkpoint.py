"""Trial checkpoints load with `weights_only=True`, refuse pickled objects, and resume the same data order."""
from __future__ import annotations

from pathlib import Path

import pytest
import torch
from torch.utils.data import Dataset

from fdan.config import ModelConfig, TrainConfig
from fdan.training.optim import build_optimizer, build_scheduler
from fdan.training.resume import ResumeState, restore_rng, rng_state, set_loader_epoch
from harness.trial.checkpoint import CheckpointError, load_checkpoint, resume_state, save_checkpoint
from harness.trial.loop import make_loader


class Rows(Dataset):
    def __len__(self) -> int:
        return 13

    def __getitem__(self, i: int) -> dict:
        return {"index": torch.tensor(i)}


class Net(torch.nn.Sequential):
    """A small module with the param_groups method fdan.training.optim.build_optimizer asks the FDAN model for."""

    def __init__(self) -> None:
        super().__init__(torch.nn.Linear(4, 3), torch.nn.Dropout(0.5))

    def param_groups(self, lr: float, mult: float) -> list[dict]:
        return [{"params": list(self[0].parameters()), "lr": lr * mult, "name": "head"}]


def trained_state(tmp_path: Path) -> tuple[Path, torch.nn.Module]:
    model = Net()
    cfg = TrainConfig(optimizer="adamw", lr_schedule="cosine")  # numpy-computed learning rates
    opt = build_optimizer(model, cfg)
    sched = build_scheduler(opt, cfg, total_steps=10)
    model(torch.randn(2, 4)).sum().backward()
    opt.step()
    sched.step()
    path = tmp_path / "model.pt"
    model_cfg = {**ModelConfig().model_dump(mode="json"), "np_like": torch.tensor(2.5).numpy()[()]}  # numpy scalar
    state = ResumeState(model=model.state_dict(), optimizer=opt.state_dict(), scheduler=sched.state_dict(), epoch=3,
                        step=7, best_score=0.5, best_epoch=2, rng=rng_state())
    save_checkpoint(path, state, labels=["anger", "sadness"], model_config=model_cfg)
    return path, model


def test_checkpoint_round_trips_through_the_safe_loader(tmp_path: Path):
    path, model = trained_state(tmp_path)
    torch.load(path, weights_only=True)  # the real safe loader accepts every entry
    state = load_checkpoint(path)
    fresh = Net()
    fresh.load_state_dict(state["model"])
    assert torch.equal(fresh[0].weight, model[0].weight)
    opt = build_optimizer(fresh, TrainConfig(optimizer="adamw"))
    opt.load_state_dict(state["optimizer"])
    build_scheduler(opt, TrainConfig(lr_schedule="cosine"), 10).load_state_dict(state["scheduler"])
    assert (state["epoch"], state["step"], state["labels"], state["best_score"]) == (3, 7, ["anger", "sadness"], 0.5)
    resumed = resume_state(state)
    assert (resumed.epoch, resumed.step, resumed.best_score, resumed.best_epoch) == (3, 7, 0.5, 2)
    assert state["model_config"]["np_like"] == 2.5 and type(state["model_config"]["np_like"]) is float


class Payload:
    """Unpickling this would run code: it writes a marker file."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self):
        return (Path.write_text, (self.marker, "code ran"))


def test_pickled_objects_are_refused_without_running_them(tmp_path: Path):
    marker = tmp_path / "pwned"
    evil = tmp_path / "evil.pt"
    torch.save({"model": {}, "optimizer": Payload(marker)}, evil)
    with pytest.raises(CheckpointError, match="cannot be loaded safely"):
        load_checkpoint(evil)
    assert not marker.exists()
    (tmp_path / "torn.pt").write_bytes(evil.read_bytes()[:40])
    with pytest.raises(CheckpointError, match="torn.pt"):
        load_checkpoint(tmp_path / "torn.pt")
    torch.save({"model": {}}, tmp_path / "other.pt")
    with pytest.raises(CheckpointError, match="missing optimizer"):
        load_checkpoint(tmp_path / "other.pt")


def epoch_batches(loader, epoch: int) -> list[list[int]]:
    set_loader_epoch(loader, 7, epoch)
    return [batch["index"].tolist() for batch in loader]


@pytest.mark.parametrize("workers", [0, 1])
def test_resumed_loader_sees_the_uninterrupted_order(workers: int):
    """Epochs 1-3 in one process vs. a fresh loader resumed at epoch 3 (persistent workers included)."""
    straight = make_loader(Rows(), 4, shuffle=True, num_workers=workers, seed=7)
    orders = [epoch_batches(straight, e) for e in (1, 2, 3)]
    assert orders[0] != orders[1] != orders[2]  # reshuffled every epoch
    resumed = make_loader(Rows(), 4, shuffle=True, num_workers=workers, seed=7)
    assert epoch_batches(resumed, 3) == orders[2]


def test_restored_rng_gives_the_same_dropout_masks():
    drop = torch.nn.Dropout(0.5)
    saved = rng_state()
    first = drop(torch.ones(64))
    torch.manual_seed(123)  # a restarted worker starts from its seed, not from where the run was
    restore_rng(saved)
    assert torch.equal(drop(torch.ones(64)), first)
