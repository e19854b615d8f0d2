"""GPU hot path (runs only where CUDA is present): no host synchronisation inside a training step, and the
trial loaders pin memory / keep their workers on GPU runs."""
from __future__ import annotations

from pathlib import Path

import pytest
import torch

from fdan.config import TrainConfig
from fdan.evaluation.evaluate import to_device
from fdan.training.fit import seed_everything
from fdan.training.loss import train_step
from fdan.training.optim import build_optimizer
from harness.trial.loop import build_model, dataset, loader_workers, make_loader
from tests.fdan.features.test_token_cache import LABELS, MODEL, write_feature_cache

cuda = pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")


def test_gpu_loaders_pin_memory_and_keep_their_workers(tmp_path: Path) -> None:
    features = write_feature_cache(tmp_path / "features")
    ds = dataset(str(features), list(range(12)), {lab: i for i, lab in enumerate(LABELS)}, {**MODEL, "freeze_backbone": False})
    gpu = make_loader(ds, 4, shuffle=True, num_workers=2, seed=0, device="cuda")
    assert gpu.pin_memory and gpu.persistent_workers
    cpu = make_loader(ds, 4, shuffle=True, num_workers=0, seed=0, device="cpu")
    assert not cpu.pin_memory and not cpu.persistent_workers
    cfg = TrainConfig()
    assert loader_workers(cfg, torch.device("cuda"), cached=False) >= 1  # media features on a GPU: workers by default
    assert loader_workers(cfg, torch.device("cuda"), cached=True) == 0  # cached outputs are in memory
    assert loader_workers(cfg, torch.device("cpu"), cached=False) == 0


@cuda
def test_a_cached_training_step_never_waits_for_the_gpu(tmp_path: Path) -> None:
    features = write_feature_cache(tmp_path / "features")
    model_cfg = {**MODEL, "freeze_backbone": True}
    l2i = {lab: i for i, lab in enumerate(LABELS)}
    ds = dataset(str(features), list(range(16)), l2i, model_cfg)
    batches = [to_device(b, "cuda") for b in make_loader(ds, 8, shuffle=True, num_workers=0, seed=0, device="cuda")]
    target = [to_device({k: v for k, v in b.items() if k != "label"}, "cuda") for b in batches]
    seed_everything(0)
    model = build_model(model_cfg, len(LABELS)).cuda()
    cfg = TrainConfig(optimizer="adamw", cross_corpus_lmmd_weight=1.0)
    optimizer = build_optimizer(model, cfg)
    train_step(model, batches[0], optimizer, None, cfg, progress=0.5, target_batch=target[1])  # warm-up (lazy init)
    torch.cuda.synchronize()
    torch.cuda.set_sync_debug_mode("error")
    try:
        for b, t in zip(batches, reversed(target)):
            parts = train_step(model, b, optimizer, None, cfg, progress=0.5, target_batch=t)
    finally:
        torch.cuda.set_sync_debug_mode("default")
    assert all(v.is_cuda for v in parts.values())  # the parts stay on the device until the epoch's end
