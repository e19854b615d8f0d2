"""Segments (Utterance.start/end) of long real clips: only that part is decoded, video and audio."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

import fdan.features.extract as extract_mod
import fdan.features.video as video_mod
from fdan.features import video_seek
from fdan.config import FeatureConfig
from fdan.corpora.base import Utterance
from fdan.features import decode_audio, decode_video_frames, extract_utterance
from tests.fdan.features.conftest import read_frame_code, write_timeline_clip

FPS, SECONDS, CHANGE = 5, 40.0, 20.0  # longer than video.SEEK_FILE_SECONDS: read by seeking
CFG = FeatureConfig(n_mels=32, n_fft=512, face_size=32, n_frames=4, clip_seconds=2.0, face_detector="center")


@pytest.fixture(scope="module")
def dialog(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """40 s "dialogs" (H.264/AAC mp4, MPEG-4/MP3 avi as IEMOCAP's DivX): red + 440 Hz before 20 s,
    green + 1760 Hz after; every frame carries its index."""
    d = tmp_path_factory.mktemp("dialog")
    return {s: write_timeline_clip(d / f"dialog{s}", SECONDS, CHANGE, fps=FPS) for s in (".mp4", ".avi")}


def _bar_colour(frames: np.ndarray) -> list[str]:
    """"red" / "green" background of each frame (the phase before / after the change)."""
    return ["red" if f[60:100, 2:10, 0].mean() > f[60:100, 2:10, 1].mean() else "green" for f in frames]


def _dominant_hz(wave: np.ndarray, sr: int) -> float:
    return float(np.argmax(np.abs(np.fft.rfft(wave))) * sr / wave.size)


@pytest.mark.parametrize("suffix,tol", [(".mp4", 0), (".avi", 1)])
def test_video_segment_is_decoded_by_seeking(dialog, suffix, tol, monkeypatch):
    used = []
    real = video_seek.decode_window
    monkeypatch.setattr(video_mod, "decode_window", lambda *a: used.append(a[3:]) or real(*a))
    after = decode_video_frames(dialog[suffix], 4, 21.0, 23.0)  # frames 105..114
    before = decode_video_frames(dialog[suffix], 4, 17.0, 19.0)  # frames 85..94
    assert used == [(21.0, 23.0), (17.0, 19.0)]
    assert after.shape == (4, 120, 160, 3)
    # sample times start + (j + 1/2) * 2 s / 4 -> frames 106, 108, 111, 113 (avi: up to a frame early)
    for frames, expected in ((after, [106, 108, 111, 113]), (before, [86, 88, 91, 93])):
        codes = [read_frame_code(f) for f in frames]
        assert all(abs(c - e) <= tol for c, e in zip(codes, expected)), (codes, expected)
    assert _bar_colour(after) == ["green"] * 4 and _bar_colour(before) == ["red"] * 4


@pytest.mark.parametrize("suffix", [".mp4", ".avi"])
def test_audio_segment_of_a_container(dialog, suffix):
    wave, sr = decode_audio(dialog[suffix], 19.0, 21.0)
    assert sr == 16000 and abs(wave.size / sr - 2.0) < 0.01
    assert abs(_dominant_hz(wave[: sr - 800], sr) - 440) < 5  # up to 19.95 s: before the change
    assert abs(_dominant_hz(wave[sr + 800:], sr) - 1760) < 5  # from 20.05 s


def test_wav_segment_reads_only_those_samples(tmp_path: Path):
    sf.write(tmp_path / "a.wav", np.arange(16000 * 3, dtype=np.float32) / 48000 - 0.5, 16000, subtype="FLOAT")
    wave, sr = decode_audio(tmp_path / "a.wav", 1.0, 1.5)
    np.testing.assert_allclose(wave, np.arange(16000, 24000) / 48000 - 0.5, atol=1e-6)


def _utt(video: str, audio: str = "", start: float | None = None, end: float | None = None) -> Utterance:
    return Utterance("c", "u", "s", "ang", "anger", "all", 0, audio, video, start, end)


def test_extract_cuts_the_video_and_its_own_audio(dialog, monkeypatch):
    seen = []
    real = video_mod.decode_video_frames
    monkeypatch.setattr(extract_mod, "decode_video_frames", lambda *a, **kw: seen.append(real(*a, **kw)) or seen[-1])
    root = dialog[".mp4"].parent
    ex = extract_utterance(root, _utt("dialog.mp4", start=22.0, end=25.0), CFG)  # after the change
    # audio window: the middle 2 s of the 3 s segment = [22.5, 24.5) s; the faces come from the same
    # window: times 22.75, 23.25, 23.75, 24.25 s = frames 113, 116, 118, 121 at 5 fps
    assert [read_frame_code(f) for f in seen[-1]] == [113, 116, 118, 121]
    assert _bar_colour(seen[-1]) == ["green"] * 4
    assert ex.mel_len == CFG.n_mel_frames and ex.face_mask.all()
    before = extract_utterance(root, _utt("dialog.mp4", start=15.0, end=18.0), CFG)
    assert _bar_colour(seen[-1]) == ["red"] * 4
    assert np.argmax(ex.mel[0].astype(np.float32).mean(1)) > np.argmax(before.mel[0].astype(np.float32).mean(1)) + 5


def test_a_separate_wav_is_the_utterance_and_is_not_cut(dialog, tmp_path: Path):
    """IEMOCAP: dialog video cut by the label times, the sentence wav used whole."""
    root = dialog[".mp4"].parent
    t = np.arange(16000 * 2) / 16000
    sf.write(root / "sentence.wav", (0.3 * np.sin(2 * np.pi * 3000 * t)).astype(np.float32), 16000)
    cut = extract_utterance(root, _utt("dialog.mp4", "sentence.wav", start=30.0, end=32.0), CFG)
    whole = extract_utterance(root, _utt("dialog.mp4", "sentence.wav"), CFG)
    np.testing.assert_array_equal(cut.mel, whole.mel)  # a 2 s wav cut at 30 s would be empty
    assert cut.mel_len == CFG.n_mel_frames


def test_audio_only_row_cuts_its_wav_and_has_no_faces(tmp_path: Path):
    t = np.arange(16000 * 4) / 16000
    sf.write(tmp_path / "long.wav", (0.3 * np.sin(2 * np.pi * np.where(t < 2, 440, 3000) * t)).astype(np.float32), 16000)
    first = extract_utterance(tmp_path, _utt("", "long.wav", start=0.0, end=2.0), CFG)
    second = extract_utterance(tmp_path, _utt("", "long.wav", start=2.0, end=4.0), CFG)
    assert np.argmax(second.mel[0].astype(np.float32).mean(1)) > np.argmax(first.mel[0].astype(np.float32).mean(1)) + 5
    assert not first.face_mask.any() and first.faces.shape == (4, 3, 32, 32) and not first.faces.any()
    assert first.n_fallback == 0


def test_prepare_records_the_segments_and_cuts_each_row(dialog, tmp_path: Path):
    from fdan.corpora.base import ScanResult
    from fdan.features import FeatureSet, prepare_corpus

    rows = [Utterance("dlg", "u_before", "s", "ang", "anger", "all", 0, "", "dialog.mp4", 15.0, 18.0),
            Utterance("dlg", "u_after", "s", "hap", "happiness", "all", 0, "", "dialog.mp4", 22.0, 25.5)]

    class Dialogs:
        name = "dialogs"

        def scan(self, root: Path) -> ScanResult:
            return ScanResult("dlg", rows, [])

    res = prepare_corpus(Dialogs(), dialog[".mp4"].parent, out=tmp_path / "cache", cfg=CFG)
    fs = FeatureSet.open(res.out_dir)
    assert fs.manifest[["start", "end"]].values.tolist() == [[15.0, 18.0], [22.0, 25.5]]
    corners = fs.faces[:, :, :, -3:, :3].astype(int)  # (2, K, 3, 3, 3): bottom-left background of the crops
    assert (corners[0, :, 0] > corners[0, :, 1] + 80).all()  # row 1: red, before the change
    assert (corners[1, :, 1] > corners[1, :, 0] + 80).all()  # row 2: green, after it
    assert fs.mel_len.tolist() == [CFG.n_mel_frames] * 2 and fs.face_mask.all()
