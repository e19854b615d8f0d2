"""Benchmark: log-Mel throughput of fdan's torchaudio pipeline against librosa on the same clips.

Both compute the same spectrogram (power 2, HTK Mel scale, no filter normalisation, Hann window of
`win_length` zero-padded to `n_fft`, centre reflect padding, log(mel + 1e-6)) of `--clips` random
speech-length clips at the FeatureConfig defaults (16 kHz, 128 Mel, 25 ms / 10 ms, 3 s). Before
timing, the two outputs are checked to agree (max |Δ| of the log-Mel < 1e-2 where the power is above
the floor); the script exits 1 if they do not. The two are timed in alternating rounds, one torch
thread, and the ratio is librosa time / ours from the same run. Usage::

    python bench/bench_logmel.py [--clips 32] [--rounds 5] [--threads 1]
"""
from __future__ import annotations

import argparse
import sys
import time

import librosa
import numpy as np
import torch

from fdan.config import FeatureConfig
from fdan.features.mel import LOG_FLOOR, clip_samples, log_mel


def librosa_log_mel(clip: np.ndarray, cfg: FeatureConfig) -> np.ndarray:
    mel = librosa.feature.melspectrogram(
        y=clip, sr=cfg.sample_rate, n_fft=cfg.n_fft, hop_length=cfg.hop_length, win_length=cfg.win_length,
        window="hann", center=True, pad_mode="reflect", power=2.0, n_mels=cfg.n_mels, fmin=cfg.f_min,
        fmax=cfg.f_max, htk=True, norm=None,
    )
    return np.log(mel + LOG_FLOOR)[None].astype(np.float32)


def _time(fn, clips: list[np.ndarray], cfg: FeatureConfig) -> float:
    t0 = time.perf_counter()
    for c in clips:
        fn(c, cfg)
    return time.perf_counter() - t0


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--clips", type=int, default=32)
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--threads", type=int, default=1)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    cfg = FeatureConfig()
    rng = np.random.default_rng(0)
    t = np.arange(clip_samples(cfg)) / cfg.sample_rate
    clips = [(0.1 * np.sin(2 * np.pi * rng.uniform(100, 300) * t) + 0.01 * rng.standard_normal(len(t))).astype(np.float32)
             for _ in range(args.clips)]
    ours, ref = log_mel(clips[0], cfg), librosa_log_mel(clips[0], cfg)
    loud = ref > np.log(LOG_FLOOR) + 3
    err = float(np.abs(ours - ref)[loud].max()) if ours.shape == ref.shape else float("inf")
    if ours.shape != ref.shape or err > 1e-2:
        print(f"outputs disagree: shapes {ours.shape} vs {ref.shape}, max |Δlog-Mel| {err:.3g}")
        return 1
    _time(log_mel, clips[:2], cfg), _time(librosa_log_mel, clips[:2], cfg)  # warm-up (filter banks, FFT plans)
    t_ours, t_ref = [], []
    for _ in range(args.rounds):
        t_ours.append(_time(log_mel, clips, cfg))
        t_ref.append(_time(librosa_log_mel, clips, cfg))
    a, b = float(np.median(t_ours)), float(np.median(t_ref))
    print(f"log-Mel of {args.clips} clips x {cfg.clip_seconds:g} s, {args.threads} thread(s), max |Δ| {err:.1e}")
    print(f"{'':10} | clips/s")
    print(f"{'torchaudio':10} | {args.clips / a:8.1f}")
    print(f"{'librosa':10} | {args.clips / b:8.1f}")
    print(f"ratio (ours / librosa throughput): {b / a:.2f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
