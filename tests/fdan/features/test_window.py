"""Faces and audio from the same moment: the K frames come from the window the log-Mel is made from."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import fdan.features.extract as extract_mod
import fdan.features.video as video_mod
from fdan.config import FeatureConfig
from fdan.corpora.base import Utterance
from fdan.features import extract_utterance
from fdan.features.mel import audio_window, valid_mel_frames
from tests.fdan.features.conftest import read_frame_code, write_clip, write_timeline_clip

CFG = FeatureConfig(n_mels=32, n_fft=512, face_size=32, n_frames=4, clip_seconds=2.0, face_detector="center")
UTT = Utterance("c", "u", "s", "ang", "anger", "all", 0, "", "clip.mp4")


@pytest.fixture
def decoded(monkeypatch) -> list[np.ndarray]:
    """The frames extract_utterance decodes (real decoding, recorded)."""
    seen: list[np.ndarray] = []
    real = video_mod.decode_video_frames
    monkeypatch.setattr(extract_mod, "decode_video_frames", lambda *a, **kw: seen.append(real(*a, **kw)) or seen[-1])
    return seen


def test_audio_window_policies():
    assert audio_window(6.0, CFG) == (2.0, 2.0)
    assert audio_window(6.0, CFG.model_copy(update={"clip_policy": "start"})) == (0.0, 2.0)
    assert audio_window(1.5, CFG) == (0.0, 1.5)
    assert valid_mel_frames(32000, CFG) == CFG.n_mel_frames == 201
    assert valid_mel_frames(8000, CFG) == 51


@pytest.mark.parametrize("policy,expected", [("center", [22, 27, 32, 37]), ("start", [2, 7, 12, 17])])
def test_faces_come_from_the_audio_window(tmp_path: Path, decoded, policy, expected):
    """6 s clip at 10 fps, picture and tone change at 3 s; 2 s windows: centre [2, 4), start [0, 2)."""
    write_timeline_clip(tmp_path / "clip.mp4", 6.0, 3.0, fps=10)
    ex = extract_utterance(tmp_path, UTT, CFG.model_copy(update={"clip_policy": policy}))
    codes = [read_frame_code(f) for f in decoded[0]]  # within a frame: AAC adds a few ms to the audio
    assert all(abs(c - e) <= 1 for c, e in zip(codes, expected)) and len(codes) == 4, (codes, expected)
    mel = ex.mel[0].astype(np.float32)
    low_to_high = np.argmax(mel[:, 150:].mean(1)) > np.argmax(mel[:, :50].mean(1)) + 5
    assert low_to_high == (policy == "center")  # the centre window straddles the change, as its faces do


def test_short_clip_faces_span_the_whole_clip(tmp_path: Path, decoded):
    write_timeline_clip(tmp_path / "clip.mp4", 1.2, 0.6, fps=10)  # shorter than clip_seconds
    ex = extract_utterance(tmp_path, UTT, CFG)
    # 12 frames, 4 samples: frames floor((i + 1/2) * 12 / 4) = 1, 4, 7, 10 (the audio lasts ~1.2 s)
    assert [read_frame_code(f) for f in decoded[0]] == [1, 4, 7, 10]
    assert ex.face_mask.all() and abs(ex.mel_len - valid_mel_frames(round(1.2 * 16000), CFG)) <= 3


def test_too_few_frames_are_padded_and_masked(tmp_path: Path):
    write_clip(tmp_path / "clip.mp4", seconds=0.5, fps=10, sr=16000)  # 5 frames, 0.5 s of audio
    ex = extract_utterance(tmp_path, UTT, CFG.model_copy(update={"n_frames": 8, "face_detector": "haar"}))
    assert ex.face_mask.tolist() == [True] * 5 + [False] * 3
    assert ex.faces[:5].any(axis=(1, 2, 3)).all() and not ex.faces[5:].any()
    # 0.5 s (+ a few ms of codec padding) of real audio in a 2 s clip: about 51 of 201 Mel frames
    assert 50 <= ex.mel_len <= 58
    mel = ex.mel[0].astype(np.float32)
    # frames past mel_len + n_fft / (2 hop) see only padding: exactly the log floor
    assert (mel[:, ex.mel_len + 2:] == mel.min()).all() and (mel[:, : ex.mel_len - 1].max(0) > mel.min()).all()
