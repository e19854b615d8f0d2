"""Throughput of `fdan.features.prepare_corpus` (clips/s) on 1 and 2 workers, on RAVDESS-sized clips.

The script writes `--clips` real clips into a temporary directory first: 1280x720 H.264 (yuv420p,
29.97 fps, a keyframe every 2 s, B-frames) + AAC 48 kHz mono mp4, `--seconds` long, each showing a
large moving cartoon face on a textured, slowly panning background with sensor-like noise, and a
speech-like tone. Then it prepares that corpus (default FeatureConfig: 8 Haar face crops from the
3 s audio window, 128-bin log-Mel) once per worker count, each time into a fresh cache directory,
and prints clips/s for each and the ratio from the same run, plus the machine load.

Workers: a `concurrent.futures.ProcessPoolExecutor` (spawn) passed as prepare_corpus' `map_fn`
(the harness uses Ray tasks through the same hook); each worker process gets one CPU's worth of
threads (OMP_NUM_THREADS=1, which also sets the FFmpeg decoder's thread count, OpenCV and torch at
one thread), as a Ray task with cpus_per_task=1. Pool start-up is excluded (the pool is warmed by
one extraction per worker before timing). The per-stage times of one clip are printed too.

    python bench/bench_prepare.py                      # 16 clips of 3.5 s, workers 1 and 2
    python bench/bench_prepare.py --clips 40 --workers 1 2 4
"""
from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from fractions import Fraction
from functools import partial
from multiprocessing import get_context
from pathlib import Path

import numpy as np

W, H, FPS, SR = 1280, 720, Fraction(30000, 1001), 48000


def _frame(i: int, noise: list[np.ndarray], texture: np.ndarray) -> np.ndarray:
    import cv2

    t = i / float(FPS)
    img = np.roll(texture, int(4 * t * 30), axis=1).copy()  # slow pan: real inter-frame motion
    cx, cy, s = int(W / 2 + 60 * np.sin(1.3 * t)), int(H / 2 + 20 * np.sin(0.7 * t)), 150
    cv2.ellipse(img, (cx, cy), (int(s * 0.8), s), 0, 0, 360, (225, 190, 170), -1)
    for dx in (-1, 1):
        ex, ey = cx + dx * int(s * 0.35), cy - int(s * 0.2)
        cv2.ellipse(img, (ex, ey - int(s * 0.2)), (int(s * 0.22), int(s * 0.06)), 0, 180, 360, (40, 30, 30), -1)
        cv2.ellipse(img, (ex, ey), (int(s * 0.16), int(s * 0.09)), 0, 0, 360, (255, 255, 255), -1)
        cv2.circle(img, (ex, ey), int(s * 0.07), (20, 20, 20), -1)
    cv2.line(img, (cx, cy - int(s * 0.1)), (cx - int(s * 0.08), cy + int(s * 0.25)), (170, 140, 120), 4)
    mouth = int(s * (0.08 + 0.06 * abs(np.sin(9 * t))))
    cv2.ellipse(img, (cx, cy + int(s * 0.5)), (int(s * 0.3), mouth), 0, 0, 360, (150, 60, 60), -1)
    img = cv2.GaussianBlur(img, (5, 5), 0)
    return np.clip(img.astype(np.int16) + noise[i % len(noise)], 0, 255).astype(np.uint8)


def write_clip(path: Path, seconds: float, seed: int) -> None:
    """One RAVDESS-like clip (see module docstring)."""
    import av

    rng = np.random.default_rng(seed)
    texture = np.repeat(np.repeat(rng.integers(40, 140, (H // 8, W // 8, 3), dtype=np.uint8), 8, 0), 8, 1)
    noise = [rng.normal(0, 3, (H, W, 3)).astype(np.int16) for _ in range(3)]  # sensor-like, cycled
    n = int(round(seconds * float(FPS)))
    t = np.arange(int(seconds * SR)) / SR
    wave = (0.2 * np.sin(2 * np.pi * (180 + 40 * np.sin(3 * t)) * t) * (0.6 + 0.4 * np.sin(2 * np.pi * 4 * t)))
    with av.open(str(path), "w") as out:
        vs = out.add_stream("libx264", rate=FPS, options={"preset": "veryfast", "crf": "23", "bf": "2"})
        vs.width, vs.height, vs.pix_fmt = W, H, "yuv420p"
        vs.codec_context.gop_size = 60
        a = out.add_stream("aac", rate=SR, layout="mono")
        for start in range(0, wave.size, 1024):
            af = av.AudioFrame.from_ndarray(wave[None, start:start + 1024].astype(np.float32), format="fltp", layout="mono")
            af.sample_rate, af.pts, af.time_base = SR, start, Fraction(1, SR)
            for pkt in a.encode(af):
                out.mux(pkt)
        for pkt in a.encode(None):
            out.mux(pkt)
        for i in range(n):
            for pkt in vs.encode(av.VideoFrame.from_ndarray(_frame(i, noise, texture), format="rgb24")):
                out.mux(pkt)
        for pkt in vs.encode(None):
            out.mux(pkt)


@dataclass
class ClipsImporter:
    """Every mp4 under the root is one utterance (label anger, speaker = clip number)."""

    name: str = "bench-clips"

    def scan(self, root: Path):
        from fdan.corpora.base import ScanResult, Utterance

        utts = [Utterance("bench", p.stem, p.stem, "05", "anger", "all", 0, "", p.name)
                for p in sorted(Path(root).glob("*.mp4"))]
        return ScanResult("bench", utts, [])


def _one_cpu() -> None:
    """Pool initializer: one CPU's worth of threads per worker, modules imported before timing."""
    os.environ["OMP_NUM_THREADS"] = "1"
    import cv2
    import torch

    import fdan.features.extract  # noqa: F401

    cv2.setNumThreads(1)
    torch.set_num_threads(1)


def _warm(_: int) -> int:
    return os.getpid()


def run(root: Path, out: Path, workers: int) -> tuple[float, int]:
    """(seconds, usable clips) of one prepare_corpus over root with `workers` processes."""
    from fdan.features import prepare_corpus

    with ProcessPoolExecutor(workers, mp_context=get_context("spawn"), initializer=_one_cpu) as pool:
        list(pool.map(_warm, range(workers * 4)))
        start = time.perf_counter()
        res = prepare_corpus(ClipsImporter(), root, out=out, map_fn=partial(pool.map, chunksize=1))
        return time.perf_counter() - start, res.n_usable


def stage_times(path: Path) -> dict[str, float]:
    """Seconds per stage for one clip in this process (one thread each)."""
    _one_cpu()
    from fdan.config import FeatureConfig
    from fdan.features.decode import decode_audio, decode_video_frames
    from fdan.features.faces import face_crops
    from fdan.features.mel import audio_to_logmel_with_len, audio_window

    cfg = FeatureConfig()
    out: dict[str, float] = {}
    t = time.perf_counter()
    wave, sr = decode_audio(path)
    out["decode audio"] = time.perf_counter() - t
    t = time.perf_counter()
    audio_to_logmel_with_len(wave, sr, cfg)
    out["log-Mel"] = time.perf_counter() - t
    offset, length = audio_window(wave.size / sr, cfg)
    t = time.perf_counter()
    frames = decode_video_frames(path, cfg.n_frames, offset, offset + length)
    out["decode 8 frames (720p)"] = time.perf_counter() - t
    t = time.perf_counter()
    _, n_fallback = face_crops(frames, cfg)
    out[f"Haar + crops (fallbacks {n_fallback})"] = time.perf_counter() - t
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--clips", type=int, default=16)
    ap.add_argument("--seconds", type=float, default=3.5)
    ap.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    args = ap.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="bench-prepare-") as tmp:
        root = Path(tmp) / "clips"
        root.mkdir()
        t = time.perf_counter()
        for i in range(args.clips):
            write_clip(root / f"clip{i:03d}.mp4", args.seconds, seed=i)
        size = sum(p.stat().st_size for p in root.iterdir()) / args.clips / 1e6
        print(f"wrote {args.clips} clips of {args.seconds} s, {W}x{H} H.264/AAC, {size:.2f} MB each, "
              f"in {time.perf_counter() - t:.1f} s", flush=True)
        for stage, sec in stage_times(root / "clip000.mp4").items():
            print(f"  one clip, {stage:<32} {1000 * sec:7.1f} ms")
        load_before = os.getloadavg()
        rates = {}
        for w in args.workers:
            sec, n = run(root, Path(tmp) / f"cache-{w}", w)
            rates[w] = n / sec
            print(f"workers {w}: {n} clips in {sec:.2f} s = {rates[w]:.2f} clips/s", flush=True)
        base = rates[args.workers[0]]
        for w in args.workers[1:]:
            print(f"ratio {w} / {args.workers[0]} workers: {rates[w] / base:.2f}x")
        print(f"cores: {os.cpu_count()}, load average before / after: "
              f"{' '.join(f'{x:.1f}' for x in load_before)} / {' '.join(f'{x:.1f}' for x in os.getloadavg())}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
