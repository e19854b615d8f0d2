"""Benchmark: one training epoch inside a Ray Train worker against the same epoch in a bare PyTorch loop.

Same trial loop (`harness.trial.loop.run_epochs`), model (end-to-end FDAN, ResNet-18 trunks trained),
data (a quickstart-size feature cache of seeded random features: 112 training rows, batch 16, 28
validation rows) and seed; one torch thread each. The bare loop runs in this process with a local
backend; the Ray Train run is a 1-worker `TorchTrainer` on a local 127.0.0.1 cluster whose worker
runs `run_epochs` on `TrainBackend` (DDP-prepared loader and model, `ray.train.report` with a
checkpoint every epoch). Per-epoch time = the time between two reports (validation and
checkpointing included); the first epoch is left out of both (warm-up). The two are run in
alternating rounds; the ratio is Ray / bare (target <= 1.10). The Train run's start-up (controller
+ worker, before its first epoch) is printed too: that is the fixed cost the `tune` executor saves.

    python bench/bench_train_worker.py [--epochs 4] [--rounds 2]
"""
from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from trial_data import LocalBackend, feature_cache, loop_config  # noqa: E402


def ray_train_loop(config: dict) -> None:
    """A Train worker: the harness loop on `TrainBackend`, the report times written to `config["times_file"]`."""
    import time as _time

    from harness.trial.worker import TrainBackend
    from harness.trial.loop import run_epochs

    times = [_time.perf_counter()]

    class Timed(TrainBackend):
        def report(self, metrics, checkpoint_dir, improved):
            super().report(metrics, checkpoint_dir, improved)
            times.append(_time.perf_counter())

    run_epochs(config["loop"], Timed())
    Path(config["times_file"]).write_text(json.dumps(times))


def ray_epochs(cfg: dict, storage: Path, index: int) -> tuple[list[float], float]:
    import ray.train
    from ray.train.torch import TorchTrainer

    times_file = storage / f"times{index}.json"
    t0 = time.perf_counter()
    trainer = TorchTrainer(
        ray_train_loop, train_loop_config={"loop": cfg, "times_file": str(times_file)},
        scaling_config=ray.train.ScalingConfig(num_workers=1, resources_per_worker={"CPU": 0.5}),
        run_config=ray.train.RunConfig(name=f"bench{index}", storage_path=str(storage),
                                       checkpoint_config=ray.train.CheckpointConfig(num_to_keep=1)))
    trainer.fit()
    times = json.loads(times_file.read_text())
    return [b - a for a, b in zip(times, times[1:])], times[0] - t0


def bare_epochs(cfg: dict) -> list[float]:
    from harness.trial.loop import run_epochs

    backend = LocalBackend()
    run_epochs(cfg, backend)
    return backend.epoch_times()


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--epochs", type=int, default=4)
    ap.add_argument("--rounds", type=int, default=2)
    args = ap.parse_args()
    from harness.cluster.auth import choose_auth_mode
    from harness.cluster.local import loopback_only

    loopback_only()  # the cluster listens on 127.0.0.1 only
    choose_auth_mode("disabled")  # a private throw-away cluster: no token file written
    import ray

    with tempfile.TemporaryDirectory() as tmp:
        cfg = loop_config(feature_cache(Path(tmp) / "features"), frozen=False, epochs=args.epochs)
        ray.init(address="local", num_cpus=2, include_dashboard=False, log_to_driver=False)
        try:
            bare, inray, startup = [], [], []
            for r in range(args.rounds):
                bare += bare_epochs(cfg)[1:]
                epochs, start = ray_epochs(cfg, Path(tmp) / "ray", r)
                inray += epochs[1:]
                startup.append(start)
        finally:
            ray.shutdown()
    b, t = statistics.median(bare), statistics.median(inray)
    print(f"{'epoch (median s)':>18} | {'bare loop':>9} | {'Ray Train':>9} | {'ratio':>6} | Train start-up (s)")
    print(f"{'':>18} | {b:9.3f} | {t:9.3f} | {t / b:6.3f} | {statistics.median(startup):.1f}")
    print(f"target: ratio <= 1.10 ({'met' if t / b <= 1.10 else 'MISSED'}); {len(bare)} + {len(inray)} epochs timed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
