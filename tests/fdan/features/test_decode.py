from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from fdan.features.decode import MediaError, decode_audio, decode_video_frames, uniform_indices


def _blue(frames: np.ndarray) -> list[int]:
    """Background blue level of each frame (encodes the source frame number: 40 + 10 * i)."""
    return [int(f[2:10, 2:10, 2].mean()) for f in frames]


@pytest.mark.parametrize("suffix", [".mp4", ".avi", ".flv"])
def test_decode_audio_from_containers(clip, suffix):
    wave, sr = decode_audio(clip("a" + suffix, seconds=1.0, sr=22050))
    assert wave.dtype == np.float32 and wave.ndim == 1 and sr == 22050
    assert 0.95 <= wave.size / sr <= 1.15  # codec priming/padding adds a few ms
    assert 0.2 < np.abs(wave).max() < 0.4
    spectrum = np.abs(np.fft.rfft(wave))
    assert abs(np.argmax(spectrum) * sr / wave.size - 440) < 5


def test_decode_audio_wav_stereo_downmixed(tmp_path):
    left = np.full(800, 0.5, np.float32)
    sf.write(tmp_path / "s.wav", np.stack([left, -0.25 * np.ones(800, np.float32)], axis=1), 8000)
    wave, sr = decode_audio(tmp_path / "s.wav")
    assert sr == 8000 and wave.shape == (800,)
    np.testing.assert_allclose(wave, 0.125, atol=1e-3)


@pytest.mark.parametrize("suffix,tol", [(".mp4", 6), (".avi", 15), (".flv", 15)])
def test_video_frames_sampled_uniformly(clip, suffix, tol):
    frames = decode_video_frames(clip("v" + suffix, seconds=1.0, fps=10), 4)  # 10 frames
    assert frames.shape == (4, 120, 160, 3) and frames.dtype == np.uint8
    expected = [40 + 10 * i for i in uniform_indices(10, 4)]  # frames 1, 3, 6, 8
    assert uniform_indices(10, 4) == [1, 3, 6, 8]
    assert np.all(np.abs(np.array(_blue(frames)) - expected) <= tol), (_blue(frames), expected)


def test_avi_without_presentation_timestamps(clip):
    """H.264 with B-frames in avi: packets carry decode order only; frames are picked by output position."""
    frames = decode_video_frames(clip("b.avi", seconds=2.0, fps=10, vcodec="libx264"), 4)  # 20 frames
    expected = [40 + 10 * i for i in uniform_indices(20, 4)]  # frames 2, 7, 12, 17
    assert np.all(np.abs(np.array(_blue(frames)) - expected) <= 6), (_blue(frames), expected)


def test_more_samples_than_frames_gives_each_frame_once(clip):
    """A window with fewer frames than asked for gives each of them once; the caller pads and masks."""
    frames = decode_video_frames(clip("short.mp4", seconds=0.5, fps=10), 12)  # 5 frames
    assert frames.shape == (5, 120, 160, 3)
    assert np.all(np.abs(np.array(_blue(frames)) - [40, 50, 60, 70, 80]) <= 6), _blue(frames)


def test_seeking_matches_sequential_decoding(clip, monkeypatch):
    import fdan.features.video as dec

    path = clip("long.mp4", seconds=6.0, fps=5, audio=None, gop=5)  # 30 frames, a keyframe every 5
    monkeypatch.setattr(dec, "_SEEK_GAP_SECONDS", 1000.0)
    sequential = decode_video_frames(path, 3)
    monkeypatch.setattr(dec, "_SEEK_GAP_SECONDS", 0.5)
    seeking = decode_video_frames(path, 3)
    assert np.array_equal(sequential, seeking)
    assert np.all(np.abs(np.array(_blue(seeking)) - [90, 190, 240]) <= 6)  # frames 5, 15, 25


@pytest.mark.parametrize("kind,reason", [
    ("random", "corrupt"), ("empty", "empty file"), ("truncated", "corrupt"),
    ("truncated_faststart", "truncated"), ("corrupt_wav", "corrupt"), ("truncated_wav", "truncated wav"),
])
def test_bad_files_raise_media_error(broken, kind, reason):
    decode = decode_audio if kind.endswith("wav") or kind == "truncated_faststart" else lambda p: decode_video_frames(p, 2)
    with pytest.raises(MediaError) as err:
        decode(broken[kind])
    assert reason in err.value.reason


def test_truncated_faststart_video(broken):
    with pytest.raises(MediaError, match="truncated video stream"):
        decode_video_frames(broken["truncated_faststart"], 2)


def test_missing_streams_and_files(clip, tmp_path: Path):
    with pytest.raises(MediaError, match="no audio stream"):
        decode_audio(clip("mute.mp4", audio=None))
    with pytest.raises(MediaError, match="no video stream"):
        decode_video_frames(clip("blind.mp4", video=False), 2)
    with pytest.raises(MediaError, match="file not found"):
        decode_audio(tmp_path / "nope.wav")
    (tmp_path / "dir.mp4").mkdir()
    with pytest.raises(MediaError, match="unreadable"):
        decode_video_frames(tmp_path / "dir.mp4", 2)
