"""Audio -> fixed-length log-Mel spectrogram (torchaudio), with an explicit clip-length policy.

Pipeline for one utterance (all parameters from `FeatureConfig`):
  1. resample the mono wave to `sample_rate` (torchaudio's windowed-sinc resampler);
  2. fit it to L = round(clip_seconds * sample_rate) samples: a longer wave is cropped (`clip_policy`
     "center": the middle L samples, "start": the first L), a shorter one is zero-padded at the end;
  3. refuse silence: RMS of the kept (unpadded) samples below `SILENCE_RMS` (about -80 dBFS) is MediaError "silent audio";
  4. power Mel spectrogram: STFT with a Hann window of `win_length` samples zero-padded to `n_fft`,
     hop `hop_length`, centre padding (reflect), |X|^2 (power 2), `n_mels` HTK-scale triangular
     filters between `f_min` and `f_max` (None = sample_rate/2), no filter normalisation;
  5. log(mel + LOG_FLOOR).
Output (1, n_mels, T) float32 with T = L // hop_length + 1 = `FeatureConfig.n_mel_frames`, of which
the first min(T, kept // hop_length + 1) frames are real audio (`valid_mel_frames`, the cache's mel_len).
"""
from __future__ import annotations

from functools import lru_cache

import numpy as np
import torch
import torchaudio

from fdan.config import FeatureConfig
from fdan.features.decode import MediaError

SILENCE_RMS = 1e-4
LOG_FLOOR = 1e-6


def resample(wave: np.ndarray, sr: int, target_sr: int) -> np.ndarray:
    """(samples,) float32 at `sr` -> (round(samples * target_sr / sr),) float32 at `target_sr`."""
    if sr == target_sr:
        return np.asarray(wave, dtype=np.float32)
    out = torchaudio.functional.resample(torch.from_numpy(np.ascontiguousarray(wave, dtype=np.float32)), sr, target_sr)
    return out.numpy()


def fit_length(wave: np.ndarray, n_samples: int, policy: str = "center") -> np.ndarray:
    """Crop (policy "center" or "start") or zero-pad at the end to exactly `n_samples`: (n_samples,)."""
    n = wave.shape[0]
    if n > n_samples:
        if policy == "center":
            start = (n - n_samples) // 2
        elif policy == "start":
            start = 0
        else:
            raise ValueError(f"unknown clip policy {policy!r} (center, start)")
        return wave[start:start + n_samples]
    if n < n_samples:
        return np.pad(wave, (0, n_samples - n))
    return wave


def clip_samples(cfg: FeatureConfig) -> int:
    """Samples L of one clip at the feature sample rate."""
    return int(round(cfg.clip_seconds * cfg.sample_rate))


def audio_window(duration_s: float, cfg: FeatureConfig) -> tuple[float, float]:
    """(offset, length) in seconds of the part of a `duration_s` long audio that the log-Mel is made
    from (step 2): the whole audio if it is at most `clip_seconds`, else `clip_seconds` from the
    middle ("center": offset (duration - clip_seconds) / 2) or from the start ("start": offset 0).
    The face frames are sampled from the same window (fdan.features.extract)."""
    if duration_s <= cfg.clip_seconds:
        return 0.0, duration_s
    return ((duration_s - cfg.clip_seconds) / 2 if cfg.clip_policy == "center" else 0.0), cfg.clip_seconds


def valid_mel_frames(n_kept: int, cfg: FeatureConfig) -> int:
    """Mel frames not made of end padding: min(T, n_kept // hop_length + 1) for n_kept real samples
    (frame t is centred on sample t * hop_length; frames centred past the real samples are padding)."""
    return min(cfg.n_mel_frames, n_kept // cfg.hop_length + 1)


@lru_cache(maxsize=8)
def _mel_transform(sample_rate: int, n_fft: int, win_length: int, hop_length: int, f_min: float,
                   f_max: float | None, n_mels: int) -> torchaudio.transforms.MelSpectrogram:
    return torchaudio.transforms.MelSpectrogram(
        sample_rate=sample_rate, n_fft=n_fft, win_length=win_length, hop_length=hop_length,
        f_min=f_min, f_max=f_max, n_mels=n_mels, power=2.0, center=True, pad_mode="reflect",
        norm=None, mel_scale="htk",
    )


def log_mel(clip: np.ndarray, cfg: FeatureConfig) -> np.ndarray:
    """(L,) float32 clip at cfg.sample_rate -> (1, n_mels, L // hop_length + 1) float32 log-Mel."""
    transform = _mel_transform(cfg.sample_rate, cfg.n_fft, cfg.win_length, cfg.hop_length, cfg.f_min,
                               cfg.f_max, cfg.n_mels)
    with torch.no_grad():
        mel = transform(torch.from_numpy(np.ascontiguousarray(clip, dtype=np.float32)))
    return torch.log(mel + LOG_FLOOR).unsqueeze(0).numpy()


def audio_to_logmel(wave: np.ndarray, sr: int, cfg: FeatureConfig) -> np.ndarray:
    """Mono wave (samples,) at `sr` -> (1, n_mels, cfg.n_mel_frames) float32 log-Mel (steps 1-5 above).

    Raises MediaError("silent audio") when the fitted clip's RMS is below SILENCE_RMS.
    """
    return audio_to_logmel_with_len(wave, sr, cfg)[0]


def audio_to_logmel_with_len(wave: np.ndarray, sr: int, cfg: FeatureConfig) -> tuple[np.ndarray, int]:
    """`audio_to_logmel` and the number of valid (non-padding) Mel frames (`valid_mel_frames`)."""
    if wave.size == 0:
        raise MediaError("no audio samples decoded")
    wave = resample(wave, sr, cfg.sample_rate)
    n_samples = clip_samples(cfg)
    # RMS over the kept samples, before zero padding, so a short but audible clip is not called silent.
    kept = fit_length(wave, min(n_samples, wave.shape[0]), cfg.clip_policy)
    if kept.size == 0 or float(np.sqrt(np.mean(np.square(kept, dtype=np.float64)))) < SILENCE_RMS:
        raise MediaError("silent audio")
    clip = fit_length(kept, n_samples, cfg.clip_policy)
    out = log_mel(clip, cfg)
    if out.shape[-1] != cfg.n_mel_frames:  # guards the documented T formula
        raise AssertionError(f"log-Mel has {out.shape[-1]} frames, expected {cfg.n_mel_frames}")
    return out, valid_mel_frames(kept.shape[0], cfg)
