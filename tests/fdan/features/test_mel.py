from __future__ import annotations

import numpy as np
import pytest
import torch
import torchaudio

from fdan.config import FeatureConfig
from fdan.features.decode import MediaError
from fdan.features.mel import LOG_FLOOR, audio_to_logmel, fit_length, log_mel

CFG = FeatureConfig(n_mels=32, n_fft=512, win_length=400, hop_length=160, clip_seconds=1.0)


def tone(seconds: float, sr: int, freq: float = 440.0, amp: float = 0.3) -> np.ndarray:
    t = np.arange(int(round(seconds * sr))) / sr
    return (amp * np.sin(2 * np.pi * freq * t)).astype(np.float32)


def test_fit_length_policies():
    x = np.arange(10, dtype=np.float32)
    np.testing.assert_array_equal(fit_length(x, 4, "center"), [3, 4, 5, 6])
    np.testing.assert_array_equal(fit_length(x, 4, "start"), [0, 1, 2, 3])
    np.testing.assert_array_equal(fit_length(x, 12, "center"), [*range(10), 0, 0])
    with pytest.raises(ValueError):
        fit_length(x, 4, "end")


@pytest.mark.parametrize("seconds", [0.3, 1.0, 2.7])
def test_shape_is_fixed(seconds):
    out = audio_to_logmel(tone(seconds, 16000), 16000, CFG)
    assert out.shape == (1, 32, CFG.n_mel_frames) == (1, 32, 101)
    assert out.dtype == np.float32


def test_padding_is_at_the_end_and_at_the_log_floor():
    out = audio_to_logmel(tone(0.5, 16000), 16000, CFG)[0]
    assert out[:, 5:40].max(axis=0).min() > 0  # tone frames are loud
    np.testing.assert_allclose(out[:, 60:], np.log(LOG_FLOOR), atol=1e-3)  # zero padding


def test_matches_explicit_stft_and_mel_filters():
    """The documented pipeline, written out by hand: Hann(win) in n_fft, centre reflect pad, |X|^2,
    HTK Mel filters without normalisation, log(mel + 1e-6)."""
    cfg = FeatureConfig(n_mels=40, n_fft=512, win_length=320, hop_length=128, f_min=50.0, f_max=7000.0, clip_seconds=0.5)
    rng = np.random.default_rng(0)
    clip = (0.1 * rng.standard_normal(8000)).astype(np.float32)
    spec = torch.stft(torch.from_numpy(clip), n_fft=512, hop_length=128, win_length=320,
                      window=torch.hann_window(320), center=True, pad_mode="reflect", return_complex=True)
    fb = torchaudio.functional.melscale_fbanks(257, 50.0, 7000.0, 40, 16000, norm=None, mel_scale="htk")
    expected = torch.log((spec.abs() ** 2).T @ fb + 1e-6).T.numpy()
    np.testing.assert_allclose(log_mel(clip, cfg)[0], expected, atol=1e-3)


def test_resampling_keeps_pitch():
    at_16k = audio_to_logmel(tone(1.0, 16000), 16000, CFG)[0, :, 10:90].mean(axis=1)
    at_44k = audio_to_logmel(tone(1.0, 44100), 44100, CFG)[0, :, 10:90].mean(axis=1)
    assert np.argmax(at_16k) == np.argmax(at_44k)
    np.testing.assert_allclose(at_16k, at_44k, atol=0.5)


def test_crop_policy_picks_the_segment():
    wave = np.concatenate([tone(1.0, 16000, 300.0), tone(1.0, 16000, 3000.0)])
    start = audio_to_logmel(wave, 16000, CFG.model_copy(update={"clip_policy": "start"}))[0].mean(axis=1)
    center = audio_to_logmel(wave, 16000, CFG)[0]
    assert np.argmax(start) < 10  # 300 Hz only
    assert np.argmax(center[:, 20]) < 10 and np.argmax(center[:, 80]) > 20  # 300 Hz, then 3 kHz


@pytest.mark.parametrize("wave", [np.zeros(16000, np.float32), np.full(16000, 1e-6, np.float32),
                                  np.zeros(0, np.float32)])
def test_silence_is_a_media_error(wave):
    with pytest.raises(MediaError):
        audio_to_logmel(wave, 16000, CFG)


def test_short_quiet_clip_is_not_silent():
    out = audio_to_logmel(tone(0.1, 16000, amp=0.01), 16000, CFG)
    assert out.shape == (1, 32, 101)
