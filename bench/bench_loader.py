"""Benchmark: the data loader against the training step it feeds, for media features and cached trunk outputs.

Per batch (quickstart size: batch 16 from 112 training rows, seeded random features of the
quickstart's shapes), one torch thread, in this process (`num_workers=0`, the CPU default):
- loader: one pass of the trial's DataLoader (`harness.trial.loop.make_loader`: memory-mapped
  FeatureDataset, or the in-memory TokenDataset with its collate), batches only, no model;
- step: `fdan.training.loss.train_step` on batches already loaded (end-to-end FDAN on the media features,
  FDAN from trunk outputs on the tokens).
The loader is never the bottleneck when loader / step < 1 (with worker processes, `train.num_workers`
or the GPU default, loading also overlaps the step).

    python bench/bench_loader.py [--rounds 3]
"""
from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from trial_data import LABELS, MODEL, TRAIN, feature_cache, loop_config  # noqa: E402


def per_batch(fn, n: int) -> float:
    t0 = time.perf_counter()
    fn()
    return (time.perf_counter() - t0) / n


def measure(features: Path, frozen: bool, rounds: int) -> tuple[float, float]:
    from fdan.training.optim import build_optimizer
    from fdan.training.fit import seed_everything
    from fdan.training.loss import train_step
    from harness.trial.loop import build_model, dataset, make_loader

    cfg = loop_config(features, frozen=frozen)
    l2i = {label: i for i, label in enumerate(LABELS)}
    ds = dataset(str(features), cfg.unit.train_idx, l2i, cfg.model)
    loader = make_loader(ds, TRAIN["batch_size"], shuffle=True, num_workers=0, seed=0)
    seed_everything(0)
    model = build_model(cfg.model, len(LABELS))
    train_cfg = cfg.train
    optimizer = build_optimizer(model, train_cfg)
    batches = list(loader)
    train_step(model, batches[0], optimizer, None, train_cfg, progress=0.5)  # warm-up
    loads, steps = [], []
    for _ in range(rounds):
        loads.append(per_batch(lambda: [b for b in loader], len(loader)))
        steps.append(per_batch(lambda: [train_step(model, b, optimizer, None, train_cfg, progress=0.5) for b in batches],
                               len(batches)))
    return statistics.median(loads), statistics.median(steps)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rounds", type=int, default=3)
    args = ap.parse_args()
    import torch

    torch.set_num_threads(1)
    print(f"{'data':>22} | {'loader ms/batch':>15} | {'step ms/batch':>13} | {'loader/step':>11}")
    worst = 0.0
    with tempfile.TemporaryDirectory() as tmp:
        features = feature_cache(Path(tmp) / "features")
        from fdan.features.token_cache import prepare_tokens

        prepare_tokens(features, {**MODEL, "freeze_backbone": True})
        for name, frozen in (("media features (e2e)", False), ("cached trunk outputs", True)):
            load, step = measure(features, frozen, args.rounds)
            worst = max(worst, load / step)
            print(f"{name:>22} | {1000 * load:15.2f} | {1000 * step:13.2f} | {load / step:11.3f}")
    print(f"target: loader/step < 1 in every row ({'met' if worst < 1 else 'MISSED'})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
