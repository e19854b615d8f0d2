import pytest
from pydantic import ValidationError

from fdan.config import FeatureConfig, ModelConfig, TrainConfig


def test_defaults_are_consistent():
    cfg = FeatureConfig()
    assert (cfg.sample_rate, cfg.n_mels, cfg.n_fft, cfg.hop_length) == (16000, 128, 1024, 160)
    assert cfg.n_mel_frames == 301  # 3 s at a 10 ms hop, centre-padded STFT


def test_mel_bins_need_enough_fft_bins():
    with pytest.raises(ValidationError, match="fewer than n_mels"):
        FeatureConfig(n_fft=128, win_length=128, n_mels=128)


def test_unknown_fields_are_refused_by_name():
    with pytest.raises(ValidationError, match="attn_head"):
        ModelConfig(attn_head=4)
    with pytest.raises(ValidationError, match="optimizer"):
        TrainConfig(optimizer="adam")
