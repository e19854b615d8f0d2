from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from fdan.config import FeatureConfig
from fdan.corpora.base import Utterance
from fdan.features import MediaError, extract_utterance

CFG = FeatureConfig(n_mels=32, n_fft=512, face_size=32, n_frames=3, clip_seconds=1.0)


def utt(video: str, audio: str = "") -> Utterance:
    return Utterance("c", "u", "s", "ang", "anger", "all", 0, audio, video)


def test_audio_from_the_video_or_from_the_wav(clip, tmp_path: Path):
    clip("a.mp4", seconds=1.0)
    from_video = extract_utterance(tmp_path, utt("a.mp4"), CFG)
    assert from_video.mel.shape == (1, 32, 101) and from_video.mel.dtype == np.float16
    assert from_video.faces.shape == (3, 3, 32, 32) and from_video.faces.dtype == np.uint8
    assert from_video.n_fallback == 0
    # a 3 kHz wav next to the video replaces the video's 440 Hz track
    t = np.arange(16000) / 16000
    sf.write(tmp_path / "a.wav", (0.3 * np.sin(2 * np.pi * 3000 * t)).astype(np.float32), 16000)
    from_wav = extract_utterance(tmp_path, utt("a.mp4", "a.wav"), CFG)
    assert np.argmax(from_wav.mel[0].astype(np.float32).mean(1)) > np.argmax(from_video.mel[0].astype(np.float32).mean(1)) + 5
    np.testing.assert_array_equal(from_wav.faces, from_video.faces)


def test_errors_name_the_failing_file(clip, tmp_path: Path):
    clip("mute.mp4", audio=None)
    with pytest.raises(MediaError) as err:
        extract_utterance(tmp_path, utt("mute.mp4"), CFG)
    assert (err.value.path, err.value.reason) == ("mute.mp4", "no audio stream")
    sf.write(tmp_path / "quiet.wav", np.zeros(8000, np.float32), 16000)
    with pytest.raises(MediaError) as err:
        extract_utterance(tmp_path, utt("mute.mp4", "quiet.wav"), CFG)
    assert (err.value.path, err.value.reason) == ("quiet.wav", "silent audio")
    clip("blind.mp4", video=False)
    with pytest.raises(MediaError) as err:
        extract_utterance(tmp_path, utt("blind.mp4"), CFG)
    assert (err.value.path, err.value.reason) == ("blind.mp4", "no video stream")
