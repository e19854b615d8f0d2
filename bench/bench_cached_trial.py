"""Benchmark: a cached-embedding (frozen-trunk) trial against the same trial end to end, and a cached sweep's rate.

1. One trial, bare loop (`harness.trial.loop.run_epochs` in this process, one torch thread), quickstart
   size (112 training rows, batch 16, 28 validation rows): trunks trained end to end from the media
   features, against frozen trunks read from the token cache, `--trial-epochs` epochs each. Figures:
   the whole trial (model build, data, epochs) and the median epoch after the first. The one-time
   token preparation of the corpus (168 rows) is timed separately: every trial and sweep after it
   reuses it. Ratio = end to end / cached (target >= 20).
2. A cached sweep the way `fdan-bench sweep` runs it: `harness.trial.entry.run_trial` on the `tune`
   executor (loop in the Tune trial, checkpoint reports), `--trials` trials of `--epochs` epochs,
   2 at a time on a local 127.0.0.1 cluster with 2 CPUs. Trials per hour = trials / Tune wall time
   (the cluster's start excluded). Target >= 300 per hour on 2 cores (aim 1,000).

    python bench/bench_cached_trial.py [--trial-epochs 3] [--epochs 20] [--trials 8]
"""
from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from trial_data import MODEL, TRAIN, LocalBackend, feature_cache, loop_config  # noqa: E402


def one_trial(cfg: Any) -> tuple[float, float]:
    """(whole trial seconds, median epoch seconds after the first)."""
    from harness.trial.loop import run_epochs

    backend = LocalBackend()
    t0 = time.perf_counter()
    run_epochs(cfg, backend)
    return time.perf_counter() - t0, statistics.median(backend.epoch_times()[1:] or backend.epoch_times())


def sweep(cfg: Any, storage: Path, trials: int) -> float:
    """Wall seconds of a Tune run of `trials` cached trials through the harness trial function."""
    from ray import tune

    from harness.trial.entry import run_trial

    from dataclasses import replace

    from harness.config.search_space import Distribution

    values = [0.01 * (i + 1) for i in range(trials)]
    spec = replace(cfg, storage_path=str(storage),
                   space={"train.lmmd_weight": Distribution(type="choice", values=values)})
    trainable = tune.with_resources(tune.with_parameters(run_trial, spec=spec), {"CPU": 1.0})
    tuner = tune.Tuner(trainable, param_space={"lmmd_weight": tune.grid_search(values)},
                       tune_config=tune.TuneConfig(metric="val_fused_uar", mode="max", max_concurrent_trials=2,
                                                   reuse_actors=True),  # as harness.tuning.tuner does for `tune` trials
                       run_config=tune.RunConfig(name="bench_sweep", storage_path=str(storage), verbose=0))
    t0 = time.perf_counter()
    grid = tuner.fit()
    wall = time.perf_counter() - t0
    errors = [r.error for r in grid if r.error is not None]
    if errors:
        raise RuntimeError(f"{len(errors)} bench trial(s) failed: {errors[0]}")
    return wall


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--trial-epochs", type=int, default=3, help="epochs of the one-trial comparison")
    ap.add_argument("--epochs", type=int, default=20, help="epochs of each sweep trial (the quickstart's)")
    ap.add_argument("--trials", type=int, default=8)
    args = ap.parse_args()
    import torch

    torch.set_num_threads(1)
    from fdan.features.token_cache import prepare_tokens

    with tempfile.TemporaryDirectory() as tmp:
        features = feature_cache(Path(tmp) / "features")
        t0 = time.perf_counter()
        prepare_tokens(features, {**MODEL, "freeze_backbone": True})
        prep = time.perf_counter() - t0
        cached, cached_epoch = one_trial(loop_config(features, frozen=True, epochs=args.trial_epochs))
        e2e, e2e_epoch = one_trial(loop_config(features, frozen=False, epochs=args.trial_epochs))
        print(f"{'':>14} | {'end to end':>10} | {'cached':>8} | {'ratio':>6}")
        print(f"{'trial (s)':>14} | {e2e:10.2f} | {cached:8.2f} | {e2e / cached:6.1f}")
        print(f"{'epoch (s)':>14} | {e2e_epoch:10.2f} | {cached_epoch:8.3f} | {e2e_epoch / cached_epoch:6.1f}")
        print(f"token cache of the corpus, once: {prep:.1f} s. target: trial ratio >= 20 "
              f"({'met' if e2e / cached >= 20 else 'MISSED'}); {args.trial_epochs} epochs, batch {TRAIN['batch_size']}, "
              f"{MODEL['backbone']}")

        from harness.cluster.auth import choose_auth_mode
        from harness.cluster.local import loopback_only

        loopback_only()  # the cluster listens on 127.0.0.1 only
        choose_auth_mode("disabled")  # a private throw-away cluster: no token file written
        import ray

        ray.init(address="local", num_cpus=2, include_dashboard=False, log_to_driver=False)
        try:
            wall = sweep(loop_config(features, frozen=True, epochs=args.epochs), Path(tmp) / "ray", args.trials)
        finally:
            ray.shutdown()
    rate = args.trials / wall * 3600
    print(f"{'cached sweep':>14} | {args.trials} trials x {args.epochs} epochs, 2 at a time: {wall:.1f} s -> "
          f"{rate:.0f} trials/hour (target >= 300, aim 1000: {'met' if rate >= 300 else 'MISSED'})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
