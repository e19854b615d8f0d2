"""`make gpu-check`: CUDA end to end on one GPU in a few minutes, figures to a JSON file.

Checks, each recorded with its outcome:
1. the no-host-sync tests (a cached training step and the LMMD backward never wait for the GPU);
2. the default `experiments/lmmd.yaml` model (ResNet-34 trunks trained, 3 s clips, 8 faces of 112 px) on
   synthetic media at batch 32, cross-corpus step (source + target batch), channels_last, under bf16 and
   under fp16 with its GradScaler: step time, samples/s, peak memory, GPU utilisation;
3. `train.deterministic: true`: two runs from one seed give the same losses bit for bit, and its cost
   against the autotuned default;
4. one trial: an epoch of training and a validation pass (`evaluate_heads`) under `train.amp: auto`.

Without a GPU it prints why it skips, writes {"skipped": reason} and exits 0.
Usage: python bench/gpu_check.py [--out results/gpu_check.json] [--steps 20] [--batch 32]
"""
from __future__ import annotations

import argparse
import json
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any, Callable

import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

NO_SYNC_TESTS = ["tests/harness/trial/test_gpu_hot_path.py", "tests/fdan/alignment/test_lmmd.py::test_cuda_no_host_sync"]


class Utilisation:
    """GPU utilisation (%) sampled every 0.1 s while the block runs (torch.cuda.utilization: NVML)."""

    def __enter__(self) -> "Utilisation":
        self.samples: list[float] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()
        return self

    def _run(self) -> None:
        while not self._stop.wait(0.1):
            try:
                self.samples.append(float(torch.cuda.utilization()))
            except Exception:  # no NVML (pynvml missing): reported as None
                return

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()

    @property
    def mean(self) -> float | None:
        return sum(self.samples) / len(self.samples) if self.samples else None


def default_sections() -> tuple[dict[str, Any], dict[str, Any], Any]:
    """The model / train sections and feature config of experiments/lmmd.yaml (the validated schema)."""
    from harness.config.schema import load_config

    cfg = load_config(ROOT / "experiments" / "lmmd.yaml")
    return cfg.model.model_dump(), cfg.train.model_dump(), cfg.features


def media_batch(batch: int, features: Any, classes: int, seed: int, labelled: bool = True) -> dict[str, torch.Tensor]:
    g = torch.Generator().manual_seed(seed)
    mel = torch.randn(batch, 1, features.n_mels, features.n_mel_frames, generator=g)
    faces = torch.randint(0, 256, (batch, features.n_frames, 3, features.face_size, features.face_size), generator=g, dtype=torch.uint8)
    label = torch.randint(0, classes, (batch,), generator=g) if labelled else torch.full((batch,), -1)
    return {k: v.cuda(non_blocking=True) for k, v in {"mel": mel, "faces": faces, "label": label}.items()}


def training_run(amp: str, steps: int, batch: int, *, deterministic: bool = False, seed: int = 0) -> dict[str, Any]:
    """`steps` timed cross-corpus train_steps (after 3 warm-up steps) of the default model."""
    from fdan.alignment.scopes import attach_alignment
    from fdan.config import TrainConfig
    from fdan.training.numerics import apply_numeric_policy
    from fdan.training.amp import grad_scaler
    from fdan.training.fit import prepare_model, seed_everything
    from fdan.training.loss import train_step
    from fdan.training.optim import build_optimizer
    from harness.trial.loop import build_model

    model_cfg, train_cfg, features = default_sections()
    cfg = TrainConfig.model_validate({**train_cfg, "amp": amp, "batch_size": batch, "deterministic": deterministic})
    apply_numeric_policy(deterministic, "cuda")
    seed_everything(seed)
    model = prepare_model(build_model(model_cfg, model_cfg["num_classes"]), "cuda")
    attach_alignment(model, cfg)
    optimizer = build_optimizer(model, cfg)
    data = [(media_batch(batch, features, model_cfg["num_classes"], 2 * i),
             media_batch(batch, features, model_cfg["num_classes"], 2 * i + 1, labelled=False)) for i in range(4)]
    losses: list[torch.Tensor] = []
    scaler = grad_scaler(cfg.amp, "cuda")  # fp16: one loss scale for the run, as fit() keeps it

    def step(i: int) -> None:
        src, tgt = data[i % len(data)]
        losses.append(train_step(model, src, optimizer, None, cfg, progress=0.5, target_batch=tgt, scaler=scaler)["loss"])

    for i in range(3):
        step(i)
    torch.cuda.synchronize()
    torch.cuda.reset_peak_memory_stats()
    with Utilisation() as util:
        start = time.perf_counter()
        for i in range(steps):
            step(i)
        torch.cuda.synchronize()
        elapsed = time.perf_counter() - start
    conv = next(m for m in model.modules() if isinstance(m, torch.nn.Conv2d))
    apply_numeric_policy(False, "cuda")
    return {"amp": amp, "deterministic": deterministic, "batch": batch, "steps": steps,
            "step_time_s": elapsed / steps, "samples_per_s": batch * steps / elapsed,
            "peak_memory_gib": torch.cuda.max_memory_allocated() / 2**30, "gpu_utilisation_pct": util.mean,
            "losses": [float(v) for v in losses], "finite": all(torch.isfinite(v).item() for v in losses),
            "channels_last": conv.weight.is_contiguous(memory_format=torch.channels_last)}


def one_trial(batch: int, steps: int) -> dict[str, Any]:
    """One epoch of `steps` batches and a validation pass, as a trial does them (train.amp: auto)."""
    from fdan.alignment.scopes import attach_alignment
    from fdan.config import TrainConfig
    from fdan.training.epoch import train_epoch
    from fdan.training.fit import prepare_model, seed_everything
    from fdan.training.optim import build_optimizer, build_scheduler
    from harness.trial.loop import build_model
    from harness.trial.modality_eval import evaluate_heads

    model_cfg, train_cfg, features = default_sections()
    cfg = TrainConfig.model_validate({**train_cfg, "amp": "auto", "batch_size": batch})
    seed_everything(0)
    model = prepare_model(build_model(model_cfg, model_cfg["num_classes"]), "cuda")
    attach_alignment(model, cfg)
    optimizer = build_optimizer(model, cfg)
    n = model_cfg["num_classes"]
    source = [media_batch(batch, features, n, i) for i in range(steps)]
    target = [media_batch(batch, features, n, 100 + i, labelled=False) for i in range(steps)]
    start = time.perf_counter()
    losses, _ = train_epoch(model, source, optimizer, build_scheduler(optimizer, cfg, steps), cfg, step=0,
                            total_steps=steps, device="cuda", target_loader=target)
    val = [{**media_batch(batch, features, n, 200 + i), "index": torch.arange(i * batch, (i + 1) * batch)} for i in range(2)]
    result = evaluate_heads(model, val, n, "cuda", amp=cfg.amp)
    return {"epoch_s": time.perf_counter() - start, "train_loss": losses["loss"], "val_loss": float(result.loss),
            "val_fused_uar": result.metrics["fused"]["uar"]}


def checked(name: str, fn: Callable[[], Any], report: dict[str, Any]) -> None:
    start = time.perf_counter()
    try:
        report[name] = {"ok": True, **fn()}
    except Exception as exc:  # every check is reported, the script goes on
        report[name] = {"ok": False, "error": f"{type(exc).__name__}: {exc}"}
    report[name]["seconds"] = round(time.perf_counter() - start, 1)
    print(f"{name}: {'ok' if report[name]['ok'] else 'FAILED ' + report[name]['error']}", flush=True)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", default=str(ROOT / "results" / "gpu_check.json"))
    ap.add_argument("--steps", type=int, default=20)
    ap.add_argument("--batch", type=int, default=32)
    args = ap.parse_args(argv)
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    if not torch.cuda.is_available():
        reason = "no CUDA GPU visible (torch.cuda.is_available() is False): gpu-check skipped, nothing was measured"
        print(reason)
        out.write_text(json.dumps({"skipped": reason, "torch": torch.__version__}, indent=2))
        return 0
    report: dict[str, Any] = {"device": torch.cuda.get_device_name(), "torch": torch.__version__,
                              "cuda": torch.version.cuda, "model": "experiments/lmmd.yaml (defaults)"}

    def no_sync() -> dict[str, Any]:
        proc = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *NO_SYNC_TESTS],
                              cwd=ROOT, capture_output=True, text=True, timeout=240)
        if proc.returncode:
            raise RuntimeError(proc.stdout[-2000:])
        return {"summary": proc.stdout.strip().splitlines()[-1]}

    checked("no_host_sync_tests", no_sync, report)
    checked("bf16", lambda: training_run("bf16", args.steps, args.batch), report)
    checked("fp16_grad_scaler", lambda: training_run("fp16", args.steps, args.batch), report)

    def deterministic() -> dict[str, Any]:
        a, b = (training_run("bf16", max(4, args.steps // 4), args.batch, deterministic=True) for _ in range(2))
        if a["losses"] != b["losses"]:
            raise RuntimeError(f"deterministic runs differ: {a['losses']} vs {b['losses']}")
        fast = report.get("bf16", {}).get("step_time_s")
        return {"bitwise_equal": True, "step_time_s": a["step_time_s"],
                "slowdown_vs_benchmark": a["step_time_s"] / fast if fast else None}

    checked("deterministic", deterministic, report)
    checked("one_trial", lambda: one_trial(args.batch, max(4, args.steps // 2)), report)
    out.write_text(json.dumps(report, indent=2))
    print(f"wrote {out}")
    return 0 if all(v.get("ok", True) for v in report.values() if isinstance(v, dict)) else 1


if __name__ == "__main__":
    raise SystemExit(main())
